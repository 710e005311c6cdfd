//! Rendering compiled expressions back into policy syntax.
//!
//! The IR is span-free and resolved. The names it dropped are kept in the
//! [`RuleSet`] (`let_names`, `charset_spellings`, `pattern_spellings`) or
//! recovered from the schema (field paths, enum values by the type of the
//! other side of a comparison) and the bank table (bank codes). Quantifier
//! variables are not kept: each is named after its list (`documents` → `d`).
//! The text parses back to the same compiled expression.

use crate::ast::Quantifier;
use crate::ir::{AggOp, ArithOp, Builtin, CExpr, CmpOp, DateUnit, RuleSet, Spelling, Type};
use crate::record::Field;
use std::cell::RefCell;
use std::fmt::Write as _;

/// How deep an expression is rendered before `…` stands for the rest (the
/// parser's own limit keeps compiled expressions far shallower).
const MAX_DEPTH: usize = 512;

/// Quantifier variables in scope, innermost last: their name, element type,
/// and whether the list they range over is sensitive (so is each item).
pub type Scope = Vec<(String, Option<Type>, bool)>;

/// Binding strength, loosest first, as the parser's operator table has it.
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
const ADD: u8 = 5;
const MUL: u8 = 6;
const ATOM: u8 = 7;

/// A field path's text, type and whether any field on it is `sensitive`.
pub struct PathInfo {
    pub text: String,
    pub ty: Option<Type>,
    pub sensitive: bool,
}

/// Renders expressions of one rule set.
#[derive(Clone)]
pub struct Decompiler<'a> {
    pub rs: &'a RuleSet,
    /// Whether each let reads a sensitive field, once known: lets that reuse
    /// lets would otherwise be walked exponentially often.
    let_sensitive: RefCell<Vec<Option<bool>>>,
}

impl<'a> Decompiler<'a> {
    pub fn new(rs: &'a RuleSet) -> Self {
        Decompiler {
            rs,
            let_sensitive: RefCell::new(vec![None; rs.lets.len()]),
        }
    }

    /// An expression as policy text, with quantifier variables of `scope` in force.
    pub fn render(&self, e: &CExpr, scope: &mut Scope) -> String {
        let mut out = String::new();
        self.write(e, scope, 0, 0, &mut out);
        out
    }

