//! Reports of a test run: failing cases, the coverage table, JSON.

use super::{CaseResult, Coverage, Report, RulesExpect, StepExpect};
use crate::ir::RuleSet;
use serde_json::{Map, Value, json};

impl CaseResult {
    /// One line for a failed case: `file:line: `name`: expected ..., got ...; gained ...`.
    pub fn failure_line(&self) -> String {
        let mut parts = Vec::new();
        if self.decision_differs {
            let checked = self.expect.next_step != StepExpect::Unchecked;
            let expected = match &self.expect.next_step {
                StepExpect::Unchecked => String::new(),
                StepExpect::Null => " → null".to_owned(),
                StepExpect::Step(s) => format!(" → {s}"),
            };
            let mut got = match (&self.actual.error, &self.actual.next_step) {
                (Some(e), _) => format!(" ({e})"),
                (None, Some(s)) if checked => format!(" → {s}"),
                (None, None) if checked => " → null".to_owned(),
                _ => String::new(),
            };
            if self.gained.is_empty() && self.missing.is_empty() && !self.actual.fired.is_empty() {
                got.push_str(&format!(" (fired {})", self.actual.fired.join(", ")));
            }
            parts.push(format!(
                "expected {}{expected}, got {}{got}",
                self.expect.decision.as_str(),
                self.actual.decision.as_str()
            ));
        }
        if !self.gained.is_empty() {
            parts.push(format!("gained {}", self.gained.join(", ")));
        }
        if !self.missing.is_empty() {
            parts.push(format!("missing {}", self.missing.join(", ")));
        }
        for text in &self.lacking {
            let what = match (&self.actual.error, &self.lang) {
                (Some(_), _) => "the error does not contain".to_owned(),
                (None, Some(lang)) => format!("no message in `{lang}` contains"),
                (None, None) => "no message contains".to_owned(),
            };
            parts.push(format!("{what} {}", Value::String(text.clone())));
        }
        format!("{}:{}: `{}`: {}", self.file, self.line, self.name, parts.join("; "))
    }
}

/// Failing cases, then the coverage table if asked, then `N passed, M failed`.
pub fn human(rs: &RuleSet, report: &Report, coverage: bool) -> String {
    let mut out = String::new();
    for r in report.results.iter().filter(|r| !r.passed()) {
        out.push_str(&r.failure_line());
        out.push('\n');
    }
    if coverage {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&coverage_table(rs, &report.coverage));
        out.push('\n');
    }
    out.push_str(&report.summary());
    out.push('\n');
    out
}

/// A table of rule, outcome, fired and near misses, and the share of rules fired.
pub fn coverage_table(rs: &RuleSet, c: &Coverage) -> String {
    let width = rs.rules.iter().map(|r| r.id.chars().count()).max().unwrap_or(0).max(4);
    let mut out = format!("{:<width$}  outcome  fired  near misses\n", "rule");
    for e in &c.rules {
        let Some(rule) = rs.rules.get(e.rule) else { continue };
        out.push_str(&format!(
            "{:<width$}  {:<7}  {:>5}  {:>11}\n",
            rule.id,
            rule.outcome.as_str(),
            e.fired,
            e.near_misses
        ));
    }
    out.push_str(&format!(
        "rule coverage: {} of {} rules fired by at least one case ({:.1}%)\n",
        c.covered(),
        c.rules.len(),
        c.percent()
    ));
    out
}

pub fn json(rs: &RuleSet, report: &Report, coverage: bool) -> String {
    let mut v = json!({
        "cases": report.results.iter().map(case_json).collect::<Vec<_>>(),
        "passed": report.passed(),
        "failed": report.failed(),
    });
    if coverage && let Value::Object(m) = &mut v {
        let rules: Vec<Value> = report
            .coverage
            .rules
            .iter()
            .filter_map(|e| {
                let rule = rs.rules.get(e.rule)?;
                Some(json!({"rule": rule.id, "outcome": rule.outcome.as_str(), "fired": e.fired, "near_misses": e.near_misses}))
            })
            .collect();
        let c = &report.coverage;
        m.insert(
            "coverage".into(),
            json!({"rules": rules, "covered": c.covered(), "total": c.rules.len(), "percent": c.percent()}),
        );
    }
    format!("{v}\n")
}

fn case_json(r: &CaseResult) -> Value {
    let e = &r.expect;
    let mut expected = Map::new();
    expected.insert("decision".into(), e.decision.as_str().into());
    match &e.next_step {
        StepExpect::Unchecked => {}
        StepExpect::Null => {
            expected.insert("next_step".into(), Value::Null);
        }
        StepExpect::Step(s) => {
            expected.insert("next_step".into(), s.as_str().into());
        }
    }
    match &e.rules {
        RulesExpect::Exactly(fires) => {
            expected.insert("fires".into(), json!(fires));
        }
        RulesExpect::Partial { includes, excludes } => {
            if !includes.is_empty() {
                expected.insert("includes".into(), json!(includes));
            }
            if !excludes.is_empty() {
                expected.insert("excludes".into(), json!(excludes));
            }
        }
    }
    if !e.message_contains.is_empty() {
        expected.insert("message_contains".into(), json!(e.message_contains));
    }
    if let Some(lang) = &r.lang {
        expected.insert("lang".into(), lang.as_str().into());
    }
    json!({
        "file": r.file,
        "line": r.line,
        "name": r.name,
        "passed": r.passed(),
        "expected": expected,
        "actual": {
            "decision": r.actual.decision.as_str(),
            "next_step": r.actual.next_step,
            "fired": r.actual.fired,
            "messages": r.actual.messages,
            "error": r.actual.error,
        },
        "gained": r.gained,
        "missing": r.missing,
        "messages_lacking": r.lacking,
    })
}
