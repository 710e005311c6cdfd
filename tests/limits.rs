//! Limits: oversized and overly deep inputs and policies are clean errors
//! (exit 2, every other record still evaluated), never a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use kycrules::diag;
use kycrules::source::SourceMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEEP: usize = 100_000;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `f` on a thread with a small stack (1 MiB; a main thread has 8):
/// recursion that is not bounded by a depth limit overflows it long before it
/// would overflow a main thread.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    stack_of(1 << 20, f)
}

fn stack_of<T: Send + 'static>(bytes: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(bytes)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// `kycrules check --format json` on files: the exit code and the JSON lines.
fn check(args: &[&Path]) -> (i32, Vec<serde_json::Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_kycrules"))
        .args(["check", "--format", "json", "--as-of", "2026-11-27"])
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), lines)
}

const GOOD_JSON: &str = r#"{"id":"ok","applicant":{"name":"John Smith","phone":"+1-415-555-0100"},"documents":[{"kind":"passport"},{"kind":"entry_certificate"}],"bank_card":{"bank":"ICBC","card_type":"savings","holder_name":"John Smith"}}"#;

fn decisions(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["source"].as_str().unwrap().rsplit('/').next().unwrap(),
                l["decision"].as_str().unwrap()
            )
        })
        .collect()
}

fn error_of<'a>(lines: &'a [serde_json::Value], source_end: &str) -> &'a str {
    let l = lines
        .iter()
        .find(|l| l["source"].as_str().unwrap().ends_with(source_end))
        .unwrap();
    l["error"].as_str().unwrap()
}