    fn write(&self, e: &CExpr, scope: &mut Scope, min: u8, depth: usize, out: &mut String) {
        if depth > MAX_DEPTH {
            out.push('…');
            return;
        }
        let paren = precedence(e) < min;
        if paren {
            out.push('(');
        }
        let d = depth + 1;
        match e {
            CExpr::Const(f) => out.push_str(&self.constant(f, None)),
            CExpr::Field(_) | CExpr::Var(..) => out.push_str(&self.path_info(e, scope).text),
            CExpr::Let(i) => out.push_str(self.let_name(*i)),
            CExpr::EntryAttr(b, t, a) => {
                self.write(b, scope, ATOM, d, out);
                out.push('.');
                let name = self
                    .rs
                    .table(*t)
                    .and_then(|t| t.attributes.get(*a as usize))
                    .map_or("?", |a| a.name.as_str());
                out.push_str(name);
            }
            CExpr::EntryKnown(b) => {
                self.write(b, scope, ATOM, d, out);
                out.push_str(".known");
            }
            CExpr::EntryCode(b) => {
                self.write(b, scope, ATOM, d, out);
                out.push_str(".code");
            }
            CExpr::Lookup(t, x) => {
                out.push_str(self.table_name(*t));
                out.push('(');
                self.write(x, scope, 0, d, out);
                out.push(')');
            }
            CExpr::Table(t) => out.push_str(self.table_name(*t)),
            CExpr::Not(x) => match x.as_ref() {
                CExpr::In(v, items) => self.write_in(v, items, " not in ", scope, d, out),
                x => {
                    out.push_str("not ");
                    self.write(x, scope, NOT, d, out);
                }
            },
            CExpr::And(l, r) => self.write_binary(l, " and ", r, AND, scope, d, out),
            CExpr::Or(l, r) => self.write_binary(l, " or ", r, OR, scope, d, out),
            CExpr::Cmp(op, l, r) => {
                let hint = self.type_of(l, scope).or_else(|| self.type_of(r, scope));
                self.write_operand(l, hint.as_ref(), CMP, scope, d, out);
                out.push(' ');
                out.push_str(cmp_str(*op));
                out.push(' ');
                self.write_operand(r, hint.as_ref(), CMP + 1, scope, d, out);
            }
            CExpr::In(v, items) => self.write_in(v, items, " in ", scope, d, out),
            CExpr::Call(b, args) => self.write_call(*b, args, scope, d, out),
            CExpr::Quant(q, list, body) => self.write_binder(quantifier_str(*q), list, body, scope, d, out),
            CExpr::Fired(i) => {
                let id = self.rs.rules.get(*i as usize).map_or("?", |r| r.id.as_str());
                let _ = write!(out, "fired({id})");
            }
            CExpr::Today => out.push_str("today"),
            CExpr::Arith(op, l, r) => {
                let prec = if matches!(op, ArithOp::Add | ArithOp::Sub) {
                    ADD
                } else {
                    MUL
                };
                self.write_binary(l, arith_str(*op), r, prec, scope, d, out);
            }
            CExpr::DateShift(x, n, unit) => {
                self.write(x, scope, ADD, d, out);
                let unit = match unit {
                    DateUnit::Days => "days",
                    DateUnit::Months => "months",
                    DateUnit::Years => "years",
                };
                let sign = if *n < 0 { '-' } else { '+' };
                let _ = write!(out, " {sign} {} {unit}", n.unsigned_abs());
            }
            CExpr::Aggregate(op, list, body) => self.write_binder(agg_str(*op), list, body, scope, d, out),
        }
        if paren {
            out.push(')');
        }
    }

    /// `name(x in list: body)`: a quantifier or an aggregate, its variable
    /// named and typed from the list while the body is written.
    fn write_binder(&self, name: &str, list: &CExpr, body: &CExpr, scope: &mut Scope, d: usize, out: &mut String) {
        let var = self.var_name(list, scope);
        let elem = match self.type_of(list, scope) {
            Some(Type::List(t)) => Some(*t),
            _ => None,
        };
        let _ = write!(out, "{name}({var} in ");
        self.write(list, scope, 0, d, out);
        out.push_str(": ");
        scope.push((var, elem, false));
        self.write(body, scope, 0, d, out);
        scope.pop();
        out.push(')');
    }

    #[expect(clippy::too_many_arguments, reason = "one recursion step with its context")]
    fn write_binary(
        &self,
        l: &CExpr,
        op: &str,
        r: &CExpr,
        prec: u8,
        scope: &mut Scope,
        depth: usize,
        out: &mut String,
    ) {
        self.write(l, scope, prec, depth, out);
        out.push_str(op);
        self.write(r, scope, prec + 1, depth, out);
    }

    fn write_operand(
        &self,
        e: &CExpr,
        hint: Option<&Type>,
        min: u8,
        scope: &mut Scope,
        depth: usize,
        out: &mut String,
    ) {
        match e {
            CExpr::Const(f) => out.push_str(&self.constant(f, hint)),
            e => self.write(e, scope, min, depth, out),
        }
    }

