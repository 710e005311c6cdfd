//! Explaining a decision: every rule of the policy in order, whether it is in
//! force, its guard and condition with the value each sub-expression took,
//! whether it fired and why, then the decision and the next step.
//!
//! Pure, like the evaluator: [`explain`] builds an [`Explanation`]; the
//! command line renders it as text or JSON. The values come from
//! [`Evaluator::eval`](crate::eval::Evaluator::eval) itself, node by node, so
//! an explanation cannot disagree with `check`; short-circuiting is shown as
//! it happened (an operand that was not evaluated says so).

pub mod decompile;
mod trace;

use crate::date::Date;
use crate::eval::{self, DecisionKind, Evaluator, Options as EvalOptions};
use crate::ir::{Outcome, Rule, RuleSet, Validity};
use crate::record::Record;
use serde::{Serialize, Serializer};
use std::fmt;
use trace::Tracer;

/// How to explain: the evaluation options, and whether `sensitive` fields
/// are shown in full.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub eval: EvalOptions,
    pub show_pii: bool,
}

/// Why one application got its decision.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub id: Option<String>,
    pub source: String,
    pub policy: PolicyStamp,
    pub as_of: String,
    pub lang: String,
    #[serde(serialize_with = "decision_str")]
    pub decision: DecisionKind,
    /// The rules whose outcome decided (the most severe that fired, notes aside).
    pub decided_by: Vec<String>,
    pub next_step: Option<String>,
    /// The next-step choices tried in order, up to the one taken; empty when
    /// the decision has no next step.
    pub next_step_trace: Vec<StepTrace>,
    /// How many rules the policy has (`rules` may show only some of them).
    pub rules_in_policy: usize,
    /// The rules that fired.
    pub fired: Vec<String>,
    pub rules: Vec<RuleTrace>,
}

/// Which policy explained: its name, version and content hash.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyStamp {
    pub name: String,
    pub version: String,
    pub hash: String,
}

/// One rule, as it was evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    pub id: String,
    #[serde(serialize_with = "outcome_str")]
    pub outcome: Outcome,
    pub fields: Vec<String>,
    pub fired: bool,
    pub status: Status,
    /// When the rule is in force, unless always: `from 2026-01-01 until 2027-01-01`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<Node>,
    pub when: Node,
    /// For a rule that fired: the message choices tried, up to the one shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageTrace>,
    /// For a rule that fired: its message in the chosen language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Whether a rule fired, and if not, why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fired,
    NotInForce,
    GuardFalse,
    GuardUnknown,
    ConditionFalse,
    ConditionUnknown,
}

impl Status {
    /// `fired`, or `not fired: <reason>`.
    pub fn describe(self) -> &'static str {
        match self {
            Status::Fired => "fired",
            Status::NotInForce => "not fired: not in force",
            Status::GuardFalse => "not fired: guard false",
            Status::GuardUnknown => "not fired: guard unknown (absent)",
            Status::ConditionFalse => "not fired: condition false",
            Status::ConditionUnknown => "not fired: condition unknown (absent)",
        }
    }
}

/// A message choice of a rule that fired.
#[derive(Debug, Clone, Serialize)]
pub struct MessageTrace {
    pub message: String,
    pub in_force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Node>,
    pub chosen: bool,
}

/// A next-step choice; no condition is `otherwise`.
#[derive(Debug, Clone, Serialize)]
pub struct StepTrace {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Node>,
    pub chosen: bool,
}

/// One evaluated expression: its text, its value, and the parts that explain it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// The expression as policy text.
    pub expr: String,
    pub value: Shown,
    /// A comparison with its operands' values in place: `31 > 20`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    /// For a `let`: its definition, `nfc(applicant.name)`.
    #[serde(rename = "let", skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// Which character decided a charset test: `" " U+0020 SPACE is not in phone_chars`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

/// A value as an explanation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Shown {
    /// Short-circuited: the evaluation did not need it.
    NotEvaluated,
    /// An absent optional field, or an unknown truth value.
    Absent,
    Bool {
        value: bool,
    },
    /// `masked`: a `sensitive` field, all but its last four characters hidden.
    Text {
        value: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        masked: bool,
    },
    /// An exact decimal.
    Number {
        value: String,
    },
    Date {
        value: String,
    },
    Enum {
        value: String,
    },
    /// A table entry (a bank, a region) as typed, and the code and display
    /// name (in the explanation's language) of the declared entry it names;
    /// `table` is left out for banks.
    Bank {
        typed: String,
        code: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(skip_serializing_if = "is_bank")]
        table: String,
    },
    Record,
    List {
        len: usize,
    },
    /// Items of a quantifier that were evaluated but are not traced one by one.
    Elided {
        count: usize,
    },
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::NotEvaluated => f.write_str("(not evaluated)"),
            Shown::Absent => f.write_str("unknown (absent)"),
            Shown::Bool { value } => write!(f, "{value}"),
            Shown::Text { value, .. } => f.write_str(&decompile::quote(value)),
            Shown::Number { value } | Shown::Date { value } | Shown::Enum { value } => f.write_str(value),
            Shown::Bank {
                typed,
                code,
                name,
                table,
            } => match (code, name) {
                // The name only when it says more than what was typed.
                (Some(c), Some(n)) if !n.trim().eq_ignore_ascii_case(typed.trim()) && n != c => {
                    write!(f, "{} → {c} ({n})", decompile::quote(typed))
                }
                (Some(c), _) => write!(f, "{} → {c}", decompile::quote(typed)),
                (None, _) => write!(f, "{} → unknown {table}", decompile::quote(typed)),
            },
            Shown::Record => f.write_str("(present)"),
            Shown::List { len: 0 } => f.write_str("(empty list)"),
            Shown::List { len } => write!(f, "(list of {len})"),
            Shown::Elided { count } => write!(f, "({count} more, not shown)"),
        }
    }
}

