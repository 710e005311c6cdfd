//! Impact analysis: the same applications decided under two policies, OLD and
//! NEW, and what changed between them.
//!
//! [`compare`] is pure: it takes both verdicts of one record and reports the
//! rules gained and lost. A record **changed** when its decision, its next
//! step or the *set* of rules that fired differs (rules are matched by id;
//! their order and their messages' wording are not compared). A record that is
//! an input error under one policy's schema and valid under the other changed
//! from or to `error`; one that is an error under both did not change (its
//! errors are reported apart).
//!
//! # JSON Lines output (`kycrules diff --format json`)
//!
//! One line per changed record, in input order:
//!
//! ```json
//! {"id":"N-0002","source":"apps.yaml:18",
//!  "old":{"decision":"reject","next_step":null,"rules":["phone-format"],
//!         "policy":{"name":"p","version":"2026.11","hash":"…"}},
//!  "new":{"decision":"accept","next_step":"micro_deposit","rules":[],
//!         "policy":{"name":"p","version":"2026.12","hash":"…"}},
//!  "gained":[],"lost":["phone-format"]}
//! ```
//!
//! - `old`, `new`: the decision under each policy; `rules` are the ids of the
//!   rules that fired (notes included), in that policy's order; a side whose
//!   decision is `error` has `"rules":[]` and an `"error"` text;
//! - `gained`: ids firing under NEW only (NEW's order); `lost`: under OLD only
//!   (OLD's order);
//! - `policy`: the stamp of the policy that made that side's decision, as in
//!   `check`'s lines.
//!
//! Then exactly one summary line:
//!
//! ```json
//! {"summary":{"records":7,"changed":3,
//!   "matrix":{"accept":{"accept":2,"review":0,"limited":0,"reject":0,"error":0},…},
//!   "policies":{"old":{"name":…,"version":…,"hash":…},"new":{…}}}}
//! ```
//!
//! `matrix[OLD][NEW]` counts the records decided OLD under the old policy and
//! NEW under the new one; all 25 cells are present, rows and columns in the
//! order `accept`, `review`, `limited`, `reject`, `error`. Its cells sum to
//! `records`; off-diagonal cells count decision flips, while `changed` also
//! counts records whose decision stayed but whose rules or next step moved.

use crate::eval::{Decision, DecisionKind, Options};
use crate::input::InputRecord;
use crate::ir::RuleSet;
use crate::report::Palette;
use serde::Serialize;
use serde::ser::SerializeMap;
use std::fmt::Write as _;

/// What one policy made of one record: a decision, or an input error.
pub type Verdict = Result<Decision, String>;

/// The two policies compared.
#[derive(Clone, Copy)]
pub struct Policies<'a> {
    pub old: &'a RuleSet,
    pub new: &'a RuleSet,
}

/// One record decided under both policies.
#[derive(Debug, Clone)]
pub struct RecordDiff {
    pub id: Option<String>,
    pub source: String,
    pub old: Verdict,
    pub new: Verdict,
    /// Rules firing under NEW only: indices into NEW's rules, in its order.
    pub gained: Vec<usize>,
    /// Rules firing under OLD only: indices into OLD's rules, in its order.
    pub lost: Vec<usize>,
    /// The decision, the next step or the set of fired rules differs.
    pub changed: bool,
}

impl RecordDiff {
    pub fn old_kind(&self) -> DecisionKind {
        kind(&self.old)
    }

    pub fn new_kind(&self) -> DecisionKind {
        kind(&self.new)
    }

    /// An input error under both policies: nothing could be compared.
    pub fn is_error_under_both(&self) -> bool {
        self.old.is_err() && self.new.is_err()
    }
}

fn kind(v: &Verdict) -> DecisionKind {
    v.as_ref().map_or(DecisionKind::Error, |d| d.decision)
}

/// Decides one input record under both policies and compares the verdicts;
/// `old_opts` and `new_opts` differ only in the language index. A document
/// that could not be read or parsed is the same error under both.
pub fn diff_record(p: Policies<'_>, rec: InputRecord, old_opts: Options, new_opts: Options) -> RecordDiff {
    let InputRecord { source, id, value } = rec;
    let (old, new) = match &value {
        Ok(v) => (
            crate::eval::evaluate_document(p.old, v, old_opts),
            crate::eval::evaluate_document(p.new, v, new_opts),
        ),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    compare(p, id, source, old, new)
}

/// The two policies compiled for evaluation, in the order of [`Policies`].
#[derive(Clone, Copy)]
pub struct Programs<'a> {
    pub old: &'a crate::exec::Program,
    pub new: &'a crate::exec::Program,
}

