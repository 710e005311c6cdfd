//! Generating realistic applications (SPEC §1) for load tests and benchmarks:
//! deterministic for a seed, a mix of valid ones and every kind of defect.
//!
//! What a policy knows is read from the compiled [`RuleSet`]: bank codes,
//! names and aliases from `rs.banks`, enum values from `rs.schema`. Only
//! generic material (names in many scripts, look-alike characters, country
//! calling codes) lives here.

use crate::ir::{RuleSet, Schema, Type};
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

/// A generated document.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Str(String),
    /// A number, bool or null, written as is.
    Raw(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

fn s(text: impl Into<String>) -> Node {
    Node::Str(text.into())
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

impl Node {
    fn json(&self, out: &mut String) {
        match self {
            Node::Str(t) => out.push_str(&quote(t)),
            Node::Raw(r) => out.push_str(r),
            Node::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.json(out);
                }
                out.push(']');
            }
            Node::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&quote(k));
                    out.push(':');
                    v.json(out);
                }
                out.push('}');
            }
        }
    }

    /// Block-style YAML; `indent` is the column of this map's keys. The
    /// first key follows whatever the caller already wrote on its line.
    fn yaml_map(entries: &[(String, Node)], indent: usize, out: &mut String) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(indent));
            }
            out.push_str(k);
            out.push(':');
            match v {
                Node::Map(m) if !m.is_empty() => {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + 2));
                    Node::yaml_map(m, indent + 2, out);
                }
                Node::List(items) if !items.is_empty() => {
                    out.push('\n');
                    for item in items {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str("- ");
                        match item {
                            Node::Map(m) if !m.is_empty() => Node::yaml_map(m, indent + 4, out),
                            other => {
                                other.json(out);
                                out.push('\n');
                            }
                        }
                    }
                }
                other => {
                    out.push(' ');
                    other.json(out);
                    out.push('\n');
                }
            }
        }
    }
}

// ------------------------------------------------------------------ material

const LATIN_FIRST: &[&str] = &[
    "John", "Mary", "James", "Anna", "Peter", "Emma", "David", "Sofia", "Michael", "Laura", "Thomas", "Olivia",
    "Lucas", "Mia", "Noah", "Hannah", "Ahmed", "Fatima", "Kenji", "Yuki", "Minh", "Linh", "Raj", "Priya", "Carlos",
    "Lucia", "Ivan", "Olga", "Kwame", "Amara",
];
const LATIN_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martin",
    "Bernard",
    "Dubois",
    "Muller",
    "Rossi",
    "Silva",
    "Santos",
    "Nguyen",
    "Tanaka",
    "Sato",
    "Kim",
    "Park",
    "Khan",
    "Singh",
    "Kowalski",
    "Novak",
    "Ivanov",
    "Hansen",
    "Cohen",
    "Okafor",
    "Mensah",
    "Haddad",
    "Yilmaz",
    "Van der Berg",
];
const HAN_SURNAME: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "欧阳", "司马",
];
const HAN_GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "秀英", "小明", "建国", "嘉怡", "子涵",
];
/// Chinese transliterations of foreign names, written with a middle dot.
const HAN_FOREIGN: &[&str] = &[
    "约翰",
    "史密斯",
    "玛丽",
    "彼得",
    "安娜",
    "大卫",
    "穆罕默德",
    "亚历山大",
    "索菲亚",
];
/// Names in scripts other than Han and ASCII Latin.
const OTHER_SCRIPTS: &[&str] = &[
    "Иван Петров",
    "Ольга Смирнова",
    "محمد علي",
    "فاطمة حسن",
    "สมชาย ใจดี",
    "สุดา วงศ์ไทย",
    "김민준",
    "이서연",
    "サトウ ハナコ",
    "たなか たろう",
    "Γιώργος Παπαδόπουλος",
    "राहुल शर्मा",
    "דוד כהן",
    "José García",
    "Zoë Müller",
    "François Lefèvre",
    "Łukasz Nowak",
    "Nguyễn Văn An",
    "Søren Hansen",
    "O'Brien Sean",
    "Smith, John",
    "John Smith 2",
];
/// Characters that look like the dot, the middle dot or the hyphen.
const LOOKALIKES: &[char] = &['•', '・', '‧', '．', '‐', '–', '—', '－', '∙', '。'];
const INVISIBLE: &[char] = &['\u{200B}', '\u{200E}', '\u{200D}', '\u{2060}'];
/// ISO 3166-1 alpha-2 code, calling code, national number length.
const COUNTRIES: &[(&str, &str, usize)] = &[
    ("US", "1", 10),
    ("GB", "44", 10),
    ("DE", "49", 11),
    ("FR", "33", 9),
    ("JP", "81", 10),
    ("KR", "82", 10),
    ("RU", "7", 10),
    ("IN", "91", 10),
    ("TH", "66", 9),
    ("VN", "84", 9),
    ("SA", "966", 9),
    ("EG", "20", 10),
    ("BR", "55", 11),
    ("AU", "61", 9),
    ("HK", "852", 8),
    ("MO", "853", 8),
    ("TW", "886", 9),
    ("SG", "65", 8),
    ("NG", "234", 10),
    ("MX", "52", 10),
    ("IL", "972", 9),
    ("PL", "48", 9),
    ("CN", "86", 11),
];
/// Banks no policy here declares, and misspellings.
const UNKNOWN_BANKS: &[&str] = &[
    "Bank of Atlantis",
    "First National Bank",
    "Deutsche Bank",
    "Barclays",
    "Chase",
    "汇丰银行",
    "渣打银行",
    "花旗银行",
    "Standard Chartered",
    "Local Credit Union",
    "",
    "   ",
];
const REASONS: &[&str] = &[
    "passport photo unreadable",
    "name does not match the passport",
    "entry certificate expired",
    "the deposit was not confirmed in time",
];
/// Values no enum is expected to have.
const NOT_ENUM: &[&str] = &["drivers_license", "id_card", "debit", "other", "UNKNOWN", ""];

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
    kinds: Vec<String>,
    card_types: Vec<String>,
    account_types: Vec<String>,
    regions: Vec<String>,
    outcomes: Vec<String>,
    required_root: Vec<String>,
    required_applicant: Vec<String>,
}

