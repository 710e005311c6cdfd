//! Personal data in messages: a placeholder whose value reads a field the
//! schema marks `sensitive` is compiled as `mask(...)`, so that reports show
//! all but the last four characters of a card or document number.
//!
//! The mask is put in at compile time and taken off at render time only when
//! the rule set's [`show_pii`](crate::ir::RuleSet::show_pii) is set
//! (`kycrules check --show-pii`); `mask(...)` written in a policy yields to
//! it the same way.

use super::Compiler;
use crate::ir::{Builtin, CExpr, Piece, Template, Type};

impl Compiler<'_> {
    /// `template` with every hole that shows a sensitive field masked.
    pub(super) fn mask_sensitive(&self, template: Template) -> Template {
        template
            .into_iter()
            .map(|piece| match piece {
                Piece::Hole(e) if !matches!(e, CExpr::Call(Builtin::Mask, _)) && self.reads_sensitive(&e, 0) => {
                    Piece::Hole(CExpr::Call(Builtin::Mask, vec![e]))
                }
                other => other,
            })
            .collect()
    }

    /// Whether evaluating `e` reads a sensitive field (through lets too).
    /// Quantifier variables are not followed: a quantifier yields a bool or
    /// a count, never the field itself.
    fn reads_sensitive(&self, e: &CExpr, depth: usize) -> bool {
        // Expressions and let chains are bounded by the compiler's limits;
        // this guard only keeps the walk total.
        if depth > 4096 {
            return true;
        }
        let sub = |x: &CExpr| self.reads_sensitive(x, depth + 1);
        match e {
            CExpr::Field(slots) => self.sensitive_path(slots),
            CExpr::Let(i) => {
                // Memoised: lets that reuse lets would be walked exponentially often.
                let i = *i as usize;
                if let Some(Some(known)) = self.let_sensitive.borrow().get(i) {
                    return *known;
                }
                let Some(def) = self.lets.get(i).and_then(|l| l.expr.as_ref()) else {
                    return false;
                };
                let s = sub(def);
                let mut memo = self.let_sensitive.borrow_mut();
                if memo.len() <= i {
                    memo.resize(i + 1, None);
                }
                if let Some(slot) = memo.get_mut(i) {
                    *slot = Some(s);
                }
                s
            }
            // `region(text)` shows the policy's own name of the entry it
            // finds (absent when none), never the text it looked up.
            CExpr::Const(_) | CExpr::Var(..) | CExpr::Fired(_) | CExpr::Today | CExpr::Table(_) | CExpr::Lookup(..) => {
                false
            }
            CExpr::DateShift(x, ..) => sub(x),
            CExpr::Arith(_, a, b) | CExpr::Aggregate(_, a, b) => sub(a) || sub(b),
            CExpr::EntryAttr(x, ..) | CExpr::EntryKnown(x) | CExpr::EntryCode(x) | CExpr::Not(x) => sub(x),
            CExpr::And(a, b) | CExpr::Or(a, b) | CExpr::Cmp(_, a, b) | CExpr::Quant(_, a, b) => sub(a) || sub(b),
            CExpr::In(x, items) => sub(x) || items.iter().any(sub),
            CExpr::Call(_, args) => args.iter().any(sub),
        }
    }

    /// Whether a path of slots from the root passes through a sensitive field.
    fn sensitive_path(&self, slots: &[u16]) -> bool {
        let mut record = 0usize;
        for &slot in slots {
            let Some(field) = self
                .schema
                .records
                .get(record)
                .and_then(|r| r.fields.get(slot as usize))
            else {
                return false;
            };
            if field.sensitive {
                return true;
            }
            match field.ty {
                Type::Record(r) => record = r as usize,
                _ => return false,
            }
        }
        false
    }
}
