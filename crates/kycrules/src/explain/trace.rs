//! The traced evaluation: an expression tree walked node by node, each node's
//! value taken from the evaluator, kept where it explains its parent.
//!
//! What a trace keeps: the operands of `and`/`or` (a chain flattened, those
//! after the deciding one marked not evaluated), the values of comparison
//! operands in place (`31 > 20`), the arguments of calls, `let` references by
//! name with their definition (expanded one level), and quantifier items one
//! by one. Constants and plain paths already shown in place are left out.

use super::decompile::{Decompiler, Scope, cmp_str};
use super::{MessageTrace, Node, Shown, StepTrace};
use crate::ast::Quantifier;
use crate::date::Date;
use crate::eval::{Evaluator, Options, Value};
use crate::ir::{Builtin, CExpr, Rule, RuleSet, Type};
use crate::text;
use std::cmp::Ordering;

/// Quantifier items traced one by one; the rest are summed up.
const MAX_ITEMS: usize = 20;
/// How deep a trace goes; deeper parts show their value only.
const MAX_DEPTH: usize = 128;

pub(super) struct Tracer<'a, 'e> {
    ev: &'e mut Evaluator<'a>,
    dc: Decompiler<'a>,
    scope: Scope,
    show_pii: bool,
    as_of: Date,
    /// The language entries are named in.
    lang: usize,
    /// How many `let` definitions deep the trace is; only the first is expanded.
    in_let: usize,
    depth: usize,
}

impl<'a, 'e> Tracer<'a, 'e> {
    pub fn new(ev: &'e mut Evaluator<'a>, rs: &'a RuleSet, show_pii: bool, opts: Options) -> Self {
        Tracer {
            ev,
            dc: Decompiler::new(rs),
            scope: Scope::new(),
            show_pii,
            as_of: opts.as_of,
            lang: opts.lang,
            in_let: 0,
            depth: 0,
        }
    }

    /// An expression, evaluated, with the parts that explain its value.
    pub fn node(&mut self, e: &'a CExpr) -> Node {
        let v = self.ev.eval(e);
        let value = self.shown(&v, e);
        self.node_with(e, value)
    }

    /// An expression the evaluation did not need.
    pub fn skipped(&mut self, e: &'a CExpr) -> Node {
        let expr = self.dc.render(e, &mut self.scope);
        leaf(expr, Shown::NotEvaluated)
    }

    fn node_with(&mut self, e: &'a CExpr, value: Shown) -> Node {
        let expr = self.dc.render(e, &mut self.scope);
        if self.depth > MAX_DEPTH {
            return leaf(expr, value);
        }
        self.depth += 1;
        let (definition, inline, children) = match e {
            CExpr::Let(i) => self.let_parts(*i),
            _ => (None, self.inline(e), self.children(e)),
        };
        let note = self.note(e, &value);
        self.depth -= 1;
        Node {
            expr,
            value,
            inline,
            definition,
            note,
            children,
        }
    }

    /// A `let`'s definition, its comparison in place, and (one level deep) its parts.
    fn let_parts(&mut self, i: u32) -> (Option<String>, Option<String>, Vec<Node>) {
        let Some(def) = self.dc.rs.lets.get(i as usize) else {
            return (None, None, Vec::new());
        };
        let outer = std::mem::take(&mut self.scope);
        let text = self.dc.render(def, &mut self.scope);
        let inline = self.inline(def);
        let children = if self.in_let == 0 {
            self.in_let += 1;
            let c = self.children(def);
            self.in_let -= 1;
            c
        } else {
            Vec::new()
        };
        self.scope = outer;
        (Some(text), inline, children)
    }

