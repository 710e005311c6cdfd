//! W0011: arithmetic on a field that may be absent, in a rule whose guard
//! does not ask `present(...)` of it. An absent operand makes the result
//! absent and the comparison unknown, so the rule silently does not fire for
//! such applications; the author should say so with a guard.
//!
//! Only the rule's own `given`, `when` and `with` expressions are read (a
//! `let` is judged where it is written, not where it is used), and only
//! field paths that stand directly as operands of `+ - * / mod`.

use super::Decls;
use super::uses::{Names, Target};
use crate::ast::{self, ExprKind};
use crate::diag::{self, Diagnostic};
use crate::ir::{RuleSet, Type};
use crate::source::Span;

const MAX_DEPTH: usize = 64;

/// Whether a dotted field path from the root may be absent: a field on the
/// way is optional without a default.
fn may_be_absent(rs: &RuleSet, path: &str) -> bool {
    let mut record = 0usize;
    for name in path.split('.') {
        let Some(field) = rs
            .schema
            .records
            .get(record)
            .and_then(|r| r.fields.iter().find(|f| f.name == name))
        else {
            return false;
        };
        if field.optional && field.default.is_none() {
            return true;
        }
        let mut ty = &field.ty;
        while let Type::List(inner) = ty {
            ty = inner;
        }
        match ty {
            Type::Record(r) => record = *r as usize,
            _ => return false,
        }
    }
    false
}

/// The field paths asked `present(...)` anywhere in `e`.
fn presents(e: &ast::Expr, names: &Names<'_>, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &e.node {
        ExprKind::Call(name, args) if name.node == "present" => {
            if let Some(ExprKind::Path(p)) = args.first().map(|a| &a.node)
                && let Target::Field(f) = names.resolve(p, &[])
            {
                out.push(f);
            }
        }
        ExprKind::Call(_, args) | ExprKind::List(args) => args.iter().for_each(|a| presents(a, names, depth + 1, out)),
        ExprKind::Binary(_, l, r) => {
            presents(l, names, depth + 1, out);
            presents(r, names, depth + 1, out);
        }
        ExprKind::Not(x) | ExprKind::Member(x, _) => presents(x, names, depth + 1, out),
        _ => {}
    }
}

/// Arithmetic operands in `e` that are possibly absent fields, with their spans.
fn operands(e: &ast::Expr, names: &Names<'_>, rs: &RuleSet, depth: usize, out: &mut Vec<(String, Span)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &e.node {
        ExprKind::Binary(op, l, r) => {
            if op.is_arith() {
                for side in [l, r] {
                    if let ExprKind::Path(p) = &side.node
                        && let Target::Field(f) = names.resolve(p, &[])
                        && may_be_absent(rs, &f)
                    {
                        out.push((f, side.span));
                    }
                }
            }
            operands(l, names, rs, depth + 1, out);
            operands(r, names, rs, depth + 1, out);
        }
        ExprKind::Not(x) | ExprKind::Member(x, _) => operands(x, names, rs, depth + 1, out),
        ExprKind::Call(_, args) | ExprKind::List(args) => {
            args.iter().for_each(|a| operands(a, names, rs, depth + 1, out));
        }
        // Inside a quantifier the variable's fields are not root paths; not judged.
        _ => {}
    }
}

/// W0011 over every rule.
pub(super) fn arithmetic_on_absent(decls: &Decls<'_>, names: &Names<'_>, rs: &RuleSet, out: &mut Vec<Diagnostic>) {
    for r in &decls.rules {
        let mut guarded = Vec::new();
        for g in &r.given {
            presents(g, names, 0, &mut guarded);
        }
        let mut found = Vec::new();
        for e in r.given.iter().chain(&r.when).chain(r.with.iter().map(|(_, e)| e)) {
            operands(e, names, rs, 0, &mut found);
        }
        for (field, span) in found {
            let covered = guarded
                .iter()
                .any(|g| field == *g || field.starts_with(&format!("{g}.")));
            if covered {
                continue;
            }
            out.push(
                Diagnostic::warning(
                    diag::ABSENT_ARITHMETIC,
                    format!("arithmetic on `{field}`, which may be absent"),
                    span,
                )
                .with_label("optional: when it is absent, so is the result")
                .with_help(format!(
                    "rule `{}` does not fire for an application without `{field}`; say so with `given present({field})`, \
                     or give the field a default in the schema",
                    r.id.node
                )),
            );
        }
    }
}
