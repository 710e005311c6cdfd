//! Self-contained HTML reports: `check --format html` and `diff --format html`.
//!
//! One file each, with inline CSS and inline SVG charts: no script, no font,
//! no image or style sheet from anywhere else, so a page can be attached to a
//! change request and opened offline, printed, or read on a phone. Pages come
//! from askama templates (`crates/kycrules/templates/`, escaped by default);
//! the numbers in them are computed here.
//!
//! Colour is never the only channel: every bar and cell carries its number and
//! label, the heat map is one hue whose lightness follows the count (legible in
//! grey), and decisions use the Okabe–Ito palette, which colour-blind readers
//! can tell apart.
//!
//! The collectors ([`CheckReport`], [`DiffReport`]) take records one at a time
//! and keep only counts and the first few examples of each group, so memory is
//! bounded whatever the input's length.

mod check;
mod diff;

pub use check::CheckReport;
pub use diff::{DiffReport, PolicySide};

use crate::eval::DecisionKind;
use crate::ir::RuleSet;

/// How many examples a page shows per group (changed applications per
/// transition, input errors); the rest are counted.
pub const SHOWN_PER_GROUP: usize = 20;

/// A policy's stamp as the pages show it.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub name: String,
    pub version: String,
    pub hash: String,
    /// Where it was loaded from (`shipped`, a path).
    pub origin: String,
}

impl Stamp {
    pub fn of(rs: &RuleSet, origin: &str) -> Stamp {
        Stamp {
            name: rs.name.clone(),
            version: rs.version.clone(),
            hash: rs.hash.clone(),
            origin: origin.to_owned(),
        }
    }
}

/// One bar of a bar chart: a label, its count, its share of the total and its
/// length relative to the longest bar (both in percent, one decimal).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    /// A CSS class for the bar's colour (`accept`, `reject`, `neutral`, …).
    pub class: &'static str,
    pub count: u64,
    pub pct: String,
    pub width: String,
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.0".into();
    }
    // Exact enough for a page: counts are far below 2^52.
    #[expect(clippy::cast_precision_loss, reason = "counts of records, far below 2^52")]
    let p = part as f64 * 100.0 / whole as f64;
    format!("{p:.1}")
}

/// Bars for `(label, class, count)` items: shares of `total`, lengths
/// relative to the largest count.
fn bars(items: Vec<(String, &'static str, u64)>, total: u64) -> Vec<Bar> {
    let max = items.iter().map(|i| i.2).max().unwrap_or(0);
    items
        .into_iter()
        .map(|(label, class, count)| Bar {
            label,
            class,
            count,
            pct: percent(count, total),
            width: percent(count, max),
        })
        .collect()
}

/// The CSS class of a decision's colour.
fn decision_class(d: DecisionKind) -> &'static str {
    d.as_str()
}

/// The page's words in one language.
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    pub lang: &'static str,
    pub check_title: &'static str,
    pub diff_title: &'static str,
    pub policy: &'static str,
    pub old_policy: &'static str,
    pub new_policy: &'static str,
    pub version: &'static str,
    pub hash: &'static str,
    pub loaded_from: &'static str,
    pub as_of: &'static str,
    pub applications: &'static str,
    pub changed: &'static str,
    pub decisions: &'static str,
    pub rules_fired: &'static str,
    pub next_steps: &'static str,
    pub input_errors: &'static str,
    pub no_errors: &'static str,
    pub source: &'static str,
    pub message: &'static str,
    pub rule: &'static str,
    pub count: &'static str,
    pub share: &'static str,
    pub none: &'static str,
    pub matrix: &'static str,
    pub matrix_note: &'static str,
    pub old_decision: &'static str,
    pub new_decision: &'static str,
    pub gained_lost: &'static str,
    pub gained: &'static str,
    pub lost: &'static str,
    pub changed_apps: &'static str,
    pub no_changes: &'static str,
    pub more: &'static str,
    pub before: &'static str,
    pub after: &'static str,
    pub no_rules: &'static str,
    pub policy_text: &'static str,
    pub policy_text_same: &'static str,
    pub errors_both: &'static str,
    pub decision_names: [&'static str; 5],
}

