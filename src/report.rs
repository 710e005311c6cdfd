//! Reports: one evaluated (or failed) record as a JSON line or a human block,
//! and the closing summary.

use crate::eval::{Decision, DecisionKind};
use crate::ir::RuleSet;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::fmt::Write as _;

/// The result for one input record.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: Option<String>,
    pub source: String,
    pub result: Result<Decision, String>,
}

impl Outcome {
    pub fn decision(&self) -> DecisionKind {
        match &self.result {
            Ok(d) => d.decision,
            Err(_) => DecisionKind::Error,
        }
    }
}

#[derive(Serialize)]
struct JsonDecision<'a> {
    id: Option<&'a str>,
    source: &'a str,
    decision: &'static str,
    next_step: Option<&'a str>,
    violations: Vec<JsonViolation<'a>>,
    policy: PolicyStamp<'a>,
}

/// Which policy made a decision: its name, version and content hash.
#[derive(Serialize)]
struct PolicyStamp<'a> {
    name: &'a str,
    version: &'a str,
    hash: &'a str,
}

#[derive(Serialize)]
struct JsonViolation<'a> {
    rule: &'a str,
    outcome: &'static str,
    fields: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct JsonError<'a> {
    id: Option<&'a str>,
    source: &'a str,
    decision: &'static str,
    error: &'a str,
}

/// One JSON line (without the newline), as SPEC §2 gives it.
pub fn json_line(rs: &RuleSet, o: &Outcome) -> String {
    let id = o.id.as_deref();
    let result = match &o.result {
        Ok(d) => serde_json::to_string(&JsonDecision {
            id,
            source: &o.source,
            decision: d.decision.as_str(),
            next_step: d.next_step.and_then(|i| rs.next_steps.get(i)).map(|s| s.name.as_str()),
            violations: d
                .violations
                .iter()
                .filter_map(|v| {
                    let rule = rs.rules.get(v.rule)?;
                    Some(JsonViolation {
                        rule: &rule.id,
                        outcome: rule.outcome.as_str(),
                        fields: &rule.fields,
                        message: &v.message,
                    })
                })
                .collect(),
            policy: PolicyStamp {
                name: &rs.name,
                version: &rs.version,
                hash: &rs.hash,
            },
        }),
        Err(e) => serde_json::to_string(&JsonError {
            id,
            source: &o.source,
            decision: "error",
            error: e,
        }),
    };
    result.unwrap_or_else(|e| format!("{{\"decision\":\"error\",\"error\":{:?}}}", e.to_string()))
}

/// Styles of the human report; plain when colour is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct Palette {
    pub bold: Style,
    pub dim: Style,
    pub reject: Style,
    pub limited: Style,
    pub review: Style,
    pub note: Style,
    pub accept: Style,
}

impl Palette {
    pub fn colored() -> Self {
        let fg = |c: AnsiColor| Style::new().fg_color(Some(c.into())).bold();
        Palette {
            bold: Style::new().bold(),
            dim: Style::new().dimmed(),
            reject: fg(AnsiColor::Red),
            limited: fg(AnsiColor::Magenta),
            review: fg(AnsiColor::Yellow),
            note: fg(AnsiColor::Cyan),
            accept: fg(AnsiColor::Green),
        }
    }

    fn decision(&self, d: DecisionKind) -> Style {
        match d {
            DecisionKind::Accept => self.accept,
            DecisionKind::Review => self.review,
            DecisionKind::Limited => self.limited,
            DecisionKind::Reject | DecisionKind::Error => self.reject,
        }
    }

    fn outcome(&self, o: crate::ir::Outcome) -> Style {
        match o {
            crate::ir::Outcome::Reject => self.reject,
            crate::ir::Outcome::Limited => self.limited,
            crate::ir::Outcome::Review => self.review,
            crate::ir::Outcome::Note => self.note,
        }
    }
}

/// The human block of one record; empty for an accepted application with no notes.
pub fn human_block(rs: &RuleSet, o: &Outcome, p: &Palette) -> String {
    let mut out = String::new();
    let id = o.id.as_deref().unwrap_or("(no id)");
    let kind = o.decision();
    if kind == DecisionKind::Accept && o.result.as_ref().is_ok_and(|d| d.violations.is_empty()) {
        return out;
    }
    let ds = p.decision(kind);
    let _ = write!(
        out,
        "{}{id}{} {ds}{}{ds:#}",
        p.bold,
        p.bold.render_reset(),
        kind.as_str()
    );
    if let Ok(d) = &o.result
        && let Some(step) = d.next_step.and_then(|i| rs.next_steps.get(i))
    {
        let _ = write!(out, " → {}", step.name);
    }
    let _ = writeln!(out, "  {}{}{}", p.dim, o.source, p.dim.render_reset());
    match &o.result {
        Err(e) => {
            let _ = writeln!(out, "  {}error{} {e}", p.reject, p.reject.render_reset());
        }
        Ok(d) => {
            for v in &d.violations {
                let Some(rule) = rs.rules.get(v.rule) else { continue };
                let os = p.outcome(rule.outcome);
                let _ = write!(
                    out,
                    "  {os}{:<7}{os:#} {}{}{}",
                    rule.outcome.as_str(),
                    p.bold,
                    rule.id,
                    p.bold.render_reset()
                );
                if !rule.fields.is_empty() {
                    let _ = write!(out, " {}({}){}", p.dim, rule.fields.join(", "), p.dim.render_reset());
                }
                let _ = writeln!(out);
                let _ = writeln!(out, "          {}", v.message);
            }
        }
    }
    out.push('\n');
    out
}

/// Counts of decisions over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub counts: [u64; 5],
}

impl Summary {
    pub fn add(&mut self, d: DecisionKind) {
        if let Some(i) = DecisionKind::ALL.iter().position(|k| *k == d) {
            self.counts[i] += 1;
        }
    }

    pub fn count(&self, d: DecisionKind) -> u64 {
        DecisionKind::ALL
            .iter()
            .position(|k| *k == d)
            .map_or(0, |i| self.counts[i])
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `5 applications: 1 accept, 1 review, 1 limited, 1 reject, 1 error`
    pub fn line(&self, p: &Palette) -> String {
        let parts: Vec<String> = DecisionKind::ALL
            .iter()
            .map(|&k| {
                let n = self.count(k);
                let s = if n > 0 { p.decision(k) } else { Style::new() };
                format!("{s}{n} {}{s:#}", k.as_str())
            })
            .collect();
        let total = self.total();
        format!(
            "{total} application{}: {}\n",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}