/// [`diff_record`] with the compiled evaluator (the one `kycrules diff` uses).
pub fn diff_record_compiled(
    p: Policies<'_>,
    programs: Programs<'_>,
    rec: InputRecord,
    old_opts: Options,
    new_opts: Options,
) -> RecordDiff {
    let InputRecord { source, id, value } = rec;
    let (old, new) = match &value {
        Ok(v) => (
            crate::exec::evaluate_document(programs.old, p.old, v, old_opts),
            crate::exec::evaluate_document(programs.new, p.new, v, new_opts),
        ),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    compare(p, id, source, old, new)
}

/// Compares the two verdicts of one record.
pub fn compare(p: Policies<'_>, id: Option<String>, source: String, old: Verdict, new: Verdict) -> RecordDiff {
    let old_ids = fired_ids(p.old, &old);
    let new_ids = fired_ids(p.new, &new);
    let only = |ids: &[(usize, &str)], other: &[(usize, &str)]| -> Vec<usize> {
        ids.iter()
            .filter(|(_, id)| !other.iter().any(|(_, o)| o == id))
            .map(|&(i, _)| i)
            .collect()
    };
    let gained = only(&new_ids, &old_ids);
    let lost = only(&old_ids, &new_ids);
    let changed = kind(&old) != kind(&new)
        || !gained.is_empty()
        || !lost.is_empty()
        || next_step(p.old, &old) != next_step(p.new, &new);
    RecordDiff {
        id,
        source,
        old,
        new,
        gained,
        lost,
        changed,
    }
}

/// The fired rules of a verdict: (index, id), in policy order.
fn fired_ids<'a>(rs: &'a RuleSet, v: &Verdict) -> Vec<(usize, &'a str)> {
    match v {
        Ok(d) => d
            .violations
            .iter()
            .filter_map(|x| rs.rules.get(x.rule).map(|r| (x.rule, r.id.as_str())))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn next_step<'a>(rs: &'a RuleSet, v: &Verdict) -> Option<&'a str> {
    let d = v.as_ref().ok()?;
    d.next_step.and_then(|i| rs.next_steps.get(i)).map(|s| s.name.as_str())
}

// ---------------------------------------------------------------- summary

/// Counts of records by (decision under OLD, decision under NEW).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matrix {
    counts: [[u64; 5]; 5],
}

fn index(k: DecisionKind) -> usize {
    DecisionKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

impl Matrix {
    pub fn add(&mut self, old: DecisionKind, new: DecisionKind) {
        self.counts[index(old)][index(new)] += 1;
    }

    pub fn get(&self, old: DecisionKind, new: DecisionKind) -> u64 {
        self.counts[index(old)][index(new)]
    }
}

impl Serialize for Matrix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Row<'a>(&'a [u64; 5]);
        impl Serialize for Row<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(5))?;
                for (k, n) in DecisionKind::ALL.iter().zip(self.0) {
                    m.serialize_entry(k.as_str(), n)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(5))?;
        for (k, row) in DecisionKind::ALL.iter().zip(&self.counts) {
            m.serialize_entry(k.as_str(), &Row(row))?;
        }
        m.end()
    }
}

/// The totals of a diff run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub changed: u64,
    /// Records that are input errors under both policies.
    pub errors_under_both: u64,
    pub matrix: Matrix,
}

impl Summary {
    pub fn add(&mut self, d: &RecordDiff) {
        self.records += 1;
        self.changed += u64::from(d.changed);
        self.errors_under_both += u64::from(d.is_error_under_both());
        self.matrix.add(d.old_kind(), d.new_kind());
    }
}

// ---------------------------------------------------------------- JSON

#[derive(Serialize)]
struct Stamp<'a> {
    name: &'a str,
    version: &'a str,
    hash: &'a str,
}

fn stamp(rs: &RuleSet) -> Stamp<'_> {
    Stamp {
        name: &rs.name,
        version: &rs.version,
        hash: &rs.hash,
    }
}

#[derive(Serialize)]
struct JsonSide<'a> {
    decision: &'static str,
    next_step: Option<&'a str>,
    rules: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    policy: Stamp<'a>,
}

fn side<'a>(rs: &'a RuleSet, v: &'a Verdict) -> JsonSide<'a> {
    JsonSide {
        decision: kind(v).as_str(),
        next_step: next_step(rs, v),
        rules: fired_ids(rs, v).into_iter().map(|(_, id)| id).collect(),
        error: v.as_ref().err().map(String::as_str),
        policy: stamp(rs),
    }
}

#[derive(Serialize)]
struct JsonChange<'a> {
    id: Option<&'a str>,
    source: &'a str,
    old: JsonSide<'a>,
    new: JsonSide<'a>,
    gained: Vec<&'a str>,
    lost: Vec<&'a str>,
}

fn ids<'a>(rs: &'a RuleSet, rules: &[usize]) -> Vec<&'a str> {
    rules
        .iter()
        .filter_map(|&i| rs.rules.get(i).map(|r| r.id.as_str()))
        .collect()
}

/// One changed record as a JSON line (without the newline).
pub fn json_line(p: Policies<'_>, d: &RecordDiff) -> String {
    let line = JsonChange {
        id: d.id.as_deref(),
        source: &d.source,
        old: side(p.old, &d.old),
        new: side(p.new, &d.new),
        gained: ids(p.new, &d.gained),
        lost: ids(p.old, &d.lost),
    };
    serde_json::to_string(&line).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
}

