//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::date::Date;
use kycrules::diag;
use kycrules::eval::{self, Options};
use kycrules::ir::RuleSet;
use kycrules::report::{self, Outcome};
use kycrules::source::SourceMap;
use std::sync::OnceLock;

/// The shipped policy, compiled once.
pub fn shipped() -> &'static RuleSet {
    static RS: OnceLock<RuleSet> = OnceLock::new();
    RS.get_or_init(|| {
        let sources = kycrules::policy::embedded();
        let compiled = kycrules::policy::build(&sources);
        let text = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
        compiled
            .ruleset
            .unwrap_or_else(|| panic!("the shipped policy does not compile:\n{text}"))
    })
}

pub fn as_of() -> Date {
    Date::parse("2026-11-27").unwrap()
}

/// Evaluates one application (as a JSON value) and returns its JSON report line.
pub fn evaluate_json(rs: &RuleSet, value: &serde_json::Value, lang: &str) -> (Outcome, String) {
    let opts = Options {
        lang: rs.language(lang),
        as_of: as_of(),
    };
    let result =
        kycrules::input::convert(value, &rs.schema, &rs.tables, opts.as_of).map(|r| eval::evaluate(rs, &r, opts));
    let outcome = Outcome {
        id: kycrules::input::record_id(value),
        source: "test:1".into(),
        result,
    };
    // The policy hash changes with every edit of rules/; snapshots name it by placeholder.
    let line = report::json_line(rs, &outcome).replace(&rs.hash, "[hash]");
    (outcome, line)
}

pub fn fired(rs: &RuleSet, o: &Outcome) -> Vec<String> {
    match &o.result {
        Ok(d) => d.violations.iter().map(|v| rs.rules[v.rule].id.clone()).collect(),
        Err(_) => Vec::new(),
    }
}

pub fn yaml(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).unwrap()
}

/// The number of cases a property test runs: `PROPTEST_CASES` when it is set
/// to a number (a long run asked for from the shell), else `default`.
pub fn proptest_cases(default: u32) -> u32 {
    cases_from(std::env::var("PROPTEST_CASES").ok().as_deref(), default)
}

/// [`proptest_cases`], given the variable's value.
pub fn cases_from(var: Option<&str>, default: u32) -> u32 {
    var.and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// A policy of one file `test.rules`, compiled; its diagnostics rendered for
/// humans when it has an error.
pub fn build_policy(text: &str) -> Result<RuleSet, String> {
    let mut sources = SourceMap::default();
    sources.add("test.rules", text);
    let compiled = kycrules::policy::build(&sources);
    let rendered = diag::render_human(&compiled.diagnostics, &sources, false);
    match compiled.ruleset {
        Some(rs) if !compiled.diagnostics.iter().any(diag::Diagnostic::is_error) => Ok(rs),
        _ => Err(rendered),
    }
}

/// Conditions built from these leaves with `not`, `and` and `or`, up to three
/// levels deep, each operand parenthesised.
pub fn condition_tree(
    leaf: impl proptest::strategy::Strategy<Value = String> + 'static,
) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| format!("not ({c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) or ({b})")),
        ]
    })
}
