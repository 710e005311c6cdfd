//! `kycrules explain`: the decompiler, the traced evaluation, and the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};
use kycrules::eval::{self, Options};
use kycrules::explain::decompile::{Decompiler, Scope};
use kycrules::explain::{self, Explanation, Node, Shown, Status};
use kycrules::input::{self, InputRecord};
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use std::path::PathBuf;
use std::process::Command;

const CONSTRUCTS: &str = "tests/fixtures/explain/constructs.rules";

fn compile(name: &str, text: &str) -> RuleSet {
    let mut sources = SourceMap::default();
    sources.add(name, text.to_string());
    let compiled = kycrules::policy::build(&sources);
    let shown = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    compiled
        .ruleset
        .unwrap_or_else(|| panic!("{name} does not compile:\n{shown}"))
}

fn constructs() -> (RuleSet, String) {
    let text = std::fs::read_to_string(CONSTRUCTS).unwrap();
    (compile(CONSTRUCTS, &text), text)
}

fn records(path: &str) -> Vec<InputRecord> {
    input::read_inputs(vec![PathBuf::from(path)]).collect()
}

fn explain_record(rs: &RuleSet, rec: &InputRecord, show_pii: bool) -> Option<Explanation> {
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    let value = rec.value.as_ref().ok()?;
    let record = input::convert(value, &rs.schema, &rs.tables, opts.as_of).ok()?;
    Some(explain::explain(
        rs,
        &record,
        rec.id.as_deref(),
        &rec.source,
        explain::Options { eval: opts, show_pii },
    ))
}

/// Each rule's `given` and `when`, rendered back to policy text.
fn decompiled(rs: &RuleSet) -> Vec<(String, Option<String>, String)> {
    let dc = Decompiler::new(rs);
    rs.rules
        .iter()
        .map(|r| {
            let given = r.guard.as_ref().map(|g| dc.render(g, &mut Scope::new()));
            (r.id.clone(), given, dc.render(&r.when, &mut Scope::new()))
        })
        .collect()
}

/// Each rule's `given` and `when` as the source writes them (one line each).
fn source_clauses(text: &str) -> Vec<(String, Option<String>, String)> {
    let mut out: Vec<(String, Option<String>, String)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("rule ") {
            let id = rest.split_whitespace().next().unwrap().to_string();
            out.push((id, None, String::new()));
        } else if let Some(g) = line.strip_prefix("given ") {
            out.last_mut().unwrap().1 = Some(g.to_string());
        } else if let Some(w) = line.strip_prefix("when ") {
            out.last_mut().unwrap().2 = w.to_string();
        }
    }
    out
}

fn shipped_text() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir("rules")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    let text: String = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    join_continuations(&text)
}