#[derive(Serialize)]
struct JsonPolicies<'a> {
    old: Stamp<'a>,
    new: Stamp<'a>,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    records: u64,
    changed: u64,
    matrix: &'a Matrix,
    policies: JsonPolicies<'a>,
}

/// The closing summary line (without the newline).
pub fn json_summary(p: Policies<'_>, s: &Summary) -> String {
    let summary = JsonSummary {
        records: s.records,
        changed: s.changed,
        matrix: &s.matrix,
        policies: JsonPolicies {
            old: stamp(p.old),
            new: stamp(p.new),
        },
    };
    let mut out = String::from("{\"summary\":");
    out.push_str(&serde_json::to_string(&summary).unwrap_or_else(|_| "null".to_string()));
    out.push('}');
    out
}

// ---------------------------------------------------------------- human

/// The human block of one changed record; empty when it did not change.
///
/// ```text
/// N-0002 reject → accept  apps.yaml:18
///   next step: none → micro_deposit
///   - reject  phone-format (applicant.phone)
///             The mobile number must have 11 digits …
///   unchanged: manual-check
/// ```
pub fn human_block(p: Policies<'_>, d: &RecordDiff, pal: &Palette) -> String {
    let mut out = String::new();
    if !d.changed {
        return out;
    }
    let (ok, nk) = (d.old_kind(), d.new_kind());
    let (os, ns) = (pal.decision(ok), pal.decision(nk));
    let _ = writeln!(
        out,
        "{}{}{} {os}{}{os:#} → {ns}{}{ns:#}  {}{}{}",
        pal.bold,
        crate::text::escape_controls(d.id.as_deref().unwrap_or("(no id)")),
        pal.bold.render_reset(),
        ok.as_str(),
        nk.as_str(),
        pal.dim,
        crate::text::escape_controls(&d.source),
        pal.dim.render_reset()
    );
    let (old_step, new_step) = (next_step(p.old, &d.old), next_step(p.new, &d.new));
    if old_step != new_step {
        let _ = writeln!(
            out,
            "  next step: {} → {}",
            old_step.unwrap_or("none"),
            new_step.unwrap_or("none")
        );
    }
    for (mark, rs, verdict, rules) in [("-", p.old, &d.old, &d.lost), ("+", p.new, &d.new, &d.gained)] {
        match verdict {
            Err(e) => {
                let _ = writeln!(out, "  {mark} {}error{}   {e}", pal.reject, pal.reject.render_reset());
            }
            Ok(dec) => {
                for &i in rules {
                    rule_lines(&mut out, mark, rs, dec, i, pal);
                }
            }
        }
    }
    if let (Ok(_), Ok(_)) = (&d.old, &d.new) {
        let lost: Vec<&str> = ids(p.old, &d.lost);
        let kept: Vec<&str> = fired_ids(p.old, &d.old)
            .into_iter()
            .map(|(_, id)| id)
            .filter(|id| !lost.contains(id))
            .collect();
        if !kept.is_empty() {
            let _ = writeln!(
                out,
                "  {}unchanged: {}{}",
                pal.dim,
                kept.join(", "),
                pal.dim.render_reset()
            );
        }
    }
    out.push('\n');
    out
}

fn rule_lines(out: &mut String, mark: &str, rs: &RuleSet, dec: &Decision, i: usize, pal: &Palette) {
    let Some(rule) = rs.rules.get(i) else { return };
    let _ = write!(out, "  {mark} ");
    crate::report::rule_head(out, rule, pal);
    out.push('\n');
    if let Some(v) = dec.violations.iter().find(|v| v.rule == i) {
        let _ = writeln!(out, "            {}", crate::text::escape_controls(&v.message));
    }
}

/// The transition matrix as a table, then the counts line.
///
/// ```text
/// old \ new  accept  review  limited  reject  error
/// accept          2       .        .       .      .
/// ```
pub fn human_summary(s: &Summary, pal: &Palette) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}{:<10}{}", pal.dim, "old \\ new", pal.dim.render_reset());
    for k in DecisionKind::ALL {
        let _ = write!(out, "  {:>7}", k.as_str());
    }
    out.push('\n');
    for old in DecisionKind::ALL {
        let _ = write!(out, "{:<10}", old.as_str());
        for new in DecisionKind::ALL {
            let n = s.matrix.get(old, new);
            if n == 0 {
                let _ = write!(out, "  {}{:>7}{}", pal.dim, ".", pal.dim.render_reset());
            } else if old != new {
                let st = pal.decision(new);
                let _ = write!(out, "  {st}{n:>7}{st:#}");
            } else {
                let _ = write!(out, "  {n:>7}");
            }
        }
        out.push('\n');
    }
    let plural = if s.records == 1 { "" } else { "s" };
    let _ = write!(out, "\n{} application{plural}, {} changed", s.records, s.changed);
    if s.errors_under_both > 0 {
        let _ = write!(
            out,
            ", {} input error{} under both policies",
            s.errors_under_both,
            if s.errors_under_both == 1 { "" } else { "s" }
        );
    }
    out.push('\n');
    out
}
