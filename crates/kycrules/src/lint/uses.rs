//! What a policy uses: the schema fields it reads, and the lets, charsets and
//! patterns an evaluation reaches.

use super::{Decls, holes};
use crate::ast::{self, CharsetTerm, ExprKind, Literal};
use crate::ir::RuleSet;
use crate::source::{Span, Spanned};
use std::collections::{BTreeMap, BTreeSet};

/// How deep a walk descends into an expression before it gives up (and the
/// lints that need a complete walk stay silent).
const MAX_DEPTH: usize = crate::syntax::MAX_DEPTH;

/// The names an expression can refer to.
pub(crate) struct Names<'a> {
    pub lets: BTreeMap<&'a str, &'a ast::Expr>,
    roots: BTreeSet<&'a str>,
}

/// What a path names.
pub(crate) enum Target<'a> {
    /// A schema field, as a dotted path from the root (list elements take the
    /// list's path: `documents.kind`); bank attributes extend their field's path.
    Field(String),
    Let(&'a str),
    /// A bare name that is no field, let or variable: an enum value or a bank code.
    Symbol(String),
    /// A field of a variable bound to something other than a field.
    Other,
}

/// Quantifier variables in scope, innermost last, each with the field path
/// of the list it ranges over when that is a field.
pub(crate) type Scope = Vec<(String, Option<String>)>;

impl<'a> Names<'a> {
    pub fn new(decls: &Decls<'a>, rs: &'a RuleSet) -> Self {
        Names {
            lets: decls.lets.iter().map(|l| (l.name.node.as_str(), &l.value)).collect(),
            roots: rs
                .schema
                .records
                .first()
                .into_iter()
                .flat_map(|r| r.fields.iter().map(|f| f.name.as_str()))
                .collect(),
        }
    }

    /// Resolves a path the way the compiler does: a variable, a let, a root
    /// field, else a bare name.
    pub fn resolve(&self, parts: &[ast::Ident], scope: &[(String, Option<String>)]) -> Target<'a> {
        let Some((head, rest)) = parts.split_first() else {
            return Target::Other;
        };
        if let Some((_, base)) = scope.iter().rev().find(|(n, _)| *n == head.node) {
            return match base {
                Some(b) => Target::Field(rest.iter().fold(b.clone(), |acc, p| format!("{acc}.{}", p.node))),
                None => Target::Other,
            };
        }
        if let Some((name, _)) = self.lets.get_key_value(head.node.as_str()) {
            return Target::Let(name);
        }
        if self.roots.contains(head.node.as_str()) {
            return Target::Field(dotted(parts));
        }
        if rest.is_empty() {
            Target::Symbol(head.node.clone())
        } else {
            Target::Other
        }
    }
}

/// `a.b.c`
pub(crate) fn dotted(parts: &[ast::Ident]) -> String {
    parts.iter().map(|p| p.node.as_str()).collect::<Vec<_>>().join(".")
}

/// What one part of a policy, or the whole, uses.
#[derive(Default)]
pub(crate) struct Uses {
    /// Field paths read (a record read as a whole, or a field inside it).
    pub fields: BTreeSet<String>,
    pub lets: BTreeSet<String>,
    pub charsets: BTreeSet<String>,
    pub patterns: BTreeSet<String>,
    /// Empty texts given as a charset: `only(x, "")`.
    pub empty_charset_literals: Vec<Span>,
    /// Patterns written in place: `matches(x, r"...")`.
    pub pattern_literals: Vec<Spanned<String>>,
    /// Some expression nested deeper than the walk goes.
    pub truncated: bool,
    /// Lets, charsets and patterns named by any let (charsets also by any
    /// charset), reached or not.
    pub mentioned_lets: BTreeSet<String>,
    pub mentioned_charsets: BTreeSet<String>,
    pub mentioned_patterns: BTreeSet<String>,
}

impl Uses {
    /// Whether `path`, or a field inside it, is read.
    pub fn touches(&self, path: &str) -> bool {
        self.fields
            .range(path.to_string()..)
            .take_while(|f| f.starts_with(path))
            .any(|f| f.len() == path.len() || f[path.len()..].starts_with('.'))
    }
}

