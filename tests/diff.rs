//! `kycrules diff` and evaluation as of a date: the shipped policy against the
//! worked change in `examples/policy-change/`, a policy against itself, dated
//! rules, banks and messages on both sides of their boundaries, and the
//! `as_of` declaration that lets an application's own date choose the rules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use insta_cmd::assert_cmd_snapshot;
use kycrules::date::Date;
use kycrules::diff::{self, Policies, Summary};
use kycrules::eval::{DecisionKind, Options};
use kycrules::input;
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn root(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

/// Compiles the policy in a file or directory.
fn load(rel: &str) -> RuleSet {
    let (sources, read) = kycrules::policy::read(&[root(rel)]);
    assert!(read.is_empty(), "{read:?}");
    compile(&sources)
}

fn compile(sources: &SourceMap) -> RuleSet {
    let compiled = kycrules::policy::build(sources);
    let text = kycrules::diag::render_human(&compiled.diagnostics, sources, false);
    compiled
        .ruleset
        .unwrap_or_else(|| panic!("the policy does not compile:\n{text}"))
}

fn compile_text(text: &str) -> Result<RuleSet, String> {
    let mut sources = SourceMap::default();
    sources.add("test.rules", text);
    let compiled = kycrules::policy::build(&sources);
    let text = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    compiled.ruleset.ok_or(text)
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn opts(rs: &RuleSet, day: &str) -> Options {
    Options {
        lang: rs.language("en"),
        as_of: date(day),
    }
}

/// Diffs every record of some inputs, library-side.
fn diff_inputs(old: &RuleSet, new: &RuleSet, inputs: &[&str], day: &str) -> (Vec<diff::RecordDiff>, Summary) {
    let p = Policies { old, new };
    let paths = inputs.iter().map(|i| root(i)).collect();
    let mut summary = Summary::default();
    let diffs: Vec<_> = input::read_inputs(paths)
        .map(|r| diff::diff_record(p, r, opts(old, day), opts(new, day)))
        .inspect(|d| summary.add(d))
        .collect();
    (diffs, summary)
}

fn kycrules(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kycrules"));
    cmd.current_dir(ROOT).env("NO_COLOR", "1").args(args);
    cmd
}

/// Policy hashes change with every edit of a policy; snapshots name them by placeholder.
macro_rules! redacted {
    ($($body:tt)*) => {
        insta::with_settings!({filters => vec![(r"\b[0-9a-f]{16}\b", "[hash]")]}, { $($body)* })
    };
}

// ---------------------------------------------------------------- the worked change

#[test]
fn new_prefixes_flip_exactly_the_16x_17x_19x_numbers() {
    let (old, new) = (kycrules_shipped(), load("examples/policy-change/rules"));
    let (diffs, summary) = diff_inputs(&old, &new, &["examples/applications"], "2026-11-27");
    let changed: Vec<&str> = diffs
        .iter()
        .filter(|d| d.changed)
        .map(|d| d.id.as_deref().unwrap())
        .collect();
    assert_eq!(changed, ["N-0001", "N-0002", "N-0003", "N-0004"]);
    for d in diffs.iter().filter(|d| d.changed) {
        assert!(d.gained.is_empty(), "{d:?}");
        let lost: Vec<&str> = d.lost.iter().map(|&i| old.rules[i].id.as_str()).collect();
        assert_eq!(lost, ["phone-mainland"]);
    }
    use DecisionKind::*;
    assert_eq!(summary.matrix.get(Reject, Accept), 1);
    assert_eq!(summary.matrix.get(Reject, Review), 1);
    assert_eq!(summary.matrix.get(Reject, Limited), 1);
    assert_eq!(summary.matrix.get(Reject, Reject), 7);
    assert_eq!(summary.matrix.get(Error, Error), 2, "the two broken example records");
    assert_eq!(
        (summary.records, summary.changed, summary.errors_under_both),
        (20, 4, 2)
    );
}

fn kycrules_shipped() -> RuleSet {
    compile(&kycrules::policy::embedded())
}

#[test]
fn cli_worked_change_human() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "rules", "examples/policy-change/rules", "examples/applications", "--format", "human",
        ]));
    }
}

#[test]
fn cli_worked_change_json() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "rules", "examples/policy-change/rules", "examples/applications/06-new-prefixes.yaml",
        ]));
    }
}

