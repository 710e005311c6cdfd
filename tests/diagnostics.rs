//! Diagnostics a policy author meets: a missing `}` pointing at its `{`,
//! "first declared here" for every kind of duplicate, unquoted words, and the
//! JSON form agreeing with the human one on every position and label.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::diag::{self, Diagnostic};
use kycrules::source::SourceMap;

const HEAD: &str = "policy \"p\" version \"1\" languages en\nschema { id: text, c: text }\n";

fn build(name: &str, text: &str) -> (SourceMap, Vec<Diagnostic>) {
    let mut sources = SourceMap::default();
    sources.add(name, text);
    let diags = kycrules::policy::build(&sources).diagnostics;
    (sources, diags)
}

fn human(text: &str) -> String {
    let (sources, diags) = build("t.rules", text);
    diag::render_human(&diags, &sources, false)
}

#[test]
fn a_missing_brace_points_at_the_unclosed_one() {
    // The next item starts, at the end of the file, and after a block that is closed.
    let cases = [
        format!(
            "{HEAD}rule a reject {{\n  when c == \"x\"\n  message m\n\nrule b reject {{\n  when c == \"y\"\n  message m\n}}\nmessage m {{ en \"x\" }}\n"
        ),
        format!("{HEAD}message m {{ en \"x\" }}\nrule a reject {{\n  when c == \"x\"\n  message m\n"),
        format!("{HEAD}rule a reject {{\n  when c == \"x\"\n  message m\n\nmessage m {{ en \"{{x}}\" }}\n"),
    ];
    for (text, open_line) in cases.iter().zip([3, 4, 3]) {
        let (sources, diags) = build("t.rules", text);
        let shown = diag::render_human(&diags, &sources, false);
        assert_eq!(diags.len(), 1, "{shown}");
        let d = &diags[0];
        assert!(d.message.starts_with("missing `}`"), "{shown}");
        assert_eq!(d.secondary.len(), 1, "{shown}");
        assert_eq!(d.secondary[0].1, "this `{` is never closed");
        let (line, _) = kycrules::source::line_col(text, d.secondary[0].0.start as usize);
        assert_eq!(line, open_line, "{shown}");
        assert!(
            shown.contains(&format!("close the block opened on line {open_line}")),
            "{shown}"
        );
    }
    assert!(human(&cases[0]).contains("found `rule`"), "{}", human(&cases[0]));
    assert!(human(&cases[1]).contains("found end of file"), "{}", human(&cases[1]));
    // A syntax error with every brace closed says nothing about braces.
    let closed = format!("{HEAD}rule a reject {{ when c == }}\n");
    assert!(!human(&closed).contains("missing `}`"), "{}", human(&closed));
}

#[test]
fn every_kind_of_duplicate_shows_the_first_declaration() {
    let m = "message m { en \"x\" }\n";
    let cases = [
        (
            "message",
            format!("{HEAD}{m}{m}rule r reject {{ when c == \"1\" message m }}\n"),
        ),
        (
            "rule",
            format!(
                "{HEAD}{m}rule r reject {{ when c == \"1\" message m }}\nrule r reject {{ when c == \"2\" message m }}\n"
            ),
        ),
        (
            "bank",
            format!("{HEAD}{m}bank B {{ name en \"B\" }}\nbank B {{ name en \"C\" }}\n"),
        ),
        ("charset", format!("{HEAD}{m}charset s = \"a\"\ncharset s = \"b\"\n")),
        ("let", format!("{HEAD}{m}let x = c == \"a\"\nlet x = c == \"b\"\n")),
    ];
    for (kind, text) in cases {
        let shown = human(&text);
        assert!(shown.contains("error[E0011]"), "{kind}: {shown}");
        assert!(shown.contains("first declared here"), "{kind}: {shown}");
    }
}

#[test]
fn every_unquoted_word_where_a_text_is_expected_is_reported() {
    let text = format!(
        "{HEAD}message m {{ en \"x\" }}\nrule r reject {{\n  when c in [KP, \"CU\", IR] or c == SY\n  message m\n}}\n"
    );
    let (sources, diags) = build("t.rules", &text);
    let shown = diag::render_human(&diags, &sources, false);
    let words: Vec<&str> = diags.iter().map(|d| d.message.split('`').nth(1).unwrap()).collect();
    assert_eq!(words, ["KP", "IR", "SY"], "{shown}");
    assert!(shown.contains("quote it: `\"KP\"`"), "{shown}");
    assert!(shown.contains("an unquoted word"), "{shown}");
    // An enum value stays bare, and a field on the right is a field.
    let ok = "policy \"p\" version \"1\" languages en\nschema { id: text, c: text, d: text, k: a | b }\n\
              message m { en \"x\" }\nrule r reject {\n  when c in [d, \"x\"] or k in [a, b]\n  message m\n}\n";
    let (sources, diags) = build("ok.rules", ok);
    assert!(diags.is_empty(), "{}", diag::render_human(&diags, &sources, false));
}

/// The `--> file:line:col` of each human diagnostic, in order.
fn human_positions(shown: &str) -> Vec<String> {
    shown
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn json_diagnostics_carry_every_label_at_the_human_position() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compile/err");
    let mut texts: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    texts.sort();
    // Errors at the very end of a file, with and without a final new line.
    texts.push((
        "eof.rules".into(),
        format!("{HEAD}rule a reject {{\n  when c == \"x\"\n"),
    ));
    texts.push((
        "eof-no-newline.rules".into(),
        format!("{HEAD}rule a reject {{\n  when c == \"x\""),
    ));
    texts.push(("trailing.rules".into(), format!("{HEAD}rule\n")));
    let mut secondary = 0;
    for (name, text) in &texts {
        let (sources, diags) = build(name, text);
        let shown = diag::render_human(&diags, &sources, false);
        let want = human_positions(&shown);
        let have: Vec<String> = diags
            .iter()
            .filter_map(|d| {
                let j = diag::to_json(d, &sources);
                let l = &j["location"];
                (!l.is_null()).then(|| format!("{}:{}:{}", l["file"].as_str().unwrap(), l["line"], l["column"]))
            })
            .collect();
        assert_eq!(have, want, "{name}:\n{shown}");
        for d in &diags {
            let j = diag::to_json(d, &sources);
            let labels = j["labels"].as_array().unwrap();
            if d.span.is_some() {
                assert_eq!(labels.len(), 1 + d.secondary.len(), "{name}: {j}");
                assert_eq!(labels[0]["kind"], "primary");
                assert_eq!(labels[0]["location"], j["location"]);
                for ((_, text), l) in d.secondary.iter().zip(&labels[1..]) {
                    assert_eq!(l["kind"], "secondary");
                    assert_eq!(l["label"], text.as_str());
                    // the secondary label is drawn at the line the JSON names
                    let line = l["location"]["line"].as_u64().unwrap();
                    assert!(
                        shown
                            .lines()
                            .any(|s| s.starts_with(&format!("{line} |")) || s.starts_with(&format!("{line:>2} |"))),
                        "{name}: line {line} not drawn:\n{shown}"
                    );
                    secondary += 1;
                }
            }
        }
    }
    assert!(secondary >= 3, "the fixtures exercise secondary labels ({secondary})");
}