#[test]
fn deep_input_documents_are_one_clean_error() {
    let dir = scratch("deep");
    let (open, close) = ("[".repeat(DEEP), "]".repeat(DEEP));
    let deep_map = format!("{}1{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP));
    fs::write(
        dir.join("a.jsonl"),
        format!("{GOOD_JSON}\n{open}{close}\n{deep_map}\n{GOOD_JSON}\n"),
    )
    .unwrap();
    fs::write(dir.join("b.json"), format!("{open}{close}")).unwrap();
    let flow = format!("{}1{}", "{a: ".repeat(DEEP), "}".repeat(DEEP));
    let block = format!("{}x\n", "- ".repeat(DEEP));
    fs::write(
        dir.join("c.yaml"),
        format!("{GOOD_JSON}\n---\n{open}{close}\n---\n{flow}\n---\n{block}---\n{GOOD_JSON}\n"),
    )
    .unwrap();
    let (code, lines) = check(&[&dir]);
    assert_eq!(code, 2);
    assert_eq!(
        decisions(&lines),
        [
            "a.jsonl:1 accept",
            "a.jsonl:2 error",
            "a.jsonl:3 error",
            "a.jsonl:4 accept",
            "b.json:1 error",
            "c.yaml:1 accept",
            "c.yaml:3 error",
            "c.yaml:5 error",
            "c.yaml:7 error",
            "c.yaml:9 accept",
        ]
    );
    for (src, want) in [
        ("a.jsonl:2", "recursion limit exceeded"),
        ("a.jsonl:3", "recursion limit exceeded"),
        ("b.json:1", "recursion limit exceeded"),
    ] {
        let e = error_of(&lines, src);
        assert!(e.starts_with("invalid JSON: ") && e.contains(want), "{src}: {e}");
    }
    // Flow collections nested this deep are refused before the YAML scanner,
    // whose work per token grows with their depth, sees them.
    for src in ["c.yaml:3", "c.yaml:5"] {
        let e = error_of(&lines, src);
        assert!(
            e.starts_with("invalid YAML: `[` and `{` nested more than 256 deep at line"),
            "{src}: {e}"
        );
    }
    let e = error_of(&lines, "c.yaml:7");
    assert!(
        e.starts_with("invalid YAML: ") && e.contains("recursion limit exceeded"),
        "{e}"
    );
}

#[test]
fn oversized_records_are_one_clean_error() {
    let dir = scratch("large");
    let big = format!(
        r#"{{"id":"big","applicant":{{"name":"{}","phone":"1"}},"documents":[]}}"#,
        "x".repeat(1 << 20)
    );
    fs::write(dir.join("a.jsonl"), format!("{GOOD_JSON}\n{big}\n{GOOD_JSON}\n")).unwrap();
    fs::write(dir.join("b.json"), &big).unwrap();
    fs::write(
        dir.join("c.yaml"),
        format!("{GOOD_JSON}\n---\n{big}\n---\n{GOOD_JSON}\n"),
    )
    .unwrap();
    let (code, lines) = check(&[&dir]);
    assert_eq!(code, 2);
    assert_eq!(
        decisions(&lines),
        [
            "a.jsonl:1 accept",
            "a.jsonl:2 error",
            "a.jsonl:3 accept",
            "b.json:1 error",
            "c.yaml:1 accept",
            "c.yaml:3 error",
            "c.yaml:5 accept"
        ]
    );
    for src in ["a.jsonl:2", "b.json:1", "c.yaml:3"] {
        assert_eq!(error_of(&lines, src), "record larger than 1 MiB");
    }
}

#[test]
fn yaml_aliases_cannot_blow_a_document_up() {
    // 20,000 scalars repeated 5,000 times: 100 million values from 55 KB.
    let anchored = vec!["x"; 20_000].join(",");
    let aliases = vec!["*a"; 5_000].join(",");
    let bomb = format!("id: bomb\na: &a [{anchored}]\nb: [{aliases}]\n");
    let recs: Vec<_> = kycrules::input::read_bytes(
        format!("{bomb}---\n{GOOD_JSON}\n").into_bytes(),
        "yaml",
        "bomb.yaml".into(),
    )
    .collect();
    assert_eq!(recs.len(), 2);
    let e = recs[0].value.as_ref().unwrap_err();
    assert!(
        e.starts_with("invalid YAML: ") && e.contains("the document expands to more than twice its size"),
        "{e}"
    );
    assert!(recs[1].value.is_ok());
    // A few aliases are fine.
    let small = "id: a\nx: &n John\ny: [*n, *n, *n]\n";
    let recs: Vec<_> = kycrules::input::read_bytes(small.into(), "yaml", "ok.yaml".into()).collect();
    assert_eq!(
        recs[0].value.as_ref().unwrap()["y"],
        serde_json::json!(["John", "John", "John"])
    );
}

/// Parses and compiles one policy file on a small stack; the diagnostics' codes.
fn build_codes(text: String) -> Vec<&'static str> {
    build_codes_on(1 << 20, text)
}

fn build_codes_on(stack: usize, text: String) -> Vec<&'static str> {
    stack_of(stack, move || {
        let mut sources = SourceMap::default();
        sources.add("deep.rules", text);
        let compiled = kycrules::policy::build(&sources);
        assert!(compiled.ruleset.is_none());
        compiled.diagnostics.iter().map(|d| d.code).collect()
    })
}

const HEADER: &str =
    "policy \"t\" version \"1\" languages en\nschema { id: text, n: decimal, l: list of { n: decimal } }\n";