impl Shown {
    /// The value inside a comparison: a bank by its code alone.
    pub fn inline(&self) -> String {
        match self {
            Shown::Bank { code: Some(c), .. } => c.clone(),
            Shown::Bank {
                typed,
                code: None,
                table,
                ..
            } => format!("{} (unknown {table})", decompile::quote(typed)),
            other => other.to_string(),
        }
    }
}

fn is_bank(table: &str) -> bool {
    table == "bank"
}

/// Explains the decision on one application.
pub fn explain(rs: &RuleSet, record: &Record, id: Option<&str>, source: &str, opts: Options) -> Explanation {
    let decision = eval::evaluate(rs, record, opts.eval);
    let mut ev = Evaluator::new(rs, record, opts.eval);
    let mut rules = Vec::with_capacity(rs.rules.len());
    for (i, rule) in rs.rules.iter().enumerate() {
        rules.push(rule_trace(rs, rule, &mut ev, i, opts));
    }
    let worst = decision
        .violations
        .iter()
        .filter_map(|v| rs.rules.get(v.rule))
        .map(|r| r.outcome)
        .filter(|o| *o != Outcome::Note)
        .max();
    let decided_by = decision
        .violations
        .iter()
        .filter_map(|v| rs.rules.get(v.rule))
        .filter(|r| Some(r.outcome) == worst)
        .map(|r| r.id.clone())
        .collect();
    let next_step_trace = match decision.decision {
        DecisionKind::Accept | DecisionKind::Review => Tracer::new(&mut ev, rs, opts.show_pii, opts.eval).next_steps(),
        _ => Vec::new(),
    };
    let fired = rules.iter().filter(|r| r.fired).map(|r| r.id.clone()).collect();
    Explanation {
        rules_in_policy: rules.len(),
        fired,
        id: id.map(str::to_string),
        source: source.to_string(),
        policy: PolicyStamp {
            name: rs.name.clone(),
            version: rs.version.clone(),
            hash: rs.hash.clone(),
        },
        as_of: opts.eval.as_of.to_string(),
        lang: rs.languages.get(opts.eval.lang).cloned().unwrap_or_default(),
        decision: decision.decision,
        decided_by,
        next_step: decision
            .next_step
            .and_then(|i| rs.next_steps.get(i))
            .map(|s| s.name.clone()),
        next_step_trace,
        rules,
    }
}

/// Traces rule `i`; also records whether it fired, for later `fired(...)`.
fn rule_trace<'a>(rs: &'a RuleSet, rule: &'a Rule, ev: &mut Evaluator<'a>, i: usize, opts: Options) -> RuleTrace {
    let fires = ev.rule_fires(i);
    let mut t = Tracer::new(ev, rs, opts.show_pii, opts.eval);
    let in_force = rule.validity.holds(opts.eval.as_of);
    let mut status = Status::NotInForce;
    let given = rule.guard.as_ref().map(|g| {
        if !in_force {
            return t.skipped(g);
        }
        let node = t.node(g);
        status = match node.value {
            Shown::Bool { value: true } => Status::Fired,
            Shown::Bool { value: false } => Status::GuardFalse,
            _ => Status::GuardUnknown,
        };
        node
    });
    if in_force && given.is_none() {
        status = Status::Fired;
    }
    let when = if status == Status::Fired {
        let node = t.node(&rule.when);
        status = match node.value {
            Shown::Bool { value: true } => Status::Fired,
            Shown::Bool { value: false } => Status::ConditionFalse,
            _ => Status::ConditionUnknown,
        };
        node
    } else {
        t.skipped(&rule.when)
    };
    let messages = if fires { t.messages(rule) } else { Vec::new() };
    let message = fires.then(|| ev.message(i));
    RuleTrace {
        id: rule.id.clone(),
        outcome: rule.outcome,
        fields: rule.fields.clone(),
        fired: status == Status::Fired,
        status,
        validity: validity_text(&rule.validity),
        given,
        when,
        messages,
        message,
    }
}

/// `from 2026-01-01 until 2027-01-01`, or `None` for always.
pub fn validity_text(v: &Validity) -> Option<String> {
    let from = v.effective.map(|d: Date| format!("from {d}"));
    let until = v.until.map(|d: Date| format!("until {d}"));
    match (from, until) {
        (None, None) => None,
        (Some(f), None) => Some(f),
        (None, Some(u)) => Some(u),
        (Some(f), Some(u)) => Some(format!("{f} {u}")),
    }
}

fn decision_str<S: Serializer>(d: &DecisionKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(d.as_str())
}

fn outcome_str<S: Serializer>(o: &Outcome, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(o.as_str())
}