    fn children(&mut self, e: &'a CExpr) -> Vec<Node> {
        match e {
            CExpr::Const(_) | CExpr::Field(_) | CExpr::Var(..) | CExpr::Fired(_) | CExpr::Let(_) | CExpr::Today => {
                Vec::new()
            }
            CExpr::Arith(_, l, r) => {
                let mut out = self.operand(l);
                out.extend(self.operand(r));
                out
            }
            CExpr::DateShift(x, ..) => self.operand(x),
            CExpr::Aggregate(op, list, body) => {
                let q = match op {
                    crate::ir::AggOp::Sum => Quantifier::Sum,
                    crate::ir::AggOp::Min => Quantifier::Min,
                    crate::ir::AggOp::Max => Quantifier::Max,
                };
                self.quantifier(q, list, body)
            }
            CExpr::EntryAttr(b, ..) | CExpr::EntryKnown(b) | CExpr::EntryCode(b) => self.operand(b),
            CExpr::Lookup(_, x) => self.operand(x),
            CExpr::Table(_) => Vec::new(),
            CExpr::Not(x) => match x.as_ref() {
                CExpr::Call(..) | CExpr::EntryAttr(..) | CExpr::EntryKnown(..) | CExpr::Quant(..) => self.children(x),
                CExpr::In(v, items) => self.membership(v, items),
                _ => vec![self.node(x)],
            },
            CExpr::And(..) | CExpr::Or(..) => self.chain(e),
            CExpr::Cmp(_, l, r) => {
                let mut out = self.operand(l);
                out.extend(self.operand(r));
                out
            }
            CExpr::In(v, items) => self.membership(v, items),
            CExpr::Call(b, args) => self.call_args(*b, args),
            CExpr::Quant(q, list, body) => self.quantifier(*q, list, body),
        }
    }

    /// What explains an operand whose value is shown in place: a bank's
    /// resolution, a `let`, or the parts of a computed value.
    fn operand(&mut self, e: &'a CExpr) -> Vec<Node> {
        match e {
            CExpr::Const(_) => Vec::new(),
            CExpr::Field(_) | CExpr::Var(..) => {
                if matches!(self.dc.path_info(e, &self.scope).ty, Some(Type::Entry(_))) {
                    vec![self.node(e)]
                } else {
                    Vec::new()
                }
            }
            CExpr::Call(..)
            | CExpr::EntryAttr(..)
            | CExpr::EntryKnown(..)
            | CExpr::EntryCode(..)
            | CExpr::Quant(..) => self.children(e),
            _ => vec![self.node(e)],
        }
    }

    /// The operands of an `and` or `or` chain, in order; those after the one
    /// that decided the chain were not evaluated.
    fn chain(&mut self, e: &'a CExpr) -> Vec<Node> {
        let is_and = matches!(e, CExpr::And(..));
        let mut operands = Vec::new();
        let mut stack = vec![e];
        while let Some(x) = stack.pop() {
            match x {
                CExpr::And(l, r) if is_and => stack.extend([r.as_ref(), l.as_ref()]),
                CExpr::Or(l, r) if !is_and => stack.extend([r.as_ref(), l.as_ref()]),
                x => operands.push(x),
            }
        }
        let mut out = Vec::with_capacity(operands.len());
        let mut decided = false;
        for x in operands {
            if decided {
                out.push(self.skipped(x));
                continue;
            }
            let n = self.node(x);
            // `false and …` and `true or …` stop the evaluation.
            decided = n.value == Shown::Bool { value: !is_and };
            out.push(n);
        }
        out
    }

    fn membership(&mut self, v: &'a CExpr, items: &'a [CExpr]) -> Vec<Node> {
        let mut out = self.operand(v);
        let value = self.ev.eval(v);
        let mut decided = value == Value::Absent;
        for item in items {
            if matches!(item, CExpr::Const(_)) {
                if !decided {
                    let iv = self.ev.eval(item);
                    decided = same(&value, &iv) == Some(true);
                }
                continue;
            }
            if decided {
                out.push(self.skipped(item));
                continue;
            }
            let iv = self.ev.eval(item);
            decided = same(&value, &iv) == Some(true);
            out.push(self.node(item));
        }
        out
    }

    /// The arguments of a call; a text function stops at the first argument
    /// that is not a text (its value is then unknown).
    fn call_args(&mut self, b: Builtin, args: &'a [CExpr]) -> Vec<Node> {
        if matches!(b, Builtin::Present | Builtin::Size) {
            return match args.first() {
                Some(a) if !is_path(a) && !matches!(a, CExpr::Const(_)) => vec![self.node(a)],
                _ => Vec::new(),
            };
        }
        let mut out = Vec::new();
        let mut stopped = false;
        for a in args {
            if stopped {
                if !matches!(a, CExpr::Const(_)) {
                    out.push(self.skipped(a));
                }
                continue;
            }
            stopped = !matches!(self.ev.eval(a), Value::Text(_));
            if !matches!(a, CExpr::Const(_)) {
                out.push(self.node(a));
            }
        }
        out
    }