/// Everything the policy uses. Fields count when any rule, let (used or
/// not), message text, `next_step` or `on` clause reads them; lets, charsets
/// and patterns count only when reached from a rule, a message text or the
/// next step.
pub(crate) fn collect(decls: &Decls<'_>, names: &Names<'_>) -> Uses {
    let mut root = Walker::new(names);
    for a in &decls.as_of {
        root.out.fields.insert(dotted(&a.field.node));
    }
    for r in &decls.rules {
        for path in &r.on {
            root.out.fields.insert(dotted(&path.node));
        }
        let conditions = r.messages.iter().filter_map(|c| c.condition.as_ref());
        for e in r
            .given
            .iter()
            .chain(&r.when)
            .chain(conditions)
            .chain(r.with.iter().map(|(_, e)| e))
        {
            root.expr(e, 0);
        }
    }
    for e in decls
        .next_steps
        .iter()
        .flat_map(|n| &n.steps)
        .filter_map(|(_, e)| e.as_ref())
    {
        root.expr(e, 0);
    }
    for (_, text) in decls.messages.iter().flat_map(|m| &m.texts) {
        for hole in holes(&text.node) {
            root.placeholder(&hole, text.span);
        }
    }
    let per_let: BTreeMap<&str, Uses> = decls
        .lets
        .iter()
        .map(|l| {
            let mut w = Walker::new(names);
            w.expr(&l.value, 0);
            (l.name.node.as_str(), w.out)
        })
        .collect();
    let mut used = root.out;
    let (mut charsets, mut patterns) = (used.charsets.clone(), used.patterns.clone());
    let mut reached = BTreeSet::new();
    let mut stack: Vec<String> = used.lets.iter().cloned().collect();
    while let Some(name) = stack.pop() {
        if let Some(u) = per_let.get(name.as_str())
            && reached.insert(name)
        {
            stack.extend(u.lets.iter().cloned());
            charsets.extend(u.charsets.iter().cloned());
            patterns.extend(u.patterns.iter().cloned());
        }
    }
    // Fields and literal sets count in every let, charsets and patterns only in reached ones.
    for u in per_let.values() {
        used.fields.extend(u.fields.iter().cloned());
        used.empty_charset_literals
            .extend(u.empty_charset_literals.iter().copied());
        used.pattern_literals.extend(u.pattern_literals.iter().cloned());
        used.truncated |= u.truncated;
    }
    used.mentioned_lets = per_let.values().flat_map(|u| u.lets.iter()).cloned().collect();
    used.mentioned_patterns = per_let.values().flat_map(|u| u.patterns.iter()).cloned().collect();
    used.mentioned_charsets = per_let.values().flat_map(|u| u.charsets.iter()).cloned().collect();
    used.mentioned_charsets.extend(
        decls
            .charsets
            .iter()
            .flat_map(|c| c.expr.include.iter().chain(&c.expr.exclude))
            .filter_map(|t| match &t.node {
                CharsetTerm::Named(n) => Some(n.clone()),
                _ => None,
            }),
    );
    used.lets = reached;
    used.charsets = charsets_within(decls, charsets);
    used.patterns = patterns;
    used
}

/// The charsets named, and those they name in turn.
fn charsets_within(decls: &Decls<'_>, named: BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<String> = named.into_iter().collect();
    while let Some(name) = stack.pop() {
        if !out.insert(name.clone()) {
            continue;
        }
        if let Some(d) = decls.charsets.iter().find(|c| c.name.node == name) {
            for t in d.expr.include.iter().chain(&d.expr.exclude) {
                if let CharsetTerm::Named(n) = &t.node {
                    stack.push(n.clone());
                }
            }
        }
    }
    out
}

struct Walker<'n, 'a> {
    names: &'n Names<'a>,
    scope: Scope,
    out: Uses,
}

impl<'n, 'a> Walker<'n, 'a> {
    fn new(names: &'n Names<'a>) -> Self {
        Walker {
            names,
            scope: Vec::new(),
            out: Uses::default(),
        }
    }

    fn expr(&mut self, e: &ast::Expr, depth: usize) {
        if depth > MAX_DEPTH {
            self.out.truncated = true;
            return;
        }
        match &e.node {
            ExprKind::Literal(_) | ExprKind::RuleRef(_) | ExprKind::Duration(..) => {}
            ExprKind::Path(parts) => self.path(parts),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i, depth + 1)),
            ExprKind::Not(x) | ExprKind::Member(x, _) => self.expr(x, depth + 1),
            ExprKind::Binary(_, l, r) => {
                self.expr(l, depth + 1);
                self.expr(r, depth + 1);
            }
            ExprKind::Call(name, args) => self.call(&name.node, args, depth),
            ExprKind::Quantifier(_, var, list, body) => {
                self.expr(list, depth + 1);
                let base = match &list.node {
                    ExprKind::Path(p) => match self.names.resolve(p, &self.scope) {
                        Target::Field(f) => Some(f),
                        _ => None,
                    },
                    _ => None,
                };
                self.scope.push((var.node.clone(), base));
                self.expr(body, depth + 1);
                self.scope.pop();
            }
        }
    }

    fn path(&mut self, parts: &[ast::Ident]) {
        match self.names.resolve(parts, &self.scope) {
            Target::Field(f) => {
                self.out.fields.insert(f);
            }
            Target::Let(name) => {
                self.out.lets.insert(name.to_string());
            }
            Target::Symbol(_) | Target::Other => {}
        }
    }

    fn call(&mut self, name: &str, args: &[ast::Expr], depth: usize) {
        let (first, second) = (args.first(), args.get(1));
        match (name, second) {
            ("fired", _) => {}
            ("only" | "has_any" | "first_outside" | "remove", Some(set)) => {
                first.into_iter().for_each(|a| self.expr(a, depth + 1));
                match &set.node {
                    ExprKind::Path(p) if p.len() == 1 => {
                        self.out.charsets.insert(p[0].node.clone());
                    }
                    ExprKind::Literal(Literal::Text(s)) if s.is_empty() => {
                        self.out.empty_charset_literals.push(set.span)
                    }
                    _ => {}
                }
            }
            ("matches", Some(pattern)) => {
                first.into_iter().for_each(|a| self.expr(a, depth + 1));
                match &pattern.node {
                    ExprKind::Path(p) if p.len() == 1 => {
                        self.out.patterns.insert(p[0].node.clone());
                    }
                    ExprKind::Literal(Literal::Text(s)) => {
                        self.out.pattern_literals.push(Spanned::new(s.clone(), pattern.span));
                    }
                    _ => {}
                }
            }
            _ => args.iter().for_each(|a| self.expr(a, depth + 1)),
        }
    }

    /// A `{name}` placeholder of a message text: a field path or a let (a
    /// rule's `with` value of the same name is counted as the field too).
    fn placeholder(&mut self, name: &str, span: Span) {
        let parts: Vec<ast::Ident> = name
            .split('.')
            .map(|p| ast::Ident::new(p.trim().to_string(), span))
            .collect();
        self.path(&parts);
    }
}