impl Generator {
    pub fn new(rs: &RuleSet, seed: u64) -> Self {
        let banks = rs
            .banks
            .list
            .iter()
            .map(|b| {
                std::iter::once(&b.code)
                    .chain(b.names.iter().flatten())
                    .chain(&b.aliases)
                    .cloned()
                    .collect()
            })
            .collect();
        let schema = &rs.schema;
        Generator {
            rng: Rng::new(seed),
            count: 0,
            banks,
            kinds: enum_at(schema, &["documents", "kind"]),
            card_types: enum_at(schema, &["bank_card", "card_type"]),
            account_types: enum_at(schema, &["bank_card", "account_type"]),
            regions: enum_at(schema, &["bank_card", "region"]),
            outcomes: enum_at(schema, &["review", "outcome"]),
            required_root: required_at(schema, &[]),
            required_applicant: required_at(schema, &["applicant"]),
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

    fn latin(&mut self) -> String {
        let first = self.pick_str(LATIN_FIRST);
        let last = self.pick_str(LATIN_LAST);
        match self.rng.below(10) {
            0 => format!("{first}-{} {last}", self.pick_str(LATIN_FIRST)),
            1 => format!("{first} {} {last}", self.pick_str(LATIN_FIRST)),
            2 => format!("{} {}", last.to_uppercase(), first),
            _ => format!("{first} {last}"),
        }
    }

    fn han(&mut self) -> String {
        format!("{}{}", self.pick_str(HAN_SURNAME), self.pick_str(HAN_GIVEN))
    }

    /// A name in one of many scripts and shapes, valid or not.
    fn name(&mut self, clean: bool) -> String {
        match self.rng.below(if clean { 54 } else { 100 }) {
            0..=29 => self.latin(),
            30..=41 => self.han(),
            42..=53 => match self.rng.below(3) {
                0 => format!("{}·{}", self.pick_str(HAN_FOREIGN), self.pick_str(HAN_FOREIGN)),
                1 => format!(
                    "{}·{} {}",
                    self.pick_str(LATIN_FIRST),
                    self.pick_str(LATIN_FIRST),
                    self.pick_str(LATIN_LAST)
                ),
                _ => {
                    let first = self.pick_str(LATIN_FIRST);
                    format!("{}. {}", cut(&first, 1).0, self.pick_str(LATIN_LAST))
                }
            },
            54..=61 => {
                let n = self.pick_str(OTHER_SCRIPTS);
                if self.rng.chance(30) {
                    use unicode_normalization::UnicodeNormalization;
                    n.nfd().collect()
                } else {
                    n
                }
            }
            62..=68 => {
                let c = self.rng.pick(LOOKALIKES).copied().unwrap_or('•');
                if self.rng.chance(50) {
                    format!("{}{c}{}", self.pick_str(HAN_FOREIGN), self.pick_str(HAN_FOREIGN))
                } else {
                    format!(
                        "{}{c}{} {}",
                        self.pick_str(LATIN_FIRST),
                        self.pick_str(LATIN_FIRST),
                        self.pick_str(LATIN_LAST)
                    )
                }
            }
            69..=72 => {
                let mut chars: Vec<char> = self.latin().chars().collect();
                let at = self.rng.below(chars.len() + 1);
                chars.insert(at, self.rng.pick(INVISIBLE).copied().unwrap_or('\u{200B}'));
                chars.into_iter().collect()
            }
            73..=76 => self.pick_str(&["A", "王", "김", "J", "", " ", "李"]),
            77..=85 => {
                let target = 17 + self.rng.below(14);
                let mut name = self.pick_str(LATIN_FIRST);
                while name.chars().count() < target {
                    name.push(' ');
                    let part = if self.rng.chance(50) { LATIN_FIRST } else { LATIN_LAST };
                    name.push_str(&self.pick_str(part));
                }
                name
            }
            86..=91 => match self.rng.below(3) {
                0 => format!("  {}  ", self.latin()),
                1 => self.latin().replacen(' ', "   ", 1),
                _ => self.latin().replacen(' ', "\u{3000}", 1),
            },
            _ => self.latin(),
        }
    }

    /// A phone number of a country, as typed: well formed or not.
    fn phone(&mut self, dial: &str, len: usize, clean: bool) -> String {
        let mainland = |rng: &mut Rng, prefixes: &[&str], len: usize| {
            let p = rng.pick(prefixes).copied().unwrap_or("13");
            format!("{p}{}", rng.digits(len.saturating_sub(p.len())))
        };
        match self.rng.below(if clean { 62 } else { 100 }) {
            0..=29 => {
                let n = mainland(&mut self.rng, &["13", "14", "15", "18"], 11);
                match self.rng.below(6) {
                    0 => format!("+86{n}"),
                    1 => format!("+86-{n}"),
                    2 => {
                        let (a, rest) = cut(&n, 3);
                        let (b, c) = cut(rest, 4);
                        format!("{a}-{b}-{c}")
                    }
                    _ => n,
                }
            }
            62..=69 => {
                let bad = match self.rng.below(3) {
                    0 => mainland(&mut self.rng, &["16", "17", "19", "12", "10"], 11),
                    1 => mainland(&mut self.rng, &["13", "18"], 10),
                    _ => mainland(&mut self.rng, &["13", "15"], 12),
                };
                if self.rng.chance(30) { format!("+86{bad}") } else { bad }
            }
            30..=61 => {
                let n = self.rng.digits(len);
                match self.rng.below(3) {
                    0 => format!("+{dial}{n}"),
                    1 => format!("+{dial}-{n}"),
                    _ => {
                        let (a, b) = cut(&n, len / 2);
                        format!("+{dial}-{a}-{b}")
                    }
                }
            }
            70..=75 => match self.rng.below(2) {
                0 => {
                    let n = 3 + self.rng.below(3);
                    format!("+{dial}-{}", self.rng.digits(n))
                }
                _ => format!("+{dial}{}", self.rng.digits(16)),
            }
            .chars()
            .take(20)
            .collect(),
            76..=84 => {
                let n = self.rng.digits(len);
                match self.rng.below(7) {
                    0 => format!("+{dial} {n}"),
                    1 => {
                        let (a, b) = cut(&n, 3);
                        format!("({a}) {b}")
                    }
                    2 => format!("tel:+{dial}{n}"),
                    3 => "１３８１２３４５６７８".to_owned(),
                    4 => String::new(),
                    5 => format!("+{dial}-{n} ext. 2"),
                    _ => format!("+{dial}-{n}-{}", self.rng.digits(8)),
                }
            }
            _ => match self.rng.below(2) {
                0 => self.rng.digits(len),
                _ => format!("00{dial}{}", self.rng.digits(len)),
            },
        }
    }
}

impl Generator {
    /// Every combination of document kinds; most often the first kind with another.
    fn documents(&mut self, clean: bool) -> Node {
        let k = self.kinds.len();
        let mut chosen: Vec<usize> = if k > 1 && (clean || self.rng.chance(30)) {
            vec![0, 1 + self.rng.below(k - 1)]
        } else {
            (0..k).filter(|_| self.rng.chance(40)).collect()
        };
        if !chosen.is_empty() && self.rng.chance(3) {
            chosen.extend(chosen.first().copied());
        }
        let docs = chosen
            .into_iter()
            .map(|i| {
                let mut doc = vec![("kind".to_owned(), s(self.kinds.get(i).cloned().unwrap_or_default()))];
                if self.rng.chance(70) {
                    let letter = char::from(b'A' + self.rng.below(26) as u8);
                    doc.push(("number".into(), s(format!("{letter}{}", self.rng.digits(8)))));
                }
                match self.rng.below(if clean { 94 } else { 100 }) + 6 {
                    100.. => doc.push(("photo_legible".into(), Node::Raw("false".into()))),
                    6..=45 => doc.push(("photo_legible".into(), Node::Raw("true".into()))),
                    46..=48 => doc.push(("photo_legible".into(), Node::Raw("null".into()))),
                    _ => {}
                }
                Node::Map(doc)
            })
            .collect();
        Node::List(docs)
    }

    /// A bank as an applicant types it: any declared form in mixed case with
    /// stray spaces, or a bank the policy does not know.
    fn bank(&mut self, clean: bool) -> String {
        let forms = if clean || self.rng.chance(80) {
            let i = self.rng.below(self.banks.len());
            self.banks.get(i).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        let Some(form) = self.rng.pick(&forms).cloned() else {
            return self.pick_str(UNKNOWN_BANKS);
        };
        let cased = match self.rng.below(6) {
            0 => form.to_lowercase(),
            1 => form.to_uppercase(),
            2 => form
                .chars()
                .map(|c| {
                    if self.rng.chance(50) {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
            _ => form,
        };
        match self.rng.below(10) {
            0 => format!(" {cased}"),
            1 => format!("{cased}  "),
            2 => format!("\t{cased} "),
            _ => cased,
        }
    }

    fn card_number(&mut self) -> String {
        let mut digits: Vec<u32> = vec![6, 2];
        let len = 16 + self.rng.below(4);
        digits.extend((2..len).map(|_| self.rng.below(10) as u32));
        if self.rng.chance(60)
            && let Some(last) = digits.last_mut()
        {
            // Make the Luhn check hold: choose the last digit.
            *last = 0;
            let sum: u32 = digits
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &d)| {
                    if i % 2 == 1 {
                        if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
                    } else {
                        d
                    }
                })
                .sum();
            if let Some(last) = digits.last_mut() {
                *last = (10 - sum % 10) % 10;
            }
        }
        digits.iter().filter_map(|&d| char::from_digit(d, 10)).collect()
    }

    fn card(&mut self, name: &str, clean: bool) -> Option<Node> {
        if !clean && self.rng.chance(25) {
            return None;
        }
        let mut card = vec![("bank".to_owned(), s(self.bank(clean)))];
        if self.rng.chance(80) {
            card.push(("number".into(), s(self.card_number())));
        }
        card.push((
            "card_type".into(),
            self.pick_enum(&self.card_types.clone(), if clean { 100 } else { 60 }),
        ));
        if self.rng.chance(55) {
            card.push(("account_type".into(), self.pick_enum(&self.account_types.clone(), 0)));
        }
        let holder = match self.rng.below(if clean { 85 } else { 100 }) {
            0..=69 => name.to_owned(),
            70..=74 => name.to_uppercase(),
            75..=79 => format!(" {}  ", name.replacen(' ', "  ", 1)),
            80..=84 => {
                use unicode_normalization::UnicodeNormalization;
                name.nfd().collect()
            }
            _ => self.name(false),
        };
        card.push(("holder_name".into(), s(holder)));
        match self.rng.below(if clean { 85 } else { 100 }) {
            0..=69 => {}
            70..=84 => card.push(("region".into(), s(self.regions.first().cloned().unwrap_or_default()))),
            _ => {
                let i = 1 + self.rng.below(self.regions.len().saturating_sub(1));
                card.push(("region".into(), s(self.regions.get(i).cloned().unwrap_or_default())));
            }
        }
        Some(Node::Map(card))
    }

    /// An amount below one yuan in one of its equal spellings.
    fn amount(&mut self, cents: usize) -> Node {
        let text = format!("0.{cents:02}");
        match self.rng.below(4) {
            0 => Node::Raw(text.trim_end_matches('0').trim_end_matches('.').to_owned()),
            1 => s(format!("{text}0")),
            _ => s(text),
        }
    }

    /// The micro-deposit step, and whether the amount was confirmed.
    fn verification(&mut self) -> (Option<Node>, bool) {
        let cents = 1 + self.rng.below(99);
        let stage = self.rng.below(100);
        let deposited = if (82..=89).contains(&stage) {
            let odd = self.pick_str(&["0", "0.00", "1", "1.00", "1.5", "-0.37", "100", "0.999999"]);
            if self.rng.chance(50) { Node::Raw(odd) } else { s(odd) }
        } else {
            self.amount(cents)
        };
        let mut v = vec![("deposited".to_owned(), deposited.clone())];
        let confirmed = match stage {
            0..=24 => return (None, false),
            25..=39 => false,
            40..=69 => {
                let equal = self.amount(cents);
                v.push(("entered".into(), equal));
                true
            }
            70..=81 => {
                let other = 1 + (cents + self.rng.below(97)) % 99;
                let entered = if other == cents { s("1.23") } else { self.amount(other) };
                v.push(("entered".into(), entered));
                false
            }
            82..=89 => {
                let equal = self.rng.chance(50);
                if equal {
                    v.push(("entered".into(), deposited));
                }
                equal
            }
            _ => {
                v.push(("entered".into(), Node::Raw("null".into())));
                false
            }
        };
        (Some(Node::Map(v)), confirmed)
    }

    /// Turns an application into an input error: an unknown enum value, a
    /// missing required field, or a value of the wrong type.
    fn defect(&mut self, app: &mut Vec<(String, Node)>) {
        match self.rng.below(3) {
            0 => {
                let bad = s(self.pick_str(NOT_ENUM));
                if let Some(Node::List(docs)) = entry(app, "documents") {
                    match docs.first_mut() {
                        Some(Node::Map(doc)) => doc.retain(|(k, _)| k != "kind"),
                        _ => docs.push(Node::Map(Vec::new())),
                    }
                    if let Some(Node::Map(doc)) = docs.first_mut() {
                        doc.insert(0, ("kind".into(), bad));
                    }
                }
            }
            1 => {
                let (map, required) = if self.rng.chance(50) {
                    (Some(app), self.required_root.clone())
                } else {
                    let applicant = match entry(app, "applicant") {
                        Some(Node::Map(m)) => Some(m),
                        _ => None,
                    };
                    (applicant, self.required_applicant.clone())
                };
                if let (Some(map), Some(key)) = (map, self.rng.pick(&required)) {
                    map.retain(|(k, _)| k != key);
                }
            }
            _ => {
                if let Some(Node::Map(applicant)) = entry(app, "applicant")
                    && let Some(phone) = entry(applicant, "phone")
                {
                    *phone = Node::Raw(format!("1{}", self.rng.digits(10)));
                }
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
