//! The compiled evaluator: a [`RuleSet`]'s expressions turned once into
//! nested closures, then run per record.
//!
//! Conditions are closures that return a truth value (`Option<bool>`, `None`
//! for unknown) and never build a [`Value`]; field paths are read as slot
//! offsets; sub-expressions that read nothing are folded to constants; `let`s
//! are computed once per record and only when read (a boolean one as a byte,
//! any other in a small per-evaluation memo; one that only names a field is
//! read in place); texts carry what is known of them (ASCII, NFC), cached
//! per record for each text field, so that `length`, `nfc` and charset
//! checks of ASCII text are byte loops; simple anchored patterns are matched
//! without the regex engine (`pattern.rs`). Quantifier variables are the
//! list items themselves, on a stack of eight.
//!
//! Message choices are compiled too: a text without placeholders is held
//! once by the [`Program`] and shared by every violation that shows it
//! ([`Message`]); a template is its literal parts and its placeholders'
//! closures, rendered into a reused buffer.
//!
//! Any expression kind this module does not specialise (and quantifiers
//! nested deeper than eight) is evaluated by the reference tree walker,
//! [`eval::Evaluator`], made when first needed in an evaluation and told
//! which rules fired and where the enclosing quantifiers are: new kinds of
//! expression work here the day they land.
//! A differential property test (`tests/exec.rs`) keeps the two evaluators'
//! decisions and messages identical.

mod pattern;

use crate::ast::Quantifier;
use crate::decimal::Decimal;
use crate::eval::{self, Decision, DecisionKind, Evaluator, Message, Options, Value, Violation};
use crate::ir::{Builtin, CExpr, CmpOp, Outcome, Piece, Rule, RuleSet, Template};
use crate::record::{Field, Record};
use crate::text;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

type Cond = Box<dyn for<'a> Fn(&mut Ev<'a>) -> Option<bool> + Send + Sync>;
type Val = Box<dyn for<'a> Fn(&mut Ev<'a>) -> Value<'a> + Send + Sync>;
type Txt = Box<dyn for<'a> Fn(&mut Ev<'a>) -> Option<Text<'a>> + Send + Sync>;

/// A boolean `let`'s state in an evaluation: not computed yet, or its truth.
const NOT_YET: u8 = 0;
const UNKNOWN: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;

/// What is known of a text: checked ASCII, checked not ASCII, known NFC.
const ASCII: u8 = 1;
const NOT_ASCII: u8 = 2;
const NFC: u8 = 4;

/// A text during evaluation, with what is known of it.
struct Text<'a> {
    s: Cow<'a, str>,
    facts: u8,
}

impl Text<'_> {
    fn is_ascii(&mut self) -> bool {
        if self.facts & (ASCII | NOT_ASCII) == 0 {
            self.facts |= facts_of(&self.s);
        }
        self.facts & ASCII != 0
    }

    /// The number of characters of its NFC form: inlined for text known to
    /// be ASCII (the usual phone number), the rest out of line.
    #[inline(always)]
    fn nfc_len(&mut self) -> usize {
        if self.facts & ASCII != 0 {
            self.s.len()
        } else {
            self.nfc_len_slow()
        }
    }

    #[inline(never)]
    fn nfc_len_slow(&mut self) -> usize {
        if self.is_ascii() {
            self.s.len()
        } else if self.facts & NFC != 0 {
            self.s.chars().count()
        } else {
            text::nfc(&self.s).chars().count()
        }
    }
}

fn facts_of_char(c: char) -> u8 {
    if c.is_ascii() { ASCII | NFC } else { NOT_ASCII }
}

fn facts_of(s: &str) -> u8 {
    if s.is_ascii() { ASCII | NFC } else { NOT_ASCII }
}

/// A charset's ASCII members as a table of the 256 byte values (only the
/// first 128 can be members), built once when the program compiles.
#[derive(Clone, Copy)]
struct AsciiSet([bool; 256]);

impl AsciiSet {
    fn has(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

/// The facts that survive a transformation that keeps ASCII text ASCII.
fn keep_ascii(facts: u8) -> u8 {
    if facts & ASCII != 0 { ASCII | NFC } else { 0 }
}

fn tri(v: Option<bool>) -> Value<'static> {
    v.map_or(Value::Absent, Value::Bool)
}

/// A rule set compiled for evaluation. Built once per rule set
/// ([`Program::new`]) and shared by every worker thread.
pub struct Program {
    /// The rule set's content hash and shape, to refuse another rule set.
    hash: String,
    rules: Vec<CRule>,
    next_steps: Vec<Option<Cond>>,
    let_cond: Vec<Cond>,
    let_val: Vec<Val>,
    let_txt: Vec<Txt>,
    /// Constants read by reference (so that a value can borrow them).
    consts: Vec<Field>,
    /// Expressions left to the reference evaluator.
    fallback: Vec<CExpr>,
    /// The fast forms of the rule set's patterns.
    patterns: Vec<Option<pattern::Simple>>,
    /// How many text fields have a per-record facts cache.
    fact_slots: usize,
    /// The message texts without placeholders (and the rule ids shown when a
    /// rule has no message), shared by every violation that shows them.
    texts: Vec<Arc<str>>,
    /// Tells programs apart, for the workers' own copies of `texts`.
    id: u64,
}

/// The last program id given out.
static PROGRAM_IDS: AtomicU64 = AtomicU64::new(0);

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("rules", &self.rules.len())
            .field("fallbacks", &self.fallback.len())
            .field("fact_slots", &self.fact_slots)
            .finish_non_exhaustive()
    }
}

struct CRule {
    guard: Option<Cond>,
    when: Cond,
    /// Its message choices, as [`Rule::messages`].
    messages: Vec<CMessage>,
    /// The text shown when it has no message choice: its id.
    id_text: usize,
}

/// A message choice of a rule, compiled.
struct CMessage {
    condition: Option<Cond>,
    /// One text per language, as [`RuleMessage::texts`](crate::ir::RuleMessage::texts).
    texts: Vec<Option<Shown>>,
    /// What is shown when no language has a template.
    plain: Shown,
}

/// A message text: shared when it has no placeholder, else a template.
enum Shown {
    /// Index into [`Program::texts`].
    Shared(usize),
    Template(Box<[CPiece]>),
}

/// A piece of a template: literal text, or a placeholder's value.
enum CPiece {
    Text(Box<str>),
    Hole(Val),
    /// A placeholder of an enum type, shown by the value's name in that enum.
    EnumHole(Val, u32),
}