    fn write_in(&self, v: &CExpr, items: &[CExpr], op: &str, scope: &mut Scope, depth: usize, out: &mut String) {
        let hint = self.type_of(v, scope);
        self.write(v, scope, CMP, depth, out);
        out.push_str(op);
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write_operand(item, hint.as_ref(), 0, scope, depth, out);
        }
        out.push(']');
    }

    fn write_call(&self, b: Builtin, args: &[CExpr], scope: &mut Scope, depth: usize, out: &mut String) {
        out.push_str(builtin_name(b));
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write(a, scope, 0, depth, out);
        }
        if let Some(extra) = self.builtin_operand(b) {
            if !args.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&extra);
        }
        out.push(')');
    }

    /// The compile-time argument of a built-in: its charset or pattern.
    fn builtin_operand(&self, b: Builtin) -> Option<String> {
        match b {
            Builtin::Only(c) | Builtin::HasAny(c) | Builtin::FirstOutside(c) | Builtin::Remove(c) => {
                Some(self.charset_text(c))
            }
            Builtin::CountBanks(a) => Some(
                self.rs
                    .table(crate::ir::BANK_TABLE)
                    .and_then(|t| t.attributes.get(a as usize))
                    .map_or_else(|| "?".to_string(), |a| a.name.clone()),
            ),
            Builtin::DateFrom(layout) => Some(quote(layout.as_str())),
            Builtin::Matches(p) => Some(match self.rs.pattern_spellings.get(p as usize) {
                Some(Spelling::Name(n)) => n.clone(),
                Some(Spelling::Literal(s)) if !s.contains(['"', '\n']) => format!("r\"{s}\""),
                Some(Spelling::Literal(s)) => quote(s),
                None => "?".to_string(),
            }),
            _ => None,
        }
    }

    /// A charset as the policy wrote it: its name, or its characters as a text.
    pub fn charset_text(&self, c: u32) -> String {
        match self.rs.charset_spellings.get(c as usize) {
            Some(Spelling::Name(n)) => n.clone(),
            Some(Spelling::Literal(s)) => quote(s),
            None => "?".to_string(),
        }
    }

    /// A constant as policy text; an enum value needs the type it is compared with.
    pub fn constant(&self, f: &Field, ty: Option<&Type>) -> String {
        match f {
            Field::Absent => "(absent)".to_string(),
            Field::Bool(b) => b.to_string(),
            Field::Text(t) => quote(t),
            Field::Num(n) => n.to_string(),
            Field::Date(d) => d.to_string(),
            Field::Enum(i) => self.enum_name(ty, *i).to_string(),
            Field::Entry(b) => match b.id {
                Some(id) => self.entry_text(b.table, id),
                None => quote(&b.typed),
            },
            Field::Record(_) => "(record)".to_string(),
            Field::List(_) => "(list)".to_string(),
        }
    }

    /// The name of value `i` of an enum type; without the type, of the first
    /// enum that has such a value.
    pub fn enum_name(&self, ty: Option<&Type>, i: u32) -> &'a str {
        let enums = &self.rs.schema.enums;
        let values = match ty {
            Some(Type::Enum(e)) => enums.get(*e as usize),
            _ => enums.iter().find(|v| v.len() > i as usize),
        };
        values.and_then(|v| v.get(i as usize)).map_or("?", String::as_str)
    }

    pub fn entry_code(&self, t: u32, id: u32) -> &'a str {
        crate::eval::entry_code(self.rs, t, id).unwrap_or("?")
    }

    /// An entry's display name in a language (`Table::display`), none when it has no name.
    pub fn entry_name(&self, t: u32, id: u32, lang: usize) -> Option<&'a str> {
        let table = self.rs.table(t)?;
        let entry = table.list.get(id as usize)?;
        (!entry.names.iter().all(Vec::is_empty)).then(|| table.display(id, lang))
    }

    pub fn table_name(&self, t: u32) -> &'a str {
        self.rs.table(t).map_or("?", |t| t.name.as_str())
    }

    /// An entry as policy text: its code when that is a name (`ZZ1`), else
    /// the table called on the quoted code (`region("81")`).
    pub fn entry_text(&self, t: u32, id: u32) -> String {
        let code = self.entry_code(t, id);
        let is_name = code.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name {
            code.to_string()
        } else {
            format!("{}({})", self.table_name(t), quote(code))
        }
    }

    pub fn let_name(&self, i: u32) -> &'a str {
        self.rs.let_names.get(i as usize).map_or("?", String::as_str)
    }

    /// The text, type and sensitivity of a `Field` or `Var` path.
    pub fn path_info(&self, e: &CExpr, scope: &Scope) -> PathInfo {
        let none: &[u16] = &[];
        let (mut text, mut ty, slots, mut sensitive): (String, Option<Type>, &[u16], bool) = match e {
            CExpr::Field(slots) => (String::new(), Some(Type::Record(0)), slots, false),
            CExpr::Var(depth, slots) => {
                let var = scope.len().checked_sub(1 + *depth as usize).and_then(|i| scope.get(i));
                let (name, ty, secret) = var.map_or(("?", None, false), |(n, t, s)| (n.as_str(), t.clone(), *s));
                (name.to_string(), ty, slots, secret)
            }
            _ => (String::new(), None, none, false),
        };
        for &slot in slots {
            let field = match &ty {
                Some(Type::Record(r)) => self
                    .rs
                    .schema
                    .records
                    .get(*r as usize)
                    .and_then(|rec| rec.fields.get(slot as usize)),
                _ => None,
            };
            if !text.is_empty() {
                text.push('.');
            }
            match field {
                Some(f) => {
                    text.push_str(&f.name);
                    sensitive |= f.sensitive;
                    ty = Some(f.ty.clone());
                }
                None => {
                    text.push('?');
                    ty = None;
                }
            }
        }
        PathInfo { text, ty, sensitive }
    }

    /// The type of an expression, when it can be told (an enum constant alone cannot).
    pub fn type_of(&self, e: &CExpr, scope: &Scope) -> Option<Type> {
        self.type_at(e, scope, 0)
    }

    fn type_at(&self, e: &CExpr, scope: &Scope, depth: usize) -> Option<Type> {
        if depth > MAX_DEPTH {
            return None;
        }
        match e {
            CExpr::Const(f) => match f {
                Field::Bool(_) => Some(Type::Bool),
                Field::Text(_) => Some(Type::Text),
                Field::Num(_) => Some(Type::Number),
                Field::Date(_) => Some(Type::Date),
                Field::Entry(b) => Some(Type::Entry(b.table)),
                _ => None,
            },
            CExpr::Field(_) | CExpr::Var(..) => self.path_info(e, scope).ty,
            CExpr::Let(i) => self
                .rs
                .lets
                .get(*i as usize)
                .and_then(|d| self.type_at(d, &Scope::new(), depth + 1)),
            CExpr::EntryAttr(_, t, a) => self
                .rs
                .table(*t)
                .and_then(|t| t.attributes.get(*a as usize))
                .map(|a| a.ty.clone()),
            CExpr::EntryCode(_) => Some(Type::Text),
            CExpr::Lookup(t, _) => Some(Type::Entry(*t)),
            CExpr::Table(t) => Some(Type::List(Box::new(Type::Entry(*t)))),
            CExpr::Call(b, _) => Some(builtin_type(*b)),
            CExpr::Quant(Quantifier::Count, ..) | CExpr::Arith(..) | CExpr::Aggregate(..) => Some(Type::Number),
            CExpr::Today | CExpr::DateShift(..) => Some(Type::Date),
            CExpr::EntryKnown(_)
            | CExpr::Not(_)
            | CExpr::And(..)
            | CExpr::Or(..)
            | CExpr::Cmp(..)
            | CExpr::In(..)
            | CExpr::Quant(..)
            | CExpr::Fired(_) => Some(Type::Bool),
        }
    }

    /// Whether an expression's value shows part of a `sensitive` field
    /// (`mask(...)` shows none of it).
    pub fn reads_sensitive(&self, e: &CExpr, scope: &mut Scope) -> bool {
        self.sensitive_at(e, scope, 0)
    }

    fn sensitive_at(&self, e: &CExpr, scope: &mut Scope, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        let d = depth + 1;
        match e {
            CExpr::Const(_) | CExpr::Fired(_) | CExpr::Today | CExpr::Table(_) | CExpr::Call(Builtin::Mask, _) => false,
            CExpr::DateShift(x, ..) => self.sensitive_at(x, scope, d),
            CExpr::Arith(_, l, r) => self.sensitive_at(l, scope, d) || self.sensitive_at(r, scope, d),
            CExpr::Field(_) | CExpr::Var(..) => self.path_info(e, scope).sensitive,
            CExpr::Let(i) => {
                let i = *i as usize;
                if let Some(Some(known)) = self.let_sensitive.borrow().get(i) {
                    return *known;
                }
                let s = self
                    .rs
                    .lets
                    .get(i)
                    .is_some_and(|def| self.sensitive_at(def, &mut Scope::new(), d));
                if let Some(slot) = self.let_sensitive.borrow_mut().get_mut(i) {
                    *slot = Some(s);
                }
                s
            }
            CExpr::EntryAttr(x, ..) | CExpr::EntryKnown(x) | CExpr::EntryCode(x) | CExpr::Not(x) => {
                self.sensitive_at(x, scope, d)
            }
            // The entry found shows by the policy's name for it, not the text looked up.
            CExpr::Lookup(..) => false,
            CExpr::And(l, r) | CExpr::Or(l, r) | CExpr::Cmp(_, l, r) => {
                self.sensitive_at(l, scope, d) || self.sensitive_at(r, scope, d)
            }
            CExpr::In(x, items) => {
                self.sensitive_at(x, scope, d) || items.iter().any(|i| self.sensitive_at(i, scope, d))
            }
            CExpr::Call(_, args) => args.iter().any(|a| self.sensitive_at(a, scope, d)),
            CExpr::Quant(_, list, body) | CExpr::Aggregate(_, list, body) => {
                if self.sensitive_at(list, scope, d) {
                    return true;
                }
                let elem = match self.type_of(list, scope) {
                    Some(Type::List(t)) => Some(*t),
                    _ => None,
                };
                scope.push((String::new(), elem, false));
                let s = self.sensitive_at(body, scope, d);
                scope.pop();
                s
            }
        }
    }

    /// A name for the variable of a quantifier over `list`: the first letter
    /// of the list's name, made unique against variables, lets and root fields.
    pub fn var_name(&self, list: &CExpr, scope: &Scope) -> String {
        let base = match list {
            CExpr::Field(_) | CExpr::Var(..) => {
                let text = self.path_info(list, scope).text;
                let last = text.rsplit('.').next().unwrap_or_default().to_string();
                last.chars()
                    .next()
                    .filter(char::is_ascii_lowercase)
                    .map_or_else(|| "x".to_string(), String::from)
            }
            CExpr::Let(i) => self
                .let_name(*i)
                .chars()
                .next()
                .filter(char::is_ascii_lowercase)
                .map_or_else(|| "x".to_string(), String::from),
            _ => "x".to_string(),
        };
        let taken = |n: &str| {
            scope.iter().any(|(v, ..)| v == n)
                || self.rs.let_names.iter().any(|l| l == n)
                || self.rs.schema.records.first().is_some_and(|r| r.slot(n).is_some())
        };
        if !taken(&base) {
            return base;
        }
        (2..).map(|k| format!("{base}{k}")).find(|n| !taken(n)).unwrap_or(base)
    }
}

