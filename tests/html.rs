//! The HTML reports of `check` and `diff`: one self-contained page each, with
//! no reference outside itself, every matrix count in its text, escaped
//! input, both languages, and a bounded number of examples per group.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AS_OF: &str = "2026-11-27";

/// Runs `kycrules` in the repository's top folder: (stdout, exit code).
fn kycrules(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_kycrules"))
        .current_dir(ROOT)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap_or(-1))
}

fn diff_page(lang: &str) -> String {
    let (page, code) = kycrules(&[
        "diff",
        "rules",
        "examples/policy-change/rules",
        "examples/applications",
        "--format",
        "html",
        "--as-of",
        AS_OF,
        "--lang",
        lang,
    ]);
    // Two example records are broken on purpose: an input error under both policies.
    assert_eq!(code, 2);
    page
}

fn check_page(lang: &str) -> String {
    let (page, code) = kycrules(&[
        "check",
        "examples/applications",
        "--format",
        "html",
        "--as-of",
        AS_OF,
        "--lang",
        lang,
    ]);
    assert_eq!(code, 2);
    page
}

/// The page's elements as an indented outline, `tag#id.class`, text left out:
/// what the structure snapshot pins.
fn outline(html: &str) -> String {
    const VOID: &[&str] = &["meta", "br", "!doctype"];
    let tag = regex::Regex::new(r#"<(/?)([!a-z0-9]+)([^>]*?)(/?)>"#).unwrap();
    let attr = regex::Regex::new(r#"\b(id|class)="([^"]*)""#).unwrap();
    let mut out = String::new();
    let mut depth = 0usize;
    let mut last = String::new();
    let mut last_depth = 0usize;
    let mut repeats = 0;
    for c in tag.captures_iter(html) {
        let name = c[2].to_ascii_lowercase();
        if &c[1] == "/" {
            depth = depth.saturating_sub(1);
            continue;
        }
        let mut line = format!("{}{name}", "  ".repeat(depth));
        for a in attr.captures_iter(&c[3]) {
            line.push_str(if &a[1] == "id" { "#" } else { "." });
            line.push_str(&a[2].replace(' ', "."));
        }
        // Runs of identical siblings (rows, cells, diff lines) collapse to one line and a count.
        if line == last {
            repeats += 1;
        } else {
            if repeats > 0 {
                out.push_str(&format!("{}  (×{})\n", "  ".repeat(last_depth), repeats + 1));
            }
            repeats = 0;
            out.push_str(&line);
            out.push('\n');
            last = line;
            last_depth = depth;
        }
        if !VOID.contains(&name.as_str()) && c[4].is_empty() {
            depth += 1;
        }
    }
    out
}

#[test]
fn the_diff_page_structure() {
    insta::assert_snapshot!(outline(&diff_page("en")));
}

#[test]
fn the_check_page_structure() {
    insta::assert_snapshot!(outline(&check_page("en")));
}

#[test]
fn pages_are_deterministic() {
    assert_eq!(diff_page("en"), diff_page("en"));
    assert_eq!(check_page("zh"), check_page("zh"));
}

/// Nothing in a page may reach outside it: no script, no style sheet, font,
/// image or frame from elsewhere, no link to follow.
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    for needle in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "src=", "href=", "url(", "@import", "http:",
        "https:", "//",
    ] {
        // `//` would start a protocol-relative reference; the page has none at all.
        assert!(!lower.contains(needle), "the page contains `{needle}`");
    }
}

#[test]
fn pages_reference_nothing_outside_themselves() {
    for page in [diff_page("en"), diff_page("zh"), check_page("en"), check_page("zh")] {
        assert!(page.starts_with("<!doctype html>"));
        assert_self_contained(&page);
    }
}