/// A text built-in's value, kept for the rest of an evaluation (a message
/// may compute the same `first_outside(...)` for its condition and again for
/// each placeholder).
#[derive(Debug, Default)]
enum Memo<'a> {
    /// Not computed yet in this evaluation.
    #[default]
    Unknown,
    Absent,
    Text(Cow<'a, str>, u8),
    /// A `let` of another type than text or truth value.
    Val(Value<'a>),
}

/// How many values an evaluation keeps (memo slots past these are computed
/// each time they are read).
const MEMO_KEPT: usize = 8;

/// How many quantifiers may nest in compiled code; a deeper one is left to
/// the reference evaluator.
const MAX_BOUND: usize = 8;

/// The buffers of an evaluation, kept between evaluations (one per worker).
#[derive(Debug, Default)]
pub struct Scratch {
    /// The reference evaluator's buffers.
    eval: eval::Scratch,
    /// Facts of text fields in an evaluation, by fact slot (0 = not looked
    /// at yet).
    facts: Vec<u8>,
    /// The truth of boolean `let`s in an evaluation, by `let`: [`NOT_YET`],
    /// [`UNKNOWN`], [`FALSE`] or [`TRUE`].
    let_truth: Vec<u8>,
    /// Whether each rule fired so far in an evaluation, for `fired(...)`.
    fired: Vec<bool>,
    /// `count_banks` answers by attribute and day, kept from one record to
    /// the next (a batch is usually of one day).
    counts: Vec<(u32, crate::date::Date, Decimal)>,
    /// This worker's copy of the program's shared texts (so that workers do
    /// not count references on the same cache lines), and the program's id.
    texts: Vec<Arc<str>>,
    texts_of: u64,
    /// Where messages are rendered before being copied out at their length.
    buf: String,
    /// Characters described for messages (`char_name`), kept from one record
    /// to the next: looking a name up costs thousands of instructions, and a
    /// batch shows the same few characters again and again.
    names: Vec<(char, Box<str>)>,
    /// Characters' look-alike hints (`confusable_hint`), kept likewise.
    hints: Vec<(char, Option<Box<str>>)>,
}

/// How many described characters a worker keeps.
const NAMES_KEPT: usize = 64;

/// How many bank counts a worker keeps.
const COUNTS_KEPT: usize = 16;

/// The state of one evaluation.
struct Ev<'a> {
    prog: &'a Program,
    rs: &'a RuleSet,
    record: &'a Record,
    root: &'a [Field],
    opts: Options,
    /// The items the quantifiers being evaluated are at, outermost first.
    bound: [&'a Field; MAX_BOUND],
    nbound: usize,
    /// The reference evaluator, made when an expression is first left to it.
    reference: Option<Evaluator<'a>>,
    /// `let`s' and text built-ins' values, by memo slot.
    memo: [Memo<'a>; MEMO_KEPT],
    /// The worker's buffers and caches, used in place.
    w: &'a mut Scratch,
}

impl<'a> Ev<'a> {
    /// The item the quantifier `depth` levels out (0 = innermost) is at.
    #[inline(always)]
    fn var(&self, depth: u16) -> Option<&'a Field> {
        let i = self.nbound.checked_sub(1 + depth as usize)?;
        self.bound.get(i).copied()
    }

    /// A slot for one more quantifier variable (the compiler nests at most
    /// [`MAX_BOUND`]); the caller sets `nbound` back to it when done.
    #[inline(always)]
    fn bind(&mut self) -> Option<usize> {
        let slot = self.nbound;
        (slot < MAX_BOUND).then(|| {
            self.nbound = slot + 1;
            slot
        })
    }

    /// The reference evaluator, told which rules fired so far and where the
    /// quantifiers are.
    fn reference(&mut self) -> &mut Evaluator<'a> {
        let (rs, record, opts) = (self.rs, self.record, self.opts);
        let scratch = &mut self.w.eval;
        let r = self
            .reference
            .get_or_insert_with(|| Evaluator::with_scratch(rs, record, opts, std::mem::take(scratch)));
        let bound = self.bound.get(..self.nbound).unwrap_or(&[]);
        r.sync(&self.w.fired, bound.iter().map(|f| Value::of(f)));
        r
    }

    fn field_facts(&mut self, slot: usize, s: &str) -> u8 {
        match self.w.facts.get_mut(slot) {
            Some(f) if *f != 0 => *f,
            Some(f) => {
                *f = facts_of(s);
                *f
            }
            None => 0,
        }
    }

    /// [`chars::describe`](crate::chars::describe), from the worker's cache.
    fn describe(&mut self, c: char) -> String {
        if let Some((_, d)) = self.w.names.iter().find(|(k, _)| *k == c) {
            return String::from(&**d);
        }
        let d = crate::chars::describe(c);
        if self.w.names.len() >= NAMES_KEPT {
            self.w.names.clear();
        }
        self.w.names.push((c, d.as_str().into()));
        d
    }

    /// [`chars::confusable_hint`](crate::chars::confusable_hint), from the
    /// worker's cache.
    fn confusable_hint(&mut self, c: char) -> Option<String> {
        if let Some((_, h)) = self.w.hints.iter().find(|(k, _)| *k == c) {
            return h.as_deref().map(String::from);
        }
        let h = crate::chars::confusable_hint(c);
        if self.w.hints.len() >= NAMES_KEPT {
            self.w.hints.clear();
        }
        self.w.hints.push((c, h.as_deref().map(Box::from)));
        h
    }

    /// [`eval::count_banks`], from the worker's cache.
    fn count_banks(&mut self, attr: u32) -> Value<'a> {
        let day = self.opts.as_of;
        if let Some((.., n)) = self.w.counts.iter().find(|(a, d, _)| *a == attr && *d == day) {
            return Value::Num(*n);
        }
        let v = eval::count_banks(self.rs, attr, day);
        if let Value::Num(n) = v {
            if self.w.counts.len() >= COUNTS_KEPT {
                self.w.counts.clear();
            }
            self.w.counts.push((attr, day, n));
        }
        v
    }

    fn constant(&self, k: usize) -> Value<'a> {
        let p: &'a Program = self.prog;
        p.consts.get(k).map_or(Value::Absent, Value::of)
    }
}

static ABSENT: Field = Field::Absent;

/// The field at a path of slots from `base`; absent when the path leaves the record.
fn path<'a>(base: &'a [Field], slots: &[u16]) -> &'a Field {
    let Some((last, init)) = slots.split_last() else {
        return &ABSENT;
    };
    let mut cur = base;
    for &s in init {
        match cur.get(s as usize) {
            Some(Field::Record(r)) => cur = r,
            _ => return &ABSENT,
        }
    }
    cur.get(*last as usize).unwrap_or(&ABSENT)
}

/// A path of slots, with the usual short ones held in place (no pointer to
/// follow, no loop).
#[derive(Clone)]
enum Path {
    One(u16),
    Two(u16, u16),
    Long(Box<[u16]>),
}

impl Path {
    fn new(slots: &[u16]) -> Path {
        match *slots {
            [a] => Path::One(a),
            [a, b] => Path::Two(a, b),
            _ => Path::Long(slots.into()),
        }
    }

    /// The field at this path from `base`; absent when the path leaves the record.
    #[inline(always)]
    fn get<'a>(&self, base: &'a [Field]) -> &'a Field {
        match self {
            Path::One(a) => base.get(*a as usize).unwrap_or(&ABSENT),
            Path::Two(a, b) => match base.get(*a as usize) {
                Some(Field::Record(r)) => r.get(*b as usize).unwrap_or(&ABSENT),
                _ => &ABSENT,
            },
            Path::Long(slots) => path(base, slots),
        }
    }
}

/// Where a plain read finds its field.
#[derive(Clone)]
enum Read {
    Const(usize),
    Root(Path),
    Var(u16, Path),
}

impl Read {
    /// Inlined into each closure that reads a field: a call and a return
    /// cost as much as the read itself.
    #[inline(always)]
    fn get<'a>(&self, ev: &Ev<'a>) -> &'a Field {
        match self {
            Read::Const(k) => {
                let p: &'a Program = ev.prog;
                p.consts.get(*k).unwrap_or(&ABSENT)
            }
            Read::Root(p) => p.get(ev.root),
            Read::Var(depth, p) => match ev.var(*depth) {
                Some(Field::Record(r)) => p.get(r),
                _ => &ABSENT,
            },
        }
    }
}

/// A text argument of a built-in: a field or a constant read in place (no
/// call to a closure, no owned text to drop), or any other text expression.
enum TxtArg {
    /// A root path, and its field's fact slot.
    Field(Path, usize),
    /// A constant of [`Program::consts`].
    Const(usize),
    Dyn(Txt),
}

impl TxtArg {
    #[inline(always)]
    fn get<'a>(&self, ev: &mut Ev<'a>) -> Option<Text<'a>> {
        match self {
            TxtArg::Field(p, k) => match p.get(ev.root) {
                Field::Text(s) => {
                    let facts = ev.field_facts(*k, s);
                    Some(Text {
                        s: Cow::Borrowed(s),
                        facts,
                    })
                }
                _ => None,
            },
            TxtArg::Const(k) => {
                let prog: &'a Program = ev.prog;
                match prog.consts.get(*k) {
                    Some(Field::Text(s)) => Some(Text {
                        s: Cow::Borrowed(s),
                        facts: 0,
                    }),
                    _ => None,
                }
            }
            TxtArg::Dyn(f) => f(ev),
        }
    }
}

/// The list a quantifier walks: a field of the record read in place, or any
/// other list expression.
enum ListArg {
    Root(Path),
    Dyn(Val),
}

impl ListArg {
    #[inline(always)]
    fn get<'a>(&self, ev: &mut Ev<'a>) -> Option<&'a [Field]> {
        match self {
            ListArg::Root(p) => match p.get(ev.root) {
                Field::List(items) => Some(items),
                _ => None,
            },
            ListArg::Dyn(v) => match v(ev) {
                Value::List(items) => Some(items),
                _ => None,
            },
        }
    }
}

