//! Generating realistic applications (SPEC §1) for load tests and benchmarks:
//! deterministic for a seed, a mix of valid ones and every kind of defect.
//!
//! What a policy knows is read from the compiled [`RuleSet`]: bank codes,
//! names and aliases from `rs.banks`, enum values from `rs.schema`. Only
//! generic material (names in many scripts, look-alike characters, country
//! calling codes) lives here.

mod doc;
mod material;
mod parts;

use crate::ir::{RuleSet, Schema, Type};
use doc::{Node, s};
use material::{COUNTRIES, REASONS};
use std::io::{self, Write};

/// SplitMix64: small, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// True with a chance of `pct` in 100.
    pub fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + (self.below(10) as u8))).collect()
    }
}

/// The output format of [`write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Yaml,
}

// ----------------------------------------------------------------- generator

/// The type of the field at a dotted path of the schema (lists looked through).
fn field_type<'s>(schema: &'s Schema, path: &[&str]) -> Option<&'s Type> {
    let mut record = schema.records.first()?;
    let mut ty: Option<&Type> = None;
    for name in path {
        if let Some(mut t) = ty {
            while let Type::List(inner) = t {
                t = inner;
            }
            let Type::Record(r) = t else { return None };
            record = schema.records.get(*r as usize)?;
        }
        ty = Some(&record.fields.iter().find(|f| f.name == *name)?.ty);
    }
    ty
}

