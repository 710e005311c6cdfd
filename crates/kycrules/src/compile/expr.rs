//! Compiling expressions: name resolution and type checking.

use super::{Compiler, Ctx, suggest};
use crate::ast::{self, BinOp, ExprKind, Literal, Quantifier};
use crate::charset::{Charset, Class};
use crate::date::Date;
use crate::decimal::Decimal;
use crate::diag::{self, Diagnostic};
use crate::ir::{Builtin, CExpr, CmpOp, Piece, Template, Type};
use crate::record::{EntryValue, Field};
use crate::source::Span;
use std::collections::HashMap;

/// A rule's `with` values by name.
pub(crate) type Withs = HashMap<String, (CExpr, Type)>;

/// Quantifier variables in scope, innermost last.
type Scope = Vec<(String, Type)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum LetState {
    Pending,
    InProgress,
    Done,
    Failed,
}

pub(crate) struct LetSlot {
    pub expr: Option<CExpr>,
    ty: Option<Type>,
    state: LetState,
    /// How deep evaluating it recurses, through the lets it uses.
    height: usize,
}

/// How many lets may refer to each other in a chain (`let a = b`, `let b = c`, ...).
pub const MAX_LET_CHAIN: usize = 32;
/// How deep evaluating an expression may recurse, counting the lets it uses.
pub const MAX_EVAL_DEPTH: usize = 512;

/// The height of a compiled expression's tree, a `let` counting as the
/// height of its own expression. Recursion is bounded: every tree is at most
/// [`crate::syntax::MAX_DEPTH`] high.
fn height(e: &CExpr, lets: &[LetSlot]) -> usize {
    let sub = |xs: &mut dyn Iterator<Item = &CExpr>| xs.map(|x| height(x, lets)).max().unwrap_or(0);
    1 + match e {
        CExpr::Const(_) | CExpr::Field(_) | CExpr::Var(..) | CExpr::Fired(_) | CExpr::Today | CExpr::Table(_) => 0,
        CExpr::DateShift(x, ..) => height(x, lets),
        CExpr::Arith(_, a, b) | CExpr::Aggregate(_, a, b) => height(a, lets).max(height(b, lets)),
        CExpr::Let(i) => lets.get(*i as usize).map_or(0, |l| l.height),
        CExpr::EntryAttr(x, ..) | CExpr::EntryKnown(x) | CExpr::EntryCode(x) | CExpr::Lookup(_, x) | CExpr::Not(x) => {
            height(x, lets)
        }
        CExpr::And(a, b) | CExpr::Or(a, b) | CExpr::Cmp(_, a, b) | CExpr::Quant(_, a, b) => {
            height(a, lets).max(height(b, lets))
        }
        CExpr::In(x, items) => height(x, lets).max(sub(&mut items.iter())),
        CExpr::Call(_, args) => sub(&mut args.iter()),
    }
}

/// A piece of a message text before names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    Text(String),
    /// A `{name}` placeholder and its byte offset in the text.
    Hole(String, usize),
}

/// Splits a message text into literal text and `{name}` placeholders;
/// `{{` and `}}` stand for braces.
pub fn parse_template(text: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err("a `{` has no closing `}`".to_string());
                }
                let name = name.trim().to_string();
                if name.is_empty() {
                    return Err("an empty placeholder `{}`".to_string());
                }
                if !lit.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut lit)));
                }
                parts.push(TemplatePart::Hole(name, i));
            }
            '}' => return Err("a `}` has no opening `{`; write `}}` for a brace".to_string()),
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Text(lit));
    }
    Ok(parts)
}

/// A placeholder piece; enum values need their enum to be shown by name.
fn hole(e: CExpr, ty: &Type) -> Piece {
    match ty {
        Type::Enum(id) => Piece::EnumHole(e, *id),
        _ => Piece::Hole(e),
    }
}

/// What the type of a value is called in messages.
fn describe(schema: &crate::ir::Schema, ty: &Type) -> String {
    match ty {
        Type::Enum(_) => format!("an enum ({})", schema.type_name(ty)),
        Type::Record(_) => "a record".to_string(),
        Type::List(_) => schema.type_name(ty),
        Type::Number => "a number".to_string(),
        Type::Bool => "a bool".to_string(),
        other => schema.type_name(other),
    }
}

/// The longest duration amount (`999999 days`): every date stays in years 0 to 9999 anyway.
pub const MAX_DURATION: i64 = 999_999;

