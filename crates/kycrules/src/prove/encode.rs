//! Two compiled rule sets as one propositional problem over shared atoms.

use super::Claim;
use super::theory::{self, Automata, Point, Rel, TextCheck};
use crate::charset::Class;
use crate::date::Date;
use crate::explain::decompile::Decompiler;
use crate::ir::{Builtin, CExpr, CmpOp, Outcome, RuleSet, Type};
use crate::record::{EntryValue, Field};
use batsat::{BasicSolver, Lit, SolverInterface, lbool};
use std::collections::HashMap;
use std::fmt::Write;

/// A three-valued formula: `t` when true, `f` when false, neither when unknown.
#[derive(Debug, Clone, Copy)]
struct Tv {
    t: Lit,
    f: Lit,
}

/// What a theory knows of an atom.
#[derive(Debug, Clone)]
pub enum Th {
    /// Nothing: uninterpreted.
    None,
    /// `term rel constant`, for numbers and dates.
    Order { term: usize, rel: Rel, c: Point },
    /// `term == value`, for enums and banks.
    Choice { term: usize, value: u32 },
    /// The term's text is in a regular language (full match).
    Text { term: usize, regex: String },
}

#[derive(Debug, Clone)]
pub struct Atom {
    t: Lit,
    f: Lit,
    pub th: Th,
    /// The atom as policy text, for reports.
    pub text: String,
}

/// A field of the root record, reached by names.
#[derive(Debug, Clone)]
pub struct FieldRef {
    pub names: Vec<String>,
    pub ty: Type,
    pub optional: bool,
    /// The schema's default for an absent field (part of what the field means).
    pub default: Option<Field>,
    /// The rule set (0 old, 1 new) the field was read from.
    pub side: usize,
}

#[derive(Debug, Clone)]
pub struct Term {
    /// True when the term has a value (it is not absent).
    pub defined: Lit,
    /// Set when the term is a field of the root record.
    pub field: Option<FieldRef>,
    /// For a text derived from a field by trimming, removing, stripping and
    /// the like: that field's term (the witness search tries the same text).
    pub root: Option<usize>,
    /// The prefixes stripped on the way from `root` (innermost last), so a
    /// language of this term can be lifted to one of the root's.
    pub stripped: Vec<String>,
    /// For `length(x)`: the term `x`.
    pub length_of: Option<usize>,
    /// The number of values of an enum term; `None` for banks and others.
    pub size: Option<usize>,
}

/// An atom's value in a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    T,
    F,
    U,
}

pub struct Model {
    pub atoms: Vec<Tri>,
    pub defined: Vec<Option<bool>>,
}

/// A value a theory chose for a term.
#[derive(Debug, Clone)]
pub enum Value {
    Point(Point),
    Choice(Option<u32>),
    Text(String),
}

pub enum Check {
    /// A clause that blocks this model and every other with the same conflict.
    Conflict(Vec<Lit>),
    /// Per term, the values the theories chose.
    Consistent(HashMap<usize, Value>),
}

pub struct Encoding<'a> {
    pub sides: [&'a RuleSet; 2],
    as_of: Date,
    schema_same: bool,
    tables_same: bool,
    pub solver: BasicSolver,
    pub automata: Automata,
    tru: Lit,
    pub atoms: Vec<Atom>,
    atom_keys: HashMap<String, usize>,
    pub terms: Vec<Term>,
    term_keys: HashMap<String, usize>,
    lets: [Vec<Option<Tv>>; 2],
    /// Equalities between two terms (the atom's true literal, the terms):
    /// a witness copies a value set on one side to the other.
    pub links: Vec<(Lit, usize, usize)>,
    fired: [Vec<Lit>; 2],
    /// Per side: whether the worst outcome is at least review, limited, reject.
    levels: [[Lit; 3]; 2],
}

impl<'a> Encoding<'a> {
    pub fn new(old: &'a RuleSet, new: &'a RuleSet, as_of: Date) -> Self {
        let mut solver = BasicSolver::default();
        let tru = Lit::new(solver.new_var_default(), true);
        solver.add_clause_reuse(&mut vec![tru]);
        let tables = |rs: &RuleSet| -> String {
            rs.tables
                .iter()
                .map(|t| format!("{}{:?}{:?}", t.name, t.list, t.attributes))
                .collect()
        };
        let tables_same = tables(old) == tables(new);
        let mut enc = Encoding {
            sides: [old, new],
            as_of,
            schema_same: format!("{:?}", old.schema) == format!("{:?}", new.schema),
            tables_same,
            solver,
            automata: Automata::default(),
            tru,
            atoms: Vec::new(),
            atom_keys: HashMap::new(),
            terms: Vec::new(),
            term_keys: HashMap::new(),
            lets: [vec![None; old.lets.len()], vec![None; new.lets.len()]],
            links: Vec::new(),
            fired: [Vec::new(), Vec::new()],
            levels: [[tru; 3]; 2],
        };
        for s in 0..2 {
            enc.encode_side(s);
        }
        enc
    }

    fn var(&mut self) -> Lit {
        Lit::new(self.solver.new_var_default(), true)
    }

    fn clause(&mut self, lits: &[Lit]) {
        let mut c = lits.to_vec();
        self.solver.add_clause_reuse(&mut c);
    }

