//! W0012: a table attribute that no rule, message, `next_step` or `let`
//! reads; W0013: a declared table without entries.
//!
//! Reads are taken from the compiled expressions, where an attribute is an
//! index into its table (`CExpr::EntryAttr`, and `count_banks(a)` for
//! `bank`), so an attribute read through any field, let, lookup or
//! quantifier variable counts, and an entry's value for it does not.

use crate::ast::{self, Item};
use crate::diag::{self, Diagnostic};
use crate::ir::{Builtin, CExpr, Piece, RuleSet};
use std::collections::BTreeSet;

/// W0012 and W0013 over the declarations of `files`.
pub(super) fn tables(files: &[ast::File], rs: &RuleSet, out: &mut Vec<Diagnostic>) {
    let read = reads(rs);
    let table_of = |name: &str| rs.tables.iter().position(|t| t.name == name);
    let mut unread = |t: usize, d: &ast::AttrDecl| {
        let Some(table) = rs.tables.get(t) else { return };
        let Some(a) = table.attributes.iter().position(|a| a.name == d.name.node) else {
            return;
        };
        if !read.contains(&(t, a)) {
            out.push(
                Diagnostic::warning(
                    diag::UNREAD_ATTRIBUTE,
                    format!("attribute `{}` of table `{}` is never read", d.name.node, table.name),
                    d.name.span,
                )
                .with_label("no rule, message or let reads it")
                .with_help(format!(
                    "read it (`x.{}` of a `{}` value), or remove it and its values from the entries",
                    d.name.node, table.name
                )),
            );
        }
    };
    for item in files.iter().flat_map(|f| &f.items) {
        match item {
            Item::BankAttr(d) => {
                if let Some(t) = table_of("bank") {
                    unread(t, d);
                }
            }
            Item::Table(decl) => {
                let Some(t) = table_of(&decl.name.node) else { continue };
                for d in &decl.attrs {
                    unread(t, d);
                }
            }
            _ => {}
        }
    }
    for item in files.iter().flat_map(|f| &f.items) {
        if let Item::Table(decl) = item
            && let Some(table) = rs.tables.iter().find(|t| t.name == decl.name.node)
            && table.list.is_empty()
        {
            out.push(
                Diagnostic::warning(
                    diag::EMPTY_TABLE,
                    format!("table `{}` has no entries", decl.name.node),
                    decl.name.span,
                )
                .with_label("declared here, never filled")
                .with_help(format!(
                    "add entries (`{} CODE {{ name en \"...\" }}`), or remove the table: every lookup in it is absent and every quantifier over it empty",
                    decl.name.node
                )),
            );
        }
    }
}

/// Every (table, attribute) that an expression of the rule set reads.
fn reads(rs: &RuleSet) -> BTreeSet<(usize, usize)> {
    let mut out = BTreeSet::new();
    let mut exprs: Vec<&CExpr> = rs.lets.iter().collect();
    for r in &rs.rules {
        exprs.extend(r.guard.iter());
        exprs.push(&r.when);
        for m in &r.messages {
            exprs.extend(m.condition.iter());
            for piece in m.texts.iter().flatten().flatten() {
                match piece {
                    Piece::Hole(e) | Piece::EnumHole(e, _) => exprs.push(e),
                    Piece::Text(_) => {}
                }
            }
        }
    }
    exprs.extend(rs.next_steps.iter().filter_map(|s| s.condition.as_ref()));
    // An explicit stack: expressions are bounded in height, but need no recursion here.
    while let Some(e) = exprs.pop() {
        match e {
            CExpr::EntryAttr(_, t, a) => {
                out.insert((*t as usize, *a as usize));
            }
            CExpr::Call(Builtin::CountBanks(a), _) => {
                out.insert((0, *a as usize));
            }
            _ => {}
        }
        e.for_each_child(|x| exprs.push(x));
    }
    out
}