impl<'a> Compiler<'a> {
    pub(super) fn collect_sets(&mut self, decls: &[&'a ast::SetDecl]) {
        for d in decls {
            if self.sets.contains_key(&d.name.node) || self.let_decls.iter().any(|l| l.name.node == d.name.node) {
                self.diags.push(Diagnostic::error(
                    diag::DUPLICATE,
                    format!("`set {}` is declared twice", d.name.node),
                    d.name.span,
                ));
                continue;
            }
            let mut ok = true;
            for item in &d.items {
                let value = matches!(&item.node, ExprKind::Literal(_))
                    || matches!(&item.node, ExprKind::Path(p) if p.len() == 1);
                if !value {
                    ok = false;
                    self.diags.push(
                        Diagnostic::error(diag::TYPE_MISMATCH, "a set holds plain values", item.span)
                            .with_label("not a value")
                            .with_help("write texts, numbers, dates, or the names of enum values or banks"),
                    );
                }
            }
            if d.items.is_empty() {
                ok = false;
                self.diags.push(
                    Diagnostic::error(diag::TYPE_MISMATCH, format!("`set {}` is empty", d.name.node), d.span)
                        .with_help("a set needs at least one value: `set name = [\"a\", \"b\"]`"),
                );
            }
            if ok {
                self.sets.insert(d.name.node.clone(), d);
            }
        }
        // A set of literals is checked here, so that a set no rule uses is checked too.
        for d in decls {
            if self.sets.contains_key(&d.name.node)
                && d.items.iter().all(|i| matches!(i.node, ExprKind::Literal(_)))
                && let Some(first) = d.items.first()
                && let Some((_, ty)) = self.expr(first, &mut Vec::new(), Ctx { fired_limit: 0 }, None)
            {
                for item in &d.items[1..] {
                    if let Some((_, t)) = self.expr(item, &mut Vec::new(), Ctx { fired_limit: 0 }, Some(&ty)) {
                        let _ = self.expect(&t, &ty, item.span, &format!("an item of `set {}`", d.name.node));
                    }
                }
            }
        }
    }

    /// A set's items compiled for a value of type `ty` (the left of `in`).
    fn set_items(&mut self, d: &'a ast::SetDecl, ty: &Type, scope: &mut Scope, ctx: Ctx) -> Option<Vec<CExpr>> {
        let mut out = Vec::new();
        for item in &d.items {
            let (c, t) = self.expr(item, scope, ctx, Some(ty))?;
            self.expect(&t, ty, item.span, &format!("an item of `set {}`", d.name.node))?;
            out.push(c);
        }
        Some(out)
    }

    /// A set as a message shows it: its items, separated by `, `.
    fn set_text(d: &ast::SetDecl) -> String {
        d.items
            .iter()
            .map(|i| match &i.node {
                ExprKind::Literal(Literal::Text(t) | Literal::Number(t) | Literal::Date(t) | Literal::Name(t)) => {
                    t.clone()
                }
                ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
                ExprKind::Path(p) => p.iter().map(|x| x.node.as_str()).collect::<Vec<_>>().join("."),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn collect_lets(&mut self, decls: &[&'a ast::LetDecl]) {
        for d in decls {
            if let Some(&i) = self.let_index.get(&d.name.node) {
                let mut diag = Diagnostic::error(
                    diag::DUPLICATE,
                    format!("`let {}` is declared twice", d.name.node),
                    d.name.span,
                );
                if let Some(first) = self.let_decls.get(i) {
                    diag = diag.with_secondary(first.name.span, "first declared here");
                }
                self.diags.push(diag);
                continue;
            }
            self.let_index.insert(d.name.node.clone(), self.let_decls.len());
            self.let_decls.push(d);
            self.lets.push(LetSlot {
                expr: None,
                ty: None,
                state: LetState::Pending,
                height: 0,
            });
        }
    }

    /// Compiles lets that no rule used, so that their errors are reported too.
    pub(super) fn check_lets(&mut self) {
        for i in 0..self.lets.len() {
            self.let_type(i);
        }
    }

    fn let_type(&mut self, i: usize) -> Option<Type> {
        let state = self.lets.get(i)?.state;
        match state {
            LetState::Done => return self.lets[i].ty.clone(),
            LetState::Failed => return None,
            LetState::InProgress => {
                let d = self.let_decls[i];
                self.diags.push(
                    Diagnostic::error(
                        diag::UNKNOWN_FIELD,
                        format!("`let {}` refers to itself", d.name.node),
                        d.name.span,
                    )
                    .with_help("a `let` may use other lets, but not in a cycle"),
                );
                self.lets[i].state = LetState::Failed;
                return None;
            }
            LetState::Pending => {}
        }
        let d = self.let_decls[i];
        if self.let_depth >= MAX_LET_CHAIN {
            self.diags.push(
                Diagnostic::error(
                    diag::TOO_DEEP,
                    format!("lets refer to each other more than {MAX_LET_CHAIN} deep"),
                    d.name.span,
                )
                .with_help("shorten the chain of `let` declarations that use one another"),
            );
            self.lets[i].state = LetState::Failed;
            return None;
        }
        self.lets[i].state = LetState::InProgress;
        self.let_depth += 1;
        let compiled = self.expr(&d.value, &mut Vec::new(), Ctx { fired_limit: 0 }, None);
        self.let_depth -= 1;
        let compiled = compiled.filter(|(e, _)| self.shallow(e, d.value.span));
        let h = compiled.as_ref().map_or(0, |(e, _)| height(e, &self.lets));
        let slot = &mut self.lets[i];
        slot.height = h;
        if slot.state == LetState::Failed {
            return None;
        }
        match compiled {
            Some((e, ty)) => {
                slot.expr = Some(e);
                slot.ty = Some(ty.clone());
                slot.state = LetState::Done;
                Some(ty)
            }
            None => {
                slot.state = LetState::Failed;
                None
            }
        }
    }

    /// An expression that must be a bool.
    pub(super) fn condition(&mut self, e: &ast::Expr, ctx: Ctx) -> Option<CExpr> {
        let (c, ty) = self.expr(e, &mut Vec::new(), ctx, None)?;
        self.expect(&ty, &Type::Bool, e.span, "a condition")?;
        self.shallow(&c, e.span).then_some(c)
    }

    /// Whether evaluating `e` recurses at most [`MAX_EVAL_DEPTH`] deep; an
    /// error otherwise.
    fn shallow(&mut self, e: &CExpr, span: Span) -> bool {
        let h = height(e, &self.lets);
        if h <= MAX_EVAL_DEPTH {
            return true;
        }
        self.diags.push(
            Diagnostic::error(
                diag::TOO_DEEP,
                format!(
                    "the expression nests {h} levels deep, counting the lets it uses; the limit is {MAX_EVAL_DEPTH}"
                ),
                span,
            )
            .with_help("split the expression into independent `let` declarations"),
        );
        false
    }

    pub(super) fn withs(&mut self, r: &ast::RuleDecl, ctx: Ctx) -> Withs {
        let mut out = Withs::new();
        for (name, e) in &r.with {
            if out.contains_key(&name.node) {
                self.diags.push(Diagnostic::error(
                    diag::DUPLICATE,
                    format!("`with {}` is given twice", name.node),
                    name.span,
                ));
                continue;
            }
            if let Some(v) = self.expr(e, &mut Vec::new(), ctx, None) {
                out.insert(name.node.clone(), v);
            }
        }
        out
    }

    fn expect(&mut self, found: &Type, want: &Type, span: Span, what: &str) -> Option<()> {
        if found == want {
            return Some(());
        }
        let msg = format!(
            "{what} must be {}, found {}",
            describe(&self.schema, want),
            describe(&self.schema, found)
        );
        self.diags.push(
            Diagnostic::error(diag::TYPE_MISMATCH, msg, span)
                .with_label(format!("this is {}", describe(&self.schema, found))),
        );
        None
    }

    /// Compiles a message text for one rule; `None` after an error.
    pub(super) fn template(&mut self, text: &str, span: Span, withs: &Withs, rule: &str) -> Option<Template> {
        let parts = match parse_template(text) {
            Ok(p) => p,
            Err(msg) => {
                self.diags.push(Diagnostic::error(diag::PLACEHOLDER, msg, span));
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for part in parts {
            match part {
                TemplatePart::Text(t) => out.push(Piece::Text(t)),
                TemplatePart::Hole(name, _) => {
                    if let Some((e, ty)) = withs.get(&name) {
                        out.push(hole(e.clone(), ty));
                        continue;
                    }
                    if !self.resolves(&name, &[])
                        && let Some(d) = self.sets.get(&name)
                    {
                        out.push(Piece::Text(Self::set_text(d)));
                        continue;
                    }
                    let hole_span = self.find_in(span, &format!("{{{name}}}")).unwrap_or(span);
                    let path: Vec<ast::Ident> = name
                        .split('.')
                        .map(|p| ast::Ident::new(p.trim().to_string(), hole_span))
                        .collect();
                    let resolvable = path.first().is_some_and(|h| self.resolves(&h.node, &[]));
                    let compiled = if resolvable {
                        let expr = ast::Expr::new(ExprKind::Path(path), hole_span);
                        self.expr(&expr, &mut Vec::new(), Ctx { fired_limit: 0 }, None)
                    } else {
                        None
                    };
                    match compiled {
                        Some((_, Type::Record(_) | Type::List(_))) => {
                            self.diags.push(Diagnostic::error(
                                diag::PLACEHOLDER,
                                format!("`{{{name}}}` is a record or list and cannot be shown"),
                                hole_span,
                            ));
                            ok = false;
                        }
                        Some((e, ty)) => out.push(hole(e, &ty)),
                        None if resolvable => ok = false,
                        None => {
                            let hint = suggest(&name, withs.keys().map(String::as_str).chain(self.root_names()));
                            self.diags.push(
                                Diagnostic::error(
                                    diag::PLACEHOLDER,
                                    format!("placeholder `{{{name}}}` cannot be filled for rule `{rule}`"),
                                    hole_span,
                                )
                                .with_label("no field, let or `with` value has this name")
                                .with_help(match hint {
                                    Some(h) => format!(
                                        "did you mean `{{{h}}}`? or add `with {name} = <expression>` to the rule"
                                    ),
                                    None => format!(
                                        "add `with {name} = <expression>` to rule `{rule}`, or name a schema field"
                                    ),
                                }),
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        ok.then(|| self.mask_sensitive(out))
    }

    /// The exact span of `needle` inside the source text of `span`, if it is there.
    fn find_in(&self, span: Span, needle: &str) -> Option<Span> {
        let text = self
            .sources?
            .get(span.file)?
            .text
            .get(span.start as usize..span.end as usize)?;
        let at = text.find(needle)?;
        let start = span.start as usize + at;
        Some(Span::new(span.file, start, start + needle.len()))
    }

    fn root_names(&self) -> impl Iterator<Item = &str> {
        self.schema
            .records
            .first()
            .into_iter()
            .flat_map(|r| r.fields.iter().map(|f| f.name.as_str()))
    }

    /// Whether a name is a variable, a let or a root field.
    fn resolves(&self, name: &str, scope: &[(String, Type)]) -> bool {
        scope.iter().any(|(n, _)| n == name)
            || self.let_index.contains_key(name)
            || self.schema.records.first().is_some_and(|r| r.slot(name).is_some())
    }

    /// Where a text is expected, a bare word that names nothing (`KP` in
    /// `country in [KP, IR]`) is a text its author forgot to quote: reports it
    /// so and returns true.
    fn unquoted_text(&mut self, e: &ast::Expr, scope: &[(String, Type)]) -> bool {
        if !self.is_bare(e, scope) {
            return false;
        }
        let ExprKind::Path(p) = &e.node else { return false };
        let word = &p[0].node;
        self.diags.push(
            Diagnostic::error(
                diag::UNKNOWN_FIELD,
                format!("`{word}` is not a field, and a text must be quoted"),
                e.span,
            )
            .with_label("an unquoted word")
            .with_help(format!("to compare with the text, quote it: `\"{word}\"`")),
        );
        true
    }

    fn is_bare(&self, e: &ast::Expr, scope: &[(String, Type)]) -> bool {
        matches!(&e.node, ExprKind::Path(p) if p.len() == 1 && !self.resolves(&p[0].node, scope))
    }

    pub(super) fn expr(
        &mut self,
        e: &ast::Expr,
        scope: &mut Scope,
        ctx: Ctx,
        hint: Option<&Type>,
    ) -> Option<(CExpr, Type)> {
        match &e.node {
            ExprKind::Literal(lit) => self.literal(lit, e.span, hint),
            ExprKind::Path(path) => self.path(path, e.span, scope, hint),
            ExprKind::RuleRef(id) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::SYNTAX,
                        format!("a rule id `{id}` stands only inside `fired(...)`"),
                        e.span,
                    )
                    .with_help("a name with `-` is a rule id; field names use `_`"),
                );
                None
            }
            ExprKind::List(_) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        "a list `[...]` stands only after `in` or `not in`",
                        e.span,
                    )
                    .with_help("write `x in [a, b]`"),
                );
                None
            }
            ExprKind::Duration(amount, unit) => {
                self.diags.push(
                    Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        format!(
                            "a duration `{amount} {}` stands only after `+` or `-` with a date",
                            unit.as_str()
                        ),
                        e.span,
                    )
                    .with_help(format!(
                        "write `date + {amount} {}` or `date - {amount} {}`",
                        unit.as_str(),
                        unit.as_str()
                    )),
                );
                None
            }
            ExprKind::Not(inner) => {
                let (c, ty) = self.expr(inner, scope, ctx, None)?;
                self.expect(&ty, &Type::Bool, inner.span, "the operand of `not`")?;
                Some((CExpr::Not(Box::new(c)), Type::Bool))
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, scope, ctx),
            ExprKind::Call(name, args) => self.call(name, args, e.span, scope, ctx),
            ExprKind::Member(x, fields) => self.member(x, fields, scope, ctx),
            ExprKind::Quantifier(q, var, list, body) => {
                let (lc, lty) = self.expr(list, scope, ctx, None)?;
                let Type::List(elem) = lty else {
                    self.diags.push(
                        Diagnostic::error(
                            diag::TYPE_MISMATCH,
                            format!("`{}` needs a list, found {}", q.as_str(), describe(&self.schema, &lty)),
                            list.span,
                        )
                        .with_label("not a list"),
                    );
                    return None;
                };
                scope.push((var.node.clone(), *elem));
                let body_c = self.expr(body, scope, ctx, None);
                scope.pop();
                let (bc, bty) = body_c?;
                let agg = match q {
                    Quantifier::Sum => Some(crate::ir::AggOp::Sum),
                    Quantifier::Min => Some(crate::ir::AggOp::Min),
                    Quantifier::Max => Some(crate::ir::AggOp::Max),
                    _ => None,
                };
                if let Some(agg) = agg {
                    self.expect(
                        &bty,
                        &Type::Number,
                        body.span,
                        &format!("the value of `{}`", q.as_str()),
                    )?;
                    return Some((CExpr::Aggregate(agg, Box::new(lc), Box::new(bc)), Type::Number));
                }
                self.expect(
                    &bty,
                    &Type::Bool,
                    body.span,
                    &format!("the condition of `{}`", q.as_str()),
                )?;
                let ty = if *q == Quantifier::Count {
                    Type::Number
                } else {
                    Type::Bool
                };
                Some((CExpr::Quant(*q, Box::new(lc), Box::new(bc)), ty))
            }
        }
    }

    fn literal(&mut self, lit: &Literal, span: Span, hint: Option<&Type>) -> Option<(CExpr, Type)> {
        Some(match lit {
            Literal::Text(s) => match hint {
                Some(Type::Entry(t)) => return self.entry_const(*t, s, span),
                _ => (CExpr::Const(Field::Text(s.as_str().into())), Type::Text),
            },
            Literal::Bool(b) => (CExpr::Const(Field::Bool(*b)), Type::Bool),
            Literal::Number(n) => match Decimal::parse(n) {
                Ok(d) => (CExpr::Const(Field::Num(d)), Type::Number),
                Err(e) => {
                    self.diags.push(Diagnostic::error(
                        diag::LITERAL,
                        format!("`{}`: {e}", diag::short(n)),
                        span,
                    ));
                    return None;
                }
            },
            Literal::Date(d) => match Date::parse(d) {
                Some(d) => (CExpr::Const(Field::Date(d)), Type::Date),
                None => {
                    self.bad_date(d, span);
                    return None;
                }
            },
            Literal::Name(n) => return self.path(&[ast::Ident::new(n.clone(), span)], span, &mut Vec::new(), hint),
        })
    }

    /// An entry of table `t` named by its code, as a constant.
    fn entry_const(&mut self, t: u32, code: &str, span: Span) -> Option<(CExpr, Type)> {
        let table = self.tables.get(t as usize)?;
        match table.list.iter().position(|b| b.code == code) {
            Some(i) => {
                let id = u32::try_from(i).unwrap_or(u32::MAX);
                Some((
                    CExpr::Const(Field::Entry(EntryValue {
                        table: t,
                        id: Some(id),
                        typed: code.into(),
                    })),
                    Type::Entry(t),
                ))
            }
            None => {
                let hint = suggest(code, table.list.iter().map(|b| b.code.as_str()));
                let name = table.name.clone();
                self.diags.push(
                    Diagnostic::error(diag::UNKNOWN_BANK, format!("unknown {name} `{code}`"), span)
                        .with_label(format!("no {name} has this code"))
                        .with_help(hint.map_or_else(
                            || format!("declare it with `{name} CODE {{ ... }}`"),
                            |h| format!("did you mean `{h}`?"),
                        )),
                );
                None
            }
        }
    }

    /// The table whose entry has this code, if any (the first declared).
    fn table_of_code(&self, code: &str) -> Option<u32> {
        self.tables
            .iter()
            .position(|t| t.list.iter().any(|b| b.code == code))
            .and_then(|t| u32::try_from(t).ok())
    }

    /// `x.known`, `x.code` or `x.attribute` of an entry of table `t`.
    fn entry_member(&mut self, cur: CExpr, t: u32, part: &ast::Ident) -> Option<(CExpr, Type)> {
        if part.node == "known" {
            return Some((CExpr::EntryKnown(Box::new(cur)), Type::Bool));
        }
        if part.node == "code" {
            return Some((CExpr::EntryCode(Box::new(cur)), Type::Text));
        }
        let table = self.tables.get(t as usize)?;
        let Some(a) = table.attributes.iter().position(|a| a.name == part.node) else {
            let hint = suggest(
                &part.node,
                table
                    .attributes
                    .iter()
                    .map(|a| a.name.as_str())
                    .chain(["known", "code"]),
            );
            let name = table.name.clone();
            self.diags.push(
                Diagnostic::error(
                    diag::BANK_ATTRIBUTE,
                    format!("table `{name}` has no attribute `{}`", part.node),
                    part.span,
                )
                .with_help(hint.map_or_else(
                    || format!("declare it with `table {name} {{ {}: bool = false }}`", part.node),
                    |h| format!("did you mean `{h}`?"),
                )),
            );
            return None;
        };
        let ty = table.attributes[a].ty.clone();
        Some((
            CExpr::EntryAttr(Box::new(cur), t, u32::try_from(a).unwrap_or(u32::MAX)),
            ty,
        ))
    }

    /// `call(...).a.b`: fields of a call's value, which must be a table entry.
    fn member(&mut self, x: &ast::Expr, fields: &[ast::Ident], scope: &mut Scope, ctx: Ctx) -> Option<(CExpr, Type)> {
        let (mut cur, mut ty) = self.expr(x, scope, ctx, None)?;
        for part in fields {
            let Type::Entry(t) = ty else {
                self.diags.push(
                    Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        format!("{} has no field `{}`", describe(&self.schema, &ty), part.node),
                        part.span,
                    )
                    .with_help("only a table's entry, such as `region(text)`, has fields after a call"),
                );
                return None;
            };
            (cur, ty) = self.entry_member(cur, t, part)?;
        }
        Some((cur, ty))
    }

    fn path(
        &mut self,
        path: &[ast::Ident],
        span: Span,
        scope: &mut Scope,
        hint: Option<&Type>,
    ) -> Option<(CExpr, Type)> {
        let head = path.first()?;
        let (mut cur, mut ty) = if let Some(depth) = scope.iter().rev().position(|(n, _)| *n == head.node) {
            let ty = scope[scope.len() - 1 - depth].1.clone();
            (CExpr::Var(u16::try_from(depth).unwrap_or(u16::MAX), Box::new([])), ty)
        } else if let Some(&i) = self.let_index.get(&head.node) {
            let ty = self.let_type(i)?;
            (CExpr::Let(u32::try_from(i).unwrap_or(u32::MAX)), ty)
        } else if let Some(slot) = self.schema.records.first().and_then(|r| r.slot(&head.node)) {
            let ty = self.schema.records[0].fields[slot].ty.clone();
            (CExpr::Field(Box::new([u16::try_from(slot).unwrap_or(u16::MAX)])), ty)
        } else if path.len() == 1 {
            return self.bare_name(head, span, scope, hint);
        } else {
            let names: Vec<&str> = scope
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(self.let_decls.iter().map(|l| l.name.node.as_str()))
                .chain(self.root_names())
                .collect();
            let hint = suggest(&head.node, names).map(str::to_string);
            self.diags
                .push(self.unknown_field_diag(&head.node, "", head.span, hint));
            return None;
        };
        for (i, part) in path.iter().enumerate().skip(1) {
            let prefix = path[..i].iter().map(|p| p.node.as_str()).collect::<Vec<_>>().join(".");
            match &ty {
                Type::Record(r) => {
                    let rec = self.schema.records.get(*r as usize)?;
                    let Some(slot) = rec.slot(&part.node) else {
                        let hint = suggest(&part.node, rec.fields.iter().map(|f| f.name.as_str())).map(str::to_string);
                        self.diags
                            .push(self.unknown_field_diag(&part.node, &prefix, part.span, hint));
                        return None;
                    };
                    let next_ty = rec.fields[slot].ty.clone();
                    let slot = u16::try_from(slot).unwrap_or(u16::MAX);
                    cur = match cur {
                        CExpr::Field(s) => CExpr::Field(s.iter().copied().chain([slot]).collect()),
                        CExpr::Var(d, s) => CExpr::Var(d, s.iter().copied().chain([slot]).collect()),
                        _ => {
                            self.diags.push(Diagnostic::error(
                                diag::UNKNOWN_FIELD,
                                format!("cannot take field `{}` of `let {prefix}`", part.node),
                                part.span,
                            ));
                            return None;
                        }
                    };
                    ty = next_ty;
                }
                Type::Entry(t) => {
                    (cur, ty) = self.entry_member(cur, *t, part)?;
                }
                Type::List(_) => {
                    self.diags.push(
                        Diagnostic::error(
                            diag::TYPE_MISMATCH,
                            format!("`{prefix}` is a list; it has no field `{}`", part.node),
                            part.span,
                        )
                        .with_help(format!(
                            "look inside with a quantifier: `any(x in {prefix}: x.{} ...)`",
                            part.node
                        )),
                    );
                    return None;
                }
                other => {
                    self.diags.push(Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        format!(
                            "`{prefix}` is {}; it has no field `{}`",
                            describe(&self.schema, other),
                            part.node
                        ),
                        part.span,
                    ));
                    return None;
                }
            }
        }
        Some((cur, ty))
    }

    /// A name that is no variable, let or field: an enum value or a bank code,
    /// as the other side of a comparison asks.
    fn bare_name(
        &mut self,
        name: &ast::Ident,
        span: Span,
        scope: &Scope,
        hint: Option<&Type>,
    ) -> Option<(CExpr, Type)> {
        if name.node == "today" && !matches!(hint, Some(Type::Enum(_) | Type::Entry(_))) {
            return Some((CExpr::Today, Type::Date));
        }
        if self.sets.contains_key(&name.node) {
            self.diags.push(
                Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    format!("the set `{}` stands only after `in` or `not in`", name.node),
                    span,
                )
                .with_help(format!(
                    "write `x in {}`, or `{{{}}}` in a message",
                    name.node, name.node
                )),
            );
            return None;
        }
        match hint {
            Some(Type::Enum(e)) => {
                let values = self.schema.enums.get(*e as usize).cloned().unwrap_or_default();
                match values.iter().position(|v| *v == name.node) {
                    Some(i) => Some((CExpr::Const(Field::Enum(u32::try_from(i).unwrap_or(0))), Type::Enum(*e))),
                    None => {
                        let h = suggest(&name.node, values.iter().map(String::as_str));
                        self.diags.push(
                            Diagnostic::error(
                                diag::UNKNOWN_VALUE,
                                format!("`{}` is not a value of this enum", name.node),
                                span,
                            )
                            .with_label("unknown value")
                            .with_help(match h {
                                Some(h) => format!("did you mean `{h}`? the values are {}", values.join(", ")),
                                None => format!("the values are {}", values.join(", ")),
                            }),
                        );
                        None
                    }
                }
            }
            Some(Type::Entry(t)) => self.entry_const(*t, &name.node, span),
            _ if self.table_of_code(&name.node).is_some() => {
                self.entry_const(self.table_of_code(&name.node)?, &name.node, span)
            }
            // A table as a collection: `count(b in bank: b.supported)`.
            _ if self.table_named(&name.node).is_some() => {
                let t = self.table_named(&name.node)?;
                Some((CExpr::Table(t), Type::List(Box::new(Type::Entry(t)))))
            }
            _ => {
                let names: Vec<&str> = scope
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain(self.let_decls.iter().map(|l| l.name.node.as_str()))
                    .chain(self.root_names())
                    .chain(self.sets.keys().map(String::as_str))
                    .chain(["today"])
                    .collect();
                let h = suggest(&name.node, names).map(str::to_string);
                self.diags.push(self.unknown_field_diag(&name.node, "", span, h));
                None
            }
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        l: &ast::Expr,
        r: &ast::Expr,
        scope: &mut Scope,
        ctx: Ctx,
    ) -> Option<(CExpr, Type)> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let lc = self.expr(l, scope, ctx, None);
            let rc = self.expr(r, scope, ctx, None);
            let ((lc, lt), (rc, rt)) = (lc?, rc?);
            let what = format!("an operand of `{}`", op.as_str());
            let ok_l = self.expect(&lt, &Type::Bool, l.span, &what);
            let ok_r = self.expect(&rt, &Type::Bool, r.span, &what);
            ok_l.and(ok_r)?;
            let e = if op == BinOp::And {
                CExpr::And(Box::new(lc), Box::new(rc))
            } else {
                CExpr::Or(Box::new(lc), Box::new(rc))
            };
            return Some((e, Type::Bool));
        }
        if op.is_arith() {
            return self.arith(op, l, r, scope, ctx);
        }
        if matches!(op, BinOp::In | BinOp::NotIn) {
            let (lc, lt) = self.expr(l, scope, ctx, None)?;
            if let ExprKind::Path(p) = &r.node
                && let [name] = p.as_slice()
                && !self.resolves(&name.node, scope)
                && let Some(&d) = self.sets.get(&name.node)
            {
                let out = self.set_items(d, &lt, scope, ctx)?;
                let e = CExpr::In(Box::new(lc), out);
                return Some((if op == BinOp::NotIn { CExpr::Not(Box::new(e)) } else { e }, Type::Bool));
            }
            let ExprKind::List(items) = &r.node else {
                self.diags.push(
                    Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        format!("`{}` needs a list `[...]` or a `set` on its right", op.as_str()),
                        r.span,
                    )
                    .with_help(match &r.node {
                        ExprKind::Path(p) if p.len() == 1 => {
                            match suggest(&p[0].node, self.sets.keys().map(String::as_str)) {
                                Some(h) => format!("did you mean the set `{h}`?"),
                                None => "write `x in [a, b, c]`, or declare `set name = [a, b, c]`".to_string(),
                            }
                        }
                        _ => "write `x in [a, b, c]`, or declare `set name = [a, b, c]`".to_string(),
                    }),
                );
                return None;
            };
            // Every item is compiled, so that each wrong one is reported.
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                if lt == Type::Text && self.unquoted_text(item, scope) {
                    ok = false;
                    continue;
                }
                match self.expr(item, scope, ctx, Some(&lt)) {
                    Some((c, t)) if self.expect(&t, &lt, item.span, "a list item").is_some() => out.push(c),
                    _ => ok = false,
                }
            }
            if !ok {
                return None;
            }
            let e = CExpr::In(Box::new(lc), out);
            return Some((if op == BinOp::NotIn { CExpr::Not(Box::new(e)) } else { e }, Type::Bool));
        }
        // A comparison: resolve the side that names itself first, so that a bare
        // enum value or bank code on the other side can take its type.
        let ((lc, lt), (rc, rt)) = if self.is_bare(l, scope) && !self.is_bare(r, scope) {
            let rv = self.expr(r, scope, ctx, None)?;
            if rv.1 == Type::Text && self.unquoted_text(l, scope) {
                return None;
            }
            let lv = self.expr(l, scope, ctx, Some(&rv.1))?;
            (lv, rv)
        } else {
            let lv = self.expr(l, scope, ctx, None)?;
            if lv.1 == Type::Text && self.unquoted_text(r, scope) {
                return None;
            }
            let rv = self.expr(r, scope, ctx, Some(&lv.1))?;
            (lv, rv)
        };
        let cmp = match op {
            BinOp::Eq => CmpOp::Eq,
            BinOp::Ne => CmpOp::Ne,
            BinOp::Lt => CmpOp::Lt,
            BinOp::Le => CmpOp::Le,
            BinOp::Gt => CmpOp::Gt,
            _ => CmpOp::Ge,
        };
        if lt != rt {
            self.diags.push(
                Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    format!(
                        "cannot compare {} with {}",
                        describe(&self.schema, &lt),
                        describe(&self.schema, &rt)
                    ),
                    l.span.to(r.span),
                )
                .with_secondary(l.span, describe(&self.schema, &lt))
                .with_secondary(r.span, describe(&self.schema, &rt)),
            );
            return None;
        }
        let ordered = matches!(cmp, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge);
        if ordered && !matches!(lt, Type::Number | Type::Date) {
            self.diags.push(
                Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    format!(
                        "`{}` compares numbers or dates, not {}",
                        op.as_str(),
                        describe(&self.schema, &lt)
                    ),
                    l.span.to(r.span),
                )
                .with_help("for texts, compare their `length(...)`"),
            );
            return None;
        }
        if matches!(lt, Type::Record(_) | Type::List(_)) {
            self.diags.push(Diagnostic::error(
                diag::TYPE_MISMATCH,
                "records and lists cannot be compared",
                l.span.to(r.span),
            ));
            return None;
        }
        Some((CExpr::Cmp(cmp, Box::new(lc), Box::new(rc)), Type::Bool))
    }

    /// `+ - * / mod` on numbers, and a date `+` or `-` a duration.
    fn arith(&mut self, op: BinOp, l: &ast::Expr, r: &ast::Expr, scope: &mut Scope, ctx: Ctx) -> Option<(CExpr, Type)> {
        use crate::ir::{ArithOp, DateUnit};
        if let ExprKind::Duration(amount, unit) = &r.node {
            let (lc, lt) = self.expr(l, scope, ctx, None)?;
            if !matches!(op, BinOp::Add | BinOp::Sub) || lt != Type::Date {
                self.diags.push(
                    Diagnostic::error(
                        diag::TYPE_MISMATCH,
                        format!(
                            "a duration is added to or subtracted from a date, not used with `{}` and {}",
                            op.as_str(),
                            describe(&self.schema, &lt)
                        ),
                        l.span.to(r.span),
                    )
                    .with_help(format!(
                        "write `date + {amount} {}` or `date - {amount} {}`",
                        unit.as_str(),
                        unit.as_str()
                    )),
                );
                return None;
            }
            let n = match amount.parse::<i64>() {
                Ok(n) if n <= MAX_DURATION => n,
                _ => {
                    self.diags.push(
                        Diagnostic::error(diag::LITERAL, format!("a duration of `{amount}` is too long"), r.span)
                            .with_help(format!("a duration is at most {MAX_DURATION} days, months or years")),
                    );
                    return None;
                }
            };
            let n = if op == BinOp::Sub { -n } else { n };
            let unit = match unit {
                ast::DurationUnit::Days => DateUnit::Days,
                ast::DurationUnit::Months => DateUnit::Months,
                ast::DurationUnit::Years => DateUnit::Years,
            };
            return Some((CExpr::DateShift(Box::new(lc), n, unit), Type::Date));
        }
        if let ExprKind::Duration(amount, unit) = &l.node {
            self.diags.push(
                Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    format!("a duration `{amount} {}` comes after the date it moves", unit.as_str()),
                    l.span,
                )
                .with_help(format!("write `date {} {amount} {}`", op.as_str(), unit.as_str())),
            );
            return None;
        }
        let lv = self.expr(l, scope, ctx, None);
        let rv = self.expr(r, scope, ctx, None);
        let ((lc, lt), (rc, rt)) = (lv?, rv?);
        if lt == Type::Number && rt == Type::Number {
            let aop = match op {
                BinOp::Add => ArithOp::Add,
                BinOp::Sub => ArithOp::Sub,
                BinOp::Mul => ArithOp::Mul,
                BinOp::Div => ArithOp::Div,
                _ => ArithOp::Mod,
            };
            return Some((CExpr::Arith(aop, Box::new(lc), Box::new(rc)), Type::Number));
        }
        let help = match (&lt, &rt) {
            (Type::Date, Type::Date) if op == BinOp::Sub => {
                "for the days between two dates write `days_between(a, b)`; for full years, `years_between(a, b)`"
                    .to_string()
            }
            (Type::Date, Type::Number) => format!("move a date by a duration: `date {} 30 days`", op.as_str()),
            (Type::Text, _) | (_, Type::Text) => {
                "arithmetic takes numbers; a text of digits becomes one with `number(text)`".to_string()
            }
            _ => "arithmetic takes two numbers".to_string(),
        };
        self.diags.push(
            Diagnostic::error(
                diag::TYPE_MISMATCH,
                format!(
                    "`{}` takes numbers, found {} and {}",
                    op.as_str(),
                    describe(&self.schema, &lt),
                    describe(&self.schema, &rt)
                ),
                l.span.to(r.span),
            )
            .with_secondary(l.span, describe(&self.schema, &lt))
            .with_secondary(r.span, describe(&self.schema, &rt))
            .with_help(help),
        );
        None
    }

    /// A charset argument: a declared charset, a built-in class, or a text
    /// literal of characters.
    fn charset_arg(&mut self, e: &ast::Expr) -> Option<u32> {
        let anon = |this: &mut Self, classes: Vec<Class>, spelling: crate::ir::Spelling| {
            this.charsets.push(Charset::new(classes, Vec::new()));
            let id = u32::try_from(this.charsets.len() - 1).unwrap_or(u32::MAX);
            this.anon_charsets.push((id, spelling));
            Some(id)
        };
        match &e.node {
            ExprKind::Path(p) if p.len() == 1 => {
                let name = &p[0].node;
                if let Some(&id) = self.charset_names.get(name) {
                    return Some(id);
                }
                if let Some(classes) = Class::builtin(name) {
                    return anon(self, classes, crate::ir::Spelling::Name(name.clone()));
                }
                let hint = suggest(
                    name,
                    self.charset_names
                        .keys()
                        .map(String::as_str)
                        .chain(Class::BUILTIN_NAMES.iter().copied()),
                );
                self.diags.push(
                    Diagnostic::error(diag::UNKNOWN_CHARSET, format!("unknown charset `{name}`"), e.span).with_help(
                        hint.map_or_else(
                            || {
                                "declare it with `charset name = ...`, or give the characters as a text \"...\""
                                    .to_string()
                            },
                            |h| format!("did you mean `{h}`?"),
                        ),
                    ),
                );
                None
            }
            ExprKind::Literal(Literal::Text(s)) => anon(
                self,
                s.chars().map(|c| Class::Range(c, c)).collect(),
                crate::ir::Spelling::Literal(s.clone()),
            ),
            _ => {
                self.diags.push(Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    "expected a charset: its name, or the characters as a text \"...\"",
                    e.span,
                ));
                None
            }
        }
    }

    fn pattern_arg(&mut self, e: &ast::Expr) -> Option<u32> {
        match &e.node {
            ExprKind::Path(p) if p.len() == 1 => {
                let name = &p[0].node;
                if let Some(&id) = self.pattern_names.get(name) {
                    return Some(id);
                }
                let hint = suggest(name, self.pattern_names.keys().map(String::as_str));
                self.diags.push(
                    Diagnostic::error(diag::UNKNOWN_FUNCTION, format!("unknown pattern `{name}`"), e.span).with_help(
                        hint.map_or_else(
                            || "declare it with `pattern name = r\"...\"`, or write the pattern as a text".to_string(),
                            |h| format!("did you mean `{h}`?"),
                        ),
                    ),
                );
                None
            }
            ExprKind::Literal(Literal::Text(s)) => self.regex(s, e.span),
            _ => {
                self.diags.push(Diagnostic::error(
                    diag::TYPE_MISMATCH,
                    "expected a pattern: its name, or a text r\"...\"",
                    e.span,
                ));
                None
            }
        }
    }

    /// The argument of `count_banks`: a `bool` bank attribute, by index.
    fn bank_flag_arg(&mut self, e: &ast::Expr) -> Option<u32> {
        let bank = self.tables.first()?;
        let flags = || {
            bank.attributes
                .iter()
                .filter(|a| a.ty == Type::Bool)
                .map(|a| a.name.as_str())
        };
        let found = match &e.node {
            ExprKind::Path(p) if p.len() == 1 => bank
                .attributes
                .iter()
                .position(|a| a.name == p[0].node && a.ty == Type::Bool),
            _ => None,
        };
        if let Some(i) = found {
            return u32::try_from(i).ok();
        }
        let names: Vec<String> = flags().map(|n| format!("`{n}`")).collect();
        let typed = match &e.node {
            ExprKind::Path(p) if p.len() == 1 => Some(p[0].node.clone()),
            _ => None,
        };
        let hint = typed.as_deref().and_then(|t| suggest(t, flags()));
        self.diags.push(
            Diagnostic::error(
                diag::BANK_ATTRIBUTE,
                "`count_banks` takes the name of a `bool` bank attribute",
                e.span,
            )
            .with_label("not a `bool` bank attribute")
            .with_help(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None if names.is_empty() => "declare one with `table bank { name: bool = false }`".to_string(),
                None => format!("the `bool` bank attributes are {}", names.join(", ")),
            }),
        );
        None
    }

    fn fired_arg(&mut self, e: &ast::Expr, ctx: Ctx) -> Option<u32> {
        let id = match &e.node {
            ExprKind::RuleRef(id) => id.clone(),
            ExprKind::Path(p) if p.len() == 1 => p[0].node.clone(),
            _ => {
                self.diags
                    .push(Diagnostic::error(diag::UNKNOWN_RULE, "`fired` takes a rule id", e.span));
                return None;
            }
        };
        if let Some(i) = self.rule_ids[..ctx.fired_limit.min(self.rule_ids.len())]
            .iter()
            .position(|r| *r == id)
        {
            return Some(u32::try_from(i).unwrap_or(u32::MAX));
        }
        let later = self.rule_ids.contains(&id);
        let hint = suggest(&id, self.rule_ids.iter().map(String::as_str));
        self.diags.push(
            Diagnostic::error(diag::UNKNOWN_RULE, format!("unknown rule `{id}`"), e.span).with_help(if later {
                "a rule may refer only to rules declared before it".to_string()
            } else {
                hint.map_or_else(
                    || "name a rule declared before this one".to_string(),
                    |h| format!("did you mean `{h}`?"),
                )
            }),
        );
        None
    }

    fn call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
        scope: &mut Scope,
        ctx: Ctx,
    ) -> Option<(CExpr, Type)> {
        use Builtin as B;
        use Type as T;
        const FUNCTIONS: &[&str] = &[
            "length",
            "size",
            "nfc",
            "trim",
            "fold_space",
            "ascii_lower",
            "lower",
            "normalize_name",
            "only",
            "has_any",
            "first_outside",
            "remove",
            "starts_with",
            "ends_with",
            "contains",
            "strip_prefix",
            "matches",
            "present",
            "fired",
            "char_name",
            "char_code",
            "confusable_hint",
            "luhn",
            "icao9303",
            "mod11_2",
            "mask",
            "count_banks",
            "upper",
            "slice",
            "char_at",
            "number",
            "date",
            "years_between",
            "days_between",
            "round",
            "floor",
            "ceil",
        ];
        // (builtin, parameter types, result) for functions of plain values.
        let text1 = |b: B, ret: T| Some((b, vec![T::Text], ret));
        let sig: Option<(B, Vec<T>, T)> = match name.node.as_str() {
            "length" => text1(B::Length, T::Number),
            "nfc" => text1(B::Nfc, T::Text),
            "trim" => text1(B::Trim, T::Text),
            "fold_space" => text1(B::FoldSpace, T::Text),
            "ascii_lower" => text1(B::AsciiLower, T::Text),
            "lower" => text1(B::Lower, T::Text),
            "normalize_name" => text1(B::NormalizeName, T::Text),
            "char_name" => text1(B::CharName, T::Text),
            "char_code" => text1(B::CharCode, T::Text),
            "confusable_hint" => text1(B::ConfusableHint, T::Text),
            "luhn" => text1(B::Luhn, T::Bool),
            "icao9303" => text1(B::Icao9303, T::Bool),
            "mod11_2" => text1(B::Mod11_2, T::Bool),
            "mask" => text1(B::Mask, T::Text),
            "starts_with" => Some((B::StartsWith, vec![T::Text, T::Text], T::Bool)),
            "ends_with" => Some((B::EndsWith, vec![T::Text, T::Text], T::Bool)),
            "contains" => Some((B::Contains, vec![T::Text, T::Text], T::Bool)),
            "strip_prefix" => Some((B::StripPrefix, vec![T::Text, T::Text], T::Text)),
            "upper" => text1(B::Upper, T::Text),
            "number" => text1(B::Number, T::Number),
            "slice" => Some((B::Slice, vec![T::Text, T::Number, T::Number], T::Text)),
            "char_at" => Some((B::CharAt, vec![T::Text, T::Number], T::Text)),
            "years_between" => Some((B::YearsBetween, vec![T::Date, T::Date], T::Number)),
            "days_between" => Some((B::DaysBetween, vec![T::Date, T::Date], T::Number)),
            "round" => Some((B::Round, vec![T::Number, T::Number], T::Number)),
            "floor" => Some((B::Floor, vec![T::Number, T::Number], T::Number)),
            "ceil" => Some((B::Ceil, vec![T::Number, T::Number], T::Number)),
            _ => None,
        };
        let arity = |this: &mut Self, n: usize, usage: &str| -> Option<()> {
            if args.len() == n {
                return Some(());
            }
            this.diags.push(
                Diagnostic::error(
                    diag::UNKNOWN_FUNCTION,
                    format!(
                        "`{}` takes {n} argument{}, found {}",
                        name.node,
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                    span,
                )
                .with_help(format!("usage: `{usage}`")),
            );
            None
        };
        if let Some((b, params, ret)) = sig {
            let usage = format!(
                "{}({})",
                name.node,
                params
                    .iter()
                    .map(|p| self.schema.type_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            arity(self, params.len(), &usage)?;
            let mut out = Vec::new();
            let mut ok = true;
            for (a, p) in args.iter().zip(&params) {
                match self.expr(a, scope, ctx, Some(p)) {
                    Some((c, t)) => {
                        ok &= self
                            .expect(&t, p, a.span, &format!("the argument of `{}`", name.node))
                            .is_some();
                        out.push(c);
                    }
                    None => ok = false,
                }
            }
            return ok.then_some((CExpr::Call(b, out), ret));
        }
        let text_and = |this: &mut Self, scope: &mut Scope| -> Option<CExpr> {
            let (c, t) = this.expr(&args[0], scope, ctx, None)?;
            this.expect(
                &t,
                &T::Text,
                args[0].span,
                &format!("the first argument of `{}`", name.node),
            )?;
            Some(c)
        };
        match name.node.as_str() {
            "size" => {
                arity(self, 1, "size(list)")?;
                let (c, t) = self.expr(&args[0], scope, ctx, None)?;
                if !matches!(t, T::List(_)) {
                    self.expect(&t, &T::List(Box::new(T::Text)), args[0].span, "the argument of `size`")?;
                }
                Some((CExpr::Call(B::Size, vec![c]), T::Number))
            }
            "only" | "has_any" | "first_outside" | "remove" => {
                arity(self, 2, &format!("{}(text, charset)", name.node))?;
                let c = text_and(self, scope);
                let set = self.charset_arg(&args[1]);
                let (c, set) = (c?, set?);
                let (b, ret) = match name.node.as_str() {
                    "only" => (B::Only(set), T::Bool),
                    "has_any" => (B::HasAny(set), T::Bool),
                    "first_outside" => (B::FirstOutside(set), T::Text),
                    _ => (B::Remove(set), T::Text),
                };
                Some((CExpr::Call(b, vec![c]), ret))
            }
            "matches" => {
                arity(self, 2, "matches(text, pattern)")?;
                let c = text_and(self, scope);
                let p = self.pattern_arg(&args[1]);
                Some((CExpr::Call(B::Matches(p?), vec![c?]), T::Bool))
            }
            "date" => {
                arity(self, 2, "date(text, \"YYYYMMDD\")")?;
                let c = text_and(self, scope);
                let layout = match &args[1].node {
                    ExprKind::Literal(Literal::Text(l)) => match crate::ir::DateLayout::new(l) {
                        Some(layout) => Some(layout),
                        None => {
                            self.diags.push(
                                Diagnostic::error(diag::LITERAL, format!("`\"{l}\"` is not a date layout"), args[1].span)
                                    .with_help(format!(
                                        "a layout holds `YYYY`, `MM` and `DD` once each and other ASCII characters, at most {} in all, e.g. \"YYYYMMDD\" or \"DD/MM/YYYY\"",
                                        crate::ir::DateLayout::MAX
                                    )),
                            );
                            None
                        }
                    },
                    _ => {
                        self.diags.push(
                            Diagnostic::error(
                                diag::TYPE_MISMATCH,
                                "the layout of `date` is a quoted text",
                                args[1].span,
                            )
                            .with_help("write the layout where it is used: `date(text, \"YYYYMMDD\")`"),
                        );
                        None
                    }
                };
                Some((CExpr::Call(B::DateFrom(layout?), vec![c?]), T::Date))
            }
            "present" => {
                arity(self, 1, "present(field)")?;
                let (c, _) = self.expr(&args[0], scope, ctx, None)?;
                Some((CExpr::Call(B::Present, vec![c]), T::Bool))
            }
            "count_banks" => {
                arity(self, 1, "count_banks(attribute)")?;
                Some((
                    CExpr::Call(B::CountBanks(self.bank_flag_arg(&args[0])?), vec![]),
                    T::Number,
                ))
            }
            "fired" => {
                arity(self, 1, "fired(rule-id)")?;
                Some((CExpr::Fired(self.fired_arg(&args[0], ctx)?), T::Bool))
            }
            // `region(text)`: a table's name called on a text.
            other if self.table_named(other).is_some() => {
                let t = self.table_named(other)?;
                arity(self, 1, &format!("{other}(text)"))?;
                let (c, ty) = self.expr(&args[0], scope, ctx, Some(&T::Text))?;
                if ty != T::Text {
                    self.diags.push(
                        Diagnostic::error(
                            diag::TYPE_MISMATCH,
                            format!("`{other}(...)` looks up a text, found {}", describe(&self.schema, &ty)),
                            args[0].span,
                        )
                        .with_label("not a text"),
                    );
                    return None;
                }
                Some((CExpr::Lookup(t, Box::new(c)), T::Entry(t)))
            }
            other => {
                let hint = suggest(
                    other,
                    FUNCTIONS
                        .iter()
                        .copied()
                        .chain(self.tables.iter().map(|t| t.name.as_str())),
                );
                self.diags.push(
                    Diagnostic::error(diag::UNKNOWN_FUNCTION, format!("unknown function `{other}`"), name.span)
                        .with_label("not a built-in function")
                        .with_help(hint.map_or_else(
                            || format!("the functions are {}", FUNCTIONS.join(", ")),
                            |h| format!("did you mean `{h}`?"),
                        )),
                );
                None
            }
        }
    }
}