#[test]
fn cli_reads_stdin_and_reports_in_chinese() {
    let line = r#"{"id":"S-1","applicant":{"name":"李雷","phone":"19912345678"},"documents":[{"kind":"permanent_residence_permit"}],"bank_card":{"bank":"CMB","card_type":"savings","holder_name":"李雷"}}"#;
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "rules", "examples/policy-change/rules", "--format", "human", "--lang", "zh", "-j", "1",
        ]).pass_stdin(line));
    }
}

/// The change example is `rules/` with exactly the edit its README shows;
/// when `rules/` changes, copy it again and re-apply the edit.
#[test]
fn policy_change_example_is_rules_plus_the_documented_edit() {
    let edits: &[(&str, &str, &str)] = &[
        ("00-policy.rules", "version \"2026.11\"", "version \"2026.12\""),
        (
            "20-applicant.rules",
            "# A mainland mobile number: 11 digits beginning 13, 14, 15 or 18.\n# To admit the newer 16x, 17x and 19x prefixes, write [3-9] for [3458].\npattern mainland_mobile = r\"^1[3458][0-9]{9}$\"",
            "# A mainland mobile number: 11 digits beginning 13 to 19 (16x, 17x and 19x\n# admitted in 2026.12).\npattern mainland_mobile = r\"^1[3-9][0-9]{9}$\"",
        ),
    ];
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".rules"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("rules"), names("examples/policy-change/rules"));
    for name in names("rules") {
        let mut expected = std::fs::read_to_string(root(&format!("rules/{name}"))).unwrap();
        for (file, from, to) in edits.iter().filter(|e| e.0 == name) {
            assert_eq!(
                expected.matches(from).count(),
                1,
                "{file}: `{from}` no longer in rules/"
            );
            expected = expected.replace(from, to);
        }
        let actual = std::fs::read_to_string(root(&format!("examples/policy-change/rules/{name}"))).unwrap();
        assert!(
            actual == expected,
            "examples/policy-change/rules/{name} is not rules/{name} with the documented edit"
        );
    }
}

/// Every `console` block of the example's README is the real output of its
/// command (stderr, then stdout, as a terminal shows them; hashes aside).
#[test]
fn policy_change_readme_shows_real_output() {
    let readme = std::fs::read_to_string(root("examples/policy-change/README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```console\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "no console blocks");
    for block in blocks {
        let (command, shown) = block.split_once('\n').unwrap();
        let args: Vec<&str> = command
            .strip_prefix("$ kycrules ")
            .unwrap()
            .split_whitespace()
            .collect();
        let mut cmd = kycrules(&args);
        if !args.contains(&"--format") {
            cmd.arg("--format").arg("human"); // what a terminal shows
        }
        let out = cmd.output().unwrap();
        let actual = String::from_utf8(out.stderr).unwrap() + &String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            redact_hashes(&actual),
            redact_hashes(shown),
            "README output of `{command}` is stale"
        );
    }
}

/// Replaces every run of 16 hex digits (a policy hash).
fn redact_hashes(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(['\n']) {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() == 16 { "[hash]" } else { &run });
        run.clear();
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------- no change

#[test]
fn a_policy_against_itself_changes_nothing() {
    let rs = kycrules_shipped();
    let (diffs, summary) = diff_inputs(&rs, &rs, &["examples/applications"], "2026-11-27");
    assert!(
        diffs
            .iter()
            .all(|d| !d.changed && d.gained.is_empty() && d.lost.is_empty())
    );
    assert_eq!(summary.changed, 0);
    for k in DecisionKind::ALL {
        for j in DecisionKind::ALL.into_iter().filter(|j| *j != k) {
            assert_eq!(summary.matrix.get(k, j), 0);
        }
    }
}

#[test]
fn cli_a_policy_against_itself_exits_0() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "rules", "rules/", "examples/applications/01-accepted.yaml",
            "examples/applications/06-new-prefixes.yaml", "--format", "human",
        ]));
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn cli_a_policy_that_does_not_compile_exits_2() {
    assert_cmd_snapshot!(kycrules(&[
        "diff",
        "rules",
        "tests/fixtures/compile/err/E0023-unknown-message.rules",
        "examples/applications",
    ]));
}

#[test]
fn cli_an_unreadable_input_exits_2() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&["diff", "rules", "rules", "no/such/file.yaml"]));
    }
}

/// A record that carries a field only NEW's schema declares is an input error
/// under OLD: a change from `error`.
#[test]
fn cli_schema_change_is_a_change_from_error() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "tests/fixtures/diff/no-date.rules", "tests/fixtures/diff/dated.rules",
            "tests/fixtures/diff/applications.yaml", "tests/fixtures/diff/bad-date.yaml", "--as-of", "2026-12-31",
        ]));
    }
}

