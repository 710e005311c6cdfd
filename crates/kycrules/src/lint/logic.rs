//! Lints about what a rule's conditions can be: constant (W0003) or
//! contradictory (W0005).
//!
//! Both reason as the evaluator does, in three-valued logic: a field may be
//! absent, a comparison with an absent field is unknown, `not unknown` is
//! unknown, and a rule fires only when its guard and condition are both
//! definitely true. A warning is given only when that is proven from
//! literals; anything else (a function call, a quantifier, two fields
//! compared) is unknown.

use super::uses::{Names, Target};
use crate::ast::{self, BinOp, ExprKind, Literal};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::diag::{self, Diagnostic};
use crate::source::Span;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// How deep the analysis descends into an expression (as deep as the
/// language nests brackets; a longer `and` chain is partly unknown).
const MAX_DEPTH: usize = crate::syntax::MAX_DEPTH;
/// How many lets deep the contradiction check follows a `let` name.
const MAX_LETS: usize = 32;

/// A value known from the policy text alone.
#[derive(Debug, Clone, PartialEq)]
enum Const {
    Bool(bool),
    Text(String),
    Num(Decimal),
    Date(Date),
    /// An enum value or a bank code, by name.
    Sym(String),
}

impl Const {
    fn literal(lit: &Literal) -> Option<Const> {
        Some(match lit {
            Literal::Text(s) => Const::Text(s.clone()),
            Literal::Number(n) => Const::Num(Decimal::parse(n).ok()?),
            Literal::Date(d) => Const::Date(Date::parse(d)?),
            Literal::Bool(b) => Const::Bool(*b),
            Literal::Name(n) => Const::Sym(n.clone()),
        })
    }

    /// Whether two constants are equal; `None` when their kinds differ (a
    /// bank code may be written as a name or as a text).
    fn equal(&self, other: &Const) -> Option<bool> {
        match (self, other) {
            (Const::Bool(a), Const::Bool(b)) => Some(a == b),
            (Const::Text(a), Const::Text(b)) | (Const::Sym(a), Const::Sym(b)) => Some(a == b),
            (Const::Num(a), Const::Num(b)) => Some(a == b),
            (Const::Date(a), Const::Date(b)) => Some(a == b),
            _ => None,
        }
    }