#[test]
fn deep_policy_expressions_are_an_error_not_a_crash() {
    let chain = |op: &str| format!("{HEADER}let x = n == 1{}\n", format!(" {op} n == 1").repeat(DEEP));
    let cases = [
        ("and chain", chain("and")),
        ("or chain", chain("or")),
        (
            "comparison chain",
            format!("{HEADER}let x = n{}\n", " == n".repeat(DEEP)),
        ),
        (
            "any nesting",
            format!(
                "{HEADER}let x = {}true{}\n",
                "any(a in l: ".repeat(DEEP),
                ")".repeat(DEEP)
            ),
        ),
        (
            "call nesting",
            format!("{HEADER}let x = {}\"a\"{}\n", "trim(".repeat(DEEP), ")".repeat(DEEP)),
        ),
        ("not run", format!("{HEADER}let x = {}true\n", "not ".repeat(DEEP))),
        (
            "list of chain",
            format!(
                "policy \"t\" version \"1\" languages en\nschema {{ a: {}text }}\n",
                "list of ".repeat(DEEP)
            ),
        ),
        (
            "record nesting",
            format!(
                "policy \"t\" version \"1\" languages en\nschema {{ {}a: text{} }}\n",
                "a: { ".repeat(DEEP),
                " }".repeat(DEEP)
            ),
        ),
        // A raw text ends at its quote: a backslash before it escapes nothing.
        (
            "brackets after a raw text",
            format!(
                "{HEADER}let x = r\"\\\" == {}\"a\"{}\n",
                "(".repeat(DEEP),
                ")".repeat(DEEP)
            ),
        ),
    ];
    for (what, text) in cases {
        let codes = build_codes(text);
        assert!(
            codes.contains(&diag::TOO_DEEP) || codes.contains(&diag::SYNTAX),
            "{what}: {codes:?}"
        );
    }
}

#[test]
fn long_chains_of_lets_are_an_error_not_a_crash() {
    const LETS: usize = 10_000;
    // Each let uses the one declared after it: compiling them recurses.
    let mut forward = HEADER.to_string();
    for i in 0..LETS {
        forward.push_str(&format!("let x{i} = x{} and n == 1\n", i + 1));
    }
    forward.push_str(&format!("let x{LETS} = n == 1\n"));
    // Each let uses the one before it: evaluating the last recurses.
    let mut backward = format!("{HEADER}let x0 = n == 1\n");
    for i in 1..LETS {
        backward.push_str(&format!("let x{i} = x{} and n == 1\n", i - 1));
    }
    for (what, text) in [("forward", forward), ("backward", backward)] {
        // Compiling a let inside a let takes more stack than an operator does.
        let codes = build_codes_on(4 << 20, text);
        assert!(codes.contains(&diag::TOO_DEEP), "{what}: {codes:?}");
    }
}

#[test]
fn long_flat_expressions_below_the_limit_compile() {
    let text = format!(
        "{HEADER}let x = n == 1{}\nlet y = n in [{}]\n",
        " or n == 2".repeat(100),
        vec!["1"; 10_000].join(", ")
    );
    let mut sources = SourceMap::default();
    sources.add("flat.rules", text);
    let messages = small_stack(move || {
        let compiled = kycrules::policy::build(&sources);
        compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    });
    assert!(messages.is_empty(), "{messages:?}");
}

#[test]
fn policy_files_and_patterns_have_size_limits() {
    let dir = scratch("policy-size");
    let big = dir.join("big.rules");
    fs::write(
        &big,
        format!("{HEADER}#{}\n", "x".repeat(kycrules::policy::MAX_POLICY_FILE as usize)),
    )
    .unwrap();
    let (_, diags) = kycrules::policy::read(&[big]);
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].message.contains("more than 4194304 bytes"),
        "{}",
        diags[0].message
    );

    let long = format!("{HEADER}pattern p = r\"{}\"\n", "a".repeat(5000));
    let mut sources = SourceMap::default();
    sources.add("p.rules", long);
    let compiled = kycrules::policy::build(&sources);
    let text = diag::render_human(&compiled.diagnostics, &sources, false);
    assert!(text.contains("pattern is 5000 bytes long; the limit is 4096"), "{text}");

    // Short, but compiles to a huge automaton: the regex size limit refuses it.
    let blowup = format!("{HEADER}pattern p = r\"(\\w{{100}}){{100}}\"\n");
    let mut sources = SourceMap::default();
    sources.add("p.rules", blowup);
    let compiled = kycrules::policy::build(&sources);
    let text = diag::render_human(&compiled.diagnostics, &sources, false);
    assert!(text.contains("invalid pattern"), "{text}");
}