// ---------------------------------------------------------------- as of a date

/// The rules that fired (with their messages) and the decision, as of a day.
fn decide(rs: &RuleSet, yaml: &str, day: &str) -> (DecisionKind, Vec<(String, String)>) {
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    match kycrules::eval::evaluate_document(rs, &value, opts(rs, day)) {
        Ok(d) => (
            d.decision,
            d.violations
                .iter()
                .map(|v| (rs.rules[v.rule].id.clone(), v.message.to_string()))
                .collect(),
        ),
        Err(e) => panic!("input error: {e}"),
    }
}

fn fired(rs: &RuleSet, yaml: &str, day: &str) -> Vec<String> {
    decide(rs, yaml, day).1.into_iter().map(|(id, _)| id).collect()
}

const AL: &str = "id: x\napplicant: { name: Al }";

#[test]
fn a_rule_is_in_force_from_its_effective_date_on() {
    let rs = load("tests/fixtures/diff/dated.rules");
    assert!(!fired(&rs, AL, "2026-12-31").contains(&"name-three".to_string()));
    assert!(fired(&rs, AL, "2027-01-01").contains(&"name-three".to_string()));
    assert!(fired(&rs, AL, "2031-05-05").contains(&"name-three".to_string()));
    assert_eq!(decide(&rs, AL, "2026-12-31").0, DecisionKind::Accept);
    assert_eq!(decide(&rs, AL, "2027-01-01").0, DecisionKind::Reject);
}

#[test]
fn until_is_exclusive() {
    let rs = load("tests/fixtures/diff/dated.rules");
    assert_eq!(fired(&rs, AL, "2026-12-31"), ["old-note"]);
    assert!(!fired(&rs, AL, "2027-01-01").contains(&"old-note".to_string()));
}

#[test]
fn a_bank_out_of_force_resolves_as_unknown() {
    let rs = load("tests/fixtures/diff/dated.rules");
    let card = |bank: &str| format!("id: x\napplicant: {{ name: Alice }}\ncard: {{ bank: {bank} }}");
    let unknown = |bank: &str, day: &str| fired(&rs, &card(bank), day).contains(&"bank-known".to_string());
    assert!(!unknown("Old Bank", "2026-12-31"));
    assert!(
        unknown("Old Bank", "2027-01-01"),
        "OLDB is in force until 2027-01-01, exclusive"
    );
    assert!(unknown("NEWB", "2026-12-31"), "NEWB is not in force before 2027-01-01");
    assert!(!unknown("newb", "2027-01-01"));
    let (_, v) = decide(&rs, &card("Old Bank"), "2027-01-01");
    assert_eq!(
        v[0].1, "Bank `Old Bank` is not known.",
        "an unknown bank shows as typed"
    );
}

#[test]
fn a_message_out_of_force_falls_back_to_the_next_choice() {
    let rs = load("tests/fixtures/diff/dated.rules");
    let a = "id: x\napplicant: { name: A }";
    let message = |day: &str| {
        let (_, v) = decide(&rs, a, day);
        v.into_iter().find(|(id, _)| id == "name-two").unwrap().1
    };
    assert_eq!(message("2026-12-31"), "The name is too short.");
    assert_eq!(message("2027-01-01"), "From 2027 a name has at least three characters.");
}

#[test]
fn cli_check_evaluates_as_of_the_given_date() {
    for day in ["2026-12-31", "2027-01-01"] {
        redacted! {
            assert_cmd_snapshot!(format!("check_as_of_{day}"), kycrules(&[
                "check", "--policy", "tests/fixtures/diff/dated.rules", "--as-of", day, "--format", "human",
                "tests/fixtures/diff/applications.yaml",
            ]));
        }
    }
}

// ---------------------------------------------------------------- the application's own date