fn precedence(e: &CExpr) -> u8 {
    match e {
        CExpr::Or(..) => OR,
        CExpr::And(..) => AND,
        CExpr::Not(x) if matches!(x.as_ref(), CExpr::In(..)) => CMP,
        CExpr::Not(_) => NOT,
        CExpr::Cmp(..) | CExpr::In(..) => CMP,
        CExpr::Arith(ArithOp::Add | ArithOp::Sub, ..) | CExpr::DateShift(..) => ADD,
        CExpr::Arith(..) => MUL,
        _ => ATOM,
    }
}

pub fn cmp_str(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn arith_str(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => " + ",
        ArithOp::Sub => " - ",
        ArithOp::Mul => " * ",
        ArithOp::Div => " / ",
        ArithOp::Mod => " mod ",
    }
}

fn agg_str(op: AggOp) -> &'static str {
    match op {
        AggOp::Sum => "sum",
        AggOp::Min => "min",
        AggOp::Max => "max",
    }
}

fn quantifier_str(q: Quantifier) -> &'static str {
    q.as_str()
}

/// The name a policy calls a built-in function by.
pub fn builtin_name(b: Builtin) -> &'static str {
    match b {
        Builtin::Length => "length",
        Builtin::Size => "size",
        Builtin::Nfc => "nfc",
        Builtin::Trim => "trim",
        Builtin::FoldSpace => "fold_space",
        Builtin::AsciiLower => "ascii_lower",
        Builtin::Lower => "lower",
        Builtin::NormalizeName => "normalize_name",
        Builtin::Only(_) => "only",
        Builtin::HasAny(_) => "has_any",
        Builtin::FirstOutside(_) => "first_outside",
        Builtin::Remove(_) => "remove",
        Builtin::StartsWith => "starts_with",
        Builtin::EndsWith => "ends_with",
        Builtin::Contains => "contains",
        Builtin::StripPrefix => "strip_prefix",
        Builtin::Matches(_) => "matches",
        Builtin::Present => "present",
        Builtin::CharName => "char_name",
        Builtin::CharCode => "char_code",
        Builtin::ConfusableHint => "confusable_hint",
        Builtin::Luhn => "luhn",
        Builtin::Icao9303 => "icao9303",
        Builtin::Mod11_2 => "mod11_2",
        Builtin::Mask => "mask",
        Builtin::CountBanks(_) => "count_banks",
        Builtin::Upper => "upper",
        Builtin::Slice => "slice",
        Builtin::CharAt => "char_at",
        Builtin::Number => "number",
        Builtin::DateFrom(_) => "date",
        Builtin::YearsBetween => "years_between",
        Builtin::DaysBetween => "days_between",
        Builtin::Round => "round",
        Builtin::Floor => "floor",
        Builtin::Ceil => "ceil",
    }
}