/// The values of the enum at a path; empty when the schema has no such enum.
fn enum_at(schema: &Schema, path: &[&str]) -> Vec<String> {
    match field_type(schema, path) {
        Some(Type::Enum(e)) => schema.enums.get(*e as usize).cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The required fields (no `?`, no default) of the record at a path.
fn required_at(schema: &Schema, path: &[&str]) -> Vec<String> {
    let record = if path.is_empty() {
        schema.records.first()
    } else {
        match field_type(schema, path) {
            Some(Type::Record(r)) => schema.records.get(*r as usize),
            _ => None,
        }
    };
    record.map_or_else(Vec::new, |r| {
        r.fields
            .iter()
            .filter(|f| !f.optional && f.default.is_none())
            .map(|f| f.name.clone())
            .collect()
    })
}

/// `s` split at byte `at` (ASCII text), or all of it and nothing.
fn cut(s: &str, at: usize) -> (&str, &str) {
    s.split_at_checked(at).unwrap_or((s, ""))
}

fn entry<'a>(map: &'a mut [(String, Node)], key: &str) -> Option<&'a mut Node> {
    map.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Generates applications; the same seed and policy give the same sequence.
pub struct Generator {
    rng: Rng,
    count: u64,
    /// Per declared bank: its code, names and aliases.
    banks: Vec<Vec<String>>,
    /// Per table, per entry: its code, names and aliases (table 0 is `bank`).
    tables: Vec<Vec<Vec<String>>>,
    kinds: Vec<String>,
    card_types: Vec<String>,
    account_types: Vec<String>,
    regions: Vec<String>,
    outcomes: Vec<String>,
    required_root: Vec<String>,
    required_applicant: Vec<String>,
    /// Set when the policy's application is not shaped as the foreign-national
    /// one (documents and a bank card): records are then drawn from the schema alone.
    generic: Option<Schema>,
}

impl Generator {
    pub fn new(rs: &RuleSet, seed: u64) -> Self {
        let tables: Vec<Vec<Vec<String>>> = rs
            .tables
            .iter()
            .map(|t| {
                t.list
                    .iter()
                    .map(|b| {
                        std::iter::once(&b.code)
                            .chain(b.names.iter().flatten())
                            .chain(&b.aliases)
                            .cloned()
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let banks = tables.first().cloned().unwrap_or_default();
        let schema = &rs.schema;
        Generator {
            rng: Rng::new(seed),
            count: 0,
            banks,
            tables,
            kinds: enum_at(schema, &["documents", "kind"]),
            card_types: enum_at(schema, &["bank_card", "card_type"]),
            account_types: enum_at(schema, &["bank_card", "account_type"]),
            regions: enum_at(schema, &["bank_card", "region"]),
            outcomes: enum_at(schema, &["review", "outcome"]),
            required_root: required_at(schema, &[]),
            required_applicant: required_at(schema, &["applicant"]),
            generic: (!tailored(schema)).then(|| schema.clone()),
        }
    }

    /// The next application, written in `format` (a line, or a `---` document).
    pub fn next_record(&mut self, format: Format) -> String {
        let app = self.application();
        let mut out = String::with_capacity(512);
        match (format, &app) {
            (Format::Jsonl, _) => {
                app.json(&mut out);
                out.push('\n');
            }
            (Format::Yaml, Node::Map(m)) => {
                out.push_str("---\n");
                Node::yaml_map(m, 0, &mut out);
            }
            (Format::Yaml, other) => {
                out.push_str("---\n");
                other.json(&mut out);
                out.push('\n');
            }
        }
        out
    }

    fn pick_str(&mut self, items: &[&str]) -> String {
        self.rng.pick(items).map_or_else(String::new, |s| (*s).to_owned())
    }

    /// One of `values`: the first with a chance of `first_pct`, else any.
    fn pick_enum(&mut self, values: &[String], first_pct: usize) -> Node {
        let i = if self.rng.chance(first_pct) {
            0
        } else {
            self.rng.below(values.len())
        };
        s(values.get(i).cloned().unwrap_or_default())
    }

    fn application(&mut self) -> Node {
        if let Some(schema) = self.generic.take() {
            self.count += 1;
            let mut node = self.record_of(&schema, 0, 0);
            if let Node::Map(m) = &mut node
                && let Some(id) = entry(m, "id")
                && matches!(id, Node::Str(_))
            {
                *id = s(format!("G-{:07}", self.count));
            }
            self.generic = Some(schema);
            return node;
        }
        self.count += 1;
        let mut app = vec![("id".to_owned(), s(format!("G-{:07}", self.count)))];
        // A share of applications is made of valid parts only, so that a
        // batch has accepted applications too.
        let clean = self.rng.chance(40);
        let name = self.name(clean);
        let &(iso, dial, len) = self.rng.pick(COUNTRIES).unwrap_or(&("US", "1", 10));
        let mut applicant = vec![("name".to_owned(), s(name.clone()))];
        match self.rng.below(10) {
            0 => {}
            1 => applicant.push(("nationality".into(), Node::Raw("null".into()))),
            _ => applicant.push(("nationality".into(), s(iso))),
        }
        applicant.push(("phone".into(), s(self.phone(dial, len, clean))));
        app.push(("applicant".into(), Node::Map(applicant)));
        app.push(("documents".into(), self.documents(clean)));
        match self.card(&name, clean) {
            Some(card) => app.push(("bank_card".into(), card)),
            None if self.rng.chance(20) => app.push(("bank_card".into(), Node::Raw("null".into()))),
            None => {}
        }
        let (verification, confirmed) = self.verification();
        if let Some(v) = verification {
            app.push(("verification".into(), v));
        }
        if self.rng.chance(if confirmed { 65 } else { 3 }) {
            let mut review = vec![("outcome".to_owned(), self.pick_enum(&self.outcomes.clone(), 0))];
            if self.rng.chance(60) {
                review.push(("reason".into(), s(self.pick_str(REASONS))));
            }
            app.push(("review".into(), Node::Map(review)));
        }
        if self.rng.chance(2) {
            self.defect(&mut app);
        }
        Node::Map(app)
    }
}

/// Whether the schema has the parts the tailored generator fills: a list of
/// documents with a `kind` enum and a bank card with a `bank`.
fn tailored(schema: &Schema) -> bool {
    matches!(field_type(schema, &["documents", "kind"]), Some(Type::Enum(_)))
        && field_type(schema, &["bank_card", "bank"]) == Some(&Type::Entry(crate::ir::BANK_TABLE))
        && matches!(field_type(schema, &["applicant", "name"]), Some(Type::Text))
}

/// How deep the generic generator follows records and lists.
const MAX_GENERIC_DEPTH: usize = 8;

impl Generator {
    /// A record of the schema, every field drawn from its type; an optional
    /// field is left out now and then.
    fn record_of(&mut self, schema: &Schema, record: u32, depth: usize) -> Node {
        let Some(rec) = schema.records.get(record as usize) else {
            return Node::Map(Vec::new());
        };
        let mut out = Vec::new();
        for f in &rec.fields {
            if (f.optional || f.default.is_some()) && self.rng.chance(25) {
                continue;
            }
            out.push((f.name.clone(), self.value_of(schema, &f.ty, depth + 1)));
        }
        Node::Map(out)
    }

    fn value_of(&mut self, schema: &Schema, ty: &Type, depth: usize) -> Node {
        match ty {
            Type::Text => s(self.generic_text()),
            Type::Bool => Node::Raw(if self.rng.chance(50) { "true" } else { "false" }.into()),
            Type::Number => s(format!("{}.{:02}", self.rng.below(1000), self.rng.below(100))),
            Type::Date => {
                let days = i64::try_from(self.rng.below(160 * 366)).unwrap_or(0) - 70 * 365;
                s(crate::date::Date::from_unix_days(days).to_string())
            }
            Type::Enum(e) => {
                let values = schema.enums.get(*e as usize).cloned().unwrap_or_default();
                self.pick_enum(&values, 0)
            }
            Type::Entry(t) => {
                let names: Vec<String> = self
                    .tables
                    .get(*t as usize)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .cloned()
                    .collect();
                match self.rng.pick(&names) {
                    Some(n) if self.rng.chance(90) => s(n.clone()),
                    _ if *t == crate::ir::BANK_TABLE => s(self.pick_str(material::UNKNOWN_BANKS)),
                    // A name no entry has.
                    _ => s(format!("zz-unknown-{}", self.rng.below(1000))),
                }
            }
            Type::List(inner) if depth < MAX_GENERIC_DEPTH => {
                let n = self.rng.below(4);
                Node::List((0..n).map(|_| self.value_of(schema, inner, depth + 1)).collect())
            }
            Type::Record(r) if depth < MAX_GENERIC_DEPTH => self.record_of(schema, *r, depth),
            Type::List(_) => Node::List(Vec::new()),
            Type::Record(_) => Node::Map(Vec::new()),
        }
    }

    /// A text of no particular meaning: a name in one of several scripts, or
    /// a run of digits (sometimes with an ISO 7064 MOD 11-2 check character).
    fn generic_text(&mut self) -> String {
        match self.rng.below(4) {
            0 => {
                let clean = self.rng.chance(60);
                self.name(clean)
            }
            1 => {
                let len = 4 + self.rng.below(16);
                self.rng.digits(len)
            }
            2 => {
                let len = 8 + self.rng.below(12);
                let body = self.rng.digits(len);
                let check = crate::text::mod11_2_check(&body);
                format!("{body}{check}")
            }
            _ => {
                let len = 6 + self.rng.below(8);
                format!("1{}", self.rng.digits(len))
            }
        }
    }
}

/// Writes `n` applications generated from `seed`.
pub fn write(rs: &RuleSet, n: u64, seed: u64, format: Format, out: &mut impl Write) -> io::Result<()> {
    let mut g = Generator::new(rs, seed);
    for _ in 0..n {
        out.write_all(g.next_record(format).as_bytes())?;
    }
    Ok(())
}
