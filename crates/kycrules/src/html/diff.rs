//! The page of `diff --format html`: both stamps, the transition matrix as a
//! heat map, rules gained and lost, the changed applications grouped by
//! transition, and the difference of the two policies' texts.

use super::{Labels, SHOWN_PER_GROUP, ShownViolation, Stamp, decision_class, heat, percent};
use crate::diff::{Policies, RecordDiff, Summary, Verdict};
use crate::eval::DecisionKind;
use crate::ir::RuleSet;
use crate::source::SourceMap;
use askama::Template;
use std::collections::BTreeMap;

/// What a diff run did, fed one compared record at a time (in input order).
#[derive(Debug, Clone, Default)]
pub struct DiffReport {
    summary: Summary,
    /// Per rule id: (gained, lost) firings over the changed records.
    rules: BTreeMap<String, (u64, u64)>,
    /// Per transition (old, new decision index): the first changed records and
    /// how many there were in all.
    groups: BTreeMap<(usize, usize), Group>,
}

#[derive(Debug, Clone, Default)]
struct Group {
    shown: Vec<Changed>,
    total: u64,
}

/// One changed application as the page shows it.
#[derive(Debug, Clone)]
pub struct Changed {
    pub id: String,
    pub source: String,
    /// Under the old policy, then under the new one.
    pub sides: Vec<Side>,
}

/// One side of a changed application.
#[derive(Debug, Clone)]
pub struct Side {
    pub decision: String,
    pub class: &'static str,
    pub next_step: String,
    pub error: String,
    pub violations: Vec<ShownViolation>,
}

fn side(rs: &RuleSet, v: &Verdict, l: &Labels) -> Side {
    match v {
        Err(e) => Side {
            decision: l.decision(DecisionKind::Error),
            class: "error",
            next_step: String::new(),
            error: e.clone(),
            violations: Vec::new(),
        },
        Ok(d) => Side {
            decision: l.decision(d.decision),
            class: decision_class(d.decision),
            next_step: d
                .next_step
                .and_then(|i| rs.next_steps.get(i))
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            error: String::new(),
            violations: d
                .violations
                .iter()
                .filter_map(|v| {
                    let r = rs.rules.get(v.rule)?;
                    Some(ShownViolation {
                        rule: r.id.clone(),
                        outcome: r.outcome.as_str(),
                        message: v.message.to_string(),
                    })
                })
                .collect(),
        },
    }
}

/// The heat map's geometry (SVG units): row labels on the left, column labels
/// on top, 5 × 5 cells.
const HEAT_LEFT: usize = 130;
const HEAT_TOP: usize = 44;
const HEAT_W: usize = 96;
const HEAT_H: usize = 56;

fn index(k: DecisionKind) -> usize {
    DecisionKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

/// A matrix cell as drawn.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The cell's top left corner in the heat map's SVG units.
    pub px: usize,
    pub py: usize,
    pub count: u64,
    pub pct: String,
    pub fill: String,
    pub ink: &'static str,
}

/// A decision's label on the heat map, placed as column head and as row head.
#[derive(Debug, Clone)]
pub struct Head {
    pub label: String,
    pub col_x: usize,
    pub row_y: usize,
}

/// A rule's gained and lost firings as two bars.
#[derive(Debug, Clone)]
pub struct RuleBars {
    pub rule: String,
    pub gained: u64,
    pub lost: u64,
    pub gained_width: String,
    pub lost_width: String,
}

/// A transition group as shown.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub from: String,
    pub from_class: &'static str,
    pub to: String,
    pub to_class: &'static str,
    pub total: u64,
    pub shown: Vec<Changed>,
    pub more: u64,
}

/// One line of the policy text diff.
#[derive(Debug, Clone)]
pub struct DiffLine {
    /// `add`, `del`, `ctx` or `hunk`.
    pub class: &'static str,
    pub sign: &'static str,
    pub text: String,
}

/// The text diff of one policy file.
#[derive(Debug, Clone)]
pub struct FileDiff {
    pub old: String,
    pub new: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage<'a> {
    l: &'a Labels,
    old: Stamp,
    new: Stamp,
    as_of: String,
    records: u64,
    changed: u64,
    changed_pct: String,
    errors_both: u64,
    heads: Vec<Head>,
    cells: Vec<Cell>,
    rules: Vec<RuleBars>,
    groups: Vec<GroupView>,
    files: Vec<FileDiff>,
}

/// The two sides of a run: a policy, its sources, and where it came from.
pub struct PolicySide<'a> {
    pub rules: &'a RuleSet,
    pub sources: &'a SourceMap,
    pub origin: &'a str,
}

impl DiffReport {
    /// Counts one compared record (in input order: the first changed
    /// records of each transition are the ones shown).
    pub fn add(&mut self, p: Policies<'_>, d: &RecordDiff, lang: &str) {
        self.summary.add(d);
        if !d.changed {
            return;
        }
        for &i in &d.gained {
            if let Some(r) = p.new.rules.get(i) {
                self.rules.entry(r.id.clone()).or_default().0 += 1;
            }
        }
        for &i in &d.lost {
            if let Some(r) = p.old.rules.get(i) {
                self.rules.entry(r.id.clone()).or_default().1 += 1;
            }
        }
        let l = Labels::for_lang(lang);
        let group = self
            .groups
            .entry((index(d.old_kind()), index(d.new_kind())))
            .or_default();
        group.total += 1;
        if group.shown.len() < SHOWN_PER_GROUP {
            group.shown.push(Changed {
                id: d.id.clone().unwrap_or_default(),
                source: d.source.clone(),
                sides: vec![side(p.old, &d.old, l), side(p.new, &d.new, l)],
            });
        }
    }