    fn quantifier(&mut self, q: Quantifier, list: &'a CExpr, body: &'a CExpr) -> Vec<Node> {
        let mut out = if is_path(list) { Vec::new() } else { self.operand(list) };
        let list_text = self.dc.render(list, &mut self.scope);
        let items = match self.ev.eval(list) {
            Value::List(items) if !items.is_empty() => items,
            other => {
                let value = self.shown(&other, list);
                if is_path(list) {
                    out.push(leaf(list_text, value));
                }
                return out;
            }
        };
        let var = self.dc.var_name(list, &self.scope);
        let elem = match self.dc.type_of(list, &self.scope) {
            Some(Type::List(t)) => Some(*t),
            _ => None,
        };
        // The items of a sensitive list (`list of text sensitive`) are masked as it is.
        let secret = self.dc.reads_sensitive(list, &mut self.scope);
        for (k, item) in items.iter().enumerate() {
            if k >= MAX_ITEMS {
                out.push(leaf(
                    format!("{list_text}[{k}..]"),
                    Shown::Elided { count: items.len() - k },
                ));
                break;
            }
            self.scope.push((var.clone(), elem.clone(), secret));
            self.ev.bind(Value::of(item));
            let mut n = self.node(body);
            self.ev.unbind();
            self.scope.pop();
            n.expr = format!("{list_text}[{k}]: {}", n.expr);
            let decided = match q {
                Quantifier::Any => n.value == Shown::Bool { value: true },
                Quantifier::All => n.value == Shown::Bool { value: false },
                Quantifier::Count | Quantifier::Sum | Quantifier::Min | Quantifier::Max => false,
            };
            out.push(n);
            if decided {
                let rest = match items.len() - (k + 1) {
                    0 => None,
                    1 => Some(format!("{list_text}[{}]", k + 1)),
                    _ => Some(format!("{list_text}[{}..]", k + 1)),
                };
                out.extend(rest.map(|r| leaf(r, Shown::NotEvaluated)));
                break;
            }
        }
        out
    }

    /// A comparison or membership test with its operands' values in place.
    fn inline(&mut self, e: &'a CExpr) -> Option<String> {
        match e {
            CExpr::Cmp(op, l, r) => {
                if matches!(l.as_ref(), CExpr::Const(_)) && matches!(r.as_ref(), CExpr::Const(_)) {
                    return None;
                }
                let hint = self
                    .dc
                    .type_of(l, &self.scope)
                    .or_else(|| self.dc.type_of(r, &self.scope));
                let (lv, rv) = (self.in_place(l, hint.as_ref()), self.in_place(r, hint.as_ref()));
                Some(format!("{lv} {} {rv}", cmp_str(*op)))
            }
            CExpr::In(v, items) => Some(self.inline_in(v, items, "in")),
            CExpr::Not(x) => match x.as_ref() {
                CExpr::In(v, items) => Some(self.inline_in(v, items, "not in")),
                _ => None,
            },
            _ => None,
        }
    }

    fn inline_in(&mut self, v: &'a CExpr, items: &'a [CExpr], op: &str) -> String {
        let hint = self.dc.type_of(v, &self.scope);
        let lv = self.in_place(v, hint.as_ref());
        let shown: Vec<String> = items.iter().map(|i| self.in_place(i, hint.as_ref())).collect();
        format!("{lv} {op} [{}]", shown.join(", "))
    }

    fn in_place(&mut self, e: &'a CExpr, hint: Option<&Type>) -> String {
        match e {
            CExpr::Const(f) => self.dc.constant(f, hint),
            e => {
                let v = self.ev.eval(e);
                self.shown(&v, e).inline()
            }
        }
    }

