//! Personal data: card and document numbers (schema fields marked
//! `sensitive`) never appear in full in reports, messages or errors unless
//! `--show-pii` asks for them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const CARD: &str = "6222021234567890123";

fn with_card(number: Value) -> Value {
    let mut app = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    app["bank_card"]["number"] = number;
    app["documents"] = json!([{"kind": "permanent_residence_permit", "number": "USA110079070101"}]);
    app
}

#[test]
fn messages_mask_sensitive_fields_unless_asked() {
    let (_, line) = evaluate_json(shipped(), &with_card(json!(CARD)), "en");
    assert!(line.contains("***************0123") && !line.contains(CARD), "{line}");

    let mut rs = kycrules::policy::build(&kycrules::policy::embedded()).ruleset.unwrap();
    rs.show_pii = true;
    let (_, line) = evaluate_json(&rs, &with_card(json!(CARD)), "en");
    assert!(line.contains(CARD), "{line}");
}

#[test]
fn placeholders_of_any_type_and_through_lets_are_masked() {
    let policy = r#"policy "t" version "1" languages en
schema { id: text, secret: decimal sensitive, card: { number: text sensitive }?, plain: text }
let n = trim(card.number)
rule r reject {
  on id
  when true
  with masked = mask(plain)
  with last = length(card.number)
  message m
}
message m { en "{secret} {card.number} {n} {plain} {masked} {last}" }
"#;
    let mut sources = kycrules::source::SourceMap::default();
    sources.add("t.rules", policy);
    let compiled = kycrules::policy::build(&sources);
    let text = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    let rs = compiled.ruleset.unwrap_or_else(|| panic!("{text}"));
    let app =
        json!({"id": "a", "secret": "123456.789", "card": {"number": " 4111111111111111 "}, "plain": "visible text"});
    let (o, _) = evaluate_json(&rs, &app, "en");
    let message = &o.result.unwrap().violations[0].message;
    assert_eq!(
        message,
        "******.789 **************111  ************1111 visible text ********text 18"
    );
}

/// Runs `kycrules check` on stdin.
fn check(args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kycrules"))
        .args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn show_pii_on_the_command_line() {
    let line = format!("{}\n{}\n", with_card(json!(CARD)), with_card(json!(CARD)));
    let (code, out) = check(&[], &line);
    assert_eq!(code, 0);
    assert!(out.contains("***************0123") && !out.contains(CARD), "{out}");
    let (code, out) = check(&["--show-pii"], &line);
    assert_eq!(code, 0);
    assert!(out.contains(CARD), "{out}");
}

#[test]
fn input_errors_mask_sensitive_values() {
    let rs = shipped();
    let cases = [
        // A number where text is expected: the most likely way to meet one.
        (
            with_card(json!(6222021234567890123u64)),
            "bank_card.number: expected text, found number ***************0123; quote it to keep it as typed",
        ),
        (
            with_card(json!(true)),
            "bank_card.number: expected text, found bool true",
        ),
        (with_card(json!([1])), "bank_card.number: expected text, found a list"),
    ];
    for (app, want) in cases {
        let (o, line) = evaluate_json(rs, &app, "en");
        assert_eq!(o.result.unwrap_err(), want, "{line}");
    }
    let mut app = with_card(json!(CARD));
    app["documents"] = json!([{"kind": "passport", "number": 123456789012345u64}]);
    let (o, _) = evaluate_json(rs, &app, "en");
    assert_eq!(
        o.result.unwrap_err(),
        "documents[0].number: expected text, found number ***********2345; quote it to keep it as typed"
    );
    // A field that is not sensitive is quoted in full.
    let mut app = with_card(json!(CARD));
    app["applicant"]["phone"] = json!(13812345678u64);
    let (o, _) = evaluate_json(rs, &app, "en");
    assert!(o.result.unwrap_err().contains("found number 13812345678"));
}

/// The sensitive values in a fixture: strings under a key that the shipped
/// schema marks `sensitive` (anywhere, so that patches and nested cases count).
fn sensitive_values(v: &Value, names: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if names.contains(k) => {
                        out.insert(s.clone());
                    }
                    Value::Number(n) if names.contains(k) => {
                        out.insert(n.to_string());
                    }
                    // A `list of text sensitive`: each item is a secret.
                    Value::Array(items) if names.contains(k) => {
                        for item in items {
                            match item {
                                Value::String(s) => out.insert(s.clone()),
                                Value::Number(n) => out.insert(n.to_string()),
                                _ => false,
                            };
                        }
                    }
                    _ => sensitive_values(x, names, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| sensitive_values(x, names, out)),
        _ => {}
    }
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if p.extension().is_some_and(|e| exts.iter().any(|x| e == *x)) {
            out.push(p);
        }
    }
}

fn digits_only(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[test]
fn no_snapshot_shows_a_sensitive_number() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    // The shipped schema's sensitive fields, and those of the hostile inputs' policy.
    let hostile = kycrules::policy::build(&kycrules::policy::read(&[root.join("fixtures/hostile/exact.rules")]).0)
        .ruleset
        .unwrap();
    let names: BTreeSet<String> = [shipped(), &hostile]
        .iter()
        .flat_map(|rs| rs.schema.records.iter())
        .flat_map(|r| r.fields.iter().filter(|f| f.sensitive).map(|f| f.name.clone()))
        .collect();
    assert!(names.contains("codes"), "{names:?}");
    assert!(names.contains("number"), "{names:?}");

    // Every fixture of an application; the fuzz regressions are not applications.
    let mut fixtures = Vec::new();
    files(&root.join("fixtures"), &["yaml", "yml", "json", "jsonl"], &mut fixtures);
    fixtures.retain(|f| !f.components().any(|c| c.as_os_str() == "regressions"));
    let mut secrets = BTreeSet::new();
    for f in &fixtures {
        let text = std::fs::read_to_string(f).unwrap();
        let docs: Vec<Value> = if f.extension().is_some_and(|e| e == "jsonl") {
            text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
        } else {
            text.split("\n---")
                .filter_map(|d| serde_yaml::from_str(d).ok())
                .collect()
        };
        for d in &docs {
            sensitive_values(d, &names, &mut secrets);
        }
    }
    assert!(secrets.contains(CARD), "the catalogue has a card number: {secrets:?}");
    let secret_digits: Vec<String> = secrets
        .iter()
        .map(|s| digits_only(s))
        .filter(|d| d.len() >= 9)
        .collect();

    let mut snaps = Vec::new();
    files(&root.join("snapshots"), &["snap"], &mut snaps);
    assert!(!snaps.is_empty());
    let run = regex::Regex::new(r"[0-9]{9,}").unwrap();
    for snap in &snaps {
        let text = std::fs::read_to_string(snap).unwrap();
        for m in run.find_iter(&text) {
            let leaked = secret_digits
                .iter()
                .any(|s| s.contains(m.as_str()) || m.as_str().contains(s.as_str()));
            assert!(!leaked, "{} shows a sensitive number: {}", snap.display(), m.as_str());
        }
        for s in secrets.iter().filter(|s| s.chars().count() > 4) {
            assert!(!text.contains(s.as_str()), "{} shows `{s}`", snap.display());
        }
    }
}