    /// The totals so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The page.
    pub fn render(&self, old: &PolicySide<'_>, new: &PolicySide<'_>, as_of: &str, lang: &str) -> String {
        let l = Labels::for_lang(lang);
        let s = &self.summary;
        let max = DecisionKind::ALL
            .iter()
            .flat_map(|&a| DecisionKind::ALL.iter().map(move |&b| s.matrix.get(a, b)))
            .max()
            .unwrap_or(0);
        let mut cells = Vec::with_capacity(25);
        for (y, &a) in DecisionKind::ALL.iter().enumerate() {
            for (x, &b) in DecisionKind::ALL.iter().enumerate() {
                let count = s.matrix.get(a, b);
                let (fill, ink) = heat(count, max);
                cells.push(Cell {
                    px: HEAT_LEFT + x * HEAT_W,
                    py: HEAT_TOP + y * HEAT_H,
                    count,
                    pct: percent(count, s.records),
                    fill,
                    ink,
                });
            }
        }
        let most = self.rules.values().map(|&(g, lo)| g.max(lo)).max().unwrap_or(0);
        // Rules in the new policy's order, then those only the old one has.
        let mut order: Vec<&str> = new.rules.rules.iter().map(|r| r.id.as_str()).collect();
        for r in &old.rules.rules {
            if !order.contains(&r.id.as_str()) {
                order.push(&r.id);
            }
        }
        let rules = order
            .into_iter()
            .filter_map(|id| {
                let &(gained, lost) = self.rules.get(id)?;
                Some(RuleBars {
                    rule: id.to_owned(),
                    gained,
                    lost,
                    gained_width: percent(gained, most),
                    lost_width: percent(lost, most),
                })
            })
            .collect();
        let groups = self
            .groups
            .iter()
            .map(|(&(a, b), g)| {
                let ka = DecisionKind::ALL.get(a).copied().unwrap_or(DecisionKind::Error);
                let kb = DecisionKind::ALL.get(b).copied().unwrap_or(DecisionKind::Error);
                GroupView {
                    from: l.decision(ka),
                    from_class: decision_class(ka),
                    to: l.decision(kb),
                    to_class: decision_class(kb),
                    total: g.total,
                    shown: g.shown.clone(),
                    more: g.total.saturating_sub(g.shown.len() as u64),
                }
            })
            .collect();
        let page = DiffPage {
            l,
            old: Stamp::of(old.rules, old.origin),
            new: Stamp::of(new.rules, new.origin),
            as_of: as_of.to_owned(),
            records: s.records,
            changed: s.changed,
            changed_pct: percent(s.changed, s.records),
            errors_both: s.errors_under_both,
            heads: DecisionKind::ALL
                .iter()
                .enumerate()
                .map(|(i, &k)| Head {
                    label: l.decision(k),
                    col_x: HEAT_LEFT + i * HEAT_W + HEAT_W / 2,
                    row_y: HEAT_TOP + i * HEAT_H + HEAT_H / 2 + 5,
                })
                .collect(),
            cells,
            rules,
            groups,
            files: text_diff(old.sources, new.sources),
        };
        page.render()
            .unwrap_or_else(|e| format!("<!doctype html><p>cannot render the report: {e}</p>"))
    }
}

/// A file's name without its directory: files of the two policies are paired
/// by it (`rules/20-applicant.rules` ~ `new/rules/20-applicant.rules`).
fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The unified diff (three lines of context) of every policy file that
/// differs, files paired by name; a file on one side only is all added or
/// all removed.
fn text_diff(old: &SourceMap, new: &SourceMap) -> Vec<FileDiff> {
    let mut names: Vec<&str> = old.files.iter().map(|f| base(&f.name)).collect();
    for f in &new.files {
        if !names.contains(&base(&f.name)) {
            names.push(base(&f.name));
        }
    }
    names.sort_unstable();
    let find = |m: &'_ SourceMap, n: &str| -> Option<(String, std::sync::Arc<str>)> {
        m.files
            .iter()
            .find(|f| base(&f.name) == n)
            .map(|f| (f.name.clone(), f.text.clone()))
    };
    let mut out = Vec::new();
    for n in names {
        let (a_name, a) = find(old, n).unwrap_or_else(|| ("/dev/null".into(), "".into()));
        let (b_name, b) = find(new, n).unwrap_or_else(|| ("/dev/null".into(), "".into()));
        if a == b {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&*a, &*b);
        let mut lines = Vec::new();
        for group in diff.grouped_ops(3) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            let (o, n) = (first.old_range().start, first.new_range().start);
            let (oe, ne) = (last.old_range().end, last.new_range().end);
            lines.push(DiffLine {
                class: "hunk",
                sign: "",
                text: format!("@@ -{},{} +{},{} @@", o + 1, oe - o, n + 1, ne - n),
            });
            for op in &group {
                for change in diff.iter_changes(op) {
                    let (class, sign) = match change.tag() {
                        similar::ChangeTag::Delete => ("del", "-"),
                        similar::ChangeTag::Insert => ("add", "+"),
                        similar::ChangeTag::Equal => ("ctx", " "),
                    };
                    lines.push(DiffLine {
                        class,
                        sign,
                        text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
                    });
                }
            }
        }
        out.push(FileDiff {
            old: a_name,
            new: b_name,
            lines,
        });
    }
    out
}