/// The type of a built-in's result (also what the compiled evaluator asks:
/// does a call yield a truth value).
pub(crate) fn builtin_type(b: Builtin) -> Type {
    match b {
        Builtin::Length
        | Builtin::Size
        | Builtin::CountBanks(_)
        | Builtin::Number
        | Builtin::YearsBetween
        | Builtin::DaysBetween
        | Builtin::Round
        | Builtin::Floor
        | Builtin::Ceil => Type::Number,
        Builtin::DateFrom(_) => Type::Date,
        Builtin::Upper | Builtin::Slice | Builtin::CharAt => Type::Text,
        Builtin::Nfc
        | Builtin::Trim
        | Builtin::FoldSpace
        | Builtin::AsciiLower
        | Builtin::Lower
        | Builtin::NormalizeName
        | Builtin::FirstOutside(_)
        | Builtin::Remove(_)
        | Builtin::StripPrefix
        | Builtin::CharName
        | Builtin::CharCode
        | Builtin::ConfusableHint
        | Builtin::Mask => Type::Text,
        Builtin::Only(_)
        | Builtin::HasAny(_)
        | Builtin::StartsWith
        | Builtin::EndsWith
        | Builtin::Contains
        | Builtin::Matches(_)
        | Builtin::Present
        | Builtin::Luhn
        | Builtin::Icao9303
        | Builtin::Mod11_2 => Type::Bool,
    }
}

/// A text as a policy literal, quoted as the formatter quotes it.
pub fn quote(s: &str) -> String {
    crate::fmt::quote(s)
}