/// The formatter breaks long conditions before `and`/`or`; join such lines back
/// so that each clause stands on one line.
fn join_continuations(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("and ") || t.starts_with("or ") {
            out.pop();
            out.push(' ');
            out.push_str(t);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------- decompiler

#[test]
fn decompiled_rules_of_the_shipped_policy_read_like_the_source() {
    let rs = shipped();
    let rendered = decompiled(rs);
    assert_eq!(rendered, source_clauses(&shipped_text()));
    let listing: String = rendered
        .iter()
        .map(|(id, given, when)| match given {
            Some(g) => format!("{id}\n  given {g}\n  when  {when}\n"),
            None => format!("{id}\n  when  {when}\n"),
        })
        .collect();
    insta::assert_snapshot!(listing);
}

/// Replaces every one-line `given`, `when` and `let` of a policy with its
/// rendering, compiles the result, and compares the compiled expressions.
fn assert_round_trip(name: &str, text: &str) {
    let rs = compile(name, text);
    let dc = Decompiler::new(&rs);
    let render = |e| dc.render(e, &mut Scope::new());
    let (mut rule, mut lets, mut replaced) = (None::<usize>, 0usize, 0usize);
    let mut rewritten = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let indent = &line[..line.len() - t.len()];
        let new = if t.starts_with("rule ") {
            rule = Some(rule.map_or(0, |r| r + 1));
            line.to_string()
        } else if t.starts_with("given ") {
            let g = rs.rules[rule.unwrap()].guard.as_ref().unwrap();
            replaced += 1;
            format!("{indent}given {}", render(g))
        } else if let (Some(r), true) = (rule, t.starts_with("when ")) {
            replaced += 1;
            format!("{indent}when {}", render(&rs.rules[r].when))
        } else if let Some(rest) = t.strip_prefix("let ") {
            let name = rest.split_whitespace().next().unwrap();
            assert_eq!(rs.let_names[lets], name);
            lets += 1;
            replaced += 1;
            format!("let {name} = {}", render(&rs.lets[lets - 1]))
        } else {
            line.to_string()
        };
        rewritten.push_str(&new);
        rewritten.push('\n');
    }
    let clauses = rs.rules.len() + rs.rules.iter().filter(|r| r.guard.is_some()).count() + rs.lets.len();
    assert_eq!(replaced, clauses, "every `given`, `when` and `let` is rendered");
    let again = compile(&format!("{name} (rendered)"), &rewritten);
    let debug = |rs: &RuleSet| {
        let rules: Vec<String> = rs.rules.iter().map(|r| format!("{:?} {:?}", r.guard, r.when)).collect();
        let lets: Vec<String> = rs.lets.iter().map(|l| format!("{l:?}")).collect();
        (rules, lets)
    };
    assert_eq!(debug(&rs), debug(&again), "rendered policy:\n{rewritten}");
}

#[test]
fn rendered_expressions_compile_back_to_the_same_rules() {
    assert_round_trip("shipped", &shipped_text());
    let (_, text) = constructs();
    assert_round_trip(CONSTRUCTS, &text);
}

#[test]
fn every_construct_is_rendered() {
    let (rs, _) = constructs();
    let dc = Decompiler::new(&rs);
    let mut out = String::new();
    for (i, name) in rs.let_names.iter().enumerate() {
        out.push_str(&format!("let {name} = {}\n", dc.render(&rs.lets[i], &mut Scope::new())));
    }
    for (id, given, when) in decompiled(&rs) {
        if let Some(g) = given {
            out.push_str(&format!("{id} given {g}\n"));
        }
        out.push_str(&format!("{id} when {when}\n"));
    }
    insta::assert_snapshot!(out);
}

// ---------------------------------------------------------------- traces

fn walk(n: &Node, f: &mut impl FnMut(&Node)) {
    f(n);
    for c in &n.children {
        walk(c, f);
    }
}

fn nodes(ex: &Explanation, mut f: impl FnMut(&Node)) {
    for r in &ex.rules {
        r.given.iter().chain([&r.when]).for_each(|n| walk(n, &mut f));
        r.messages
            .iter()
            .filter_map(|m| m.condition.as_ref())
            .for_each(|n| walk(n, &mut f));
    }
    ex.next_step_trace
        .iter()
        .filter_map(|s| s.condition.as_ref())
        .for_each(|n| walk(n, &mut f));
}

/// An explanation says what `check` decides: the same rules fire with the same
/// messages, the same decision, the same next step.
fn assert_agrees(rs: &RuleSet, app: &serde_json::Value, label: &str) {
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    let Ok(record) = input::convert(app, &rs.schema, &rs.tables, opts.as_of) else {
        return;
    };
    let d = eval::evaluate(rs, &record, opts);
    let ex = explain::explain(
        rs,
        &record,
        None,
        label,
        explain::Options {
            eval: opts,
            show_pii: false,
        },
    );
    let fired: Vec<(String, String)> = ex
        .rules
        .iter()
        .filter(|r| r.fired)
        .map(|r| (r.id.clone(), r.message.clone().unwrap()))
        .collect();
    let expected: Vec<(String, String)> = d
        .violations
        .iter()
        .map(|v| (rs.rules[v.rule].id.clone(), v.message.to_string()))
        .collect();
    assert_eq!(fired, expected, "{label}");
    assert_eq!(ex.decision, d.decision, "{label}");
    assert_eq!(
        ex.next_step.as_deref(),
        d.next_step.map(|i| rs.next_steps[i].name.as_str()),
        "{label}"
    );
    for r in &ex.rules {
        assert_eq!(r.fired, r.status == Status::Fired, "{label} {}", r.id);
        let top = r.when.value.clone();
        match r.status {
            Status::Fired => assert_eq!(top, Shown::Bool { value: true }, "{label} {}", r.id),
            Status::ConditionFalse => assert_eq!(top, Shown::Bool { value: false }, "{label} {}", r.id),
            Status::ConditionUnknown => assert_eq!(top, Shown::Absent, "{label} {}", r.id),
            _ => assert_eq!(top, Shown::NotEvaluated, "{label} {}", r.id),
        }
    }
    if let Some(step) = ex.next_step_trace.last() {
        assert!(step.chosen && Some(&step.step) == ex.next_step.as_ref(), "{label}");
    }
    nodes(&ex, |n| {
        if n.value == Shown::NotEvaluated {
            assert!(n.children.is_empty(), "{label}: {n:?}");
        }
    });
}

#[test]
fn explanations_agree_with_check_on_every_example_and_catalogue_case() {
    let rs = shipped();
    let mut seen = 0;
    for entry in std::fs::read_dir("examples/applications").unwrap() {
        for rec in records(entry.unwrap().path().to_str().unwrap()) {
            if let Ok(v) = &rec.value {
                assert_agrees(rs, v, &rec.source);
                seen += 1;
            }
        }
    }
    let base = yaml(include_str!("fixtures/catalogue/_base.yaml"));
    for entry in std::fs::read_dir("tests/fixtures/catalogue").unwrap() {
        let path = entry.unwrap().path();
        let case = yaml(&std::fs::read_to_string(&path).unwrap());
        for kind in ["fires", "near_miss"] {
            let mut app = base.clone();
            kycrules::patch::merge(&mut app, &case[kind]);
            assert_agrees(rs, &app, &format!("{} {kind}", path.display()));
            seen += 1;
        }
    }
    let (rs, _) = constructs();
    for rec in records("tests/fixtures/explain/constructs.yaml") {
        assert_agrees(&rs, rec.value.as_ref().unwrap(), &rec.source);
        seen += 1;
    }
    assert!(seen > 40, "only {seen} applications");
}

#[test]
fn sensitive_fields_are_masked_unless_asked() {
    let (rs, _) = constructs();
    let rec = &records("tests/fixtures/explain/constructs.yaml")[0];
    let number = "4111-1111-1111-1111";
    let masked = serde_json::to_string(&explain_record(&rs, rec, false).unwrap()).unwrap();
    assert!(
        !masked.contains(number) && masked.contains("***************1111"),
        "{masked}"
    );
    assert!(masked.contains(r#""masked":true"#));
    let shown = serde_json::to_string(&explain_record(&rs, rec, true).unwrap()).unwrap();
    assert!(shown.contains(number) && !shown.contains(r#""masked":true"#));
}

#[test]
fn short_circuits_and_unknowns_are_shown_as_they_happened() {
    let (rs, _) = constructs();
    let ex = explain_record(&rs, &records("tests/fixtures/explain/constructs.yaml")[0], false).unwrap();
    let rule = |id: &str| ex.rules.iter().find(|r| r.id == id).unwrap();
    // `all` stops at the first false item; `and` at the first false operand.
    let q = &rule("quantifiers").when;
    let items: Vec<(&str, &Shown)> = q.children[0]
        .children
        .iter()
        .map(|n| (n.expr.as_str(), &n.value))
        .collect();
    assert_eq!(items[2], ("docs[2]", &Shown::NotEvaluated));
    assert!(q.children[1..].iter().all(|n| n.value == Shown::NotEvaluated));
    // `false or unknown` is unknown: the rule does not fire.
    let nd = rule("numbers-dates");
    assert_eq!(nd.status, Status::ConditionUnknown);
    assert_eq!(nd.when.children[1].value, Shown::Absent);
    // A rule out of force is not evaluated at all.
    assert_eq!(rule("dated").status, Status::NotInForce);
    assert_eq!(rule("dated").validity.as_deref(), Some("from 2030-01-01"));
}

#[test]
fn long_lists_are_traced_item_by_item_up_to_a_limit() {
    let (rs, _) = constructs();
    let docs: Vec<serde_json::Value> = (0..25)
        .map(|_| serde_json::json!({"kind": "visa", "pages": []}))
        .collect();
    let app = serde_json::json!({"id": "L", "name": "Ann", "status": "open", "docs": docs});
    let rec = InputRecord {
        source: "test:1".into(),
        id: Some("L".into()),
        value: Ok(app),
    };
    let ex = explain_record(&rs, &rec, false).unwrap();
    let all = &ex.rules.iter().find(|r| r.id == "quantifiers").unwrap().when.children[0];
    assert_eq!(all.value, Shown::Bool { value: true });
    assert_eq!(all.children.len(), 21);
    assert_eq!(all.children[20].expr, "docs[20..]");
    assert_eq!(all.children[20].value, Shown::Elided { count: 5 });
}

/// The JSON of the rules that fired and of the next step, for a rejected,
/// a limited, an accepted and a reviewed application.
#[test]
fn json_of_what_decided() {
    let rs = shipped();
    for (file, id) in [
        ("04-rejected.yaml", "X-0003"),
        ("03-limited.yaml", "L-0001"),
        ("01-accepted.yaml", "A-0001"),
        ("02-review.yaml", "R-0001"),
    ] {
        let recs = records(&format!("examples/applications/{file}"));
        let rec = recs.iter().find(|r| r.id.as_deref() == Some(id)).unwrap();
        let mut ex = explain_record(rs, rec, false).unwrap();
        ex.rules.retain(|r| r.fired);
        insta::with_settings!({snapshot_suffix => id, filters => vec![(r#""hash": "[0-9a-f]{16}""#, r#""hash": "[hash]""#)]}, {
            insta::assert_json_snapshot!(ex);
        });
    }
}

// ---------------------------------------------------------------- the command

fn explain_cmd() -> Command {
    let mut cmd = Command::new(get_cargo_bin("kycrules"));
    cmd.env("NO_COLOR", "1").arg("explain").args(["--as-of", "2026-11-27"]);
    cmd
}

/// The policy hash changes with every edit of a policy; snapshots name it by placeholder.
macro_rules! snapshot {
    ($cmd:expr) => {
        insta::with_settings!({filters => vec![(r"\([0-9a-f]{16}\)", "([hash])"), (r#""hash": "[0-9a-f]{16}""#, r#""hash": "[hash]""#)]}, {
            assert_cmd_snapshot!($cmd);
        })
    };
}

#[test]
fn cli_rejected_application_with_several_rules() {
    snapshot!(explain_cmd().args(["examples/applications/04-rejected.yaml", "--id", "X-0003"]));
}

#[test]
fn cli_limited_application() {
    snapshot!(explain_cmd().arg("examples/applications/03-limited.yaml"));
}

#[test]
fn cli_accepted_application() {
    snapshot!(explain_cmd().args(["examples/applications/01-accepted.yaml", "--id", "A-0002"]));
}

#[test]
fn cli_json_is_the_explanation() {
    let path = "examples/applications/03-limited.yaml";
    let out = explain_cmd().args([path, "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ex = explain_record(shipped(), &records(path)[0], false).unwrap();
    assert_eq!(printed, serde_json::to_value(&ex).unwrap());
    assert_eq!(printed["decision"], "limited");
    assert_eq!(printed["rules"].as_array().unwrap().len(), shipped().rules.len());
}

#[test]
fn cli_every_construct() {
    snapshot!(explain_cmd().args(["--policy", CONSTRUCTS, "tests/fixtures/explain/constructs.yaml"]));
}

#[test]
fn cli_show_pii() {
    let out = explain_cmd()
        .args([
            "--policy",
            CONSTRUCTS,
            "tests/fixtures/explain/constructs.yaml",
            "--show-pii",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(r#"card.number = "4111-1111-1111-1111""#), "{text}");
}

#[test]
fn cli_picks_a_record_by_id_from_a_directory() {
    let out = explain_cmd()
        .args(["examples/applications", "--id", "J-0004", "--lang", "zh"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("J-0004  review  examples/applications/05-batch.jsonl:5\n"),
        "{text}"
    );
    assert!(
        text.contains("message deposit_out_of_range: 打款金额须大于 0 且小于 1 元"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn cli_several_records_without_id() {
    snapshot!(explain_cmd().arg("examples/applications/04-rejected.yaml"));
}

#[test]
fn cli_no_such_id() {
    snapshot!(explain_cmd().args(["examples/applications/04-rejected.yaml", "--id", "X-0009"]));
}

#[test]
fn cli_duplicate_id() {
    snapshot!(explain_cmd().args(["tests/fixtures/explain/duplicate-ids.jsonl", "--id", "D-1"]));
}

#[test]
fn cli_record_with_an_input_error() {
    snapshot!(explain_cmd().args(["examples/applications/05-batch.jsonl", "--id", "J-0003"]));
}

#[test]
fn cli_unparsable_record() {
    snapshot!(explain_cmd().arg("tests/fixtures/explain/broken.json"));
}

#[test]
fn cli_empty_input() {
    snapshot!(explain_cmd().arg("-").pass_stdin(""));
}

#[test]
fn cli_fired_shows_only_the_rules_that_fired() {
    let full = explain_cmd()
        .args(["examples/applications/04-rejected.yaml", "--id", "X-0002"])
        .output()
        .unwrap();
    let fired = explain_cmd()
        .args(["examples/applications/04-rejected.yaml", "--id", "X-0002", "--fired"])
        .output()
        .unwrap();
    let rules = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.starts_with("rule "))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect()
    };
    let text = String::from_utf8_lossy(&fired.stdout).to_string();
    assert_eq!(
        rules(&fired.stdout),
        [
            "documents-required",
            "document-legible",
            "bank-supported",
            "card-savings"
        ],
        "{text}"
    );
    assert!(rules(&full.stdout).len() > 4);
    let header = format!("4 of {} rules fired", shipped().rules.len());
    assert!(text.contains(&header), "{text}");
    assert_eq!(fired.status.code(), Some(1));
}

/// A lookup's entry is shown by its code and, in the explanation's language,
/// its name: `"82" → 82 (Macao)`; the JSON carries the name too.
#[test]
fn cli_lookup_shows_the_entry_and_its_name() {
    let args = [
        "--policy",
        "shipped:mainland-resident",
        "policies/mainland-resident/examples/applications.yaml",
        "--id",
        "MR-0002",
    ];
    snapshot!(explain_cmd().args(args));
    let zh = explain_cmd().args(args).args(["--lang", "zh"]).output().unwrap();
    let zh = String::from_utf8(zh.stdout).unwrap();
    assert!(zh.contains("id_region = \"82\" → 82 (澳门)"), "{zh}");
    let out = explain_cmd().args(args).args(["--format", "json"]).output().unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen = Vec::new();
    fn walk_json(v: &serde_json::Value, seen: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("expr") == Some(&serde_json::json!("id_region")) {
                    seen.push(m["value"].clone());
                }
                m.values().for_each(|x| walk_json(x, seen));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk_json(x, seen)),
            _ => {}
        }
    }
    walk_json(&printed, &mut seen);
    assert!(!seen.is_empty());
    for v in seen {
        assert_eq!(
            v,
            serde_json::json!({"type": "bank", "typed": "82", "code": "82", "name": "Macao", "table": "region"})
        );
    }
}
