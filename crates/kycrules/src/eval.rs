//! Evaluation: a compiled [`RuleSet`] applied to one [`Record`].
//!
//! Pure and total: no IO, no panics, no errors. Conditions use three-valued
//! logic: a comparison that reads an absent optional field is *unknown*;
//! `false and unknown` is false, `true or unknown` is true, and a rule fires
//! only when its guard and condition are definitely true.

use crate::ast::Quantifier;
use crate::date::Date;
use crate::decimal::Decimal;
use crate::decimal::Rounding;
use crate::ir::{AggOp, ArithOp, Builtin, CExpr, CmpOp, DateUnit, Outcome, RuleSet, Template};
use crate::record::{EntryValue, Field, Record};
use crate::text;
use std::borrow::Cow;
use std::sync::Arc;

/// An application's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DecisionKind {
    Accept,
    Review,
    Limited,
    Reject,
    Error,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Accept => "accept",
            DecisionKind::Review => "review",
            DecisionKind::Limited => "limited",
            DecisionKind::Reject => "reject",
            DecisionKind::Error => "error",
        }
    }

    pub const ALL: [DecisionKind; 5] = [
        DecisionKind::Accept,
        DecisionKind::Review,
        DecisionKind::Limited,
        DecisionKind::Reject,
        DecisionKind::Error,
    ];
}

/// A rule that fired, with its message in the chosen language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index into [`RuleSet::rules`].
    pub rule: usize,
    pub message: Message,
}

/// A rule's message as rendered for one application: the rule set's text,
/// shared and not copied, when the message has no placeholders; otherwise its
/// own text. Reads as a `str`.
#[derive(Clone)]
pub struct Message(MessageText);

#[derive(Clone)]
enum MessageText {
    Shared(Arc<str>),
    Owned(String),
}

impl Message {
    /// A message that shares `text` (cloning the `Arc`, not the text).
    pub fn shared(text: &Arc<str>) -> Message {
        Message(MessageText::Shared(Arc::clone(text)))
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            MessageText::Shared(s) => s,
            MessageText::Owned(s) => s,
        }
    }

    pub fn into_string(self) -> String {
        match self.0 {
            MessageText::Shared(s) => s.to_string(),
            MessageText::Owned(s) => s,
        }
    }
}