const EN: Labels = Labels {
    lang: "en",
    check_title: "Decisions report",
    diff_title: "Policy change impact report",
    policy: "Policy",
    old_policy: "Old policy",
    new_policy: "New policy",
    version: "version",
    hash: "hash",
    loaded_from: "from",
    as_of: "Evaluated as of",
    applications: "applications",
    changed: "changed",
    decisions: "Decisions",
    rules_fired: "Rules by how often they fire",
    next_steps: "Next steps",
    input_errors: "Input errors",
    no_errors: "No input errors.",
    source: "Source",
    message: "Message",
    rule: "Rule",
    count: "Count",
    share: "Share",
    none: "none",
    matrix: "Transitions: old decision → new decision",
    matrix_note: "Rows: the decision under the old policy; columns: under the new one. Each cell: the number of applications and their share of all applications. Darker means more.",
    old_decision: "old",
    new_decision: "new",
    gained_lost: "Rules gained and lost per rule",
    gained: "gained (fires under new only)",
    lost: "lost (fires under old only)",
    changed_apps: "Changed applications by transition",
    no_changes: "No application changed.",
    more: "more not shown",
    before: "Under the old policy",
    after: "Under the new policy",
    no_rules: "no rule fired",
    policy_text: "What changed in the policy text",
    policy_text_same: "The policy texts are identical.",
    errors_both: "applications are input errors under both policies (not compared)",
    decision_names: ["accept", "review", "limited", "reject", "error"],
};

const ZH: Labels = Labels {
    lang: "zh",
    check_title: "决定报告",
    diff_title: "政策变更影响报告",
    policy: "政策",
    old_policy: "旧政策",
    new_policy: "新政策",
    version: "版本",
    hash: "哈希",
    loaded_from: "来源",
    as_of: "评估日期",
    applications: "份申请",
    changed: "有变化",
    decisions: "决定",
    rules_fired: "规则触发次数",
    next_steps: "下一步",
    input_errors: "输入错误",
    no_errors: "没有输入错误。",
    source: "来源",
    message: "消息",
    rule: "规则",
    count: "数量",
    share: "占比",
    none: "无",
    matrix: "转移：旧决定 → 新决定",
    matrix_note: "行：旧政策下的决定；列：新政策下的决定。每格：申请数量及其占全部申请的比例。颜色越深，数量越多。",
    old_decision: "旧",
    new_decision: "新",
    gained_lost: "各规则新增与减少的触发",
    gained: "新增（仅在新政策下触发）",
    lost: "减少（仅在旧政策下触发）",
    changed_apps: "按转移分组的变化申请",
    no_changes: "没有申请发生变化。",
    more: "条未显示",
    before: "旧政策下",
    after: "新政策下",
    no_rules: "没有规则触发",
    policy_text: "政策文本的变化",
    policy_text_same: "两份政策文本相同。",
    errors_both: "份申请在两份政策下都是输入错误（未比较）",
    decision_names: ["接受", "审核", "受限", "拒绝", "错误"],
};

impl Labels {
    /// The words for `lang` (`zh`, else English).
    pub fn for_lang(lang: &str) -> &'static Labels {
        if lang == "zh" { &ZH } else { &EN }
    }

    /// A decision's name in this language, with its code: `拒绝 reject`.
    pub fn decision(&self, d: DecisionKind) -> String {
        let i = DecisionKind::ALL.iter().position(|k| *k == d).unwrap_or(0);
        let name = self.decision_names.get(i).copied().unwrap_or("");
        if name == d.as_str() {
            name.to_owned()
        } else {
            format!("{name} {}", d.as_str())
        }
    }
}

/// A heat-map cell's colours: one hue (blue), lighter for fewer, so the map
/// reads the same in grey; white text on the dark half.
fn heat(count: u64, max: u64) -> (String, &'static str) {
    if count == 0 || max == 0 {
        return ("#ffffff".into(), "#222222");
    }
    #[expect(clippy::cast_precision_loss, reason = "counts of records, far below 2^52")]
    let t = 0.15 + 0.85 * (count as f64 / max as f64);
    let lerp = |a: f64, b: f64| -> u8 {
        let v = (a + (b - a) * t).round().clamp(0.0, 255.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to 0..=255"
        )]
        let v = v as u8;
        v
    };
    let (r, g, b) = (lerp(239.0, 8.0), lerp(243.0, 48.0), lerp(255.0, 107.0));
    (
        format!("#{r:02x}{g:02x}{b:02x}"),
        if t > 0.5 { "#ffffff" } else { "#222222" },
    )
}

/// A violation as a page shows it.
#[derive(Debug, Clone)]
pub struct ShownViolation {
    pub rule: String,
    pub outcome: &'static str,
    pub message: String,
}
