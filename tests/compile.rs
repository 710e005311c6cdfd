//! Policy diagnostics: one fixture per error code, each with its snapshot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::diag::{self, Diagnostic};
use kycrules::source::SourceMap;

fn build(name: &str, text: &str) -> (SourceMap, Vec<Diagnostic>, bool) {
    let mut sources = SourceMap::default();
    sources.add(name, text);
    let compiled = kycrules::policy::build(&sources);
    let ok = compiled.ruleset.is_some();
    (sources, compiled.diagnostics, ok)
}

#[test]
fn every_error_code_has_a_fixture_and_snapshot() {
    insta::glob!("fixtures/compile/err/*.rules", |path| {
        let file = path.file_name().unwrap().to_str().unwrap();
        let code = &file[..5];
        let text = std::fs::read_to_string(path).unwrap();
        let (sources, diags, ok) = build(&format!("err/{file}"), &text);
        assert!(!ok, "{file} compiled");
        assert!(
            diags.iter().any(|d| d.code == code),
            "{file}: no {code} among {diags:?}"
        );
        insta::assert_snapshot!(diag::render_human(&diags, &sources, false));
    });
}

#[test]
fn every_documented_code_has_a_fixture() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compile/err");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for c in diag::CODES {
        // E0003 is about reading files; the CLI tests cover it. Warnings have lint fixtures.
        if c.code == diag::READ || c.code.starts_with('W') {
            continue;
        }
        assert!(names.iter().any(|n| n.starts_with(c.code)), "no fixture for {}", c.code);
    }
}

#[test]
fn five_errors_in_one_run() {
    let text = include_str!("fixtures/compile/five-errors.rules");
    let (sources, diags, ok) = build("five-errors.rules", text);
    assert!(!ok);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["E0031", "E0020", "E0028", "E0027", "E0022", "E0023"],
        "{diags:#?}"
    );
    insta::assert_snapshot!(diag::render_human(&diags, &sources, false));
}

#[test]
fn diagnostics_as_json() {
    let text = include_str!("fixtures/compile/five-errors.rules");
    let (sources, diags, _) = build("five-errors.rules", text);
    let lines: Vec<String> = diags.iter().map(|d| diag::to_json(d, &sources).to_string()).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn shipped_policy_compiles_without_warnings() {
    let sources = kycrules::policy::embedded();
    assert!(sources.files.len() >= 2, "the shipped policy is embedded");
    let compiled = kycrules::policy::build(&sources);
    let text = diag::render_human(&compiled.diagnostics, &sources, false);
    assert!(compiled.diagnostics.is_empty(), "{text}");
    assert!(compiled.ruleset.is_some());
}

#[test]
fn every_rules_file_compiles_from_disk() {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"));
    let (sources, read_errors) = kycrules::policy::read(&[dir]);
    assert!(read_errors.is_empty(), "{read_errors:?}");
    let compiled = kycrules::policy::build(&sources);
    assert!(
        compiled.diagnostics.is_empty(),
        "{}",
        diag::render_human(&compiled.diagnostics, &sources, false)
    );
    assert_eq!(
        sources.files.len(),
        kycrules::policy::EMBEDDED.len(),
        "every file under rules/ is embedded"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for text in [
        format!(
            "policy \"t\" version \"1\" languages en\nlet x = {}true{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        format!(
            "policy \"t\" version \"1\" languages en\nlet x = {}true",
            "not ".repeat(100_000)
        ),
        format!(
            "policy \"t\" version \"1\" languages en\nschema {{ a: {} }}",
            "list of ".repeat(100_000)
        ),
    ] {
        let (_, diags, ok) = build("deep.rules", &text);
        assert!(!ok);
        assert!(
            diags.iter().any(|d| d.code == diag::TOO_DEEP || d.code == diag::SYNTAX),
            "{diags:?}"
        );
    }
}

/// A policy whose rule condition is a chain of `n` comparisons joined by `op`.
fn chain(n: usize, op: &str) -> String {
    let terms: Vec<String> = (0..n).map(|i| format!("applicant.name == \"{i}\"")).collect();
    format!(
        "policy \"t\" version \"1\" languages en\nschema {{ id: text, applicant: {{ name: text }} }}\n\
         message m {{ en \"m\" }}\nrule r reject {{\n  when {}\n  message m\n}}\n",
        terms.join(&format!(" {op} "))
    )
}

#[test]
fn long_operator_chains_compile_or_fail_cleanly_on_a_small_stack() {
    // Test threads have 2 MiB of stack; the whole pipeline must fit in it at the limit.
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for op in ["and", "or"] {
                let ok = chain(kycrules::syntax::MAX_DEPTH - 1, op);
                let (_, diags, compiled) = build("chain.rules", &ok);
                assert!(compiled, "{diags:?}");
                let lints = kycrules::lint::lint_policy(&{
                    let mut s = SourceMap::default();
                    s.add("chain.rules", ok.as_str());
                    s
                });
                drop(lints);
                let (_, diags, compiled) = build("chain.rules", &chain(20_000, op));
                assert!(!compiled);
                assert!(diags.iter().any(|d| d.code == diag::TOO_DEEP), "{diags:?}");
            }
        })
        .unwrap();
    handle.join().unwrap();
}
