//! The page of `check --format html`: decisions, rules by how often they
//! fire, next steps, input errors with their sources.

use super::{Bar, Labels, SHOWN_PER_GROUP, Stamp, bars, decision_class};
use crate::eval::DecisionKind;
use crate::ir::RuleSet;
use crate::report::Outcome;
use askama::Template;

/// Counts over a run of `check`, fed one outcome at a time; partial reports
/// of several workers [`merge`](CheckReport::merge) in input order.
#[derive(Debug, Clone)]
pub struct CheckReport {
    decisions: [u64; 5],
    /// Per rule of the policy: how many applications it fired on.
    fired: Vec<u64>,
    /// Per next step of the policy.
    steps: Vec<u64>,
    /// The first input errors: (source, id, message).
    errors: Vec<(String, Option<String>, String)>,
    errors_total: u64,
}

/// One input error as the page lists it.
#[derive(Debug, Clone)]
pub struct ErrorRow {
    pub source: String,
    pub id: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage<'a> {
    l: &'a Labels,
    stamp: Stamp,
    as_of: String,
    total: u64,
    decisions: Vec<Bar>,
    rules: Vec<Bar>,
    steps: Vec<Bar>,
    errors: Vec<ErrorRow>,
    errors_more: u64,
}

impl CheckReport {
    pub fn new(rs: &RuleSet) -> CheckReport {
        CheckReport {
            decisions: [0; 5],
            fired: vec![0; rs.rules.len()],
            steps: vec![0; rs.next_steps.len()],
            errors: Vec::new(),
            errors_total: 0,
        }
    }

    /// Counts one record's outcome.
    pub fn add(&mut self, o: &Outcome) {
        let kind = o.decision();
        if let Some(i) = DecisionKind::ALL.iter().position(|k| *k == kind) {
            self.decisions[i] += 1;
        }
        match &o.result {
            Ok(d) => {
                let mut seen: Vec<usize> = d.violations.iter().map(|v| v.rule).collect();
                seen.dedup();
                for r in seen {
                    if let Some(n) = self.fired.get_mut(r) {
                        *n += 1;
                    }
                }
                if let Some(n) = d.next_step.and_then(|s| self.steps.get_mut(s)) {
                    *n += 1;
                }
            }
            Err(e) => {
                self.errors_total += 1;
                if self.errors.len() < SHOWN_PER_GROUP {
                    self.errors.push((o.source.clone(), o.id.clone(), e.clone()));
                }
            }
        }
    }

    /// Adds the counts of a later part of the same run.
    pub fn merge(&mut self, later: CheckReport) {
        for (a, b) in self.decisions.iter_mut().zip(later.decisions) {
            *a += b;
        }
        for (a, b) in self.fired.iter_mut().zip(later.fired) {
            *a += b;
        }
        for (a, b) in self.steps.iter_mut().zip(later.steps) {
            *a += b;
        }
        self.errors_total += later.errors_total;
        let room = SHOWN_PER_GROUP.saturating_sub(self.errors.len());
        self.errors.extend(later.errors.into_iter().take(room));
    }

    /// The page. `origin` says where the policy came from; `lang` picks the
    /// page's words (`zh` or English).
    pub fn render(&self, rs: &RuleSet, origin: &str, as_of: &str, lang: &str) -> String {
        let l = Labels::for_lang(lang);
        let total: u64 = self.decisions.iter().sum();
        let decisions = bars(
            DecisionKind::ALL
                .iter()
                .zip(self.decisions)
                .map(|(&k, n)| (l.decision(k), decision_class(k), n))
                .collect(),
            total,
        );
        let mut by_rule: Vec<(usize, u64)> = self.fired.iter().copied().enumerate().collect();
        // Most often first; declaration order among equals.
        by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let rules = bars(
            by_rule
                .into_iter()
                .filter_map(|(i, n)| {
                    let r = rs.rules.get(i)?;
                    Some((r.id.clone(), r.outcome.as_str(), n))
                })
                .collect(),
            total,
        );
        // Several declarations may name the same step (under different conditions): one bar each name.
        let mut named: Vec<(String, &'static str, u64)> = Vec::new();
        for (s, &n) in rs.next_steps.iter().zip(&self.steps) {
            match named.iter_mut().find(|(name, _, _)| *name == s.name) {
                Some(entry) => entry.2 += n,
                None => named.push((s.name.clone(), "neutral", n)),
            }
        }
        let steps = bars(named, total);
        let errors = self
            .errors
            .iter()
            .map(|(source, id, message)| ErrorRow {
                source: source.clone(),
                id: id.clone().unwrap_or_default(),
                message: message.clone(),
            })
            .collect();
        let page = CheckPage {
            l,
            stamp: Stamp::of(rs, origin),
            as_of: as_of.to_owned(),
            total,
            decisions,
            rules,
            steps,
            errors,
            errors_more: self.errors_total.saturating_sub(self.errors.len() as u64),
        };
        page.render()
            .unwrap_or_else(|e| format!("<!doctype html><p>cannot render the report: {e}</p>"))
    }
}