/// Compares two fields as [`eval::compare`] compares their values.
fn compare_fields(op: CmpOp, a: &Field, b: &Field) -> Option<bool> {
    use std::cmp::Ordering;
    let ord: Ordering = match (a, b) {
        (Field::Absent, _) | (_, Field::Absent) => return None,
        (Field::Enum(x), Field::Enum(y)) => x.cmp(y),
        (Field::Num(x), Field::Num(y)) => x.cmp(y),
        (Field::Bool(x), Field::Bool(y)) => x.cmp(y),
        (Field::Date(x), Field::Date(y)) => x.cmp(y),
        (Field::Text(x), Field::Text(y)) => x.as_str().cmp(y.as_str()),
        _ => return eval::compare(op, &Value::of(a), &Value::of(b)),
    };
    Some(holds(op, ord))
}

/// A comparison of a field with a constant (`flip`: the constant on the
/// left), specialised on the constant's type: a field of that type is
/// compared where it lies, with the constant held by the closure; any other
/// field as [`compare_fields`] compares them.
fn cmp_const(op: CmpOp, place: Read, k: Field, flip: bool) -> Cond {
    // The constant `y` of kind `Field::$kind`, and a field's value of that kind.
    macro_rules! typed {
        ($kind:ident, $y:expr) => {
            cmp_typed(op, place, k, flip, $y, |f| match f {
                Field::$kind(x) => Some(*x),
                _ => None,
            })
        };
    }
    match k {
        Field::Absent => cf(|_| None),
        Field::Enum(y) => typed!(Enum, y),
        Field::Num(y) => typed!(Num, y),
        Field::Date(y) => typed!(Date, y),
        Field::Bool(y) => typed!(Bool, y),
        // A declared entry (`field == ENTRY`): equal to an entry
        // resolved to it, less than any other, in either order.
        Field::Entry(crate::record::EntryValue { table, id, .. }) => {
            let entry = move |f: &Field| match f {
                Field::Entry(e) => {
                    let same = e.id.is_some() && e.id == id && e.table == table;
                    Some(holds(
                        op,
                        if same {
                            std::cmp::Ordering::Equal
                        } else {
                            std::cmp::Ordering::Less
                        },
                    ))
                }
                f => {
                    if flip {
                        compare_fields(op, &k, f)
                    } else {
                        compare_fields(op, f, &k)
                    }
                }
            };
            match place {
                Read::Root(p) => cf(move |ev| entry(p.get(ev.root))),
                place => cf(move |ev| entry(place.get(ev))),
            }
        }
        k => cf(move |ev| {
            let f = place.get(ev);
            if flip {
                compare_fields(op, &k, f)
            } else {
                compare_fields(op, f, &k)
            }
        }),
    }
}

fn cmp_typed<T, F>(op: CmpOp, place: Read, k: Field, flip: bool, y: T, take: F) -> Cond
where
    T: Ord + Copy + Send + Sync + 'static,
    F: Fn(&Field) -> Option<T> + Copy + Send + Sync + 'static,
{
    let slow = move |f: &Field| {
        if flip {
            compare_fields(op, &k, f)
        } else {
            compare_fields(op, f, &k)
        }
    };
    let admits = if flip { flipped(admits(op)) } else { admits(op) };
    let test = move |x: T| Some(admitted(admits, x.cmp(&y)));
    match place {
        Read::Root(Path::One(a)) => cf(move |ev| {
            let f = ev.root.get(a as usize).unwrap_or(&ABSENT);
            take(f).map_or_else(|| slow(f), test)
        }),
        Read::Root(p) => cf(move |ev| {
            let f = p.get(ev.root);
            take(f).map_or_else(|| slow(f), test)
        }),
        // A field of a quantifier's item (`d.kind == passport`).
        Read::Var(depth, Path::One(a)) => cf(move |ev| {
            let f = match ev.var(depth) {
                Some(Field::Record(r)) => r.get(a as usize).unwrap_or(&ABSENT),
                _ => &ABSENT,
            };
            take(f).map_or_else(|| slow(f), test)
        }),
        place => cf(move |ev| {
            let f = place.get(ev);
            take(f).map_or_else(|| slow(f), test)
        }),
    }
}

/// The orderings a comparison admits, as bits: 1 less, 2 equal, 4 greater
/// (a test of one bit where [`holds`] branches on the operator).
fn admits(op: CmpOp) -> u8 {
    match op {
        CmpOp::Eq => 2,
        CmpOp::Ne => 5,
        CmpOp::Lt => 1,
        CmpOp::Le => 3,
        CmpOp::Gt => 4,
        CmpOp::Ge => 6,
    }
}

/// The orderings admitted with the operands swapped.
fn flipped(admits: u8) -> u8 {
    (admits & 2) | ((admits & 1) << 2) | ((admits & 4) >> 2)
}

#[inline(always)]
fn admitted(admits: u8, ord: std::cmp::Ordering) -> bool {
    admits & (1u8 << ((ord as i8) + 1)) != 0
}

