//! `kycrules test`: the test file format, the runner, coverage, and the
//! shipped policy's own suite in `rules/tests`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use kycrules::eval::DecisionKind;
use kycrules::ir::RuleSet;
use kycrules::testing::{self, Report, TestFile};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/testing");

/// The small policy of `tests/fixtures/testing/policy`.
fn mini() -> &'static RuleSet {
    static RS: OnceLock<RuleSet> = OnceLock::new();
    RS.get_or_init(|| {
        let (sources, errors) = kycrules::policy::read(&[PathBuf::from(FIXTURES).join("policy")]);
        assert!(errors.is_empty(), "{errors:?}");
        kycrules::policy::build(&sources)
            .ruleset
            .expect("the fixture policy compiles")
    })
}

/// Parses a test file, naming it relative to the crate root.
fn parse(rs: &RuleSet, path: &Path) -> Result<TestFile, Vec<testing::TestError>> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_string_lossy();
    testing::parse(rs, &name.replace('\\', "/"), &text)
}

fn parse_ok(rs: &RuleSet, path: &Path) -> TestFile {
    parse(rs, path).unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))
}

fn run_mini(file: &str) -> Report {
    let rs = mini();
    let suite = parse_ok(rs, &Path::new(FIXTURES).join(file));
    testing::run(rs, &[suite], as_of())
}

/// The shipped suite, in file order.
fn shipped_suite() -> (Vec<TestFile>, Report) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/tests");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let files: Vec<TestFile> = paths.iter().map(|p| parse_ok(shipped(), p)).collect();
    let report = testing::run(shipped(), &files, as_of());
    (files, report)
}

#[test]
fn a_passing_suite_passes() {
    let report = run_mini("policy/tests/passing.yaml");
    assert_eq!(report.summary(), "10 passed, 0 failed");
    assert_eq!(testing::human(mini(), &report, false), "10 passed, 0 failed\n");
    // `as_of` on a case decides whether a dated rule is in force.
    let dated: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.name.contains("in force"))
        .map(|r| (r.name.as_str(), r.actual.decision))
        .collect();
    assert_eq!(
        dated,
        [
            ("a rule not yet in force", DecisionKind::Accept),
            ("the same rule once in force", DecisionKind::Review)
        ]
    );
}

#[test]
fn a_failing_suite_reports_each_failure_on_one_line() {
    let report = run_mini("failing.yaml");
    assert_eq!((report.passed(), report.failed()), (1, 7));
    insta::assert_snapshot!(testing::human(mini(), &report, false));
}

#[test]
fn a_failing_suite_as_json() {
    let report = run_mini("failing.yaml");
    // Pretty-printed by serde_json: insta's own serialiser does not know
    // serde_json's exact numbers (`arbitrary_precision`).
    let v: serde_json::Value = serde_json::from_str(&testing::json(mini(), &report, true)).unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn malformed_test_files_are_errors_with_file_and_line() {
    insta::glob!("fixtures/testing/malformed/*.yaml", |path| {
        let errors = parse(mini(), path).expect_err("the file is malformed");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(text.join("\n"));
    });
}

/// A near miss: in force, guard held (or none), condition definitely false.
#[test]
fn near_misses_follow_their_definition() {
    let rs = mini();
    let text = r#"
cases:
  - name: no card, no age, short name, before 2027
    application: { id: a, applicant: { name: Bo } }
    decision: limited
  - name: a savings card, an adult, a long name, in 2027
    application: { id: b, applicant: { name: Maximilian Mustermann, age: 40 }, card: { bank: HSBC, kind: savings } }
    as_of: 2027-06-01
    decision: review
  - name: not an application
    application: { id: c }
    decision: error
"#;
    let suite = testing::parse(rs, "inline.yaml", text).unwrap();
    let report = testing::run(rs, &[suite], as_of());
    assert_eq!(report.failed(), 0, "{}", testing::human(rs, &report, false));
    let counts: Vec<(&str, usize, usize)> = report
        .coverage
        .rules
        .iter()
        .map(|c| (rs.rules[c.rule].id.as_str(), c.fired, c.near_misses))
        .collect();
    assert_eq!(
        counts,
        [
            // Both names were measured, neither was short.
            ("short-name", 0, 2),
            // An absent age leaves the condition unknown: a near miss only for b.
            ("adult", 0, 1),
            // The guard (a card) held only for b.
            ("card-savings", 0, 1),
            ("no-card", 1, 1),
            ("bank-known", 1, 0),
            // Not in force before 2027: case a is no near miss.
            ("long-name", 1, 0),
        ]
    );
    assert_eq!(report.coverage.covered(), 3);
    assert!(report.coverage.meets(50) && !report.coverage.meets(51));
}

#[test]
fn the_shipped_suite_passes_and_fires_every_rule() {
    let (_, report) = shipped_suite();
    let failures: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.failure_line())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(report.coverage.meets(100));
    for c in &report.coverage.rules {
        assert!(c.near_misses > 0, "no near miss for `{}`", shipped().rules[c.rule].id);
    }
    insta::assert_snapshot!(testing::coverage_table(shipped(), &report.coverage));
}

