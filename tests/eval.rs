//! The language's semantics, on small policies written for each point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::date::Date;
use kycrules::eval::{self, Decision, Options};
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use serde_json::json;

const HEAD: &str = r#"policy "t" version "1" languages en, zh
schema {
  id: text
  name: text
  n: decimal?
  kind: a | b | c
  other: b | a
  items: list of { k: a | b, ok: bool? }
  card: { bank: bank, region: (here | there) = here }?
}
bank attribute good: bool = false
bank X { name en "X Bank" name zh "X 银行" alias "ex" good = true }
bank Y { name en "Y Bank" name zh "Y 银行" }
"#;

fn policy(body: &str) -> RuleSet {
    let mut sources = SourceMap::default();
    sources.add("t.rules", format!("{HEAD}{body}"));
    let c = kycrules::policy::build(&sources);
    c.ruleset
        .unwrap_or_else(|| panic!("{}", kycrules::diag::render_human(&c.diagnostics, &sources, false)))
}

fn run(rs: &RuleSet, app: serde_json::Value, as_of: &str) -> Decision {
    let opts = Options {
        lang: 0,
        as_of: Date::parse(as_of).unwrap(),
    };
    let record = kycrules::input::convert(&app, &rs.schema, &rs.tables, opts.as_of).unwrap();
    eval::evaluate(rs, &record, opts)
}

fn base() -> serde_json::Value {
    json!({"id": "1", "name": "Ann", "kind": "a", "other": "a", "items": []})
}

fn with(patch: serde_json::Value) -> serde_json::Value {
    let mut app = base();
    kycrules::patch::merge(&mut app, &patch);
    app
}

fn fired(rs: &RuleSet, d: &Decision) -> Vec<String> {
    d.violations.iter().map(|v| rs.rules[v.rule].id.clone()).collect()
}

const MSG: &str = "message m { en \"m\" zh \"m\" }\n";

#[test]
fn absent_fields_make_comparisons_unknown() {
    let rs = policy(&format!(
        "{MSG}rule lt reject {{ when n < 1 message m }}\nrule not-lt reject {{ when not (n < 1) message m }}\n\
         rule or-true reject {{ when n < 1 or true message m }}\nrule and-false reject {{ when n < 1 and false message m }}\n"
    ));
    assert_eq!(fired(&rs, &run(&rs, base(), "2026-01-01")), ["or-true"]);
    assert_eq!(
        fired(&rs, &run(&rs, with(json!({"n": "0.5"})), "2026-01-01")),
        ["lt", "or-true"]
    );
}

#[test]
fn quantifiers_are_three_valued() {
    let rs = policy(&format!(
        "{MSG}rule any-false reject {{ when any(i in items: i.ok == false) message m }}\n\
         rule all-true reject {{ when all(i in items: i.ok == true) message m }}\n\
         rule two-a reject {{ when count(i in items: i.k == a) >= 2 message m }}\n"
    ));
    assert_eq!(
        fired(&rs, &run(&rs, base(), "2026-01-01")),
        ["all-true"],
        "all of nothing holds"
    );
    let items = json!({"items": [{"k": "a"}, {"k": "a", "ok": true}]});
    assert_eq!(
        fired(&rs, &run(&rs, with(items), "2026-01-01")),
        ["two-a"],
        "an unknown item keeps all() unknown"
    );
    let items = json!({"items": [{"k": "b", "ok": false}]});
    assert_eq!(fired(&rs, &run(&rs, with(items), "2026-01-01")), ["any-false"]);
}

#[test]
fn enum_values_resolve_by_the_other_side_and_show_by_name() {
    let rs = policy(
        "message m { en \"kind {kind}, other {other}\" zh \"{kind}\" }\n\
         rule r reject { when kind == b and other == b and kind in [a, b] message m }\n",
    );
    let d = run(&rs, with(json!({"kind": "b", "other": "b"})), "2026-01-01");
    assert_eq!(d.violations[0].message, "kind b, other b");
}