/// Whether an ordering satisfies a comparison.
fn holds(op: CmpOp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering;
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

fn count(n: usize) -> Value<'static> {
    Value::Num(Decimal::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

impl Program {
    /// Compiles every rule, `let` and next step of `rs`.
    pub fn new(rs: &RuleSet) -> Program {
        let mut c = Compiler {
            rs,
            consts: Vec::new(),
            fallback: Vec::new(),
            fact_paths: Vec::new(),
            memo_keys: Vec::new(),
            texts: Vec::new(),
            quant_depth: 0,
        };
        let let_cond = rs.lets.iter().map(|e| c.cond(e)).collect();
        let let_val = rs.lets.iter().map(|e| c.val(e)).collect();
        let let_txt = rs.lets.iter().map(|e| c.txt(e)).collect();
        let rules = rs
            .rules
            .iter()
            .map(|r| CRule {
                guard: r.guard.as_ref().map(|g| c.cond(g)),
                when: c.cond(&r.when),
                messages: c.messages(r),
                id_text: c.shared(&r.id),
            })
            .collect();
        let next_steps = rs
            .next_steps
            .iter()
            .map(|s| s.condition.as_ref().map(|e| c.cond(e)))
            .collect();
        Program {
            hash: rs.hash.clone(),
            rules,
            next_steps,
            let_cond,
            let_val,
            let_txt,
            consts: c.consts,
            fallback: c.fallback,
            patterns: rs.patterns.iter().map(|re| pattern::Simple::new(re.as_str())).collect(),
            fact_slots: c.fact_paths.len(),
            texts: c.texts,
            id: PROGRAM_IDS.fetch_add(1, AtomicOrdering::Relaxed) + 1,
        }
    }

    /// Whether this program was compiled from `rs` (same content and shape).
    fn fits(&self, rs: &RuleSet) -> bool {
        self.rules.len() == rs.rules.len()
            && self.let_val.len() == rs.lets.len()
            && self.next_steps.len() == rs.next_steps.len()
            && self.patterns.len() == rs.patterns.len()
            && self.hash == rs.hash
    }
}

/// Evaluates every rule in force against one application, as
/// [`eval::evaluate`] does.
pub fn evaluate(prog: &Program, rs: &RuleSet, record: &Record, opts: Options) -> Decision {
    evaluate_in(prog, rs, record, opts, &mut Scratch::default())
}

/// [`evaluate`], reusing the buffers of `scratch`. A program compiled from
/// another rule set is not used: the reference evaluator decides instead.
pub fn evaluate_in(prog: &Program, rs: &RuleSet, record: &Record, opts: Options, scratch: &mut Scratch) -> Decision {
    if !prog.fits(rs) {
        return eval::evaluate_in(rs, record, opts, &mut scratch.eval);
    }
    // The worker's buffers are used in place; the per-record caches are
    // zeroed in place.
    if scratch.texts_of != prog.id {
        scratch.texts = prog.texts.iter().map(|t| Arc::from(&**t)).collect();
        scratch.texts_of = prog.id;
    }
    zeroed(&mut scratch.facts, prog.fact_slots);
    zeroed(&mut scratch.let_truth, rs.lets.len());
    if scratch.fired.len() == rs.rules.len() {
        scratch.fired.fill(false);
    } else {
        scratch.fired.clear();
        scratch.fired.resize(rs.rules.len(), false);
    }
    let mut ev = Ev {
        prog,
        rs,
        record,
        root: &record.fields,
        opts,
        bound: [&ABSENT; MAX_BOUND],
        nbound: 0,
        reference: None,
        memo: Default::default(),
        w: scratch,
    };
    let decision = decide(&mut ev, opts);
    if let Some(r) = ev.reference {
        ev.w.eval = r.into_scratch();
    }
    decision
}

/// A text computed at most once per evaluation, kept in memo slot `k`.
fn memoised(k: usize, t: Txt) -> Txt {
    tf(move |ev| {
        match ev.memo.get(k) {
            Some(Memo::Absent) => return None,
            Some(Memo::Text(s, facts)) => {
                return Some(Text {
                    s: s.clone(),
                    facts: *facts,
                });
            }
            Some(Memo::Unknown | Memo::Val(_)) | None => {}
        }
        let v = t(ev);
        if let Some(m) = ev.memo.get_mut(k) {
            *m = match &v {
                Some(t) => Memo::Text(t.s.clone(), t.facts),
                None => Memo::Absent,
            };
        }
        v
    })
}

/// Boolean `let` number `i` (negated when `neg`), computed on first read and
/// kept as a byte.
fn let_cond(i: usize, neg: bool) -> Cond {
    cf(move |ev| {
        match ev.w.let_truth.get(i) {
            Some(&TRUE) => return Some(!neg),
            Some(&FALSE) => return Some(neg),
            Some(&UNKNOWN) => return None,
            Some(&NOT_YET) | Some(_) | None => {}
        }
        let p: &Program = ev.prog;
        let t = p.let_cond.get(i).and_then(|c| c(ev));
        if let Some(slot) = ev.w.let_truth.get_mut(i) {
            *slot = match t {
                Some(true) => TRUE,
                Some(false) => FALSE,
                None => UNKNOWN,
            };
        }
        t.map(|b| b != neg)
    })
}

/// The comparison that holds exactly where `op` does not, on values that
/// compare (both derive from one ordering).
fn complement(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Le => CmpOp::Gt,
    }
}

/// `v` as `n` zeros, in place.
fn zeroed(v: &mut Vec<u8>, n: usize) {
    if v.len() == n {
        v.fill(0);
    } else {
        v.clear();
        v.resize(n, 0);
    }
}

/// Converts a parsed document with the policy's schema and evaluates it, as
/// [`eval::evaluate_document`] does.
pub fn evaluate_document(
    prog: &Program,
    rs: &RuleSet,
    value: &serde_json::Value,
    opts: Options,
) -> Result<Decision, String> {
    let as_of = crate::input::record_date(rs.as_of.as_ref(), value, opts.as_of);
    let opts = Options { as_of, ..opts };
    crate::input::convert(value, &rs.schema, &rs.tables, as_of).map(|r| evaluate(prog, rs, &r, opts))
}

fn decide<'a>(ev: &mut Ev<'a>, opts: Options) -> Decision {
    let prog: &'a Program = ev.prog;
    let rs: &'a RuleSet = ev.rs;
    let mut violations = Vec::new();
    let mut worst: Option<Outcome> = None;
    for (i, (rule, c)) in rs.rules.iter().zip(&prog.rules).enumerate() {
        let fires = rule.validity.holds(opts.as_of)
            && c.guard.as_ref().is_none_or(|g| g(ev) == Some(true))
            && (c.when)(ev) == Some(true);
        if let Some(f) = ev.w.fired.get_mut(i) {
            *f = fires;
        }
        if !fires {
            continue;
        }
        if rule.outcome != Outcome::Note {
            worst = worst.max(Some(rule.outcome));
        }
        let message = message(ev, c, rule, opts);
        violations.push(Violation { rule: i, message });
    }
    let decision = match worst {
        None => DecisionKind::Accept,
        Some(Outcome::Review | Outcome::Note) => DecisionKind::Review,
        Some(Outcome::Limited) => DecisionKind::Limited,
        Some(Outcome::Reject) => DecisionKind::Reject,
    };
    let next_step = match decision {
        DecisionKind::Accept | DecisionKind::Review => prog
            .next_steps
            .iter()
            .position(|s| s.as_ref().is_none_or(|c| c(ev) == Some(true))),
        _ => None,
    };
    Decision {
        decision,
        next_step,
        violations,
    }
}

/// The message of a rule that fired, as [`Evaluator::message`] renders it:
/// the first choice in force whose condition holds (else the last), in the
/// chosen language (else the first).
fn message<'a>(ev: &mut Ev<'a>, c: &'a CRule, rule: &'a Rule, opts: Options) -> Message {
    let chosen = rule
        .messages
        .iter()
        .zip(&c.messages)
        .position(|(m, cm)| {
            m.validity.holds(opts.as_of) && cm.condition.as_ref().is_none_or(|cond| cond(ev) == Some(true))
        })
        .or_else(|| c.messages.len().checked_sub(1));
    let Some(m) = chosen.and_then(|k| c.messages.get(k)) else {
        return shared(ev, c.id_text);
    };
    let shown = m
        .texts
        .get(opts.lang)
        .and_then(Option::as_ref)
        .or_else(|| m.texts.first().and_then(Option::as_ref))
        .unwrap_or(&m.plain);
    match shown {
        Shown::Shared(k) => shared(ev, *k),
        Shown::Template(pieces) => Message::from(render(ev, pieces)),
    }
}

fn shared(ev: &Ev<'_>, k: usize) -> Message {
    match ev.w.texts.get(k) {
        Some(t) => Message::shared(t),
        None => Message::from(String::new()),
    }
}

/// A template filled in: rendered into the reused buffer, then copied out at
/// its length (one allocation, no growth).
fn render<'a>(ev: &mut Ev<'a>, pieces: &'a [CPiece]) -> String {
    let mut out = std::mem::take(&mut ev.w.buf);
    out.clear();
    for piece in pieces {
        match piece {
            CPiece::Text(s) => out.push_str(s),
            CPiece::Hole(v) => match v(ev) {
                Value::Absent => {}
                Value::Text(t) => out.push_str(&t),
                Value::Num(n) => {
                    let _ = write!(out, "{n}");
                }
                Value::Date(d) => {
                    let _ = write!(out, "{d}");
                }
                other => out.push_str(&eval::show(ev.rs, ev.opts.lang, &other)),
            },
            CPiece::EnumHole(v, id) => {
                if let Value::Enum(i) = v(ev) {
                    let rs: &RuleSet = ev.rs;
                    let values = rs.schema.enums.get(*id as usize);
                    out.push_str(values.and_then(|v| v.get(i as usize)).map_or("", String::as_str));
                }
            }
        }
    }
    let message = String::from(out.as_str());
    ev.w.buf = out;
    message
}

/// Whether an expression's value is a truth value (or unknown), whatever it reads.
fn is_bool(e: &CExpr) -> bool {
    match e {
        CExpr::Not(_) | CExpr::And(..) | CExpr::Or(..) | CExpr::Cmp(..) | CExpr::Fired(_) | CExpr::In(..) => true,
        CExpr::EntryKnown(_) => true,
        CExpr::Quant(q, ..) => *q != Quantifier::Count,
        CExpr::Const(f) => matches!(f, Field::Bool(_)),
        CExpr::Call(b, _) => crate::explain::decompile::builtin_type(*b) == crate::ir::Type::Bool,
        _ => false,
    }
}

/// Whether an expression reads the record, a variable, a `let` or a rule:
/// one that does not is folded to its value at compile time.
fn reads(e: &CExpr) -> bool {
    match e {
        CExpr::Const(_) => false,
        CExpr::Field(_) | CExpr::Var(..) | CExpr::Let(_) | CExpr::Fired(_) | CExpr::Quant(..) => true,
        CExpr::Aggregate(..) => true,
        // The evaluation date, and what depends on it, is known only per record.
        CExpr::Today | CExpr::Call(Builtin::CountBanks(_), _) | CExpr::Table(_) | CExpr::Lookup(..) => true,
        // A masked value is shown in the message's language.
        CExpr::Call(Builtin::Mask, _) => true,
        CExpr::DateShift(x, ..) => reads(x),
        CExpr::Arith(_, l, r) => reads(l) || reads(r),
        CExpr::EntryAttr(x, ..) | CExpr::EntryKnown(x) | CExpr::EntryCode(x) | CExpr::Not(x) => reads(x),
        CExpr::And(l, r) | CExpr::Or(l, r) | CExpr::Cmp(_, l, r) => reads(l) || reads(r),
        CExpr::In(x, items) => reads(x) || items.iter().any(reads),
        CExpr::Call(_, args) => args.iter().any(reads),
    }
}