#[test]
fn the_shipped_suite_reaches_every_decision_and_next_step() {
    let rs = shipped();
    let (_, report) = shipped_suite();
    let decisions: BTreeSet<DecisionKind> = report.results.iter().map(|r| r.actual.decision).collect();
    assert_eq!(decisions, DecisionKind::ALL.into_iter().collect());
    let steps: BTreeSet<Option<&str>> = report.results.iter().map(|r| r.actual.next_step.as_deref()).collect();
    let mut declared: BTreeSet<Option<&str>> = rs.next_steps.iter().map(|s| Some(s.name.as_str())).collect();
    declared.insert(None);
    assert_eq!(steps, declared);
}

#[test]
fn the_shipped_suite_names_every_bank_in_every_form() {
    let rs = shipped();
    let (files, _) = shipped_suite();
    let typed: Vec<String> = files
        .iter()
        .flat_map(|f| &f.cases)
        .filter_map(|c| c.application.pointer("/bank_card/bank")?.as_str().map(str::to_owned))
        .collect();
    let zh = rs.languages.iter().position(|l| l == "zh").unwrap();
    for (id, bank) in rs.tables[0].list.iter().enumerate() {
        let forms: Vec<&str> = typed
            .iter()
            .map(String::as_str)
            .filter(|t| rs.tables[0].resolve(t, as_of()) == Some(id as u32))
            .collect();
        let is = |t: &&str, names: &[String]| names.iter().any(|n| n.to_lowercase() == t.trim().to_lowercase());
        let english = &bank.names[0];
        let chinese: Vec<String> = bank.names[zh]
            .iter()
            .chain(bank.aliases.iter().filter(|a| !a.is_ascii()))
            .cloned()
            .collect();
        let declared: Vec<&String> = english.iter().chain(&chinese).chain(&bank.aliases).collect();
        let code = &bank.code;
        assert!(
            forms.iter().any(|t| t.trim().eq_ignore_ascii_case(code)),
            "{code} by code: {forms:?}"
        );
        assert!(
            forms.iter().any(|t| is(t, english)),
            "{code} by an English name: {forms:?}"
        );
        assert!(
            forms.iter().any(|t| is(t, &chinese)),
            "{code} by a Chinese name or alias: {forms:?}"
        );
        assert!(
            forms.iter().any(|t| t.trim() != *t),
            "{code} with surrounding spaces: {forms:?}"
        );
        let exact = |t: &str| t == code || declared.iter().any(|d| d.as_str() == t);
        assert!(
            forms.iter().any(|t| !exact(t.trim())),
            "{code} in mixed case: {forms:?}"
        );
    }
}

// ------------------------------------------------------------------- the CLI

fn cli() -> std::process::Command {
    let mut cmd = std::process::Command::new(insta_cmd::get_cargo_bin("kycrules"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("test");
    cmd
}

#[test]
fn cli_runs_the_tests_next_to_a_policy() {
    insta_cmd::assert_cmd_snapshot!(cli().args([
        "--policy",
        "tests/fixtures/testing/policy",
        "--as-of",
        "2026-11-27",
        "--coverage"
    ]));
}

#[test]
fn cli_reports_failures_with_exit_1() {
    insta_cmd::assert_cmd_snapshot!(cli().args([
        "--policy",
        "tests/fixtures/testing/policy",
        "--as-of",
        "2026-11-27",
        "tests/fixtures/testing/failing.yaml"
    ]));
}

#[test]
fn cli_reports_test_file_errors_with_exit_2() {
    insta_cmd::assert_cmd_snapshot!(cli().args([
        "--policy",
        "tests/fixtures/testing/policy",
        "tests/fixtures/testing/malformed/yaml-syntax.yaml",
        "tests/fixtures/testing/malformed/not-a-mapping.yaml",
        "tests/fixtures/testing/no-such-file.yaml"
    ]));
}

#[test]
fn cli_reports_a_policy_error_with_exit_2() {
    insta_cmd::assert_cmd_snapshot!(cli().args([
        "--policy",
        "tests/fixtures/compile/err/E0020-unknown-field.rules",
        "tests/fixtures/testing/failing.yaml"
    ]));
}

#[test]
fn cli_shipped_suite_meets_full_coverage() {
    insta_cmd::assert_cmd_snapshot!(cli().args(["--coverage", "--min-coverage", "100"]));
}

#[test]
fn cli_fails_below_the_minimum_coverage() {
    insta_cmd::assert_cmd_snapshot!(cli().args(["--min-coverage", "100", "rules/tests/banks.yaml"]));
}

#[test]
fn cli_json_report() {
    insta_cmd::assert_cmd_snapshot!(cli().args([
        "--policy",
        "tests/fixtures/testing/policy",
        "--as-of",
        "2026-11-27",
        "--format",
        "json",
        "tests/fixtures/testing/policy/tests/passing.yaml"
    ]));
}

proptest::proptest! {
    /// Whatever the text, a test file parses or fails with errors: no panic.
    #[test]
    fn parsing_any_text_never_panics(text in "(cases:|bases:|- |  |name: |base: |x|\"|'|:|[{}\\[\\],]|#|\n|\t|·)*") {
        let _ = testing::parse(mini(), "any.yaml", &text);
    }
}