#[test]
fn record_date_is_the_field_clamped_to_the_run_date() {
    let rs = load("tests/fixtures/diff/dated-as-of.rules");
    let field = rs.as_of.as_ref();
    assert_eq!(field.unwrap().path, ["submitted_at"]);
    let run = date("2027-03-01");
    let at = |v: serde_json::Value| input::record_date(field, &v, run).to_string();
    assert_eq!(at(serde_json::json!({"submitted_at": "2026-12-15"})), "2026-12-15");
    assert_eq!(at(serde_json::json!({"submitted_at": "2027-03-01"})), "2027-03-01");
    assert_eq!(
        at(serde_json::json!({"submitted_at": "2099-01-01"})),
        "2027-03-01",
        "clamped"
    );
    assert_eq!(at(serde_json::json!({"submitted_at": null})), "2027-03-01");
    assert_eq!(at(serde_json::json!({})), "2027-03-01");
    assert_eq!(at(serde_json::json!({"submitted_at": "2026-02-30"})), "2027-03-01");
    assert_eq!(at(serde_json::json!({"submitted_at": 20261215})), "2027-03-01");
    assert_eq!(at(serde_json::json!("not a record")), "2027-03-01");
    // Without a declaration, the run's date always.
    let plain = load("tests/fixtures/diff/dated.rules");
    assert!(plain.as_of.is_none());
    let v = serde_json::json!({"submitted_at": "2026-12-15"});
    assert_eq!(input::record_date(None, &v, run), run);
}

#[test]
fn as_of_chooses_the_rules_in_force_on_the_application_date() {
    let (plain, dated) = (
        load("tests/fixtures/diff/dated.rules"),
        load("tests/fixtures/diff/dated-as-of.rules"),
    );
    let submitted = "id: x\nsubmitted_at: '2026-12-15'\napplicant: { name: Al }\ncard: { bank: Old Bank }";
    assert_eq!(fired(&plain, submitted, "2027-03-01"), ["name-three", "bank-known"]);
    assert_eq!(
        fired(&dated, submitted, "2027-03-01"),
        ["old-note"],
        "2026's rules and banks"
    );
    let undated = "id: x\napplicant: { name: Al }";
    assert_eq!(
        fired(&dated, undated, "2027-03-01"),
        fired(&plain, undated, "2027-03-01")
    );
    let future = "id: x\nsubmitted_at: '2099-01-01'\napplicant: { name: Al }";
    assert_eq!(
        fired(&dated, future, "2026-12-31"),
        ["old-note"],
        "no rule before its time"
    );
    let bad = serde_json::json!({"id": "x", "submitted_at": "15/12/2026", "applicant": {"name": "Al"}});
    let err = kycrules::eval::evaluate_document(&dated, &bad, opts(&dated, "2027-03-01")).unwrap_err();
    assert_eq!(err, "submitted_at: `15/12/2026` is not a date (YYYY-MM-DD)");
}

#[test]
fn as_of_uses_the_field_default_and_nested_fields() {
    let rs = compile_text(
        "policy \"p\" version \"1\" languages en\n\
         schema { id: text, meta: { submitted: { day: date = 2026-06-01 } }? }\n\
         as_of meta.submitted.day\n",
    )
    .unwrap();
    let run = date("2027-03-01");
    let at = |v: serde_json::Value| input::record_date(rs.as_of.as_ref(), &v, run).to_string();
    assert_eq!(
        at(serde_json::json!({"meta": {"submitted": {"day": "2026-01-02"}}})),
        "2026-01-02"
    );
    assert_eq!(
        at(serde_json::json!({"meta": {"submitted": {}}})),
        "2026-06-01",
        "the default"
    );
    assert_eq!(
        at(serde_json::json!({"meta": null})),
        "2027-03-01",
        "no record, no default"
    );
}

#[test]
fn as_of_declaration_errors() {
    let head = "policy \"p\" version \"1\" languages en\n\
                schema { id: text, name: text, dates: list of { day: date }, at: date? }\n";
    let mut out = String::new();
    for decl in [
        "as_of name",
        "as_of dates.day",
        "as_of nmae",
        "as_of name.first",
        "as_of at\nas_of at",
        "as_of",
    ] {
        let err = compile_text(&format!("{head}{decl}\n"))
            .err()
            .unwrap_or_else(|| panic!("`{decl}` compiled"));
        out.push_str(&format!("--- {decl:?}\n{err}"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn cli_diff_adding_as_of_changes_late_evaluated_applications() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "diff", "tests/fixtures/diff/dated.rules", "tests/fixtures/diff/dated-as-of.rules",
            "tests/fixtures/diff/applications.yaml", "--as-of", "2027-03-01", "--format", "human",
        ]));
    }
}

#[test]
fn cli_check_honours_as_of() {
    redacted! {
        assert_cmd_snapshot!(kycrules(&[
            "check", "--policy", "tests/fixtures/diff/dated-as-of.rules", "--as-of", "2027-03-01",
            "tests/fixtures/diff/applications.yaml",
        ]));
    }
}