/// The operands of a chain of `and`s (of `or`s), left to right.
fn chain_operands<'e>(e: &'e CExpr, and: bool, out: &mut Vec<&'e CExpr>) {
    match e {
        CExpr::And(l, r) if and => {
            chain_operands(l, and, out);
            chain_operands(r, and, out);
        }
        CExpr::Or(l, r) if !and => {
            chain_operands(l, and, out);
            chain_operands(r, and, out);
        }
        _ => out.push(e),
    }
}

/// How many operands a chain of `and`s (of `or`s) has.
fn chain_len(e: &CExpr) -> usize {
    let mut out = Vec::new();
    chain_operands(e, matches!(e, CExpr::And(..)), &mut out);
    out.len()
}

struct Compiler<'r> {
    rs: &'r RuleSet,
    consts: Vec<Field>,
    fallback: Vec<CExpr>,
    /// The root paths of text fields with a facts cache, by fact slot.
    fact_paths: Vec<Box<[u16]>>,
    /// The text built-ins whose values are kept per record, by memo slot.
    memo_keys: Vec<String>,
    /// Texts shared by the violations that show them.
    texts: Vec<Arc<str>>,
    /// How many quantifiers enclose the expression being compiled.
    quant_depth: usize,
}

impl<'r> Compiler<'r> {
    /// A text shared by every violation that shows it (one copy per distinct text).
    fn shared(&mut self, s: &str) -> usize {
        match self.texts.iter().position(|t| **t == *s) {
            Some(k) => k,
            None => {
                self.texts.push(Arc::from(s));
                self.texts.len() - 1
            }
        }
    }

    /// A rule's message choices.
    fn messages(&mut self, rule: &Rule) -> Vec<CMessage> {
        rule.messages
            .iter()
            .map(|m| CMessage {
                condition: m.condition.as_ref().map(|e| self.cond(e)),
                texts: m.texts.iter().map(|t| t.as_ref().map(|t| self.template(t))).collect(),
                plain: Shown::Shared(self.shared(&m.message)),
            })
            .collect()
    }

    /// A message text: shared when it has no placeholder; else its literal
    /// parts (adjacent ones joined) and its placeholders' values.
    fn template(&mut self, t: &Template) -> Shown {
        let mut pieces: Vec<CPiece> = Vec::new();
        for p in t {
            match p {
                Piece::Text(s) => match pieces.last_mut() {
                    Some(CPiece::Text(prev)) => *prev = format!("{prev}{s}").into_boxed_str(),
                    _ => pieces.push(CPiece::Text(s.as_str().into())),
                },
                Piece::Hole(e) => pieces.push(CPiece::Hole(self.val(e))),
                Piece::EnumHole(e, id) => pieces.push(CPiece::EnumHole(self.val(e), *id)),
            }
        }
        match pieces.as_slice() {
            [] => Shown::Shared(self.shared("")),
            [CPiece::Text(s)] => {
                let s = s.clone();
                Shown::Shared(self.shared(&s))
            }
            _ => Shown::Template(pieces.into_boxed_slice()),
        }
    }

    /// The value of an expression that reads nothing, when it is a scalar.
    fn fold(&self, e: &CExpr) -> Option<Field> {
        if matches!(e, CExpr::Const(_)) || reads(e) {
            return None;
        }
        let empty = Record { fields: Box::new([]) };
        let opts = Options {
            lang: 0,
            as_of: crate::date::Date::from_unix_days(0),
        };
        let mut ev = Evaluator::new(self.rs, &empty, opts);
        Some(match ev.eval(e) {
            Value::Absent => Field::Absent,
            Value::Bool(b) => Field::Bool(b),
            Value::Text(t) => Field::Text(t.into_owned()),
            Value::Num(n) => Field::Num(n),
            Value::Date(d) => Field::Date(d),
            Value::Enum(i) => Field::Enum(i),
            Value::Entry(..) | Value::Record(_) | Value::List(_) => return None,
        })
    }

    fn constant(&mut self, f: Field) -> usize {
        self.consts.push(f);
        self.consts.len() - 1
    }

    fn fallback(&mut self, e: &CExpr) -> Val {
        self.fallback.push(e.clone());
        let k = self.fallback.len() - 1;
        vf(move |ev| {
            let p: &Program = ev.prog;
            match p.fallback.get(k) {
                Some(e) => ev.reference().eval(e),
                None => Value::Absent,
            }
        })
    }

