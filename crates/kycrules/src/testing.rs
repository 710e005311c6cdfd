//! Policy tests: applications with the decision a policy must reach, kept
//! beside the policy (`<policy dir>/tests/*.yaml`) and run by `kycrules test`.
//!
//! # The test file format
//!
//! A test file is one YAML document (YAML 1.2 core schema, like applications)
//! with two keys:
//!
//! - `bases:` (optional) — named applications, each a whole record as SPEC §1
//!   gives it, for the cases of this file to start from;
//! - `cases:` — a list of cases.
//!
//! A case has these keys (any other key is an error):
//!
//! | key | meaning |
//! |---|---|
//! | `name` | required; says what the case checks; unique within the file |
//! | `application` | a whole application record; or else: |
//! | `base` + `change` | the named base, changed by `change`, a JSON merge patch (RFC 7386): a mapping merges key by key, `null` removes a key, any other value (a list too) replaces |
//! | `decision` | required: `accept`, `review`, `limited`, `reject` or `error` (the record is not a valid application) |
//! | `next_step` | optional: the expected next step, or `null` for none |
//! | `fires` | optional: exactly the rules that fire (rule ids, any order; `[]` for none) |
//! | `includes` / `excludes` | optional, instead of `fires`: rules that must / must not be among those that fire |
//! | `message_contains` | optional: a text, or a list of texts, that the rendered messages must contain (for `error`, the error) |
//! | `lang` | optional: the language of the messages (default: the policy's first) |
//! | `as_of` | optional: evaluate on this date, `YYYY-MM-DD` (default: `--as-of`, or today) |
//!
//! Rule ids, next steps and languages are checked against the policy: a typo
//! is an error, not a test that passes for the wrong reason.
//!
//! # Coverage and near misses
//!
//! A case *fires* a rule when the rule is among the violations. A case is a
//! *near miss* of a rule when the rule was in force on the case's date, its
//! guard (`given`) definitely held or it has none, and its condition (`when`)
//! was definitely false — the rule was asked, and said no. A condition that is
//! unknown (it read an absent optional field) is neither. A case whose record
//! is not a valid application counts for no rule. Rule coverage is the share
//! of the policy's rules that at least one case fires.
//!
//! The stages: `parse` reads one file against a [`RuleSet`] (so names are
//! checked), [`run`] evaluates every case and is pure.

mod outline;
mod parse;
mod render;

pub use parse::parse;
pub use render::{coverage_table, human, json};

use crate::date::Date;
use crate::eval::{self, DecisionKind, Evaluator, Options};
use crate::ir::RuleSet;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// One test file, parsed and checked against the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TestFile {
    /// The file's name as given to `parse`.
    pub name: String,
    pub cases: Vec<Case>,
}

/// One case: an application and what the policy must decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    /// The 1-based line of the case in its file.
    pub line: usize,
    /// The application, with any `change` applied to its base.
    pub application: Value,
    pub expect: Expect,
    /// The message language, when the case chose one.
    pub lang: Option<String>,
    pub as_of: Option<Date>,
}

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub decision: DecisionKind,
    pub next_step: StepExpect,
    pub rules: RulesExpect,
    pub message_contains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepExpect {
    /// The case does not check the next step.
    Unchecked,
    /// No next step (`next_step: null`).
    Null,
    Step(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesExpect {
    /// Exactly these rules fire (`fires:`).
    Exactly(BTreeSet<String>),
    /// These fire and those do not; others may (`includes:`, `excludes:`).
    Partial {
        includes: BTreeSet<String>,
        excludes: BTreeSet<String>,
    },
}

/// An error in a test file: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestError {
    pub file: String,
    /// The 1-based line; `None` for a file that could not be read.
    pub line: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "error: {}:{line}: {}", self.file, self.message)?,
            None => write!(f, "error: {}: {}", self.file, self.message)?,
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// What the policy decided for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actual {
    pub decision: DecisionKind,
    pub next_step: Option<String>,
    /// The ids of the rules that fired, in policy order.
    pub fired: Vec<String>,
    /// The rendered messages, in policy order.
    pub messages: Vec<String>,
    /// Why the record is not a valid application (decision `error`).
    pub error: Option<String>,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    pub file: String,
    pub line: usize,
    pub name: String,
    pub expect: Expect,
    /// The message language the case chose.
    pub lang: Option<String>,
    pub actual: Actual,
    /// Whether the decision (and the next step, when checked) differ.
    pub decision_differs: bool,
    /// Rules that fired though the case expected them not to.
    pub gained: Vec<String>,
    /// Rules that the case expected to fire but did not.
    pub missing: Vec<String>,
    /// Texts of `message_contains` that no message contains.
    pub lacking: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        !self.decision_differs && self.gained.is_empty() && self.missing.is_empty() && self.lacking.is_empty()
    }
}