    fn and(&mut self, xs: &[Lit]) -> Lit {
        let fls = !self.tru;
        if xs.contains(&fls) {
            return fls;
        }
        let xs: Vec<Lit> = xs.iter().copied().filter(|&x| x != self.tru).collect();
        match xs.as_slice() {
            [] => self.tru,
            [x] => *x,
            _ => {
                let v = self.var();
                let mut back = vec![v];
                for &x in &xs {
                    self.clause(&[!v, x]);
                    back.push(!x);
                }
                self.clause(&back);
                v
            }
        }
    }

    fn or(&mut self, xs: &[Lit]) -> Lit {
        let neg: Vec<Lit> = xs.iter().map(|&x| !x).collect();
        !self.and(&neg)
    }

    fn encode_side(&mut self, s: usize) {
        let rs = self.sides[s];
        let mut by_level: [Vec<Lit>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for rule in &rs.rules {
            let in_force = self.in_force(s, rule.validity);
            let guard = match &rule.guard {
                Some(g) => self.tv(s, g).t,
                None => self.tru,
            };
            let when = self.tv(s, &rule.when).t;
            let fired = self.and(&[in_force, guard, when]);
            self.fired[s].push(fired);
            // A note is reported but decides nothing (accept stays accept).
            let level = match rule.outcome {
                Outcome::Note => 0,
                Outcome::Review => 1,
                Outcome::Limited => 2,
                Outcome::Reject => 3,
            };
            for (k, list) in by_level.iter_mut().enumerate() {
                if level > k {
                    list.push(fired);
                }
            }
        }
        for (k, list) in by_level.iter().enumerate() {
            self.levels[s][k] = self.or(list);
        }
    }

    /// Whether a rule of this validity is in force for an application: fixed
    /// by the date, unless the policy judges records as of their own date
    /// (never later than `as_of`), when it is left open.
    fn in_force(&mut self, s: usize, v: crate::ir::Validity) -> Lit {
        let rs = self.sides[s];
        if v.is_always() {
            return self.tru;
        }
        if rs.as_of.is_none() || v.effective.is_some_and(|e| e > self.as_of) {
            return if v.holds(self.as_of) { self.tru } else { !self.tru };
        }
        let shared = self.sides[0].as_of == self.sides[1].as_of;
        let key = if shared {
            format!("in-force|{v:?}")
        } else {
            format!("s{s}:in-force|{v:?}")
        };
        let text = format!("the application's date is within {v:?}");
        let tv = self.atom(key, Th::None, text);
        self.clause(&[tv.t, tv.f]);
        tv.t
    }

    /// The literal that holds when NEW breaks the claim against OLD.
    pub fn goal(&mut self, claim: Claim) -> Lit {
        let [old, new] = self.levels;
        let mut ways = Vec::new();
        for k in 0..3 {
            ways.push(self.and(&[old[k], !new[k]]));
            if claim == Claim::Equivalent {
                ways.push(self.and(&[!old[k], new[k]]));
            }
        }
        self.or(&ways)
    }

    /// The ids of rules whose compiled form differs, or that one side lacks.
    pub fn changed_rules(&self) -> Vec<String> {
        let shape = |s: usize, r: &crate::ir::Rule| {
            let mut shared = true;
            let mut out = format!("{:?}|{:?}|", r.outcome, r.validity);
            if let Some(g) = &r.guard {
                self.canon_into(s, g, &mut out, &mut shared);
            }
            out.push('|');
            self.canon_into(s, &r.when, &mut out, &mut shared);
            out
        };
        let mut changed = Vec::new();
        let [old, new] = self.sides;
        for r in &old.rules {
            match new.rules.iter().find(|n| n.id == r.id) {
                Some(n) if shape(0, r) == shape(1, n) => {}
                _ => changed.push(r.id.clone()),
            }
        }
        for n in &new.rules {
            if !old.rules.iter().any(|r| r.id == n.id) {
                changed.push(n.id.clone());
            }
        }
        changed
    }

    /// The fields (by names) that the changed rules read, through lets and
    /// `fired(...)`: what a counterexample needs to set.
    pub fn focus(&self, changed: &[String]) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (s, rs) in self.sides.iter().enumerate() {
            for rule in rs.rules.iter().filter(|r| changed.contains(&r.id)) {
                if let Some(g) = &rule.guard {
                    self.fields_of(s, g, &mut out, 0);
                }
                self.fields_of(s, &rule.when, &mut out, 0);
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn fields_of(&self, s: usize, e: &CExpr, out: &mut Vec<Vec<String>>, depth: usize) {
        let rs = self.sides[s];
        if depth > 256 {
            return;
        }
        let go = |x: &CExpr, out: &mut Vec<Vec<String>>| self.fields_of(s, x, out, depth + 1);
        match e {
            CExpr::Field(_) => {
                if let Some(f) = self.field_ref(s, e) {
                    out.push(f.names);
                }
            }
            CExpr::Let(i) => {
                if let Some(body) = rs.lets.get(*i as usize) {
                    go(body, out);
                }
            }
            CExpr::Fired(i) => {
                if let Some(rule) = rs.rules.get(*i as usize) {
                    if let Some(g) = &rule.guard {
                        go(g, out);
                    }
                    go(&rule.when, out);
                }
            }
            _ => e.for_each_child(|x| go(x, out)),
        }
    }

    // ----- formulas -----

    fn unknown(&self) -> Tv {
        Tv {
            t: !self.tru,
            f: !self.tru,
        }
    }

    fn tv(&mut self, s: usize, e: &CExpr) -> Tv {
        let rs = self.sides[s];
        match e {
            CExpr::Const(Field::Bool(b)) => {
                let t = if *b { self.tru } else { !self.tru };
                Tv { t, f: !t }
            }
            CExpr::Let(i) => {
                if let Some(Some(tv)) = self.lets[s].get(*i as usize) {
                    return *tv;
                }
                let Some(body) = rs.lets.get(*i as usize) else {
                    return self.unknown();
                };
                let tv = self.tv(s, body);
                if let Some(slot) = self.lets[s].get_mut(*i as usize) {
                    *slot = Some(tv);
                }
                tv
            }
            CExpr::Not(x) => {
                let x = self.tv(s, x);
                Tv { t: x.f, f: x.t }
            }
            CExpr::And(l, r) => {
                let (l, r) = (self.tv(s, l), self.tv(s, r));
                Tv {
                    t: self.and(&[l.t, r.t]),
                    f: self.or(&[l.f, r.f]),
                }
            }
            CExpr::Or(l, r) => {
                let (l, r) = (self.tv(s, l), self.tv(s, r));
                Tv {
                    t: self.or(&[l.t, r.t]),
                    f: self.and(&[l.f, r.f]),
                }
            }
            CExpr::Fired(i) => {
                let t = self.fired[s].get(*i as usize).copied().unwrap_or(!self.tru);
                Tv { t, f: !t }
            }
            CExpr::Cmp(op, l, r) => self.cmp(s, *op, l, r, e),
            CExpr::In(x, items) if !items.is_empty() => {
                let parts: Vec<Tv> = items.iter().map(|item| self.cmp(s, CmpOp::Eq, x, item, e)).collect();
                let ts: Vec<Lit> = parts.iter().map(|p| p.t).collect();
                let fs: Vec<Lit> = parts.iter().map(|p| p.f).collect();
                Tv {
                    t: self.or(&ts),
                    f: self.and(&fs),
                }
            }
            CExpr::Call(Builtin::Present, args) => match args.first() {
                Some(x) => {
                    let d = self.defined(s, x);
                    Tv { t: d, f: !d }
                }
                None => self.opaque(s, e, None),
            },
            CExpr::Call(b, args) => self.call(s, *b, args, e),
            CExpr::EntryAttr(x, t, a) if self.ty_of(s, x) == Some(Type::Entry(*t)) => self.bank_flag(s, x, *t, *a, e),
            // Not modelled by a theory: uninterpreted atoms (sound). Listed
            // one by one so that a new kind of expression is a compile error
            // here, to be placed deliberately.
            CExpr::Const(_)
            | CExpr::Field(_)
            | CExpr::Var(..)
            | CExpr::EntryAttr(..)
            | CExpr::EntryKnown(_)
            | CExpr::EntryCode(_)
            | CExpr::Lookup(..)
            | CExpr::Table(_)
            | CExpr::In(..)
            | CExpr::Quant(..)
            | CExpr::Today
            | CExpr::DateShift(..)
            | CExpr::Arith(..)
            | CExpr::Aggregate(..) => {
                let couple = match e {
                    CExpr::Field(_) if self.ty_of(s, e) == Some(Type::Bool) => Some(e),
                    _ => None,
                };
                self.opaque(s, e, couple)
            }
        }
    }

    /// A yes/no attribute of a table entry (a bank), defined through the
    /// table: true when the value resolved to an entry whose attribute is
    /// true, or resolved to none and the attribute's default is true.
    fn bank_flag(&mut self, s: usize, x: &CExpr, table: u32, attr: u32, whole: &CExpr) -> Tv {
        let rs = self.sides[s];
        let Some(tab) = rs.table(table) else {
            return self.opaque(s, whole, Some(x));
        };
        let Some(Field::Bool(default)) = tab.attributes.get(attr as usize).map(|a| a.default.clone()) else {
            return self.opaque(s, whole, Some(x));
        };
        let d = self.defined(s, x);
        let mut yes = Vec::new();
        let mut none_of = Vec::new();
        for (id, bank) in tab.list.iter().enumerate() {
            let c = Field::Entry(EntryValue {
                table,
                id: Some(id as u32),
                typed: bank.code.clone().into(),
            });
            let eq = self.base_cmp(s, Rel::Eq, x, &c);
            none_of.push(eq.f);
            if matches!(bank.attrs.get(attr as usize), Some(Field::Bool(true))) {
                yes.push(eq.t);
            }
        }
        if default {
            let unresolved = self.and(&none_of);
            yes.push(unresolved);
        }
        let any = self.or(&yes);
        let t = self.and(&[d, any]);
        let f = self.and(&[d, !t]);
        Tv { t, f }
    }

    /// An uninterpreted atom for `e`; when `couple` is given, the atom is
    /// known exactly when that term has a value.
    fn opaque(&mut self, s: usize, e: &CExpr, couple: Option<&CExpr>) -> Tv {
        let key = format!("op|{}", self.canon(s, e));
        let text = self.render(s, e);
        let known = self.atom_keys.contains_key(&key);
        let tv = self.atom(key, Th::None, text);
        if !known && let Some(x) = couple {
            let d = self.defined(s, x);
            self.couple(tv, d);
        }
        tv
    }

    fn couple(&mut self, tv: Tv, d: Lit) {
        self.clause(&[!tv.t, d]);
        self.clause(&[!tv.f, d]);
        self.clause(&[!d, tv.t, tv.f]);
    }

    /// The atom of `key`, made on first use.
    fn atom(&mut self, key: String, th: Th, text: String) -> Tv {
        if let Some(&i) = self.atom_keys.get(&key)
            && let Some(a) = self.atoms.get(i)
        {
            return Tv { t: a.t, f: a.f };
        }
        let (t, f) = (self.var(), self.var());
        self.clause(&[!t, !f]);
        self.atom_keys.insert(key, self.atoms.len());
        self.atoms.push(Atom { t, f, th, text });
        Tv { t, f }
    }

    fn cmp(&mut self, s: usize, op: CmpOp, l: &CExpr, r: &CExpr, whole: &CExpr) -> Tv {
        let (op, x, c) = match (l, r) {
            (CExpr::Const(_), CExpr::Const(_)) => return self.opaque(s, whole, None),
            (x, CExpr::Const(c)) => (op, x, c),
            (CExpr::Const(c), x) => {
                let flipped = match op {
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    other => other,
                };
                (flipped, x, c)
            }
            _ => {
                // `!=` is the negation of `==` in three-valued logic too.
                let (base, negate) = match op {
                    CmpOp::Ne => (CmpOp::Eq, true),
                    other => (other, false),
                };
                let cmp = CExpr::Cmp(base, Box::new(l.clone()), Box::new(r.clone()));
                let known = self.atom_keys.contains_key(&format!("op|{}", self.canon(s, &cmp)));
                let tv = self.opaque(s, &cmp, None);
                // Two values of one plain type always compare: the atom is
                // known exactly when both are.
                let (tl, tr) = (self.ty_of(s, l), self.ty_of(s, r));
                if !known
                    && tl == tr
                    && matches!(
                        tl,
                        Some(Type::Text | Type::Number | Type::Date | Type::Bool | Type::Enum(_))
                    )
                {
                    let (dl, dr) = (self.defined(s, l), self.defined(s, r));
                    let both = self.and(&[dl, dr]);
                    self.couple(tv, both);
                }
                if base == CmpOp::Eq {
                    let (a, b) = (self.term(s, l), self.term(s, r));
                    self.links.push((tv.t, a, b));
                }
                return if negate { Tv { t: tv.f, f: tv.t } } else { tv };
            }
        };
        let (rel, negate) = match op {
            CmpOp::Eq => (Rel::Eq, false),
            CmpOp::Ne => (Rel::Eq, true),
            CmpOp::Lt => (Rel::Lt, false),
            CmpOp::Le => (Rel::Le, false),
            CmpOp::Gt => (Rel::Le, true),
            CmpOp::Ge => (Rel::Lt, true),
        };
        let tv = self.base_cmp(s, rel, x, c);
        if negate { Tv { t: tv.f, f: tv.t } } else { tv }
    }

    /// `x rel c`, an atom over the term `x`.
    fn base_cmp(&mut self, s: usize, rel: Rel, x: &CExpr, c: &Field) -> Tv {
        let term = self.term(s, x);
        let ty = self.ty_of(s, x);
        let term_key = self.canon(s, x);
        let mut shared = true;
        let mut ckey = String::new();
        self.const_key(c, &mut ckey, &mut shared);
        let key = if shared {
            format!("cmp|{rel:?}|{term_key}|{ckey}")
        } else {
            format!("s{s}:cmp|{rel:?}|{term_key}|{ckey}")
        };
        let sym = match rel {
            Rel::Lt => "<",
            Rel::Le => "<=",
            Rel::Eq => "==",
        };
        let text = format!(
            "{} {sym} {}",
            self.render(s, x),
            Decompiler::new(self.sides[s]).constant(c, ty.as_ref())
        );
        let (th, total) = match (c, rel, &ty) {
            (Field::Num(n), _, Some(Type::Number)) => (
                Th::Order {
                    term,
                    rel,
                    c: Point::Num(*n),
                },
                true,
            ),
            (Field::Date(d), _, Some(Type::Date)) => (
                Th::Order {
                    term,
                    rel,
                    c: Point::Date(*d),
                },
                true,
            ),
            (Field::Enum(v), Rel::Eq, Some(Type::Enum(_))) => (Th::Choice { term, value: *v }, true),
            (Field::Entry(EntryValue { id: Some(b), table, .. }), Rel::Eq, Some(Type::Entry(t)))
                if self.tables_same && *table == *t =>
            {
                (Th::Choice { term, value: *b }, true)
            }
            (Field::Text(t), Rel::Eq, Some(Type::Text)) => (
                Th::Text {
                    term,
                    regex: theory::literal(t),
                },
                true,
            ),
            (Field::Text(_), _, Some(Type::Text))
            | (Field::Bool(_), _, Some(Type::Bool))
            | (Field::Enum(_), _, Some(Type::Enum(_))) => (Th::None, true),
            _ => (Th::None, false),
        };
        let known = self.atom_keys.contains_key(&key);
        let tv = self.atom(key, th, text);
        if !known && total {
            let d = self.term_defined(term);
            self.couple(tv, d);
        }
        tv
    }

    fn call(&mut self, s: usize, b: Builtin, args: &[CExpr], whole: &CExpr) -> Tv {
        let any = "(?s:.)*";
        let regex = match (b, args) {
            (Builtin::Matches(p), [_]) => self.sides[s]
                .patterns
                .get(p as usize)
                .map(|re| format!("{any}(?:{}){any}", re.as_str())),
            (Builtin::StartsWith, [_, CExpr::Const(Field::Text(t))]) => Some(format!("{}{any}", theory::literal(t))),
            (Builtin::EndsWith, [_, CExpr::Const(Field::Text(t))]) => Some(format!("{any}{}", theory::literal(t))),
            (Builtin::Contains, [_, CExpr::Const(Field::Text(t))]) => Some(format!("{any}{}{any}", theory::literal(t))),
            (Builtin::Only(c), [_]) => self.charset_class(s, c).map(|k| format!("{k}*")),
            (Builtin::HasAny(c), [_]) => self.charset_class(s, c).map(|k| format!("{any}{k}{any}")),
            _ => None,
        };
        let Some(x) = args.first() else {
            return self.opaque(s, whole, None);
        };
        let is_text = self.ty_of(s, x) == Some(Type::Text);
        let regex = regex.filter(|r| is_text && self.automata.supports(r));
        let Some(regex) = regex else {
            // Uninterpreted; still known exactly when its text is, for the
            // text tests that are total on texts.
            let total = is_text
                && matches!(
                    (b, args),
                    (Builtin::Matches(_) | Builtin::Only(_) | Builtin::HasAny(_), [_])
                        | (
                            Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains,
                            [_, CExpr::Const(Field::Text(_))]
                        )
                );
            return self.opaque(s, whole, if total { Some(x) } else { None });
        };
        let term = self.term(s, x);
        let key = format!("text|{}|{regex}", self.canon(s, x));
        let text = self.render(s, whole);
        let known = self.atom_keys.contains_key(&key);
        let tv = self.atom(key, Th::Text { term, regex }, text);
        if !known {
            let d = self.term_defined(term);
            self.couple(tv, d);
        }
        tv
    }

    /// A charset as a regex class, when it is made of ranges only.
    fn charset_class(&self, s: usize, c: u32) -> Option<String> {
        let set = self.sides[s].charsets.get(c as usize)?;
        let (include, exclude) = set.classes();
        let class = |classes: &[Class]| -> Option<String> {
            let mut out = String::from("[");
            for k in classes {
                match k {
                    Class::Range(a, b) => {
                        let _ = write!(out, "\\x{{{:X}}}-\\x{{{:X}}}", *a as u32, *b as u32);
                    }
                    Class::Any => out.push_str("\\x{0}-\\x{10FFFF}"),
                    Class::Script(_) | Class::WhiteSpace | Class::Invisible => return None,
                }
            }
            if classes.is_empty() {
                return Some("[^\\x{0}-\\x{10FFFF}]".to_owned());
            }
            out.push(']');
            Some(out)
        };
        let inc = class(include)?;
        if exclude.is_empty() {
            Some(inc)
        } else {
            Some(format!("[{inc}--{}]", class(exclude)?))
        }
    }

    // ----- terms -----

    fn term(&mut self, s: usize, x: &CExpr) -> usize {
        let rs = self.sides[s];
        // A `let` is the same term as its body.
        if let CExpr::Let(i) = x
            && let Some(body) = rs.lets.get(*i as usize)
        {
            return self.term(s, body);
        }
        let key = self.canon(s, x);
        if let Some(&i) = self.term_keys.get(&key) {
            return i;
        }
        // A text derived from another by a total transformation has a value
        // exactly when that one has.
        let derived = match x {
            CExpr::Call(
                Builtin::Length
                | Builtin::Nfc
                | Builtin::Trim
                | Builtin::FoldSpace
                | Builtin::AsciiLower
                | Builtin::Lower
                | Builtin::NormalizeName
                | Builtin::Remove(_),
                args,
            ) if args.len() == 1 => args.first(),
            CExpr::Call(Builtin::StripPrefix, args) => match args.as_slice() {
                [a, CExpr::Const(Field::Text(_))] => Some(a),
                _ => None,
            },
            _ => None,
        };
        let derived = derived.filter(|a| self.ty_of(s, a) == Some(Type::Text));
        let is_length = matches!(x, CExpr::Call(Builtin::Length, _));
        let mut stripped = Vec::new();
        let mut length_of = None;
        let (defined, root) = match derived {
            Some(a) => {
                let inner = self.term(s, a);
                let d = self.term_defined(inner);
                let t = self.terms.get(inner);
                let root = t.and_then(|t| if t.field.is_some() { Some(inner) } else { t.root });
                if let CExpr::Call(Builtin::StripPrefix, args) = x
                    && let Some(CExpr::Const(Field::Text(c))) = args.get(1)
                {
                    stripped.push(theory::literal(c));
                }
                stripped.extend(t.map(|t| t.stripped.clone()).unwrap_or_default());
                if is_length {
                    length_of = Some(inner);
                }
                (d, if is_length { None } else { root })
            }
            None => (self.var(), None),
        };
        let field = self.field_ref(s, x);
        let size = match self.ty_of(s, x) {
            Some(Type::Enum(e)) => rs.schema.enums.get(e as usize).map(Vec::len),
            _ => None,
        };
        let i = self.terms.len();
        self.term_keys.insert(key, i);
        self.terms.push(Term {
            defined,
            field,
            root,
            stripped,
            length_of,
            size,
        });
        i
    }

    fn term_defined(&self, term: usize) -> Lit {
        self.terms.get(term).map_or(!self.tru, |t| t.defined)
    }

    fn defined(&mut self, s: usize, x: &CExpr) -> Lit {
        if let CExpr::Const(f) = x {
            return if matches!(f, Field::Absent) {
                !self.tru
            } else {
                self.tru
            };
        }
        let t = self.term(s, x);
        self.term_defined(t)
    }

    fn field_ref(&self, s: usize, x: &CExpr) -> Option<FieldRef> {
        let slots = match x {
            CExpr::Field(slots) => slots,
            CExpr::Let(i) => return self.field_ref(s, self.sides[s].lets.get(*i as usize)?),
            _ => return None,
        };
        let schema = &self.sides[s].schema;
        let mut record = 0usize;
        let mut names = Vec::new();
        let mut last = None;
        for &slot in slots.iter() {
            let f = schema.records.get(record)?.fields.get(slot as usize)?;
            names.push(f.name.clone());
            if let Type::Record(r) = f.ty {
                record = r as usize;
            }
            last = Some(f);
        }
        let f = last?;
        Some(FieldRef {
            names,
            ty: f.ty.clone(),
            optional: f.optional && f.default.is_none(),
            default: f.default.clone(),
            side: s,
        })
    }

    fn ty_of(&self, s: usize, e: &CExpr) -> Option<Type> {
        let rs = self.sides[s];
        match e {
            CExpr::Field(_) => self.field_ref(s, e).map(|f| f.ty),
            CExpr::Let(i) => self.ty_of(s, rs.lets.get(*i as usize)?),
            CExpr::Const(f) => match f {
                Field::Text(_) => Some(Type::Text),
                Field::Num(_) => Some(Type::Number),
                Field::Date(_) => Some(Type::Date),
                Field::Bool(_) => Some(Type::Bool),
                _ => None,
            },
            CExpr::Call(Builtin::Length | Builtin::Size, _) => Some(Type::Number),
            CExpr::Call(
                Builtin::Nfc
                | Builtin::Trim
                | Builtin::FoldSpace
                | Builtin::AsciiLower
                | Builtin::Lower
                | Builtin::NormalizeName
                | Builtin::Remove(_)
                | Builtin::StripPrefix
                | Builtin::FirstOutside(_),
                _,
            ) => Some(Type::Text),
            CExpr::Quant(crate::ast::Quantifier::Count, ..) => Some(Type::Number),
            CExpr::EntryAttr(_, t, a) => rs
                .table(*t)
                .and_then(|t| t.attributes.get(*a as usize))
                .map(|a| a.ty.clone()),
            _ => None,
        }
    }

    // ----- keys and names -----

    fn render(&self, s: usize, e: &CExpr) -> String {
        let mut scope = Vec::new();
        Decompiler::new(self.sides[s]).render(e, &mut scope)
    }

    /// A key for an expression: equal keys mean equal values on the same
    /// application under either policy. What depends on one policy (rule
    /// indices, a differing schema's slots or bank table) is marked with it.
    fn canon(&self, s: usize, e: &CExpr) -> String {
        let mut out = String::new();
        let mut shared = true;
        self.canon_into(s, e, &mut out, &mut shared);
        if shared { out } else { format!("s{s}:{out}") }
    }

    fn const_key(&self, f: &Field, out: &mut String, shared: &mut bool) {
        if matches!(f, Field::Entry(_)) && !self.tables_same {
            *shared = false;
        }
        let _ = write!(out, "{f:?}");
    }

    fn canon_into(&self, s: usize, e: &CExpr, out: &mut String, shared: &mut bool) {
        let rs = self.sides[s];
        let list = |me: &Self, xs: &[&CExpr], out: &mut String, shared: &mut bool| {
            out.push('(');
            for x in xs {
                me.canon_into(s, x, out, shared);
                out.push(',');
            }
            out.push(')');
        };
        match e {
            CExpr::Const(f) => self.const_key(f, out, shared),
            CExpr::Field(slots) => {
                if self.schema_same {
                    let _ = write!(out, "F{slots:?}");
                } else {
                    match self.field_ref(s, e) {
                        Some(f) => {
                            let _ = write!(
                                out,
                                "F{}:{}:{}:{:?}",
                                f.names.join("."),
                                rs.schema.type_name(&f.ty),
                                f.optional,
                                f.default
                            );
                        }
                        None => {
                            *shared = false;
                            let _ = write!(out, "F{slots:?}");
                        }
                    }
                }
            }
            CExpr::Var(d, slots) => {
                if !self.schema_same {
                    *shared = false;
                }
                let _ = write!(out, "V{d}{slots:?}");
            }
            CExpr::Let(i) => match rs.lets.get(*i as usize) {
                Some(body) => self.canon_into(s, body, out, shared),
                None => *shared = false,
            },
            CExpr::EntryAttr(x, t, a) => {
                if !self.tables_same {
                    *shared = false;
                }
                let _ = write!(out, "BA{t}.{a}");
                list(self, &[x], out, shared);
            }
            CExpr::EntryKnown(x) => {
                out.push_str("BK");
                list(self, &[x], out, shared);
            }
            CExpr::EntryCode(x) => {
                if !self.tables_same {
                    *shared = false;
                }
                out.push_str("EC");
                list(self, &[x], out, shared);
            }
            CExpr::Lookup(t, x) => {
                if !self.tables_same {
                    *shared = false;
                }
                let _ = write!(out, "LK{t}");
                list(self, &[x], out, shared);
            }
            CExpr::Table(t) => {
                if !self.tables_same {
                    *shared = false;
                }
                let _ = write!(out, "TB{t}");
            }
            CExpr::Not(x) => {
                out.push('!');
                list(self, &[x], out, shared);
            }
            CExpr::And(l, r) => {
                out.push('&');
                list(self, &[l, r], out, shared);
            }
            CExpr::Or(l, r) => {
                out.push('|');
                list(self, &[l, r], out, shared);
            }
            CExpr::Cmp(op, l, r) => {
                let _ = write!(out, "{op:?}");
                list(self, &[l, r], out, shared);
            }
            CExpr::In(x, items) => {
                out.push_str("IN");
                let mut all: Vec<&CExpr> = vec![x];
                all.extend(items.iter());
                list(self, &all, out, shared);
            }
            CExpr::Call(b, args) => {
                match b {
                    Builtin::Only(c) | Builtin::HasAny(c) | Builtin::FirstOutside(c) | Builtin::Remove(c) => {
                        let name = match b {
                            Builtin::Only(_) => "only",
                            Builtin::HasAny(_) => "has_any",
                            Builtin::FirstOutside(_) => "first_outside",
                            _ => "remove",
                        };
                        match rs.charsets.get(*c as usize) {
                            Some(set) => {
                                let _ = write!(out, "{name}{:?}", set.classes());
                            }
                            None => *shared = false,
                        }
                    }
                    Builtin::Matches(p) => match rs.patterns.get(*p as usize) {
                        Some(re) => {
                            let _ = write!(out, "matches/{}/", re.as_str());
                        }
                        None => *shared = false,
                    },
                    // The count reads the bank table: the same only when both policies' banks are.
                    Builtin::CountBanks(a) => {
                        if !self.tables_same {
                            *shared = false;
                        }
                        let _ = write!(out, "count_banks{a}");
                    }
                    other => {
                        let _ = write!(out, "{other:?}");
                    }
                }
                let refs: Vec<&CExpr> = args.iter().collect();
                list(self, &refs, out, shared);
            }
            CExpr::Quant(q, l, body) => {
                let _ = write!(out, "Q{q:?}");
                list(self, &[l, body], out, shared);
            }
            CExpr::Fired(i) => {
                *shared = false;
                let _ = write!(out, "fired{i}");
            }
            // The evaluation date is the same for both policies in one proof.
            CExpr::Today => out.push_str("TODAY"),
            CExpr::DateShift(x, n, unit) => {
                let _ = write!(out, "DS{n}{unit:?}");
                list(self, &[x], out, shared);
            }
            CExpr::Arith(op, l, r) => {
                let _ = write!(out, "A{op:?}");
                list(self, &[l, r], out, shared);
            }
            CExpr::Aggregate(op, l, body) => {
                let _ = write!(out, "G{op:?}");
                list(self, &[l, body], out, shared);
            }
        }
    }

    // ----- models -----

    /// Whether a literal is true in the solver's last model.
    pub fn holds(&self, l: Lit) -> bool {
        self.solver.value_lit(l) == lbool::TRUE
    }

    /// Whether the atom whose true literal is `t` is false in the last model.
    pub fn is_false(&self, t: Lit) -> bool {
        self.atoms.iter().find(|a| a.t == t).is_some_and(|a| self.holds(a.f))
    }

    /// The field a term is, or is computed from.
    pub fn root_field(&self, term: usize) -> Option<&FieldRef> {
        let t = self.terms.get(term)?;
        match &t.field {
            Some(f) => Some(f),
            None => self.terms.get(t.root?)?.field.as_ref(),
        }
    }

    pub fn read_model(&self) -> Model {
        let val = |l: Lit| self.solver.value_lit(l) == lbool::TRUE;
        Model {
            atoms: self
                .atoms
                .iter()
                .map(|a| {
                    if val(a.t) {
                        Tri::T
                    } else if val(a.f) {
                        Tri::F
                    } else {
                        Tri::U
                    }
                })
                .collect(),
            defined: self
                .terms
                .iter()
                .map(|t| match self.solver.value_lit(t.defined) {
                    v if v == lbool::TRUE => Some(true),
                    v if v == lbool::FALSE => Some(false),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The literal asserting an atom's value in the model (`None` when unknown).
    fn asserted(&self, atom: usize, model: &Model) -> Option<Lit> {
        let a = self.atoms.get(atom)?;
        match model.atoms.get(atom)? {
            Tri::T => Some(a.t),
            Tri::F => Some(a.f),
            Tri::U => None,
        }
    }

    /// Checks the model term by term.
    pub fn theory_check(&mut self, model: &Model) -> Check {
        let mut order: HashMap<usize, Vec<(usize, Rel, Point, bool)>> = HashMap::new();
        let mut choice: HashMap<usize, Vec<(usize, u32, bool)>> = HashMap::new();
        let mut text: HashMap<usize, Vec<(usize, String, bool)>> = HashMap::new();
        for (i, a) in self.atoms.iter().enumerate() {
            let want = match model.atoms.get(i) {
                Some(Tri::T) => true,
                Some(Tri::F) => false,
                _ => continue,
            };
            match &a.th {
                Th::None => {}
                Th::Order { term, rel, c } => order.entry(*term).or_default().push((i, *rel, *c, want)),
                Th::Choice { term, value } => choice.entry(*term).or_default().push((i, *value, want)),
                Th::Text { term, regex } => text.entry(*term).or_default().push((i, regex.clone(), want)),
            }
        }
        let mut values = HashMap::new();
        let mut terms: Vec<usize> = order.keys().copied().collect();
        terms.sort_unstable();
        for term in terms {
            let cons = order.remove(&term).unwrap_or_default();
            let plain: Vec<(Rel, Point, bool)> = cons.iter().map(|c| (c.1, c.2, c.3)).collect();
            if !theory::interval_consistent(&plain) {
                let core = shrink(cons, |c| {
                    let p: Vec<(Rel, Point, bool)> = c.iter().map(|c| (c.1, c.2, c.3)).collect();
                    !theory::interval_consistent(&p)
                });
                return Check::Conflict(self.blocking(core.iter().map(|c| c.0), model));
            }
            if let Some(p) = theory::interval_witness(&plain) {
                values.insert(term, Value::Point(p));
            }
        }
        let mut terms: Vec<usize> = choice.keys().copied().collect();
        terms.sort_unstable();
        for term in terms {
            let cons = choice.remove(&term).unwrap_or_default();
            let size = self.terms.get(term).and_then(|t| t.size);
            let plain: Vec<(u32, bool)> = cons.iter().map(|c| (c.1, c.2)).collect();
            if !theory::choice_consistent(&plain, size) {
                let core = shrink(cons, |c| {
                    let p: Vec<(u32, bool)> = c.iter().map(|c| (c.1, c.2)).collect();
                    !theory::choice_consistent(&p, size)
                });
                return Check::Conflict(self.blocking(core.iter().map(|c| c.0), model));
            }
            values.insert(term, Value::Choice(theory::choice_witness(&plain, size)));
        }
        let mut terms: Vec<usize> = text.keys().copied().collect();
        terms.sort_unstable();
        for term in terms {
            let cons = text.remove(&term).unwrap_or_default();
            let plain: Vec<(String, bool)> = cons.iter().map(|c| (c.1.clone(), c.2)).collect();
            match self.automata.check(&plain) {
                TextCheck::Empty => {
                    let automata = &mut self.automata;
                    let core = if cons.len() <= 8 {
                        shrink(cons, |c| {
                            let p: Vec<(String, bool)> = c.iter().map(|c| (c.1.clone(), c.2)).collect();
                            matches!(automata.check(&p), TextCheck::Empty)
                        })
                    } else {
                        cons
                    };
                    return Check::Conflict(self.blocking(core.iter().map(|c| c.0), model));
                }
                TextCheck::Witness(w) => {
                    values.insert(term, Value::Text(w));
                }
                TextCheck::Unknown => {}
            }
        }
        Check::Consistent(values)
    }

    fn blocking(&self, atoms: impl Iterator<Item = usize>, model: &Model) -> Vec<Lit> {
        atoms.filter_map(|a| self.asserted(a, model)).map(|l| !l).collect()
    }

    /// A clause excluding this model's values of every atom.
    pub fn block_model(&self, model: &Model) -> Vec<Lit> {
        let mut clause = Vec::new();
        for (i, a) in self.atoms.iter().enumerate() {
            match model.atoms.get(i) {
                Some(Tri::T) => clause.push(!a.t),
                Some(Tri::F) => clause.push(!a.f),
                _ => {
                    clause.push(a.t);
                    clause.push(a.f);
                }
            }
        }
        clause
    }

    /// The atoms with a definite value in the model that a witness cannot
    /// set directly: uninterpreted ones, and those over a term computed by
    /// a built-in from a field, as text.
    pub fn uninterpreted_in(&self, model: &Model) -> Vec<String> {
        let direct = |term: &usize| {
            self.terms.get(*term).is_some_and(|t| {
                t.field.is_some()
                    || t.length_of
                        .and_then(|i| self.terms.get(i))
                        .is_some_and(|i| i.field.is_some())
            })
        };
        self.atoms
            .iter()
            .zip(&model.atoms)
            .filter(|(_, v)| **v != Tri::U)
            .filter_map(|(a, v)| {
                let value = if *v == Tri::T { "true" } else { "false" };
                match &a.th {
                    Th::None => Some(format!("uninterpreted: {} is {value}", a.text)),
                    Th::Order { term, .. } | Th::Choice { term, .. } | Th::Text { term, .. } if !direct(term) => {
                        Some(format!("through a built-in: {} is {value}", a.text))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The text atoms over the term and every text derived from it without
    /// stripping a prefix (taken as the same text), and small length bounds,
    /// with their values in the model: a heuristic for witnesses only.
    pub fn text_family(&self, root: usize, model: &Model) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let of_root = |term: usize| term == root || self.terms.get(term).and_then(|t| t.root) == Some(root);
        for (i, a) in self.atoms.iter().enumerate() {
            let want = match model.atoms.get(i) {
                Some(Tri::T) => true,
                Some(Tri::F) => false,
                _ => continue,
            };
            match &a.th {
                Th::Text { term, regex }
                    if of_root(*term) && self.terms.get(*term).is_none_or(|t| t.stripped.is_empty()) =>
                {
                    out.push((regex.clone(), want));
                }
                Th::Order {
                    term,
                    rel,
                    c: Point::Num(n),
                } => {
                    let Some(inner) = self.terms.get(*term).and_then(|t| t.length_of) else {
                        continue;
                    };
                    if !of_root(inner) {
                        continue;
                    }
                    let Ok(n) = n.to_string().parse::<u32>() else { continue };
                    if n > 64 {
                        continue;
                    }
                    let lang = match rel {
                        Rel::Lt if n == 0 => "[^\\x{0}-\\x{10FFFF}]".to_owned(),
                        Rel::Lt => format!("(?s:.){{0,{}}}", n - 1),
                        Rel::Le => format!("(?s:.){{0,{n}}}"),
                        Rel::Eq => format!("(?s:.){{{n}}}"),
                    };
                    out.push((lang, want));
                }
                _ => {}
            }
        }
        out
    }
}

/// Deletion-based shrinking of an inconsistent set of constraints to a
/// smaller one that is still inconsistent.
fn shrink<T: Clone>(mut cons: Vec<T>, mut inconsistent: impl FnMut(&[T]) -> bool) -> Vec<T> {
    let mut i = 0;
    while i < cons.len() {
        let mut without = cons.clone();
        without.remove(i);
        if inconsistent(&without) {
            cons = without;
        } else {
            i += 1;
        }
    }
    cons
}