#[test]
fn every_matrix_count_is_in_the_heat_map() {
    let (json, _) = kycrules(&[
        "diff",
        "rules",
        "examples/policy-change/rules",
        "examples/applications",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]);
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    let matrix = &summary["summary"]["matrix"];
    let page = diff_page("en");
    let heat = page
        .split(r#"<svg id="matrix""#)
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    let numbers: Vec<u64> = regex::Regex::new(r#"font-weight="600">(\d+)</text>"#)
        .unwrap()
        .captures_iter(heat)
        .map(|c| c[1].parse().unwrap())
        .collect();
    let kinds = ["accept", "review", "limited", "reject", "error"];
    let expected: Vec<u64> = kinds
        .iter()
        .flat_map(|a| kinds.iter().map(move |b| matrix[a][b].as_u64().unwrap()))
        .collect();
    assert_eq!(numbers, expected);
    let records = summary["summary"]["records"].as_u64().unwrap();
    let changed = summary["summary"]["changed"].as_u64().unwrap();
    assert!(page.contains(&format!(r#"<b id="records">{records}</b>"#)));
    assert!(page.contains(&format!(r#"<b id="changed">{changed}</b>"#)));
    assert!(changed > 0);
}

#[test]
fn the_diff_page_shows_the_change_and_the_policy_text() {
    let page = diff_page("en");
    // The worked change flips 17x numbers: `phone-mainland` is lost.
    assert!(page.contains("phone-mainland"), "the lost rule is named");
    assert!(page.contains("2026.11") && page.contains("2026.12"), "both stamps");
    assert!(
        page.contains(r#"<span class="add">+policy &#34;alipay-foreign-real-name&#34; version &#34;2026.12&#34;"#)
            || page.contains(
                r#"<span class="add">+policy &quot;alipay-foreign-real-name&quot; version &quot;2026.12&quot;"#
            ),
        "the text diff shows the version line"
    );
}

#[test]
fn the_chinese_page_speaks_chinese() {
    let page = diff_page("zh");
    assert!(page.contains(r#"<html lang="zh">"#));
    assert!(page.contains("政策变更影响报告"));
    assert!(page.contains("拒绝 reject"));
    let check = check_page("zh");
    assert!(check.contains("决定报告"));
}

#[test]
fn the_check_page_counts_decisions_rules_steps_and_errors() {
    let (json, _) = kycrules(&["check", "examples/applications", "--format", "json", "--as-of", AS_OF]);
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let page = check_page("en");
    assert!(page.contains(&format!(r#"<b id="total">{}</b>"#, lines.len())));
    let errors: Vec<&serde_json::Value> = lines.iter().filter(|l| l["decision"] == "error").collect();
    assert_eq!(errors.len(), 2);
    for e in errors {
        let source = e["source"].as_str().unwrap();
        assert!(page.contains(source), "the error's source `{source}` is listed");
    }
    let rejects = lines.iter().filter(|l| l["decision"] == "reject").count();
    assert!(page.contains(&format!(
        r#"<td><span class="tag reject">reject</span></td><td class="num">{rejects}</td>"#
    )));
}

#[test]
fn input_is_escaped() {
    let dir = tempdir();
    let file = dir.join("hostile.jsonl");
    std::fs::write(&file, "{\"id\":\"<script>alert(1)</script>\"}\n").unwrap();
    let (page, code) = kycrules(&["check", file.to_str().unwrap(), "--format", "html"]);
    assert_eq!(code, 2);
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"));
}

#[test]
fn groups_show_the_first_records_and_count_the_rest() {
    // 45 applications that the worked change flips from reject: the page shows 20 and counts 25.
    let dir = tempdir();
    let file = dir.join("many.yaml");
    let one = std::fs::read_to_string(format!("{ROOT}/examples/applications/06-new-prefixes.yaml")).unwrap();
    let first = one.split("\n---").next().unwrap().trim_start_matches("---\n");
    let mut text = String::new();
    for i in 0..45 {
        text.push_str("---\n");
        text.push_str(&first.replacen("id: ", &format!("id: M{i:02}-"), 1));
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let (page, _) = kycrules(&[
        "diff",
        "rules",
        "examples/policy-change/rules",
        file.to_str().unwrap(),
        "--format",
        "html",
        "--as-of",
        AS_OF,
    ]);
    let shown = page.matches(r#"<div class="app">"#).count();
    assert_eq!(shown, 20, "{page}");
    assert!(page.contains("+25 more not shown"));
}

fn tempdir() -> std::path::PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("kycrules-html-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
