//! W0010: a comparison of two dates that moves one date by durations and
//! compares it with itself (`today + 30 days < today`,
//! `d - 1 year >= d - 6 months`): its result is the same for every
//! application.
//!
//! Moving a date by a number of days, or of months (a year is twelve), is
//! strictly increasing in that number (a day a month lacks moves on to the
//! first of the next month, which is still before the same day a month
//! later), so two sides with one base and offsets in one unit compare as
//! their offsets do. Sides in days and months are not compared: their order
//! depends on the date. A date moved beyond the calendar is absent, which
//! makes the comparison unknown rather than its opposite; the warning says
//! "never true" and "always true unless absent" accordingly.

use super::Decls;
use crate::ast::{self, BinOp, DurationUnit, ExprKind};
use crate::diag::{self, Diagnostic};

/// How deep expressions and `let` chains are followed.
const MAX_DEPTH: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Days,
    Months,
}

/// A date expression as a base (its text) moved by an offset.
struct Moved {
    base: String,
    offset: i64,
    unit: Option<Unit>,
}

fn moved(e: &ast::Expr, decls: &Decls<'_>, depth: usize) -> Option<Moved> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &e.node {
        ExprKind::Path(p) => {
            if let [name] = p.as_slice()
                && let Some(l) = decls.lets.iter().find(|l| l.name.node == name.node)
            {
                return moved(&l.value, decls, depth + 1);
            }
            let base = p.iter().map(|i| i.node.as_str()).collect::<Vec<_>>().join(".");
            Some(Moved {
                base,
                offset: 0,
                unit: None,
            })
        }
        ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), l, r) => {
            let ExprKind::Duration(amount, unit) = &r.node else {
                return None;
            };
            let inner = moved(l, decls, depth + 1)?;
            let (n, unit) = match unit {
                DurationUnit::Days => (amount.parse::<i64>().ok()?, Unit::Days),
                DurationUnit::Months => (amount.parse::<i64>().ok()?, Unit::Months),
                DurationUnit::Years => (amount.parse::<i64>().ok()?.checked_mul(12)?, Unit::Months),
            };
            if inner.unit.is_some_and(|u| u != unit) {
                return None;
            }
            let n = if *op == BinOp::Sub { -n } else { n };
            Some(Moved {
                base: inner.base,
                offset: inner.offset.checked_add(n)?,
                unit: Some(unit),
            })
        }
        _ => None,
    }
}

/// The fixed result of a comparison of two moved dates, if it has one.
fn fixed(op: BinOp, l: &ast::Expr, r: &ast::Expr, decls: &Decls<'_>) -> Option<bool> {
    let (a, b) = (moved(l, decls, 0)?, moved(r, decls, 0)?);
    if a.base != b.base || (a.unit.is_none() && b.unit.is_none()) {
        return None;
    }
    if a.unit.is_some() && b.unit.is_some() && a.unit != b.unit {
        return None;
    }
    let ord = a.offset.cmp(&b.offset);
    Some(match op {
        BinOp::Eq => ord.is_eq(),
        BinOp::Ne => ord.is_ne(),
        BinOp::Lt => ord.is_lt(),
        BinOp::Le => ord.is_le(),
        BinOp::Gt => ord.is_gt(),
        BinOp::Ge => ord.is_ge(),
        _ => return None,
    })
}

fn walk(e: &ast::Expr, decls: &Decls<'_>, depth: usize, out: &mut Vec<Diagnostic>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &e.node {
        ExprKind::Binary(op, l, r) => {
            if let Some(result) = fixed(*op, l, r, decls) {
                let (msg, help) = if result {
                    (
                        "this date comparison always holds (unless a date is absent)",
                        "both sides move the same date; compare it with another date, or remove the comparison",
                    )
                } else {
                    (
                        "this date comparison never holds",
                        "both sides move the same date, so their order is fixed: check the sign and the \
                         comparison (e.g. `expires <= today + 30 days`)",
                    )
                };
                out.push(
                    Diagnostic::warning(diag::FIXED_DATE_COMPARISON, msg, e.span)
                        .with_label(if result { "always true" } else { "always false" })
                        .with_help(help),
                );
            }
            walk(l, decls, depth + 1, out);
            walk(r, decls, depth + 1, out);
        }
        ExprKind::Not(x) | ExprKind::Member(x, _) => walk(x, decls, depth + 1, out),
        ExprKind::Call(_, args) | ExprKind::List(args) => args.iter().for_each(|a| walk(a, decls, depth + 1, out)),
        ExprKind::Quantifier(_, _, list, body) => {
            walk(list, decls, depth + 1, out);
            walk(body, decls, depth + 1, out);
        }
        ExprKind::Literal(_) | ExprKind::Path(_) | ExprKind::RuleRef(_) | ExprKind::Duration(..) => {}
    }
}

/// W0010 over every rule's `given` and `when` and every `let`.
pub(super) fn fixed_date_comparisons(decls: &Decls<'_>, out: &mut Vec<Diagnostic>) {
    for r in &decls.rules {
        for e in r.given.iter().chain(&r.when) {
            walk(e, decls, 0, out);
        }
    }
    for l in &decls.lets {
        walk(&l.value, decls, 0, out);
    }
}