#[test]
fn banks_resolve_by_code_name_or_alias_and_default_attributes() {
    let rs = policy(
        "message m { en \"{card.bank} is not good\" zh \"{card.bank}\" }\n\
         rule bad-bank reject { given present(card) when not card.bank.good message m }\n\
         rule is-x note { when card.bank == X message m }\n",
    );
    for typed in ["X", " x bank ", "EX", "X 银行"] {
        let d = run(&rs, with(json!({"card": {"bank": typed}})), "2026-01-01");
        assert_eq!(fired(&rs, &d), ["is-x"], "{typed}");
        assert_eq!(d.decision.as_str(), "accept", "a note never changes the decision");
    }
    let d = run(&rs, with(json!({"card": {"bank": "Y Bank"}})), "2026-01-01");
    assert_eq!(d.violations[0].message, "Y Bank is not good");
    let d = run(&rs, with(json!({"card": {"bank": "Zed"}})), "2026-01-01");
    assert_eq!(
        d.violations[0].message, "Zed is not good",
        "an unknown bank shows as typed"
    );
}

#[test]
fn message_choices_with_values_and_languages() {
    let rs = policy(
        "message short { en \"too short: {len}\" zh \"太短：{len}\" }\nmessage other { en \"other\" zh \"其他\" }\n\
         rule r reject { when true with len = length(name) message short if length(name) < 5 message other }\n",
    );
    let d = run(&rs, base(), "2026-01-01");
    assert_eq!(d.violations[0].message, "too short: 3");
    let opts = Options {
        lang: rs.language("zh"),
        as_of: Date::parse("2026-01-01").unwrap(),
    };
    let record =
        kycrules::input::convert(&with(json!({"name": "Annabelle"})), &rs.schema, &rs.tables, opts.as_of).unwrap();
    assert_eq!(eval::evaluate(&rs, &record, opts).violations[0].message, "其他");
}

#[test]
fn effective_dates_bound_rules_on_both_sides() {
    let rs = policy(&format!(
        "{MSG}rule r reject {{ when true message m effective 2027-01-01 until 2027-02-01 }}\n"
    ));
    assert!(fired(&rs, &run(&rs, base(), "2026-12-31")).is_empty());
    assert_eq!(fired(&rs, &run(&rs, base(), "2027-01-01")), ["r"]);
    assert_eq!(fired(&rs, &run(&rs, base(), "2027-01-31")), ["r"]);
    assert!(
        fired(&rs, &run(&rs, base(), "2027-02-01")).is_empty(),
        "until is exclusive"
    );
}

#[test]
fn fired_and_next_step() {
    let rs = policy(&format!(
        "{MSG}rule first review {{ when name == \"Ann\" message m }}\n\
         rule second note {{ when fired(first) message m }}\n\
         next_step {{ look when fired(second) go otherwise }}\n"
    ));
    let d = run(&rs, base(), "2026-01-01");
    assert_eq!(fired(&rs, &d), ["first", "second"]);
    assert_eq!(d.decision.as_str(), "review");
    assert_eq!(rs.next_steps[d.next_step.unwrap()].name, "look");
    let d = run(&rs, with(json!({"name": "Bo"})), "2026-01-01");
    assert_eq!(rs.next_steps[d.next_step.unwrap()].name, "go");
}

#[test]
fn defaults_fill_absent_fields() {
    let rs = policy(&format!(
        "{MSG}rule r reject {{ when card.region == here message m }}\n"
    ));
    assert_eq!(
        fired(&rs, &run(&rs, with(json!({"card": {"bank": "X"}})), "2026-01-01")),
        ["r"]
    );
    assert!(
        fired(
            &rs,
            &run(
                &rs,
                with(json!({"card": {"bank": "X", "region": "there"}})),
                "2026-01-01"
            )
        )
        .is_empty()
    );
}