    /// For a charset test, the character that decided it (unless that would
    /// show part of a masked field).
    fn note(&mut self, e: &'a CExpr, value: &Shown) -> Option<String> {
        if let CExpr::Not(x) = e
            && let CExpr::Call(..) = x.as_ref()
        {
            // `not only(...)` shows the parts of `only(...)`, and so its note.
            let Value::Bool(b) = self.ev.eval(x) else { return None };
            return self.note(x, &Shown::Bool { value: b });
        }
        let CExpr::Call(b, args) = e else { return None };
        let (set, outside) = match (b, value) {
            (Builtin::Only(c), Shown::Bool { value: false }) => (*c, true),
            (Builtin::HasAny(c), Shown::Bool { value: true }) => (*c, false),
            _ => return None,
        };
        let arg = args.first()?;
        if !self.show_pii && self.dc.reads_sensitive(arg, &mut self.scope) {
            return None;
        }
        let Value::Text(t) = self.ev.eval(arg) else { return None };
        let charset = self.dc.rs.charsets.get(set as usize)?;
        let c = t.chars().find(|&c| charset.contains(c) != outside)?;
        let name = self.dc.charset_text(set);
        let verb = if outside { "is not in" } else { "is in" };
        Some(format!("{} {verb} {name}", crate::chars::describe(c)))
    }

    /// A value as shown, masked when it reads a `sensitive` field.
    fn shown(&mut self, v: &Value<'_>, e: &'a CExpr) -> Shown {
        let masked = !self.show_pii && self.dc.reads_sensitive(e, &mut self.scope);
        let hide = |s: &str| if masked { text::mask(s) } else { s.to_string() };
        match v {
            Value::Absent => Shown::Absent,
            Value::Bool(b) => Shown::Bool { value: *b },
            Value::Text(t) => Shown::Text { value: hide(t), masked },
            // A sensitive number or date is masked as a text is.
            Value::Num(n) => Shown::Number {
                value: hide(&n.to_string()),
            },
            Value::Date(d) => Shown::Date {
                value: hide(&d.to_string()),
            },
            Value::Enum(i) => {
                let ty = self.dc.type_of(e, &self.scope);
                Shown::Enum {
                    value: self.dc.enum_name(ty.as_ref(), *i).to_string(),
                }
            }
            Value::Entry(t, id, typed) => Shown::Bank {
                typed: hide(typed),
                code: id.map(|i| self.dc.entry_code(*t, i).to_string()),
                name: id
                    .and_then(|i| self.dc.entry_name(*t, i, self.lang))
                    .map(str::to_string),
                table: self.dc.table_name(*t).to_string(),
            },
            Value::Record(_) => Shown::Record,
            Value::List(l) => Shown::List { len: l.len() },
        }
    }

    /// The message choices of a rule that fired, tried in order up to the one
    /// shown; when none holds, the last is shown.
    pub fn messages(&mut self, rule: &'a Rule) -> Vec<MessageTrace> {
        let mut out: Vec<MessageTrace> = Vec::new();
        for m in &rule.messages {
            let in_force = m.validity.holds(self.as_of);
            let condition = m
                .condition
                .as_ref()
                .map(|c| if in_force { self.node(c) } else { self.skipped(c) });
            let chosen = in_force
                && condition
                    .as_ref()
                    .is_none_or(|n| n.value == Shown::Bool { value: true });
            out.push(MessageTrace {
                message: m.message.clone(),
                in_force,
                condition,
                chosen,
            });
            if chosen {
                return out;
            }
        }
        if let Some(last) = out.last_mut() {
            last.chosen = true;
        }
        out
    }

    /// The next-step choices, tried in order up to the one taken.
    pub fn next_steps(&mut self) -> Vec<StepTrace> {
        let mut out = Vec::new();
        for s in &self.dc.rs.next_steps {
            let condition = s.condition.as_ref().map(|c| self.node(c));
            let chosen = condition
                .as_ref()
                .is_none_or(|n| n.value == Shown::Bool { value: true });
            out.push(StepTrace {
                step: s.name.clone(),
                condition,
                chosen,
            });
            if chosen {
                break;
            }
        }
        out
    }
}

fn leaf(expr: String, value: Shown) -> Node {
    Node {
        expr,
        value,
        inline: None,
        definition: None,
        note: None,
        children: Vec::new(),
    }
}

fn is_path(e: &CExpr) -> bool {
    matches!(e, CExpr::Field(_) | CExpr::Var(..))
}

/// Whether two values are equal as `==` decides it; `None` when unknown.
fn same(a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    match (a, b) {
        (Value::Absent, _) | (_, Value::Absent) => None,
        (Value::Num(x), Value::Num(y)) => Some(x.cmp(y) == Ordering::Equal),
        (Value::Entry(s, x, _), Value::Entry(t, y, _)) => Some(x.is_some() && x == y && s == t),
        (a, b) => Some(a == b),
    }
}