    /// The order of two numbers or two dates.
    fn order(&self, other: &Const) -> Option<Ordering> {
        match (self, other) {
            (Const::Num(a), Const::Num(b)) => Some(a.cmp(b)),
            (Const::Date(a), Const::Date(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn of(op: BinOp) -> Option<Cmp> {
        Some(match op {
            BinOp::Eq => Cmp::Eq,
            BinOp::Ne => Cmp::Ne,
            BinOp::Lt => Cmp::Lt,
            BinOp::Le => Cmp::Le,
            BinOp::Gt => Cmp::Gt,
            BinOp::Ge => Cmp::Ge,
            _ => return None,
        })
    }

    /// `c op x` as `x op' c`.
    fn flip(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            same => same,
        }
    }

    /// The comparison that is true exactly when this one is false (both
    /// sides known).
    fn negate(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
        }
    }

    fn holds(self, a: &Const, b: &Const) -> Option<bool> {
        match self {
            Cmp::Eq => a.equal(b),
            Cmp::Ne => a.equal(b).map(|e| !e),
            Cmp::Lt => a.order(b).map(Ordering::is_lt),
            Cmp::Le => a.order(b).map(Ordering::is_le),
            Cmp::Gt => a.order(b).map(Ordering::is_gt),
            Cmp::Ge => a.order(b).map(Ordering::is_ge),
        }
    }
}

// ------------------------------------------------------------------ W0003

/// The value of an expression from its literals alone; `None` when it
/// depends on the application.
fn fold(e: &ast::Expr, names: &Names<'_>, depth: usize) -> Option<Const> {
    if depth > MAX_DEPTH {
        return None;
    }
    let truth = |c: Option<Const>| match c {
        Some(Const::Bool(b)) => Some(b),
        _ => None,
    };
    match &e.node {
        ExprKind::Literal(l) => Const::literal(l),
        ExprKind::Path(p) => match names.resolve(p, &[]) {
            Target::Symbol(s) => Some(Const::Sym(s)),
            _ => None,
        },
        ExprKind::Not(x) => truth(fold(x, names, depth + 1)).map(|b| Const::Bool(!b)),
        ExprKind::Binary(op @ (BinOp::And | BinOp::Or), l, r) => {
            let (a, b) = (truth(fold(l, names, depth + 1)), truth(fold(r, names, depth + 1)));
            // Kleene logic: one side decides when it is the absorbing value.
            let absorbing = *op == BinOp::Or;
            match (a, b) {
                (Some(x), _) | (_, Some(x)) if x == absorbing => Some(Const::Bool(absorbing)),
                (Some(_), Some(_)) => Some(Const::Bool(!absorbing)),
                _ => None,
            }
        }
        ExprKind::Binary(op @ (BinOp::In | BinOp::NotIn), l, r) => {
            let value = fold(l, names, depth + 1)?;
            let ExprKind::List(items) = &r.node else { return None };
            let mut unknown = false;
            for item in items {
                match fold(item, names, depth + 1).and_then(|c| value.equal(&c)) {
                    Some(true) => return Some(Const::Bool(*op == BinOp::In)),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            (!unknown).then_some(Const::Bool(*op == BinOp::NotIn))
        }
        ExprKind::Binary(op, l, r) => {
            let cmp = Cmp::of(*op)?;
            let (a, b) = (fold(l, names, depth + 1)?, fold(r, names, depth + 1)?);
            cmp.holds(&a, &b).map(Const::Bool)
        }
        _ => None,
    }
}

/// W0003: a `given` or `when` whose value its literals decide.
pub(super) fn constant_conditions(r: &ast::RuleDecl, names: &Names<'_>, out: &mut Vec<Diagnostic>) {
    let clauses = r
        .given
        .first()
        .map(|e| ("given", e))
        .into_iter()
        .chain(r.when.first().map(|e| ("when", e)));
    for (clause, e) in clauses {
        let Some(Const::Bool(value)) = fold(e, names, 0) else {
            continue;
        };
        let (effect, help) = match (clause, value) {
            (_, false) => (
                "the rule never fires",
                "compare a field of the application, or remove the rule",
            ),
            ("when", true) if r.given.is_empty() => (
                "the rule fires for every application",
                "compare a field of the application in `when`",
            ),
            ("when", true) => (
                "the rule fires whenever its guard holds",
                "compare a field of the application in `when`",
            ),
            _ => (
                "the guard excludes nothing",
                "remove the `given` clause, or compare a field of the application",
            ),
        };
        out.push(
            Diagnostic::warning(
                diag::CONSTANT_CONDITION,
                format!("the `{clause}` of rule `{}` is always {value}", r.id.node),
                e.span,
            )
            .with_label(format!("always {value}: {effect}"))
            .with_help(help),
        );
    }
}

// ------------------------------------------------------------------ W0005

/// What a definitely true condition tells of one field.
#[derive(Debug)]
enum Kind {
    /// The field is present and compares so with the constant.
    Cmp(Cmp, Const),
    /// The field is present and is (or is not) one of the constants.
    In(Vec<Const>, bool),
    /// The field is present, or absent.
    Present(bool),
}

#[derive(Debug)]
struct Fact {
    path: String,
    kind: Kind,
    /// Where the rule says it (a let's name when it comes from the let).
    span: Span,
    guard: bool,
}

impl Kind {
    /// Whether a field of this value can satisfy the fact; `None` when unknown.
    fn admits(&self, x: &Const) -> Option<bool> {
        match self {
            Kind::Cmp(op, c) => op.holds(x, c),
            Kind::In(items, inside) => {
                let mut member = Some(false);
                for item in items {
                    match x.equal(item) {
                        Some(true) => {
                            member = Some(true);
                            break;
                        }
                        Some(false) => {}
                        None => member = None,
                    }
                }
                member.map(|m| m == *inside)
            }
            Kind::Present(p) => Some(*p),
        }
    }

    /// The only values the field can have, when the fact names them.
    fn candidates(&self) -> Option<&[Const]> {
        match self {
            Kind::Cmp(Cmp::Eq, c) => Some(std::slice::from_ref(c)),
            Kind::In(items, true) => Some(items),
            _ => None,
        }
    }

    fn lower(&self) -> Option<(&Const, bool)> {
        match self {
            Kind::Cmp(Cmp::Gt, c) => Some((c, true)),
            Kind::Cmp(Cmp::Ge, c) => Some((c, false)),
            _ => None,
        }
    }

    fn upper(&self) -> Option<(&Const, bool)> {
        match self {
            Kind::Cmp(Cmp::Lt, c) => Some((c, true)),
            Kind::Cmp(Cmp::Le, c) => Some((c, false)),
            _ => None,
        }
    }
}

/// Whether `path` is `outer` or a field inside it.
fn within(path: &str, outer: &str) -> bool {
    path.strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Whether two facts cannot both hold.
fn conflict(a: &Fact, b: &Fact) -> bool {
    // An absent field has no value, nor has any field inside it.
    let absent_vs = |x: &Fact, y: &Fact| {
        matches!(x.kind, Kind::Present(false)) && !matches!(y.kind, Kind::Present(false)) && within(&y.path, &x.path)
    };
    if absent_vs(a, b) || absent_vs(b, a) {
        return true;
    }
    if a.path != b.path {
        return false;
    }
    let excludes = |x: &Fact, y: &Fact| {
        x.kind
            .candidates()
            .is_some_and(|cs| cs.iter().all(|c| y.kind.admits(c) == Some(false)))
    };
    if excludes(a, b) || excludes(b, a) {
        return true;
    }
    let empty_range = |lo: Option<(&Const, bool)>, hi: Option<(&Const, bool)>| match (lo, hi) {
        (Some((l, ls)), Some((h, hs))) => match l.order(h) {
            Some(Ordering::Greater) => true,
            Some(Ordering::Equal) => ls || hs,
            _ => false,
        },
        _ => false,
    };
    empty_range(a.kind.lower(), b.kind.upper()) || empty_range(b.kind.lower(), a.kind.upper())
}

/// Two facts that contradict each other, or a set of values every one of
/// which another fact excludes (the set's fact and one excluder).
fn find_conflict(facts: &[Fact]) -> Option<(usize, usize)> {
    for j in 0..facts.len() {
        for i in 0..j {
            if conflict(&facts[i], &facts[j]) {
                return Some((i, j));
            }
        }
    }
    for (i, f) in facts.iter().enumerate() {
        let Some(cands) = f.kind.candidates() else { continue };
        let excluder = |c: &Const| {
            facts
                .iter()
                .enumerate()
                .position(|(k, g)| k != i && g.path == f.path && g.kind.admits(c) == Some(false))
        };
        let found: Option<Vec<usize>> = cands.iter().map(excluder).collect();
        if let Some(k) = found.and_then(|ks| ks.into_iter().max()) {
            return Some((i.min(k), i.max(k)));
        }
    }
    None
}

struct Gather<'n, 'a> {
    names: &'n Names<'a>,
    guard: bool,
    facts: Vec<Fact>,
    /// The lets already followed, by name, sign and clause: following one
    /// again adds the same facts, and lets that reuse lets would otherwise
    /// be followed exponentially often.
    followed: BTreeSet<(&'a str, bool, bool)>,
}

impl Gather<'_, '_> {
    /// The facts a definitely true (`positive`) or definitely false
    /// expression implies, through `and`, `not`, `not (.. or ..)` and lets.
    fn expr(&mut self, e: &ast::Expr, positive: bool, origin: Option<Span>, depth: usize, lets: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let span = origin.unwrap_or(e.span);
        match &e.node {
            ExprKind::Not(x) => self.expr(x, !positive, origin, depth + 1, lets),
            ExprKind::Binary(BinOp::And, l, r) if positive => {
                self.expr(l, positive, origin, depth + 1, lets);
                self.expr(r, positive, origin, depth + 1, lets);
            }
            ExprKind::Binary(BinOp::Or, l, r) if !positive => {
                self.expr(l, positive, origin, depth + 1, lets);
                self.expr(r, positive, origin, depth + 1, lets);
            }
            ExprKind::Binary(op, l, r) => self.comparison(*op, l, r, positive, span),
            ExprKind::Call(name, args) if name.node == "present" && args.len() == 1 => {
                if let Some(path) = args.first().and_then(|a| self.field(a)) {
                    self.push(path, Kind::Present(positive), span);
                }
            }
            ExprKind::Path(parts) => match self.names.resolve(parts, &[]) {
                Target::Let(name) if lets < MAX_LETS && self.followed.insert((name, positive, self.guard)) => {
                    if let Some(value) = self.names.lets.get(name) {
                        self.expr(value, positive, Some(span), depth + 1, lets + 1);
                    }
                }
                // A bool field standing alone is true (or, negated, false).
                Target::Field(path) => self.push(path, Kind::Cmp(Cmp::Eq, Const::Bool(positive)), span),
                _ => {}
            },
            _ => {}
        }
    }

    /// `field op constant`, `constant op field` or `field (not) in [constants]`.
    fn comparison(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, positive: bool, span: Span) {
        if matches!(op, BinOp::In | BinOp::NotIn) {
            let (Some(path), ExprKind::List(items)) = (self.field(l), &r.node) else {
                return;
            };
            if let Some(consts) = items.iter().map(|i| self.constant(i)).collect::<Option<Vec<_>>>() {
                self.push(path, Kind::In(consts, (op == BinOp::In) == positive), span);
            }
            return;
        }
        let Some(cmp) = Cmp::of(op) else { return };
        let (path, c, cmp) = match (self.field(l), self.constant(r)) {
            (Some(p), Some(c)) => (p, c, cmp),
            _ => match (self.constant(l), self.field(r)) {
                (Some(c), Some(p)) => (p, c, cmp.flip()),
                _ => return,
            },
        };
        self.push(path, Kind::Cmp(if positive { cmp } else { cmp.negate() }, c), span);
    }

    fn push(&mut self, path: String, kind: Kind, span: Span) {
        self.facts.push(Fact {
            path,
            kind,
            span,
            guard: self.guard,
        });
    }

    fn field(&self, e: &ast::Expr) -> Option<String> {
        match &e.node {
            ExprKind::Path(p) => match self.names.resolve(p, &[]) {
                Target::Field(f) => Some(f),
                _ => None,
            },
            _ => None,
        }
    }

    fn constant(&self, e: &ast::Expr) -> Option<Const> {
        match &e.node {
            ExprKind::Literal(l) => Const::literal(l),
            ExprKind::Path(p) => match self.names.resolve(p, &[]) {
                Target::Symbol(s) => Some(Const::Sym(s)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// W0005: a rule whose guard and condition cannot both be true.
pub(super) fn contradictions(r: &ast::RuleDecl, names: &Names<'_>, out: &mut Vec<Diagnostic>) {
    let mut g = Gather {
        names,
        guard: true,
        facts: Vec::new(),
        followed: BTreeSet::new(),
    };
    if let Some(e) = r.given.first() {
        g.expr(e, true, None, 0, 0);
    }
    g.guard = false;
    if let Some(e) = r.when.first() {
        g.expr(e, true, None, 0, 0);
    }
    let Some((i, j)) = find_conflict(&g.facts) else { return };
    // Point at the condition, and show the guard it contradicts.
    let (primary, other) = if g.facts[i].guard && !g.facts[j].guard {
        (&g.facts[j], &g.facts[i])
    } else if g.facts[j].guard && !g.facts[i].guard {
        (&g.facts[i], &g.facts[j])
    } else {
        (&g.facts[j], &g.facts[i])
    };
    let path = if primary.path.len() <= other.path.len() {
        &primary.path
    } else {
        &other.path
    };
    let mut d = Diagnostic::warning(
        diag::CONTRADICTION,
        format!(
            "rule `{}` can never fire: its conditions on `{path}` contradict each other",
            r.id.node
        ),
        primary.span,
    )
    .with_help(if primary.guard == other.guard {
        "no application can satisfy this clause; correct the comparison, or remove the rule"
    } else {
        "the rule fires only when its `given` and `when` both hold; correct the comparison, or remove the rule"
    });
    if primary.span.same(&other.span) {
        d = d.with_label("cannot hold");
    } else {
        let (label, other_label) = if other.guard && !primary.guard {
            ("contradicts the `given` guard", "required by the guard")
        } else {
            ("contradicts the other condition", "required here")
        };
        d = d.with_label(label).with_secondary(other.span, other_label);
    }
    out.push(d);
}
