//! Expressions, literals and texts as documents.
//!
//! Parentheses are not in the syntax tree; they are written back where the
//! operators' precedence needs them (`or` < `and` < `not` < comparisons), and
//! also around `not` applied to a comparison, `not (a == b)`, which reads
//! better than `not a == b`. A chain of `and` or `or` is one group: when it
//! does not fit, it breaks before every operator of the chain.

use super::doc::Doc;
use crate::ast::{BinOp, Expr, ExprKind, Literal};
use crate::source::Span;

/// How far the lines of a broken expression are indented past its first line.
pub const CONTINUATION: usize = 4;

/// How tightly an expression binds; higher binds tighter.
fn prec(e: &Expr) -> u8 {
    match &e.node {
        ExprKind::Binary(op, ..) => op_prec(*op),
        ExprKind::Not(_) => 3,
        _ => 9,
    }
}

fn op_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
        _ => 4,
    }
}

/// The document of an expression.
pub fn expr(src: &str, e: &Expr) -> Doc {
    match &e.node {
        ExprKind::Literal(lit) => Doc::text(literal(src, e.span, lit)),
        ExprKind::Path(parts) => Doc::text(parts.iter().map(|p| p.node.as_str()).collect::<Vec<_>>().join(".")),
        ExprKind::RuleRef(id) => Doc::text(id.clone()),
        ExprKind::List(items) => list(src, items),
        ExprKind::Duration(amount, unit) => {
            let unit = unit.as_str();
            if amount == "1" {
                Doc::text(format!("1 {}", unit.trim_end_matches('s')))
            } else {
                Doc::text(format!("{amount} {unit}"))
            }
        }
        ExprKind::Not(inner) => {
            let wrap = matches!(inner.node, ExprKind::Binary(..));
            Doc::Concat(vec![Doc::text("not "), operand(src, inner, wrap)])
        }
        ExprKind::Binary(op, ..) => binary(src, e, *op),
        ExprKind::Call(name, args) => {
            let mut parts = vec![Doc::text(format!("{}(", name.node))];
            comma_list(&mut parts, args.iter().map(|a| expr(src, a)));
            parts.push(Doc::text(")"));
            Doc::Concat(parts)
        }
        ExprKind::Member(x, fields) => {
            let names: Vec<&str> = fields.iter().map(|f| f.node.as_str()).collect();
            Doc::Concat(vec![expr(src, x), Doc::text(format!(".{}", names.join(".")))])
        }
        ExprKind::Quantifier(kind, var, list, body) => Doc::Concat(vec![
            Doc::text(format!("{}({} in ", kind.as_str(), var.node)),
            Doc::nest(CONTINUATION, expr(src, list)),
            Doc::text(": "),
            Doc::nest(CONTINUATION, expr(src, body)),
            Doc::text(")"),
        ]),
    }
}

/// A list `[a, b, c]`.
/// `[a, b]` on one line when it fits, else one item a line (with a
/// trailing comma), indented two columns more than the line it opens on.
pub fn list(src: &str, items: &[Expr]) -> Doc {
    if items.is_empty() {
        return Doc::text("[]");
    }
    let mut inner = vec![Doc::SoftLine];
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            inner.push(Doc::text(","));
            inner.push(Doc::Line);
        }
        inner.push(Doc::nest(CONTINUATION, expr(src, item)));
    }
    inner.push(Doc::IfBreak(","));
    Doc::group(Doc::Concat(vec![
        Doc::text("["),
        Doc::nest(2, Doc::Concat(inner)),
        Doc::SoftLine,
        Doc::text("]"),
    ]))
}

/// Items separated by `, `, each nested so that a break inside is indented.
fn comma_list(parts: &mut Vec<Doc>, items: impl Iterator<Item = Doc>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            parts.push(Doc::text(", "));
        }
        parts.push(Doc::nest(CONTINUATION, item));
    }
}

/// An operand, in parentheses if `wrap`.
fn operand(src: &str, e: &Expr, wrap: bool) -> Doc {
    if wrap {
        Doc::Concat(vec![
            Doc::text("("),
            Doc::nest(CONTINUATION, expr(src, e)),
            Doc::text(")"),
        ])
    } else {
        expr(src, e)
    }
}

/// A chain of operators of one precedence, `a and b and c` or `a == b != c`.
/// The chain is flattened along its left spine without recursion: a long
/// chain nests as deeply as it is long.
fn binary(src: &str, e: &Expr, op: BinOp) -> Doc {
    let level = op_prec(op);
    let mut rights: Vec<(BinOp, &Expr)> = Vec::new();
    let mut first = e;
    while let ExprKind::Binary(o, l, r) = &first.node {
        if op_prec(*o) != level {
            break;
        }
        rights.push((*o, r));
        first = l;
    }
    rights.reverse();
    // Comparisons and arithmetic stay on one line; `and` and `or` chains may break.
    let comparison = level >= 4;
    // A `not` beside a comparison is always wrapped: `not a == b` means `not (a == b)`.
    let wrap = |x: &Expr, right: bool| {
        let p = prec(x);
        (comparison && matches!(x.node, ExprKind::Not(_))) || p < level || (right && p == level)
    };
    let mut parts = vec![operand(src, first, wrap(first, false))];
    for (o, r) in rights {
        parts.push(if comparison { Doc::text(" ") } else { Doc::Line });
        parts.push(Doc::text(format!("{} ", o.as_str())));
        parts.push(operand(src, r, wrap(r, true)));
    }
    if comparison {
        Doc::Concat(parts)
    } else {
        Doc::group(Doc::Concat(parts))
    }
}

/// A literal as written: a raw text stays raw.
pub fn literal(src: &str, span: Span, lit: &Literal) -> String {
    match lit {
        Literal::Text(t) => text(src, span, t),
        Literal::Number(n) | Literal::Date(n) | Literal::Name(n) => n.clone(),
        Literal::Bool(b) => b.to_string(),
    }
}

/// A text: `r"..."` if it was written raw (and still can be), else quoted
/// with the fewest escapes.
pub fn text(src: &str, span: Span, value: &str) -> String {
    let was_raw = src.get(span.start as usize..).is_some_and(|s| s.starts_with("r\""));
    if was_raw && !value.contains(['"', '\n']) {
        format!("r\"{value}\"")
    } else {
        quote(value)
    }
}

/// A quoted text. Only `"`, `\` and characters one cannot see are escaped:
/// line ends and tabs by name, other control, invisible and white-space
/// characters (but the space) as `\u{...}`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || crate::charset::is_invisible(c) || (c.is_whitespace() && c != ' ') => {
                out.push_str(&format!("\\u{{{:X}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