    /// The expression of a `let` that only names a field of the record: read
    /// in place wherever the `let` is used (keeping a borrowed field in the
    /// per-record cache costs more than reading it again).
    fn plain_let(&self, e: &CExpr) -> Option<&'r CExpr> {
        let rs: &'r RuleSet = self.rs;
        match e {
            CExpr::Let(i) => rs
                .lets
                .get(*i as usize)
                .filter(|x| matches!(x, CExpr::Field(slots) if !slots.is_empty())),
            _ => None,
        }
    }

    /// A field read in place, for a constant or a path.
    fn read(&mut self, e: &CExpr) -> Option<Read> {
        if let Some(x) = self.plain_let(e) {
            return self.read(x);
        }
        match e {
            CExpr::Const(f) => Some(Read::Const(self.constant(f.clone()))),
            CExpr::Field(slots) if !slots.is_empty() => Some(Read::Root(Path::new(slots))),
            CExpr::Var(depth, slots) if !slots.is_empty() => Some(Read::Var(*depth, Path::new(slots))),
            _ => None,
        }
    }

    /// The key of a text built-in worth keeping per record: one of the
    /// character built-ins, over fields, `let`s and constants only (so that
    /// its value is the same wherever it is read in one evaluation).
    fn memo_key(&self, e: &CExpr) -> Option<String> {
        fn plain(e: &CExpr) -> bool {
            match e {
                CExpr::Const(_) | CExpr::Field(_) | CExpr::Let(_) => true,
                CExpr::Call(_, args) => args.iter().all(plain),
                _ => false,
            }
        }
        match e {
            CExpr::Call(Builtin::FirstOutside(_) | Builtin::ConfusableHint | Builtin::CharName, args)
                if args.iter().all(plain) =>
            {
                Some(format!("{e:?}"))
            }
            _ => None,
        }
    }

    fn memo_slot(&mut self, e: &CExpr) -> usize {
        let key = self.memo_key(e).unwrap_or_default();
        self.memo_slot_for(key)
    }

    fn memo_slot_for(&mut self, key: String) -> usize {
        match self.memo_keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.memo_keys.push(key);
                self.memo_keys.len() - 1
            }
        }
    }

    fn fact_slot(&mut self, slots: &[u16]) -> usize {
        match self.fact_paths.iter().position(|p| **p == *slots) {
            Some(i) => i,
            None => {
                self.fact_paths.push(slots.into());
                self.fact_paths.len() - 1
            }
        }
    }

    /// A condition: its truth, `None` when unknown.
    fn cond(&mut self, e: &CExpr) -> Cond {
        if let Some(x) = self.plain_let(e) {
            return self.cond(x);
        }
        if let Some(f) = self.fold(e) {
            let t = Value::of(&f).truth();
            return cf(move |_| t);
        }
        match e {
            CExpr::Const(f) => {
                let t = Value::of(f).truth();
                cf(move |_| t)
            }
            CExpr::Not(x) => self.not(x),
            CExpr::And(..) | CExpr::Or(..) if chain_len(e) > 2 => self.chain(e),
            CExpr::And(l, r) => {
                let (l, r) = (self.cond(l), self.cond(r));
                cf(move |ev| match l(ev) {
                    Some(false) => Some(false),
                    lv => match (lv, r(ev)) {
                        (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    },
                })
            }
            CExpr::Or(l, r) => {
                let (l, r) = (self.cond(l), self.cond(r));
                cf(move |ev| match l(ev) {
                    Some(true) => Some(true),
                    lv => match (lv, r(ev)) {
                        (_, Some(true)) => Some(true),
                        (Some(false), Some(false)) => Some(false),
                        _ => None,
                    },
                })
            }
            CExpr::Cmp(op, l, r) => self.cmp(*op, l, r),
            CExpr::Fired(i) => {
                let i = *i as usize;
                cf(move |ev| Some(ev.w.fired.get(i).copied().unwrap_or(false)))
            }
            CExpr::Let(i) => {
                let i = *i as usize;
                if !self.rs.lets.get(i).is_some_and(is_bool) {
                    let v = self.val(e);
                    return cf(move |ev| v(ev).truth());
                }
                let_cond(i, false)
            }
            CExpr::In(x, items) => {
                let x = self.val(x);
                let items: Vec<Val> = items.iter().map(|i| self.val(i)).collect();
                cf(move |ev| {
                    let v = x(ev);
                    if v == Value::Absent {
                        return None;
                    }
                    let mut unknown = false;
                    for item in &items {
                        match eval::compare(CmpOp::Eq, &v, &item(ev)) {
                            Some(true) => return Some(true),
                            None => unknown = true,
                            Some(false) => {}
                        }
                    }
                    if unknown { None } else { Some(false) }
                })
            }
            CExpr::Quant(..) if self.quant_depth >= MAX_BOUND => {
                let v = self.fallback(e);
                cf(move |ev| v(ev).truth())
            }
            CExpr::Quant(q, list, body) if *q != Quantifier::Count => {
                let all = *q == Quantifier::All;
                let list = self.list_arg(list);
                self.quant_depth += 1;
                let body = self.cond(body);
                self.quant_depth -= 1;
                // A `let` is compiled outside any quantifier but may be read
                // inside eight: past the stack, the reference evaluator.
                let deep = self.fallback(e);
                cf(move |ev| {
                    let items = list.get(ev)?;
                    // One variable, bound once and given each item in turn.
                    let Some(slot) = ev.bind() else {
                        return deep(ev).truth();
                    };
                    let mut result = Some(all);
                    for item in items {
                        if !eval::in_force(ev.rs, ev.opts.as_of, item) {
                            continue;
                        }
                        if let Some(b) = ev.bound.get_mut(slot) {
                            *b = item;
                        }
                        match body(ev) {
                            Some(true) if !all => {
                                result = Some(true);
                                break;
                            }
                            Some(false) if all => {
                                result = Some(false);
                                break;
                            }
                            None => result = None,
                            _ => {}
                        }
                    }
                    ev.nbound = slot;
                    result
                })
            }
            CExpr::EntryKnown(b) => {
                let b = self.val(b);
                cf(move |ev| match b(ev) {
                    Value::Entry(_, id, _) => Some(id.is_some()),
                    _ => None,
                })
            }
            CExpr::Call(b, args) => match self.call_cond(*b, args, false) {
                Some(c) => c,
                None => {
                    let v = self.fallback(e);
                    cf(move |ev| v(ev).truth())
                }
            },
            _ => {
                let v = self.val(e);
                cf(move |ev| v(ev).truth())
            }
        }
    }

    /// `not x`, with the negation taken into `x` where that costs nothing at
    /// run time (Kleene's three-valued logic: unknown stays unknown): a
    /// comparison takes the complementary operator, `and` and `or` swap
    /// with their operands negated, `any` becomes `all` of the negated body
    /// and the reverse, and a boolean `let` or built-in answers negated.
    fn not(&mut self, x: &CExpr) -> Cond {
        let not = |e: &CExpr| Box::new(CExpr::Not(Box::new(e.clone())));
        if self.fold(x).is_some() || self.plain_let(x).is_some() {
            let c = self.cond(x);
            return cf(move |ev| c(ev).map(|b| !b));
        }
        match x {
            CExpr::Not(y) => self.cond(y),
            CExpr::Cmp(op, l, r) => self.cmp(complement(*op), l, r),
            CExpr::And(l, r) => self.cond(&CExpr::Or(not(l), not(r))),
            CExpr::Or(l, r) => self.cond(&CExpr::And(not(l), not(r))),
            CExpr::Quant(q @ (Quantifier::Any | Quantifier::All), list, body) => {
                let q = if *q == Quantifier::Any {
                    Quantifier::All
                } else {
                    Quantifier::Any
                };
                self.cond(&CExpr::Quant(q, list.clone(), not(body)))
            }
            CExpr::Let(i) if self.rs.lets.get(*i as usize).is_some_and(is_bool) => let_cond(*i as usize, true),
            CExpr::Call(b, args) if let Some(c) = self.call_cond(*b, args, true) => c,
            _ => {
                let c = self.cond(x);
                cf(move |ev| c(ev).map(|b| !b))
            }
        }
    }

    /// A chain of `and`s (or of `or`s) as one loop over its operands, in
    /// order: the first `false` (`true`) decides, else any unknown makes it
    /// unknown (three-valued, as the nested pairs).
    fn chain(&mut self, e: &CExpr) -> Cond {
        let and = matches!(e, CExpr::And(..));
        let mut operands = Vec::new();
        chain_operands(e, and, &mut operands);
        let conds: Box<[Cond]> = operands.into_iter().map(|x| self.cond(x)).collect();
        cf(move |ev| {
            let mut unknown = false;
            for c in &conds {
                match c(ev) {
                    Some(b) if b != and => return Some(b),
                    None => unknown = true,
                    Some(_) => {}
                }
            }
            if unknown { None } else { Some(and) }
        })
    }

    fn cmp(&mut self, op: CmpOp, l: &CExpr, r: &CExpr) -> Cond {
        if let (Some(a), Some(b)) = (self.read(l), self.read(r)) {
            return match (a, b) {
                (Read::Const(_), Read::Const(_)) => {
                    let (a, b) = (self.const_field(l), self.const_field(r));
                    let t = compare_fields(op, &a, &b);
                    cf(move |_| t)
                }
                (place, Read::Const(_)) => cmp_const(op, place, self.const_field(r), false),
                (Read::Const(_), place) => cmp_const(op, place, self.const_field(l), true),
                (Read::Root(p), Read::Root(q)) => cf(move |ev| compare_fields(op, p.get(ev.root), q.get(ev.root))),
                (a, b) => cf(move |ev| compare_fields(op, a.get(ev), b.get(ev))),
            };
        }
        // `length(x)` against a whole number: counted and compared as integers,
        // without a decimal.
        if let CExpr::Call(Builtin::Length, args) = l
            && let [x] = args.as_slice()
            && let Some(Field::Num(k)) = self.fold(r).or_else(|| match r {
                CExpr::Const(f) => Some(f.clone()),
                _ => None,
            })
            && let Some(k) = k.to_i64()
        {
            let x = self.txt_arg(x);
            return cf(move |ev| {
                let mut t = x.get(ev)?;
                let n = i64::try_from(t.nfc_len()).unwrap_or(i64::MAX);
                Some(holds(op, n.cmp(&k)))
            });
        }
        if let (CmpOp::Eq | CmpOp::Ne, CExpr::Call(Builtin::NormalizeName, a), CExpr::Call(Builtin::NormalizeName, b)) =
            (op, l, r)
            && let ([a], [b]) = (a.as_slice(), b.as_slice())
        {
            let (a, b) = (self.txt_arg(a), self.txt_arg(b));
            let eq = op == CmpOp::Eq;
            return cf(move |ev| {
                let a = a.get(ev)?;
                let b = b.get(ev)?;
                // Equal texts normalise alike (the usual case: a card holder
                // typed as the applicant's name).
                Some((a.s == b.s || text::same_name(&a.s, &b.s)) == eq)
            });
        }
        let (a, b) = (self.val(l), self.val(r));
        cf(move |ev| {
            let a = a(ev);
            let b = b(ev);
            eval::compare(op, &a, &b)
        })
    }

    /// Charset `c`'s ASCII characters as a table of 256 bytes (none above
    /// 127): one load per byte where the bitmap takes a 128-bit shift.
    fn ascii_table(&self, c: usize) -> AsciiSet {
        let bits = self.rs.charsets.get(c).map_or(0, |cs| cs.ascii_bits());
        AsciiSet(std::array::from_fn(|b| b < 128 && bits & (1u128 << b) != 0))
    }

    /// The constant of a `CExpr::Const` (absent for any other expression).
    fn const_field(&self, e: &CExpr) -> Field {
        match e {
            CExpr::Const(f) => f.clone(),
            _ => Field::Absent,
        }
    }

    /// The built-ins whose value is a truth value, over texts.
    fn call_cond(&mut self, b: Builtin, args: &[CExpr], neg: bool) -> Option<Cond> {
        Some(match (b, args) {
            (Builtin::Only(c) | Builtin::HasAny(c), [x]) => {
                let x = self.txt_arg(x);
                let c = c as usize;
                let table = self.ascii_table(c);
                let any = matches!(b, Builtin::HasAny(_));
                cf(move |ev| {
                    let mut t = x.get(ev)?;
                    let rs: &RuleSet = ev.rs;
                    let cs = rs.charsets.get(c)?;
                    Some(
                        neg != if t.is_ascii() {
                            let inside = |b: u8| table.has(b);
                            if any {
                                t.s.bytes().any(inside)
                            } else {
                                t.s.bytes().all(inside)
                            }
                        } else if any {
                            t.s.chars().any(|ch| cs.contains(ch))
                        } else {
                            t.s.chars().all(|ch| cs.contains(ch))
                        },
                    )
                })
            }
            (Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains, [x, y]) => {
                let (x, y) = (self.txt_arg(x), self.txt_arg(y));
                cf(move |ev| {
                    let s = x.get(ev)?;
                    let t = y.get(ev)?;
                    Some(
                        neg != match b {
                            Builtin::StartsWith => s.s.starts_with(&*t.s),
                            Builtin::EndsWith => s.s.ends_with(&*t.s),
                            _ => s.s.contains(&*t.s),
                        },
                    )
                })
            }
            (Builtin::Matches(p), [x]) => {
                let x = self.txt_arg(x);
                let p = p as usize;
                cf(move |ev| {
                    let t = x.get(ev)?;
                    let prog: &Program = ev.prog;
                    if let Some(Some(fast)) = prog.patterns.get(p)
                        && let Some(m) = fast.is_match(t.s.as_bytes())
                    {
                        return Some(m != neg);
                    }
                    ev.rs.patterns.get(p).and_then(|re| re.is_match(&t.s)).map(|m| m != neg)
                })
            }
            (Builtin::Luhn | Builtin::Icao9303 | Builtin::Mod11_2, [x]) => {
                let x = self.txt_arg(x);
                let check: fn(&str) -> bool = match b {
                    Builtin::Luhn => text::luhn,
                    Builtin::Icao9303 => text::icao9303,
                    _ => text::mod11_2,
                };
                cf(move |ev| x.get(ev).map(|t| check(&t.s) != neg))
            }
            (Builtin::Present, [x]) => match self.read(x) {
                Some(Read::Root(p)) => cf(move |ev| Some(matches!(p.get(ev.root), Field::Absent) == neg)),
                Some(r) if !matches!(r, Read::Const(_)) => {
                    cf(move |ev| Some(matches!(r.get(ev), Field::Absent) == neg))
                }
                _ => {
                    let x = self.val(x);
                    cf(move |ev| Some((x(ev) == Value::Absent) == neg))
                }
            },
            _ => return None,
        })
    }

    /// A value.
    fn val(&mut self, e: &CExpr) -> Val {
        if let Some(x) = self.plain_let(e) {
            return self.val(x);
        }
        if let Some(f) = self.fold(e) {
            let k = self.constant(f);
            return vf(move |ev| ev.constant(k));
        }
        match e {
            CExpr::Const(f) => {
                let k = self.constant(f.clone());
                vf(move |ev| ev.constant(k))
            }
            CExpr::Field(slots) if !slots.is_empty() => {
                let p = Path::new(slots);
                vf(move |ev| Value::of(p.get(ev.root)))
            }
            CExpr::Var(depth, slots) => {
                let (depth, whole, p) = (*depth, slots.is_empty(), Path::new(slots));
                vf(move |ev| match ev.var(depth) {
                    None => Value::Absent,
                    Some(Field::Record(r)) => {
                        if whole {
                            Value::Record(r)
                        } else {
                            Value::of(p.get(r))
                        }
                    }
                    Some(other) if whole => Value::of(other),
                    Some(_) => Value::Absent,
                })
            }
            CExpr::Let(i) if self.rs.lets.get(*i as usize).is_some_and(is_bool) => {
                let c = self.cond(e);
                vf(move |ev| tri(c(ev)))
            }
            CExpr::Let(i) => {
                let i = *i as usize;
                let k = self.memo_slot_for(format!("val {i}"));
                vf(move |ev| {
                    if let Some(Memo::Val(v)) = ev.memo.get(k) {
                        return v.clone();
                    }
                    let p: &Program = ev.prog;
                    let v = p.let_val.get(i).map_or(Value::Absent, |f| f(ev));
                    if let Some(m) = ev.memo.get_mut(k) {
                        *m = Memo::Val(v.clone());
                    }
                    v
                })
            }
            CExpr::EntryAttr(b, _, attr) => {
                let b = self.val(b);
                let attr = *attr;
                vf(move |ev| match b(ev) {
                    Value::Entry(t, id, _) => {
                        let rs: &RuleSet = ev.rs;
                        crate::eval::entry_attr(rs, t, id, attr).map_or(Value::Absent, Value::of)
                    }
                    _ => Value::Absent,
                })
            }
            _ if is_bool(e) => {
                let c = self.cond(e);
                vf(move |ev| tri(c(ev)))
            }
            CExpr::Quant(..) if self.quant_depth >= MAX_BOUND => self.fallback(e),
            CExpr::Quant(Quantifier::Count, list, body) => {
                let list = self.list_arg(list);
                self.quant_depth += 1;
                let body = self.cond(body);
                self.quant_depth -= 1;
                let deep = self.fallback(e);
                vf(move |ev| {
                    let Some(items) = list.get(ev) else {
                        return Value::Absent;
                    };
                    let mut n = 0usize;
                    let Some(slot) = ev.bind() else {
                        return deep(ev);
                    };
                    for item in items {
                        if !eval::in_force(ev.rs, ev.opts.as_of, item) {
                            continue;
                        }
                        if let Some(b) = ev.bound.get_mut(slot) {
                            *b = item;
                        }
                        if body(ev) == Some(true) {
                            n += 1;
                        }
                    }
                    ev.nbound = slot;
                    count(n)
                })
            }
            CExpr::Call(Builtin::Length, args) if args.len() == 1 => {
                let x = args.first().map(|a| self.txt_arg(a));
                vf(move |ev| match x.as_ref().and_then(|x| x.get(ev)) {
                    Some(mut t) => count(t.nfc_len()),
                    None => Value::Absent,
                })
            }
            CExpr::Call(b, args) if self.text_call(*b, args) => {
                let t = self.txt(e);
                vf(move |ev| t(ev).map_or(Value::Absent, |t| Value::Text(t.s)))
            }
            CExpr::Call(Builtin::CountBanks(attr), args) if args.is_empty() => {
                let attr = *attr;
                vf(move |ev| ev.count_banks(attr))
            }
            // A masked placeholder (the card number): a text is masked where
            // it lies, without a copy of it shown first.
            CExpr::Call(Builtin::Mask, args) if args.len() == 1 => {
                let x = args.first().map(|a| self.val(a));
                vf(move |ev| match x.as_ref().map_or(Value::Absent, |x| x(ev)) {
                    Value::Absent => Value::Absent,
                    // Read per record: a front may set it after compiling.
                    v if ev.rs.show_pii => match v {
                        Value::Text(t) => Value::Text(t),
                        v => Value::Text(Cow::Owned(eval::show(ev.rs, ev.opts.lang, &v))),
                    },
                    Value::Text(t) => Value::Text(Cow::Owned(text::mask(&t))),
                    v => Value::Text(Cow::Owned(text::mask(&eval::show(ev.rs, ev.opts.lang, &v)))),
                })
            }
            _ => self.fallback(e),
        }
    }

    /// Whether [`txt`](Self::txt) compiles this call itself.
    fn text_call(&self, b: Builtin, args: &[CExpr]) -> bool {
        matches!(
            (b, args.len()),
            (
                Builtin::Nfc
                    | Builtin::Trim
                    | Builtin::FoldSpace
                    | Builtin::AsciiLower
                    | Builtin::Lower
                    | Builtin::NormalizeName
                    | Builtin::Remove(_)
                    | Builtin::FirstOutside(_)
                    | Builtin::CharName
                    | Builtin::CharCode
                    | Builtin::ConfusableHint,
                1
            ) | (Builtin::StripPrefix, 2)
        )
    }

    /// A quantifier's list, read in place when it is a field (as
    /// [`val`](Self::val) would read it).
    fn list_arg(&mut self, e: &CExpr) -> ListArg {
        match self.plain_let(e).unwrap_or(e) {
            CExpr::Field(slots) if !slots.is_empty() => ListArg::Root(Path::new(slots)),
            _ => ListArg::Dyn(self.val(e)),
        }
    }

    /// A text argument, read in place when it is a field or a constant (as
    /// [`txt`](Self::txt) would read it).
    fn txt_arg(&mut self, e: &CExpr) -> TxtArg {
        if let Some(x) = self.plain_let(e) {
            return self.txt_arg(x);
        }
        if let Some(f) = self.fold(e) {
            return TxtArg::Const(self.constant(f));
        }
        match e {
            CExpr::Const(f) => TxtArg::Const(self.constant(f.clone())),
            CExpr::Field(slots) if !slots.is_empty() => TxtArg::Field(Path::new(slots), self.fact_slot(slots)),
            _ => TxtArg::Dyn(self.txt(e)),
        }
    }

    /// A text, with what is known of it; `None` for a value that is not a text.
    fn txt(&mut self, e: &CExpr) -> Txt {
        if let Some(x) = self.plain_let(e) {
            return self.txt(x);
        }
        if self.fold(e).is_some() {
            let v = self.val(e);
            return tf(move |ev| match v(ev) {
                Value::Text(s) => Some(Text { s, facts: 0 }),
                _ => None,
            });
        }
        match e {
            CExpr::Field(slots) if !slots.is_empty() => {
                let k = self.fact_slot(slots);
                let p = Path::new(slots);
                tf(move |ev| match p.get(ev.root) {
                    Field::Text(s) => {
                        let facts = ev.field_facts(k, s);
                        Some(Text {
                            s: Cow::Borrowed(s),
                            facts,
                        })
                    }
                    _ => None,
                })
            }
            CExpr::Let(i) => {
                // A text `let` is kept with the text built-ins' values.
                let i = *i as usize;
                let k = self.memo_slot_for(format!("let {i}"));
                memoised(
                    k,
                    tf(move |ev| {
                        let p: &Program = ev.prog;
                        p.let_txt.get(i).and_then(|f| f(ev))
                    }),
                )
            }
            CExpr::Call(b, args) if self.text_call(*b, args) && self.memo_key(e).is_some() => {
                let k = self.memo_slot(e);
                let t = self.txt_call(*b, args, e);
                memoised(k, t)
            }
            CExpr::Call(b, args) if self.text_call(*b, args) => self.txt_call(*b, args, e),
            _ => self.txt_of_val(e),
        }
    }

    /// A built-in whose value is a text, over texts.
    fn txt_call(&mut self, b: Builtin, args: &[CExpr], e: &CExpr) -> Txt {
        let texts: Vec<TxtArg> = args.iter().map(|a| self.txt_arg(a)).collect();
        let mut texts = texts.into_iter();
        let (Some(x), y) = (texts.next(), texts.next()) else {
            return self.txt_of_val(e);
        };
        match b {
            Builtin::FirstOutside(c) => {
                let c = c as usize;
                let table = self.ascii_table(c);
                tf(move |ev| {
                    let mut t = x.get(ev)?;
                    let rs: &RuleSet = ev.rs;
                    let cs = rs.charsets.get(c)?;
                    let (i, ch) = if t.is_ascii() {
                        let i = t.s.bytes().position(|b| !table.has(b))?;
                        (i, char::from(*t.s.as_bytes().get(i)?))
                    } else {
                        cs.first_outside(&t.s)?
                    };
                    let facts = facts_of_char(ch);
                    let s = match t.s {
                        Cow::Borrowed(b) => Cow::Borrowed(b.get(i..i + ch.len_utf8())?),
                        Cow::Owned(_) => Cow::Owned(ch.to_string()),
                    };
                    Some(Text { s, facts })
                })
            }
            Builtin::CharName | Builtin::CharCode => {
                let name = b == Builtin::CharName;
                tf(move |ev| {
                    let t = x.get(ev)?;
                    let s = match t.s.chars().next() {
                        Some(ch) if name => ev.describe(ch),
                        Some(ch) => format!("U+{:04X}", ch as u32),
                        None => String::new(),
                    };
                    Some(Text {
                        facts: facts_of(&s),
                        s: Cow::Owned(s),
                    })
                })
            }
            Builtin::ConfusableHint => tf(move |ev| {
                let t = x.get(ev)?;
                let c = t.s.chars().next()?;
                let hint = ev.confusable_hint(c)?;
                Some(Text {
                    facts: facts_of(&hint),
                    s: Cow::Owned(hint),
                })
            }),
            Builtin::Nfc => tf(move |ev| {
                let mut t = x.get(ev)?;
                if t.is_ascii() || t.facts & NFC != 0 {
                    t.facts |= NFC;
                    return Some(t);
                }
                let s = match t.s {
                    Cow::Borrowed(b) => text::nfc(b),
                    Cow::Owned(o) => Cow::Owned(text::nfc(&o).into_owned()),
                };
                Some(Text { s, facts: NFC })
            }),
            Builtin::Remove(c) => {
                let c = c as usize;
                let table = self.ascii_table(c);
                tf(move |ev| {
                    let mut t = x.get(ev)?;
                    let rs: &RuleSet = ev.rs;
                    let cs = rs.charsets.get(c)?;
                    let facts = keep_ascii(t.facts);
                    if t.is_ascii() {
                        let inside = |b: u8| table.has(b);
                        if !t.s.bytes().any(inside) {
                            return Some(Text { s: t.s, facts });
                        }
                        // ASCII in, ASCII out: kept bytes are a valid text.
                        let mut kept = Vec::with_capacity(t.s.len());
                        kept.extend(t.s.bytes().filter(|&b| !inside(b)));
                        let out = String::from_utf8(kept).unwrap_or_default();
                        return Some(Text {
                            s: Cow::Owned(out),
                            facts,
                        });
                    }
                    if !t.s.chars().any(|ch| cs.contains(ch)) {
                        return Some(Text { s: t.s, facts });
                    }
                    let mut out = String::with_capacity(t.s.len());
                    out.extend(t.s.chars().filter(|&ch| !cs.contains(ch)));
                    Some(Text {
                        s: Cow::Owned(out),
                        facts,
                    })
                })
            }
            Builtin::StripPrefix => {
                let Some(y) = y else {
                    return self.txt_of_val(e);
                };
                tf(move |ev| {
                    let t = x.get(ev)?;
                    let prefix = y.get(ev)?;
                    let facts = keep_ascii(t.facts);
                    let s = match t.s {
                        Cow::Borrowed(b) => Cow::Borrowed(b.strip_prefix(&*prefix.s).unwrap_or(b)),
                        Cow::Owned(o) => match o.strip_prefix(&*prefix.s) {
                            Some(rest) => Cow::Owned(rest.to_string()),
                            None => Cow::Owned(o),
                        },
                    };
                    Some(Text { s, facts })
                })
            }
            _ => {
                let f: for<'b> fn(&'b str) -> Cow<'b, str> = match b {
                    Builtin::Trim => str_trim,
                    Builtin::FoldSpace => text::fold_space,
                    Builtin::AsciiLower => text::ascii_lower,
                    Builtin::Lower => text::lower,
                    _ => text::normalize_name,
                };
                tf(move |ev| {
                    let t = x.get(ev)?;
                    let facts = keep_ascii(t.facts);
                    let s = match t.s {
                        Cow::Borrowed(b) => f(b),
                        Cow::Owned(o) => {
                            let changed = match f(&o) {
                                Cow::Borrowed(same) if same.len() == o.len() => None,
                                other => Some(other.into_owned()),
                            };
                            Cow::Owned(changed.unwrap_or(o))
                        }
                    };
                    Some(Text { s, facts })
                })
            }
        }
    }

    fn txt_of_val(&mut self, e: &CExpr) -> Txt {
        let v = self.val(e);
        tf(move |ev| match v(ev) {
            Value::Text(s) => Some(Text { s, facts: 0 }),
            _ => None,
        })
    }
}

fn cf<F: for<'a> Fn(&mut Ev<'a>) -> Option<bool> + Send + Sync + 'static>(f: F) -> Cond {
    Box::new(f)
}

fn vf<F: for<'a> Fn(&mut Ev<'a>) -> Value<'a> + Send + Sync + 'static>(f: F) -> Val {
    Box::new(f)
}

fn tf<F: for<'a> Fn(&mut Ev<'a>) -> Option<Text<'a>> + Send + Sync + 'static>(f: F) -> Txt {
    Box::new(f)
}

fn str_trim(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn admitted_orderings_agree_with_holds_either_way_round() {
        let ops = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];
        for op in ops {
            for ord in [Ordering::Less, Ordering::Equal, Ordering::Greater] {
                assert_eq!(admitted(admits(op), ord), holds(op, ord), "{op:?} {ord:?}");
                assert_eq!(
                    admitted(flipped(admits(op)), ord),
                    holds(op, ord.reverse()),
                    "{op:?} {ord:?}"
                );
            }
        }
    }
}
