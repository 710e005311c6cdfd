//! Proof of a claim about two policies over every possible application.
//!
//! Both compiled rule sets are turned into formulas over shared *atoms*
//! (comparisons of a term with a constant, pattern and text tests, presence,
//! anything else as an uninterpreted atom), with the evaluator's three-valued
//! logic: each atom has a "true" and a "false" literal, never both, neither
//! meaning unknown. A rule fires when it is in force and its guard and
//! condition are true; the decision is the worst outcome that fired. A SAT
//! solver ([`batsat`]) looks for an assignment where the claim fails; each
//! model is checked against the theories of its terms ([`theory`]: intervals
//! for numbers and dates, one value for enums and banks, product automata for
//! text) and an inconsistent one is blocked (DPLL(T)). A consistent model is
//! turned into a real application (`witness`) and decided under both
//! policies by the engine; only a confirmed counterexample refutes. When the
//! solver runs out of models the claim is proven, unless some consistent
//! model could not be confirmed: then the verdict is `unknown`, naming the
//! atoms of those models the theories do not describe.

mod encode;
pub mod theory;
mod witness;

use crate::api::{DecideOptions, Policy};
use crate::date::Date;
use crate::eval::DecisionKind;
use batsat::{SolverInterface, lbool};
use std::time::{Duration, Instant};

/// What a proof is asked to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// NEW's decision is at least as severe as OLD's, for every application.
    Tightens,
    /// NEW's decision equals OLD's, for every application.
    Equivalent,
}

impl Claim {
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::Tightens => "tightens",
            Claim::Equivalent => "equivalent",
        }
    }

    /// Whether a pair of decisions breaks the claim.
    pub fn broken_by(self, old: DecisionKind, new: DecisionKind) -> bool {
        match self {
            Claim::Tightens => severity(new) < severity(old),
            Claim::Equivalent => old != new,
        }
    }
}

fn severity(d: DecisionKind) -> u8 {
    match d {
        DecisionKind::Accept => 0,
        DecisionKind::Review => 1,
        DecisionKind::Limited => 2,
        DecisionKind::Reject => 3,
        DecisionKind::Error => 4,
    }
}

/// The answer of a proof.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The claim holds for every application that fits both schemas.
    Proven,
    /// An application, confirmed by deciding it under both policies.
    Refuted {
        counterexample: serde_json::Value,
        old: DecisionKind,
        new: DecisionKind,
        /// The decision reports under OLD and NEW, as `check --format json` prints them.
        old_report: String,
        new_report: String,
    },
    /// Neither: the reasons name what could not be decided.
    Unknown { reasons: Vec<String> },
}

/// A verdict with what the proof looked at.
#[derive(Debug, Clone)]
pub struct Report {
    pub claim: Claim,
    pub verdict: Verdict,
    /// The rules (by id) whose compiled form differs between the policies,
    /// or that only one of them has: what the proof covered.
    pub changed: Vec<String>,
    /// Models the solver produced (each either blocked by a theory or tried).
    pub models: usize,
    pub elapsed: Duration,
}

/// How many generated applications are drawn as bases for counterexamples
/// (and tried themselves when models cannot be confirmed).
const SAMPLED: usize = 300;

/// Bounds of the search: a proof that exceeds them is `unknown`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most models the solver may produce.
    pub max_models: usize,
    /// The most consistent models that may fail the concrete check.
    pub max_unconfirmed: usize,
    /// Wall-clock budget.
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_models: 20_000,
            max_unconfirmed: 16,
            time: Duration::from_secs(30),
        }
    }
}

/// Proves `claim` of `new` against `old`, rules in force on `as_of`.
pub fn prove(old: &Policy, new: &Policy, claim: Claim, as_of: Date) -> Report {
    prove_with(old, new, claim, as_of, Limits::default())
}