impl std::ops::Deref for Message {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Message {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Message {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Message {}

impl std::hash::Hash for Message {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Message {
    fn partial_cmp(&self, other: &Message) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Message {
    fn cmp(&self, other: &Message) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialEq<str> for Message {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Message {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Message {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Message> for &str {
    fn eq(&self, other: &Message) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Message> for String {
    fn eq(&self, other: &Message) -> bool {
        self == other.as_str()
    }
}

impl From<String> for Message {
    fn from(s: String) -> Message {
        Message(MessageText::Owned(s))
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Message {
        Message(MessageText::Owned(s.to_string()))
    }
}

impl From<Message> for String {
    fn from(m: Message) -> String {
        m.into_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub decision: DecisionKind,
    /// Index into [`RuleSet::next_steps`].
    pub next_step: Option<usize>,
    pub violations: Vec<Violation>,
}

/// How to evaluate: the message language and the date rules are in force on.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub lang: usize,
    pub as_of: Date,
}

/// A value during evaluation, borrowing from the record and the rule set.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// An absent optional field, or an unknown truth value.
    Absent,
    Bool(bool),
    Text(Cow<'a, str>),
    Num(Decimal),
    Date(Date),
    Enum(u32),
    /// A table entry: the table, the entry it resolved to (if any), the text as typed.
    Entry(u32, Option<u32>, &'a str),
    Record(&'a [Field]),
    List(&'a [Field]),
}

impl<'a> Value<'a> {
    pub fn of(f: &'a Field) -> Value<'a> {
        match f {
            Field::Absent => Value::Absent,
            Field::Bool(b) => Value::Bool(*b),
            Field::Text(t) => Value::Text(Cow::Borrowed(t)),
            Field::Num(n) => Value::Num(*n),
            Field::Date(d) => Value::Date(*d),
            Field::Enum(e) => Value::Enum(*e),
            Field::Entry(EntryValue { table, id, typed }) => Value::Entry(*table, *id, typed),
            Field::Record(r) => Value::Record(r),
            Field::List(l) => Value::List(l),
        }
    }

    /// The truth of a value: `None` for an unknown or a value that is not a bool.
    pub fn truth(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

fn tri(v: Option<bool>) -> Value<'static> {
    v.map_or(Value::Absent, Value::Bool)
}

/// Evaluates every rule in force against one application.
pub fn evaluate(rs: &RuleSet, record: &Record, opts: Options) -> Decision {
    evaluate_in(rs, record, opts, &mut Scratch::default())
}

/// The buffers of an evaluation, kept between evaluations (one per worker
/// thread) so that evaluating a record allocates only what it returns.
#[derive(Debug, Default)]
pub struct Scratch {
    lets: Vec<Option<Value<'static>>>,
    vars: Vec<Value<'static>>,
    fired: Vec<bool>,
}

/// An emptied vector of values for another lifetime, in the same allocation.
fn relet<'b>(mut v: Vec<Option<Value<'_>>>) -> Vec<Option<Value<'b>>> {
    v.clear();
    v.into_iter().map(|_| None).collect()
}

fn revar<'b>(mut v: Vec<Value<'_>>) -> Vec<Value<'b>> {
    v.clear();
    v.into_iter().map(|_| Value::Absent).collect()
}

/// [`evaluate`], reusing the buffers of `scratch`.
pub fn evaluate_in(rs: &RuleSet, record: &Record, opts: Options, scratch: &mut Scratch) -> Decision {
    let mut ev = Evaluator::with_scratch(rs, record, opts, std::mem::take(scratch));
    let decision = decide(rs, &mut ev);
    *scratch = ev.into_scratch();
    decision
}

fn decide<'a>(rs: &'a RuleSet, ev: &mut Evaluator<'a>) -> Decision {
    let mut violations = Vec::new();
    let mut worst: Option<Outcome> = None;
    for (i, rule) in rs.rules.iter().enumerate() {
        if !ev.rule_fires(i) {
            continue;
        }
        if rule.outcome != Outcome::Note {
            worst = worst.max(Some(rule.outcome));
        }
        let message = Message::from(ev.message(i));
        violations.push(Violation { rule: i, message });
    }
    let decision = match worst {
        None => DecisionKind::Accept,
        Some(Outcome::Review | Outcome::Note) => DecisionKind::Review,
        Some(Outcome::Limited) => DecisionKind::Limited,
        Some(Outcome::Reject) => DecisionKind::Reject,
    };
    let next_step = match decision {
        DecisionKind::Accept | DecisionKind::Review => ev.next_step(),
        _ => None,
    };
    Decision {
        decision,
        next_step,
        violations,
    }
}

/// How one rule went for one application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleTrace {
    /// The rule is in force on the evaluation date.
    pub in_force: bool,
    /// `None` when the rule has no guard; otherwise whether it definitely held.
    pub guard: Option<bool>,
    /// The condition's truth; `None` when unknown or not evaluated (not in
    /// force, or the guard did not hold).
    pub condition: Option<bool>,
    pub fired: bool,
}

/// Converts a parsed document with the policy's schema and evaluates it: as
/// of the document's own date when the policy declares `as_of` (never later
/// than `opts.as_of`), else as of `opts.as_of`. `Err` is an input error.
pub fn evaluate_document(rs: &RuleSet, value: &serde_json::Value, opts: Options) -> Result<Decision, String> {
    let as_of = crate::input::record_date(rs.as_of.as_ref(), value, opts.as_of);
    let opts = Options { as_of, ..opts };
    crate::input::convert(value, &rs.schema, &rs.tables, as_of).map(|r| evaluate(rs, &r, opts))
}

/// The state of one evaluation: cached `let` values and which rules fired.
pub struct Evaluator<'a> {
    rs: &'a RuleSet,
    record: &'a Record,
    opts: Options,
    lets: Vec<Option<Value<'a>>>,
    vars: Vec<Value<'a>>,
    fired: Vec<bool>,
}

impl<'a> Evaluator<'a> {
    pub fn new(rs: &'a RuleSet, record: &'a Record, opts: Options) -> Self {
        Evaluator::with_scratch(rs, record, opts, Scratch::default())
    }

    /// An evaluator that uses the buffers of `scratch`.
    pub fn with_scratch(rs: &'a RuleSet, record: &'a Record, opts: Options, scratch: Scratch) -> Self {
        // A `Value<'static>` is a `Value<'a>`: the vectors are taken as they
        // are (only `into_scratch` needs to rebuild them for `'static`).
        let Scratch {
            mut lets,
            mut vars,
            mut fired,
        } = scratch;
        lets.clear();
        vars.clear();
        // `lets` is filled when the first `let` is kept (`store_let`): the
        // compiled evaluator keeps its own.
        if fired.len() == rs.rules.len() {
            fired.fill(false);
        } else {
            fired.clear();
            fired.resize(rs.rules.len(), false);
        }
        Evaluator {
            rs,
            record,
            opts,
            lets,
            vars,
            fired,
        }
    }

    /// The buffers, for the next evaluation.
    pub fn into_scratch(self) -> Scratch {
        Scratch {
            lets: relet(self.lets),
            vars: revar(self.vars),
            fired: self.fired,
        }
    }

    /// Whether rule `i` is in force, its guard holds and its condition holds;
    /// records the answer for `fired(...)`.
    pub fn rule_fires(&mut self, i: usize) -> bool {
        let rs = self.rs;
        let Some(rule) = rs.rules.get(i) else { return false };
        let fires = rule.validity.holds(self.opts.as_of)
            && rule.guard.as_ref().is_none_or(|g| self.holds(g))
            && self.holds(&rule.when);
        if let Some(f) = self.fired.get_mut(i) {
            *f = fires;
        }
        fires
    }

    /// How rule `i` went, step by step (for coverage and explanations);
    /// records whether it fired, as [`rule_fires`](Self::rule_fires) does.
    pub fn rule_trace(&mut self, i: usize) -> RuleTrace {
        let rs = self.rs;
        let Some(rule) = rs.rules.get(i) else {
            return RuleTrace::default();
        };
        let in_force = rule.validity.holds(self.opts.as_of);
        let guard = rule.guard.as_ref().map(|g| in_force && self.holds(g));
        let condition = if in_force && guard != Some(false) {
            self.eval(&rule.when).truth()
        } else {
            None
        };
        let fired = condition == Some(true);
        if let Some(f) = self.fired.get_mut(i) {
            *f = fired;
        }
        RuleTrace {
            in_force,
            guard,
            condition,
            fired,
        }
    }

    /// The rendered message of a rule that fired.
    pub fn message(&mut self, i: usize) -> String {
        let rs = self.rs;
        let Some(rule) = rs.rules.get(i) else {
            return String::new();
        };
        let chosen = rule
            .messages
            .iter()
            .find(|m| m.validity.holds(self.opts.as_of) && m.condition.as_ref().is_none_or(|c| self.holds(c)));
        let Some(m) = chosen.or(rule.messages.last()) else {
            return rule.id.clone();
        };
        let template = m
            .texts
            .get(self.opts.lang)
            .and_then(Option::as_ref)
            .or_else(|| m.texts.first().and_then(Option::as_ref));
        match template {
            Some(t) => self.render(t),
            None => m.message.clone(),
        }
    }

    fn next_step(&mut self) -> Option<usize> {
        let rs = self.rs;
        rs.next_steps
            .iter()
            .position(|s| s.condition.as_ref().is_none_or(|c| self.holds(c)))
    }

    fn render(&mut self, t: &'a Template) -> String {
        let size = t.iter().map(|p| match p {
            crate::ir::Piece::Text(s) => s.len(),
            crate::ir::Piece::Hole(_) | crate::ir::Piece::EnumHole(..) => 16,
        });
        let mut out = String::with_capacity(size.sum());
        for piece in t {
            match piece {
                crate::ir::Piece::Text(s) => out.push_str(s),
                crate::ir::Piece::Hole(e) => {
                    let v = self.eval(e);
                    out.push_str(&self.show(&v));
                }
                crate::ir::Piece::EnumHole(e, id) => {
                    if let Value::Enum(i) = self.eval(e) {
                        let values = self.rs.schema.enums.get(*id as usize);
                        out.push_str(values.and_then(|v| v.get(i as usize)).map_or("", String::as_str));
                    }
                }
            }
        }
        out
    }

    /// Whether an item of a list counts: every item but a table's entry out
    /// of force on the evaluation date (a table walked as a collection).
    pub fn in_force(&self, item: &Field) -> bool {
        in_force(self.rs, self.opts.as_of, item)
    }

    /// A value as a message shows it.
    pub fn show(&self, v: &Value<'_>) -> String {
        show(self.rs, self.opts.lang, v)
    }

    /// Takes the state of another evaluation of the same record: which rules
    /// fired so far and the quantifier variables bound, outermost first (for
    /// `exec`, before it hands an expression to this evaluator).
    pub fn sync<I: IntoIterator<Item = Value<'a>>>(&mut self, fired: &[bool], vars: I) {
        self.fired.clear();
        self.fired.extend_from_slice(fired);
        self.fired.resize(self.rs.rules.len(), false);
        self.vars.clear();
        self.vars.extend(vars);
    }

    /// Keeps the value of `let` number `i` for the rest of the evaluation.
    fn store_let(&mut self, i: usize, v: Value<'a>) {
        if self.lets.is_empty() {
            // Filled in place (`resize` would clone a `None` for each `let`).
            self.lets.resize_with(self.rs.lets.len(), || None);
        }
        if let Some(slot) = self.lets.get_mut(i) {
            *slot = Some(v);
        }
    }

    /// The quantifier variable `depth` levels out (0 = innermost), if bound.
    pub fn var(&self, depth: u16) -> Option<&Value<'a>> {
        self.vars
            .len()
            .checked_sub(1 + depth as usize)
            .and_then(|i| self.vars.get(i))
    }

    /// Binds `v` as the innermost quantifier variable, as a quantifier's body
    /// sees it, until [`unbind`](Self::unbind) (to trace a body item by item).
    pub fn bind(&mut self, v: Value<'a>) {
        self.vars.push(v);
    }

    pub fn unbind(&mut self) {
        self.vars.pop();
    }

    pub fn holds(&mut self, e: &'a CExpr) -> bool {
        self.truth(e) == Some(true)
    }

    /// The truth of a condition: `None` when unknown (or not a bool). The
    /// boolean connectives and comparisons are evaluated here without
    /// building a [`Value`] for each node; `eval` defers to this for them.
    fn truth(&mut self, e: &'a CExpr) -> Option<bool> {
        match e {
            CExpr::Not(x) => self.truth(x).map(|b| !b),
            CExpr::And(l, r) => match self.truth(l) {
                Some(false) => Some(false),
                lv => match (lv, self.truth(r)) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
            },
            CExpr::Or(l, r) => match self.truth(l) {
                Some(true) => Some(true),
                lv => match (lv, self.truth(r)) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            },
            CExpr::Cmp(op, l, r) => self.cmp(*op, l, r),
            CExpr::Fired(i) => Some(self.fired.get(*i as usize).copied().unwrap_or(false)),
            CExpr::Const(f) => Value::of(f).truth(),
            CExpr::Let(i) => match self.lets.get(*i as usize) {
                Some(Some(v)) => v.truth(),
                _ => self.eval(e).truth(),
            },
            _ => self.eval(e).truth(),
        }
    }

    /// A comparison. Fields and constants are compared where they lie, and
    /// two normalised names without building either.
    fn cmp(&mut self, op: CmpOp, l: &'a CExpr, r: &'a CExpr) -> Option<bool> {
        if let (Some(a), Some(b)) = (self.field_ref(l), self.field_ref(r)) {
            return compare(op, &Value::of(a), &Value::of(b));
        }
        if let (CmpOp::Eq | CmpOp::Ne, CExpr::Call(Builtin::NormalizeName, a), CExpr::Call(Builtin::NormalizeName, b)) =
            (op, l, r)
            && let ([a], [b]) = (a.as_slice(), b.as_slice())
        {
            return match (self.eval(a), self.eval(b)) {
                (Value::Text(a), Value::Text(b)) => Some(text::same_name(&a, &b) == (op == CmpOp::Eq)),
                _ => None,
            };
        }
        let (a, b) = (self.eval(l), self.eval(r));
        compare(op, &a, &b)
    }

    /// A constant or a field path as it lies in the rule set or the record;
    /// `None` for any other expression.
    fn field_ref(&self, e: &'a CExpr) -> Option<&'a Field> {
        static ABSENT: Field = Field::Absent;
        let (base, slots): (&'a [Field], &[u16]) = match e {
            CExpr::Const(f) => return Some(f),
            CExpr::Field(slots) => (&self.record.fields, slots),
            CExpr::Var(depth, slots) if !slots.is_empty() => {
                let i = self.vars.len().checked_sub(1 + *depth as usize)?;
                match self.vars.get(i)? {
                    Value::Record(r) => (r, slots),
                    _ => return Some(&ABSENT),
                }
            }
            _ => return None,
        };
        let (last, init) = slots.split_last()?;
        let mut cur = base;
        for &s in init {
            match cur.get(s as usize) {
                Some(Field::Record(r)) => cur = r,
                _ => return Some(&ABSENT),
            }
        }
        Some(cur.get(*last as usize).unwrap_or(&ABSENT))
    }

    fn path(&self, base: &'a [Field], slots: &[u16]) -> Value<'a> {
        let mut cur: &'a [Field] = base;
        let Some((last, init)) = slots.split_last() else {
            return Value::Record(base);
        };
        for &s in init {
            match cur.get(s as usize) {
                Some(Field::Record(r)) => cur = r,
                _ => return Value::Absent,
            }
        }
        cur.get(*last as usize).map_or(Value::Absent, Value::of)
    }

    pub fn eval(&mut self, e: &'a CExpr) -> Value<'a> {
        match e {
            CExpr::Const(f) => Value::of(f),
            CExpr::Field(slots) => self.path(&self.record.fields, slots),
            CExpr::Var(depth, slots) => {
                let Some(v) = self
                    .vars
                    .len()
                    .checked_sub(1 + *depth as usize)
                    .and_then(|i| self.vars.get(i))
                else {
                    return Value::Absent;
                };
                match v {
                    Value::Record(r) => {
                        let r: &'a [Field] = r;
                        if slots.is_empty() {
                            Value::Record(r)
                        } else {
                            self.path(r, slots)
                        }
                    }
                    other if slots.is_empty() => other.clone(),
                    _ => Value::Absent,
                }
            }
            CExpr::Let(i) => {
                let i = *i as usize;
                if let Some(Some(v)) = self.lets.get(i) {
                    return v.clone();
                }
                let rs = self.rs;
                let Some(expr) = rs.lets.get(i) else {
                    return Value::Absent;
                };
                let v = self.eval(expr);
                self.store_let(i, v.clone());
                v
            }
            CExpr::EntryAttr(b, _, attr) => match self.eval(b) {
                Value::Entry(t, id, _) => entry_attr(self.rs, t, id, *attr).map_or(Value::Absent, Value::of),
                _ => Value::Absent,
            },
            CExpr::EntryKnown(b) => match self.eval(b) {
                Value::Entry(_, id, _) => Value::Bool(id.is_some()),
                _ => Value::Absent,
            },
            CExpr::EntryCode(b) => match self.eval(b) {
                Value::Entry(t, Some(id), _) => {
                    entry_code(self.rs, t, id).map_or(Value::Absent, |c| Value::Text(Cow::Borrowed(c)))
                }
                _ => Value::Absent,
            },
            CExpr::Lookup(t, x) => match self.eval(x) {
                Value::Text(s) => match self.rs.table(*t).and_then(|table| table.resolve(&s, self.opts.as_of)) {
                    Some(id) => Value::Entry(*t, Some(id), entry_code(self.rs, *t, id).unwrap_or("")),
                    None => Value::Absent,
                },
                _ => Value::Absent,
            },
            CExpr::Table(t) => self.rs.table(*t).map_or(Value::Absent, |table| Value::List(&table.all)),
            CExpr::Not(_) | CExpr::And(..) | CExpr::Or(..) | CExpr::Cmp(..) => tri(self.truth(e)),
            CExpr::In(x, items) => {
                let v = self.eval(x);
                if v == Value::Absent {
                    return Value::Absent;
                }
                let mut unknown = false;
                for item in items {
                    match compare(CmpOp::Eq, &v, &self.eval(item)) {
                        Some(true) => return Value::Bool(true),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                if unknown { Value::Absent } else { Value::Bool(false) }
            }
            CExpr::Call(b, args) => self.call(*b, args),
            CExpr::Quant(q, list, body) => {
                let Value::List(items) = self.eval(list) else {
                    return Value::Absent;
                };
                let mut count = 0i64;
                let mut unknown = false;
                for item in items {
                    if !self.in_force(item) {
                        continue;
                    }
                    self.vars.push(Value::of(item));
                    let t = self.eval(body).truth();
                    self.vars.pop();
                    match (q, t) {
                        (Quantifier::Any, Some(true)) => return Value::Bool(true),
                        (Quantifier::All, Some(false)) => return Value::Bool(false),
                        (Quantifier::Count, Some(true)) => count += 1,
                        (_, None) => unknown = true,
                        _ => {}
                    }
                }
                match q {
                    Quantifier::Count => Value::Num(Decimal::from_i64(count)),
                    Quantifier::Any if unknown => Value::Absent,
                    Quantifier::Any => Value::Bool(false),
                    Quantifier::All if unknown => Value::Absent,
                    Quantifier::All => Value::Bool(true),
                    // Compiled as `CExpr::Aggregate`, never as a quantifier.
                    Quantifier::Sum | Quantifier::Min | Quantifier::Max => Value::Absent,
                }
            }
            CExpr::Fired(i) => Value::Bool(self.fired.get(*i as usize).copied().unwrap_or(false)),
            CExpr::Today => Value::Date(self.opts.as_of),
            CExpr::Arith(op, l, r) => match (self.eval(l), self.eval(r)) {
                (Value::Num(a), Value::Num(b)) => arith(*op, &a, &b).map_or(Value::Absent, Value::Num),
                _ => Value::Absent,
            },
            CExpr::DateShift(d, n, unit) => match self.eval(d) {
                Value::Date(d) => shift(d, *n, *unit).map_or(Value::Absent, Value::Date),
                _ => Value::Absent,
            },
            CExpr::Aggregate(op, list, body) => self.aggregate(*op, list, body),
        }
    }

    /// `sum/min/max(x in list: number)`: absent when the list is, when any
    /// item's number is absent, or (`min`, `max`) when the list is empty.
    fn aggregate(&mut self, op: AggOp, list: &'a CExpr, body: &'a CExpr) -> Value<'a> {
        let Value::List(items) = self.eval(list) else {
            return Value::Absent;
        };
        let mut acc: Option<Decimal> = (op == AggOp::Sum).then_some(Decimal::ZERO);
        for item in items {
            if !self.in_force(item) {
                continue;
            }
            self.vars.push(Value::of(item));
            let v = self.eval(body);
            self.vars.pop();
            let Value::Num(n) = v else { return Value::Absent };
            acc = match (op, acc) {
                (AggOp::Sum, Some(a)) => match a.checked_add(&n) {
                    Some(s) => Some(s),
                    None => return Value::Absent,
                },
                (AggOp::Min, Some(a)) => Some(a.min(n)),
                (AggOp::Max, Some(a)) => Some(a.max(n)),
                (_, None) => Some(n),
            };
        }
        acc.map_or(Value::Absent, Value::Num)
    }

    /// The built-ins over numbers and dates, and those of a text and numbers.
    fn call_values(&mut self, b: Builtin, args: &'a [CExpr]) -> Value<'a> {
        let mut vals = args.iter().map(|a| self.eval(a)).collect::<Vec<_>>().into_iter();
        let (a, c, d) = (vals.next(), vals.next(), vals.next());
        let int = |v: &Option<Value<'_>>| match v {
            Some(Value::Num(n)) => n.to_i64(),
            _ => None,
        };
        let out = match (b, a) {
            (Builtin::Upper, Some(Value::Text(t))) => Some(Value::Text(Cow::Owned(text::nfc(&t).to_uppercase()))),
            (Builtin::Slice, Some(Value::Text(t))) => int(&c).zip(int(&d)).map(|(from, to)| {
                let from = usize::try_from(from.max(0)).unwrap_or(usize::MAX);
                let to = usize::try_from(to.max(0)).unwrap_or(usize::MAX);
                let nfc = text::nfc(&t);
                Value::Text(Cow::Owned(
                    nfc.chars().skip(from).take(to.saturating_sub(from)).collect(),
                ))
            }),
            (Builtin::CharAt, Some(Value::Text(t))) => int(&c)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| text::nfc(&t).chars().nth(i))
                .map(|ch| Value::Text(Cow::Owned(ch.to_string()))),
            (Builtin::Number, Some(Value::Text(t))) => Decimal::parse(&t).ok().map(Value::Num),
            (Builtin::DateFrom(layout), Some(Value::Text(t))) => layout.parse(&t).map(Value::Date),
            (Builtin::YearsBetween, Some(Value::Date(from))) => match c {
                Some(Value::Date(to)) => Some(Value::Num(Decimal::from_i64(from.years_until(&to)))),
                _ => None,
            },
            (Builtin::DaysBetween, Some(Value::Date(from))) => match c {
                Some(Value::Date(to)) => Some(Value::Num(Decimal::from_i64(to.unix_days() - from.unix_days()))),
                _ => None,
            },
            (Builtin::Round | Builtin::Floor | Builtin::Ceil, Some(Value::Num(n))) => {
                let mode = match b {
                    Builtin::Round => Rounding::HalfAway,
                    Builtin::Floor => Rounding::Floor,
                    _ => Rounding::Ceil,
                };
                int(&c).and_then(|p| n.round_to(p, mode)).map(Value::Num)
            }
            _ => None,
        };
        out.unwrap_or(Value::Absent)
    }

    // Kept out of `eval`, so that the common nodes run in a small stack frame.
    #[inline(never)]
    fn call(&mut self, b: Builtin, args: &'a [CExpr]) -> Value<'a> {
        if b == Builtin::Present {
            return Value::Bool(args.first().is_some_and(|a| self.eval(a) != Value::Absent));
        }
        if b == Builtin::Mask {
            // Any value: the compiler masks placeholders of every type.
            return match args.first().map(|a| self.eval(a)) {
                None | Some(Value::Absent) => Value::Absent,
                Some(v) if self.rs.show_pii => Value::Text(Cow::Owned(self.show(&v))),
                Some(v) => Value::Text(Cow::Owned(text::mask(&self.show(&v)))),
            };
        }
        if let Builtin::CountBanks(a) = b {
            return count_banks(self.rs, a, self.opts.as_of);
        }
        if matches!(
            b,
            Builtin::Upper
                | Builtin::Slice
                | Builtin::CharAt
                | Builtin::Number
                | Builtin::DateFrom(_)
                | Builtin::YearsBetween
                | Builtin::DaysBetween
                | Builtin::Round
                | Builtin::Floor
                | Builtin::Ceil
        ) {
            return self.call_values(b, args);
        }
        if b == Builtin::Size {
            return match args.first().map(|a| self.eval(a)) {
                Some(Value::List(l)) => Value::Num(Decimal::from_i64(i64::try_from(l.len()).unwrap_or(i64::MAX))),
                _ => Value::Absent,
            };
        }
        let mut texts: [Cow<'a, str>; 2] = [Cow::Borrowed(""), Cow::Borrowed("")];
        for (slot, a) in texts.iter_mut().zip(args) {
            match self.eval(a) {
                Value::Text(t) => *slot = t,
                _ => return Value::Absent,
            }
        }
        let [s, t] = texts;
        let rs = self.rs;
        let charset = |i: u32| rs.charsets.get(i as usize);
        let text_of = |c: Cow<'_, str>| -> Cow<'a, str> { Cow::Owned(c.into_owned()) };
        let map = |s: Cow<'a, str>, f: for<'b> fn(&'b str) -> Cow<'b, str>| -> Value<'a> {
            Value::Text(match s {
                Cow::Borrowed(b) => f(b),
                Cow::Owned(o) => text_of(f(&o)),
            })
        };
        match b {
            Builtin::Length => {
                // An argument that is NFC already (`nfc(...)`, or a `let` of one) is not checked again.
                let nfc = |e: &CExpr| matches!(e, CExpr::Call(Builtin::Nfc, _));
                let known_nfc = args.first().is_some_and(|a| match a {
                    CExpr::Let(i) => rs.lets.get(*i as usize).is_some_and(nfc),
                    other => nfc(other),
                });
                let n = if known_nfc {
                    s.chars().count()
                } else {
                    text::nfc(&s).chars().count()
                };
                Value::Num(Decimal::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            Builtin::Nfc => map(s, text::nfc),
            Builtin::Trim => map(s, str::trim_cow),
            Builtin::FoldSpace => map(s, text::fold_space),
            Builtin::AsciiLower => map(s, text::ascii_lower),
            Builtin::Lower => map(s, text::lower),
            Builtin::NormalizeName => map(s, text::normalize_name),
            Builtin::Only(c) => tri(charset(c).map(|c| s.chars().all(|ch| c.contains(ch)))),
            Builtin::HasAny(c) => tri(charset(c).map(|c| s.chars().any(|ch| c.contains(ch)))),
            Builtin::FirstOutside(c) => match charset(c).and_then(|c| c.first_outside(&s)) {
                Some((_, ch)) => Value::Text(Cow::Owned(ch.to_string())),
                None => Value::Absent,
            },
            Builtin::Remove(c) => match charset(c) {
                Some(c) if s.chars().any(|ch| c.contains(ch)) => {
                    let mut out = String::with_capacity(s.len());
                    out.extend(s.chars().filter(|&ch| !c.contains(ch)));
                    Value::Text(Cow::Owned(out))
                }
                Some(_) => Value::Text(s),
                None => Value::Absent,
            },
            Builtin::StartsWith => Value::Bool(s.starts_with(&*t)),
            Builtin::EndsWith => Value::Bool(s.ends_with(&*t)),
            Builtin::Contains => Value::Bool(s.contains(&*t)),
            Builtin::StripPrefix => match s {
                Cow::Borrowed(b) => Value::Text(Cow::Borrowed(b.strip_prefix(&*t).unwrap_or(b))),
                Cow::Owned(o) => Value::Text(Cow::Owned(o.strip_prefix(&*t).unwrap_or(&o).to_string())),
            },
            Builtin::Matches(p) => tri(rs.patterns.get(p as usize).and_then(|re| re.is_match(&s))),
            Builtin::CharName => Value::Text(Cow::Owned(
                s.chars().next().map(crate::chars::describe).unwrap_or_default(),
            )),
            Builtin::CharCode => Value::Text(Cow::Owned(
                s.chars()
                    .next()
                    .map(|c| format!("U+{:04X}", c as u32))
                    .unwrap_or_default(),
            )),
            Builtin::ConfusableHint => match s.chars().next().and_then(crate::chars::confusable_hint) {
                Some(h) => Value::Text(Cow::Owned(h)),
                None => Value::Absent,
            },
            Builtin::Luhn => Value::Bool(text::luhn(&s)),
            Builtin::Icao9303 => Value::Bool(text::icao9303(&s)),
            Builtin::Mod11_2 => Value::Bool(text::mod11_2(&s)),
            Builtin::Present
            | Builtin::Size
            | Builtin::Mask
            | Builtin::CountBanks(_)
            | Builtin::Upper
            | Builtin::Slice
            | Builtin::CharAt
            | Builtin::Number
            | Builtin::DateFrom(_)
            | Builtin::YearsBetween
            | Builtin::DaysBetween
            | Builtin::Round
            | Builtin::Floor
            | Builtin::Ceil => Value::Absent,
        }
    }
}

/// Whether a list item is in force on `day`: a table entry between its
/// `effective` and `until` dates; any other item always.
pub fn in_force(rs: &RuleSet, day: Date, item: &Field) -> bool {
    match item {
        Field::Entry(EntryValue {
            table, id: Some(id), ..
        }) => rs
            .table(*table)
            .and_then(|t| t.list.get(*id as usize))
            .is_none_or(|e| e.validity.holds(day)),
        _ => true,
    }
}

/// A value as a message in language `lang` shows it.
pub fn show(rs: &RuleSet, lang: usize, v: &Value<'_>) -> String {
    match v {
        Value::Absent => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Text(t) => t.to_string(),
        Value::Num(n) => n.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Enum(e) => format!("#{e}"),
        Value::Entry(t, Some(id), _) => rs.table(*t).map_or("", |table| table.display(*id, lang)).to_string(),
        Value::Entry(_, None, typed) => (*typed).to_string(),
        Value::Record(_) | Value::List(_) => String::new(),
    }
}

/// `count_banks(attr)`: how many banks in force on `day` have the boolean
/// attribute `attr` set.
pub fn count_banks(rs: &RuleSet, attr: u32, day: Date) -> Value<'static> {
    let n = rs
        .table(crate::ir::BANK_TABLE)
        .map_or(&[][..], |t| &t.list)
        .iter()
        .filter(|bank| bank.validity.holds(day) && bank.attrs.get(attr as usize) == Some(&Field::Bool(true)))
        .count();
    Value::Num(Decimal::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Exact arithmetic; `None` (absent) on division by zero or overflow.
/// An attribute of an entry of table `t`: its own value, or the default
/// (also for an entry that resolved to none).
pub fn entry_attr(rs: &RuleSet, t: u32, id: Option<u32>, attr: u32) -> Option<&Field> {
    let table = rs.table(t)?;
    id.and_then(|id| table.list.get(id as usize))
        .and_then(|e| e.attrs.get(attr as usize))
        .or_else(|| table.attributes.get(attr as usize).map(|a| &a.default))
}

/// The code of an entry of table `t`.
pub fn entry_code(rs: &RuleSet, t: u32, id: u32) -> Option<&str> {
    rs.table(t)?.list.get(id as usize).map(|e| e.code.as_str())
}

fn arith(op: ArithOp, a: &Decimal, b: &Decimal) -> Option<Decimal> {
    match op {
        ArithOp::Add => a.checked_add(b),
        ArithOp::Sub => a.checked_sub(b),
        ArithOp::Mul => a.checked_mul(b),
        ArithOp::Div => a.checked_div(b),
        ArithOp::Mod => a.checked_rem(b),
    }
}

/// A date moved by `n` units; `None` outside the calendar's range.
pub fn shift(d: Date, n: i64, unit: DateUnit) -> Option<Date> {
    match unit {
        DateUnit::Days => d.add_days(n),
        DateUnit::Months => d.add_months(n),
        DateUnit::Years => d.add_months(n.checked_mul(12)?),
    }
}

trait TrimCow {
    fn trim_cow(&self) -> Cow<'_, str>;
}

impl TrimCow for str {
    fn trim_cow(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.trim())
    }
}

/// Compares two values of one type; `None` when either is absent.
pub fn compare(op: CmpOp, a: &Value<'_>, b: &Value<'_>) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, b) {
        (Value::Absent, _) | (_, Value::Absent) => return None,
        (Value::Num(x), Value::Num(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Text(x), Value::Text(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Enum(x), Value::Enum(y)) => Some(x.cmp(y)),
        // An unresolved bank equals no declared bank.
        (Value::Entry(s, x, _), Value::Entry(t, y, _)) => match (x, y) {
            (Some(x), Some(y)) if x == y && s == t => Some(Ordering::Equal),
            _ => None,
        }
        .or(Some(Ordering::Less)),
        _ => None,
    };
    let ord = ord?;
    Some(match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    })
}