/// How often the cases fired a rule, and how often they were near misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleCoverage {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    pub fired: usize,
    pub near_misses: usize,
}

/// Rule coverage of a suite, one entry per rule in policy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
}

impl Coverage {
    /// How many rules at least one case fired.
    pub fn covered(&self) -> usize {
        self.rules.iter().filter(|r| r.fired > 0).count()
    }

    /// The share of rules fired, in percent (100 for a policy without rules).
    pub fn percent(&self) -> f64 {
        if self.rules.is_empty() {
            return 100.0;
        }
        self.covered() as f64 * 100.0 / self.rules.len() as f64
    }

    /// Whether at least `min` percent of the rules were fired (exact, no rounding).
    pub fn meets(&self, min: u8) -> bool {
        self.covered() * 100 >= usize::from(min) * self.rules.len()
    }
}

/// The results of a run, in file and case order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub results: Vec<CaseResult>,
    pub coverage: Coverage,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    /// `N passed, M failed`
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Runs every case of `files`; cases without `as_of` are evaluated on `as_of`.
pub fn run(rs: &RuleSet, files: &[TestFile], as_of: Date) -> Report {
    let mut coverage = Coverage {
        rules: (0..rs.rules.len())
            .map(|rule| RuleCoverage {
                rule,
                fired: 0,
                near_misses: 0,
            })
            .collect(),
    };
    let mut results = Vec::new();
    for file in files {
        for case in &file.cases {
            let opts = Options {
                lang: rs.language(case.lang.as_deref().unwrap_or_default()),
                as_of: case.as_of.unwrap_or(as_of),
            };
            let actual = evaluate(rs, case, opts, &mut coverage);
            results.push(compare(&file.name, case, actual));
        }
    }
    Report { results, coverage }
}

/// Evaluates one case, counting its fires and near misses into `coverage`.
fn evaluate(rs: &RuleSet, case: &Case, opts: Options, coverage: &mut Coverage) -> Actual {
    let record = match crate::input::convert(&case.application, &rs.schema, &rs.tables, opts.as_of) {
        Ok(r) => r,
        Err(e) => {
            return Actual {
                decision: DecisionKind::Error,
                next_step: None,
                fired: Vec::new(),
                messages: Vec::new(),
                error: Some(e),
            };
        }
    };
    let mut ev = Evaluator::new(rs, &record, opts);
    for entry in &mut coverage.rules {
        let t = ev.rule_trace(entry.rule);
        entry.fired += usize::from(t.fired);
        entry.near_misses += usize::from(t.in_force && t.guard != Some(false) && t.condition == Some(false));
    }
    let d = eval::evaluate(rs, &record, opts);
    let rule_id = |i: usize| rs.rules.get(i).map(|r| r.id.clone()).unwrap_or_default();
    Actual {
        decision: d.decision,
        next_step: d.next_step.and_then(|i| rs.next_steps.get(i)).map(|s| s.name.clone()),
        fired: d.violations.iter().map(|v| rule_id(v.rule)).collect(),
        messages: d.violations.into_iter().map(|v| v.message.into_string()).collect(),
        error: None,
    }
}

fn compare(file: &str, case: &Case, actual: Actual) -> CaseResult {
    let e = &case.expect;
    let step_differs = match &e.next_step {
        StepExpect::Unchecked => false,
        StepExpect::Null => actual.next_step.is_some(),
        StepExpect::Step(s) => actual.next_step.as_deref() != Some(s.as_str()),
    };
    let fired: BTreeSet<&str> = actual.fired.iter().map(String::as_str).collect();
    let (gained, missing): (Vec<String>, Vec<String>) = match &e.rules {
        RulesExpect::Exactly(want) => (
            actual.fired.iter().filter(|r| !want.contains(*r)).cloned().collect(),
            want.iter().filter(|r| !fired.contains(r.as_str())).cloned().collect(),
        ),
        RulesExpect::Partial { includes, excludes } => (
            actual.fired.iter().filter(|r| excludes.contains(*r)).cloned().collect(),
            includes
                .iter()
                .filter(|r| !fired.contains(r.as_str()))
                .cloned()
                .collect(),
        ),
    };
    let haystack = match &actual.error {
        Some(err) => err.clone(),
        None => actual.messages.join("\n"),
    };
    let lacking = e
        .message_contains
        .iter()
        .filter(|t| !haystack.contains(t.as_str()))
        .cloned()
        .collect();
    CaseResult {
        file: file.to_owned(),
        line: case.line,
        name: case.name.clone(),
        expect: e.clone(),
        lang: case.lang.clone(),
        decision_differs: e.decision != actual.decision || step_differs,
        actual,
        gained,
        missing,
        lacking,
    }
}