/// [`prove`] with explicit bounds.
pub fn prove_with(old: &Policy, new: &Policy, claim: Claim, as_of: Date, limits: Limits) -> Report {
    let start = Instant::now();
    let mut enc = encode::Encoding::new(old.ruleset(), new.ruleset(), as_of);
    let changed = enc.changed_rules();
    let focus = enc.focus(&changed);
    let goal = enc.goal(claim);
    enc.solver.add_clause_reuse(&mut vec![goal]);
    let opts = DecideOptions {
        lang: None,
        as_of: Some(as_of),
    };
    // Drawn when the first model needs them: a proof needs none.
    let mut drawn: Option<(Vec<serde_json::Value>, Vec<serde_json::Value>)> = None;
    let mut models = 0usize;
    let mut unconfirmed: Vec<String> = Vec::new();
    let mut unconfirmed_models = 0usize;
    let verdict = loop {
        if models >= limits.max_models || start.elapsed() > limits.time {
            let mut reasons = vec![format!(
                "the search stopped after {models} models and {:.1} s",
                start.elapsed().as_secs_f64()
            )];
            reasons.extend(unconfirmed.iter().cloned());
            break Verdict::Unknown { reasons };
        }
        let answer = enc.solver.solve_limited(&[]);
        if answer == lbool::FALSE {
            break if unconfirmed_models == 0 {
                Verdict::Proven
            } else {
                Verdict::Unknown {
                    reasons: unconfirmed.clone(),
                }
            };
        }
        if answer != lbool::TRUE {
            break Verdict::Unknown {
                reasons: vec!["the SAT solver gave up".to_owned()],
            };
        }
        models += 1;
        let model = enc.read_model();
        match enc.theory_check(&model) {
            encode::Check::Conflict(mut blocking) => {
                enc.solver.add_clause_reuse(&mut blocking);
            }
            encode::Check::Consistent(values) => {
                let (pool, bases) = drawn.get_or_insert_with(|| {
                    let pool = witness::sampled(old, SAMPLED);
                    let bases = witness::bases(old, new, &opts, &pool);
                    (pool, bases)
                });
                let (pool, bases) = (&*pool, &*bases);
                // First only what the changed rules read, then every field
                // the model constrains.
                let candidates = witness::applications(bases, &focus, &mut enc, &model, &values);
                if let Some(found) = confirm(old, new, claim, &opts, candidates) {
                    break found;
                }
                let candidates = witness::applications(bases, &[], &mut enc, &model, &values);
                if let Some(found) = confirm(old, new, claim, &opts, candidates) {
                    break found;
                }
                unconfirmed_models += 1;
                for atom in enc.uninterpreted_in(&model) {
                    if !unconfirmed.contains(&atom) {
                        unconfirmed.push(atom);
                    }
                }
                if unconfirmed_models >= limits.max_unconfirmed {
                    // Last resort: the generator's applications themselves.
                    if let Some(found) = confirm(old, new, claim, &opts, pool.to_vec()) {
                        break found;
                    }
                    let mut reasons = vec![format!(
                        "{unconfirmed_models} models consistent with the theories gave no confirmed counterexample"
                    )];
                    reasons.extend(unconfirmed.iter().cloned());
                    break Verdict::Unknown { reasons };
                }
                let mut blocking = enc.block_model(&model);
                enc.solver.add_clause_reuse(&mut blocking);
            }
        }
    };
    let verdict = match verdict {
        Verdict::Unknown { mut reasons } => {
            if reasons.is_empty() {
                reasons.push("a model could not be confirmed by a concrete application".to_owned());
            }
            Verdict::Unknown { reasons }
        }
        other => other,
    };
    Report {
        claim,
        verdict,
        changed,
        models,
        elapsed: start.elapsed(),
    }
}

/// The first candidate application that both policies decide (no input
/// error) and whose decisions break the claim.
fn confirm(
    old: &Policy,
    new: &Policy,
    claim: Claim,
    opts: &DecideOptions,
    candidates: Vec<serde_json::Value>,
) -> Option<Verdict> {
    for app in candidates {
        let da = old.decide_value(&app, "counterexample", opts);
        let db = new.decide_value(&app, "counterexample", opts);
        let (a, b) = (da.decision(), db.decision());
        if a != DecisionKind::Error && b != DecisionKind::Error && claim.broken_by(a, b) {
            return Some(Verdict::Refuted {
                counterexample: app,
                old: a,
                new: b,
                old_report: old.json_line(&da),
                new_report: new.json_line(&db),
            });
        }
    }
    None
}

/// The report as JSON: one line, `status` first, then a line end.
pub fn report_json(r: &Report) -> String {
    use serde_json::json;
    let mut out = String::new();
    // Values as JSON text: the decision reports are spliced in as the
    // engine's one report writer wrote them.
    let mut fields: Vec<(&str, String)> = Vec::new();
    match &r.verdict {
        Verdict::Proven => fields.push(("status", json!("proven").to_string())),
        Verdict::Refuted {
            counterexample,
            old_report,
            new_report,
            ..
        } => {
            fields.push(("status", json!("refuted").to_string()));
            fields.push(("counterexample", counterexample.to_string()));
            fields.push(("old", old_report.clone()));
            fields.push(("new", new_report.clone()));
        }
        Verdict::Unknown { reasons } => {
            fields.push(("status", json!("unknown").to_string()));
            fields.push(("undecided", json!(reasons).to_string()));
        }
    }
    fields.push(("claim", json!(r.claim.as_str()).to_string()));
    fields.push(("changed_rules", json!(r.changed).to_string()));
    fields.push(("models", json!(r.models).to_string()));
    fields.push((
        "millis",
        json!(u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX)).to_string(),
    ));
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json!(k).to_string());
        out.push(':');
        out.push_str(v);
    }
    out.push_str("}\n");
    out
}

/// The report for people.
pub fn report_human(r: &Report) -> String {
    let mut out = String::new();
    let covered = if r.changed.is_empty() {
        "no rule changed".to_owned()
    } else {
        format!("changed rules covered: {}", r.changed.join(", "))
    };
    let took = format!("{} models, {:.3} s", r.models, r.elapsed.as_secs_f64());
    match &r.verdict {
        Verdict::Proven => {
            out.push_str(&format!(
                "proven: NEW {} OLD for every application\n",
                claim_phrase(r.claim)
            ));
        }
        Verdict::Refuted {
            counterexample,
            old,
            new,
            ..
        } => {
            out.push_str(&format!(
                "refuted: this application is {} under OLD and {} under NEW\n{}\n",
                old.as_str(),
                new.as_str(),
                counterexample
            ));
        }
        Verdict::Unknown { reasons } => {
            out.push_str(&format!(
                "unknown: the claim that NEW {} OLD could not be decided\n",
                claim_phrase(r.claim)
            ));
            for reason in reasons {
                out.push_str(&format!("  {reason}\n"));
            }
        }
    }
    out.push_str(&format!("{covered} ({took})\n"));
    out
}

fn claim_phrase(c: Claim) -> &'static str {
    match c {
        Claim::Tightens => "tightens",
        Claim::Equivalent => "is equivalent to",
    }
}
