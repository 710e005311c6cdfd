//! The compiled policy: span-free, names resolved to slots and ids.
//!
//! Built only by [`compile`](crate::compile); read by the input reader (the
//! schema and the bank table) and by the evaluator.

use crate::date::Date;
use crate::record::Field;
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// How large a pattern's automaton may grow, in bytes (the `regex` crate's
/// size limits).
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// How deeply a pattern's groups and repetitions may nest.
pub const PATTERN_NEST_LIMIT: u32 = 64;

/// A pattern of the policy: its text, checked when the policy compiled, and
/// its matcher, built on first use.
///
/// Building a `Regex` is the largest single cost of compiling a policy (for a
/// short pattern, most of it a full DFA), and the compiled evaluator matches
/// the common anchored patterns without one; so compiling checks the pattern
/// with everything that can fail in a build (its syntax, nesting and the size
/// of its automata, forward and reverse) and leaves the rest for the first
/// match.
#[derive(Debug)]
pub struct Pattern {
    text: Box<str>,
    regex: OnceLock<Option<Regex>>,
}

impl Pattern {
    /// Checks `text` as a pattern: the pattern, or the `regex` crate's error
    /// message.
    pub fn check(text: &str) -> Result<Pattern, String> {
        use regex_automata::meta;
        use regex_automata::util::syntax;
        // The `regex` crate's build of the same pattern, without the engines
        // whose construction cannot fail (they are optimisations it skips
        // when they do not apply).
        let config = meta::Config::new()
            .match_kind(regex_automata::MatchKind::LeftmostFirst)
            .utf8_empty(true)
            .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
            .hybrid_cache_capacity(PATTERN_SIZE_LIMIT)
            .dfa(false)
            .onepass(false)
            .backtrack(false);
        meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(true).nest_limit(PATTERN_NEST_LIMIT))
            .build(text)
            .map(|_| Pattern {
                text: text.into(),
                regex: OnceLock::new(),
            })
            .map_err(|e| match (e.size_limit(), e.syntax_error()) {
                // The `regex` crate's words for the same errors.
                (Some(limit), _) => format!("Compiled regex exceeds size limit of {limit} bytes."),
                (None, Some(syntax)) => syntax.to_string(),
                (None, None) => e.to_string(),
            })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The matcher, built on first use. `None` only if the build fails after
    /// the check passed, which the check is there to rule out.
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                regex::RegexBuilder::new(&self.text)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .dfa_size_limit(PATTERN_SIZE_LIMIT)
                    .nest_limit(PATTERN_NEST_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Whether `text` has a match; unknown (`None`) when there is no matcher.
    pub fn is_match(&self, text: &str) -> Option<bool> {
        self.regex().map(|re| re.is_match(text))
    }
}

/// A compiled policy, ready to evaluate applications.
#[derive(Debug)]
pub struct RuleSet {
    pub name: String,
    pub version: String,
    /// The message languages; the first is the default.
    pub languages: Vec<String>,
    pub schema: Schema,
    /// The declared tables, `bank` first (always declared, maybe empty).
    pub tables: Vec<Table>,
    pub charsets: Vec<crate::charset::Charset>,
    pub patterns: Vec<Pattern>,
    pub lets: Vec<CExpr>,
    pub rules: Vec<Rule>,
    pub next_steps: Vec<NextStep>,
    /// A content hash of the policy's source files (hex, 16 digits).
    pub hash: String,
    /// The name of each of `lets`, by index (to render expressions back to text).
    pub let_names: Vec<String>,
    /// How each of `charsets` was written: a declared or built-in name, or a text.
    pub charset_spellings: Vec<Spelling>,
    /// How each of `patterns` was written: a declared name, or a text.
    pub pattern_spellings: Vec<Spelling>,
    /// The application's own date field, when the policy declares `as_of`.
    pub as_of: Option<AsOfField>,
    /// Show sensitive fields in messages in full. Off by default: a message
    /// placeholder that reads a `sensitive` field is compiled as `mask(...)`,
    /// which shows all but the last four characters as `*`.
    pub show_pii: bool,
}

/// How a charset or pattern argument was written in the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spelling {
    Name(String),
    Literal(String),
}

impl RuleSet {
    /// The index of a language, or the default language's (0).
    pub fn language(&self, lang: &str) -> usize {
        self.languages.iter().position(|l| l == lang).unwrap_or(0)
    }

    /// A table by index.
    pub fn table(&self, t: u32) -> Option<&Table> {
        self.tables.get(t as usize)
    }
}

/// The types of schema fields and expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Text,
    Bool,
    Number,
    Date,
    /// An entry of a table, by index into [`RuleSet::tables`] (0 is `bank`).
    Entry(u32),
    /// An enum, by index into [`Schema::enums`].
    Enum(u32),
    List(Box<Type>),
    /// A record, by index into [`Schema::records`].
    Record(u32),
}

/// The shape of an application. Record 0 is the root.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub records: Vec<RecordSchema>,
    pub enums: Vec<Vec<String>>,
    /// The tables' names, by index (as in [`RuleSet::tables`]), for messages.
    pub tables: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RecordSchema {
    pub fields: Vec<FieldSchema>,
}

impl RecordSchema {
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct FieldSchema {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    /// The value of an absent field, when the schema gives one.
    pub default: Option<Field>,
    /// Masked in reports and errors (all but the last four characters).
    pub sensitive: bool,
}

impl Schema {
    /// A type as the schema author wrote it, for messages.
    pub fn type_name(&self, ty: &Type) -> String {
        match ty {
            Type::Text => "text".into(),
            Type::Bool => "bool".into(),
            Type::Number => "decimal".into(),
            Type::Date => "date".into(),
            Type::Entry(t) => self.tables.get(*t as usize).cloned().unwrap_or_default(),
            Type::Enum(e) => self.enums.get(*e as usize).map_or_else(String::new, |v| v.join(" | ")),
            Type::List(t) => format!("list of {}", self.type_name(t)),
            Type::Record(_) => "record".into(),
        }
    }
}

/// The index of the `bank` table in [`RuleSet::tables`].
pub const BANK_TABLE: u32 = 0;

/// A declared table (`table region { ... }`, or `bank`): its entries, its
/// typed attributes and the lookup that resolves a typed name to an entry.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub name: String,
    pub list: Vec<Entry>,
    pub attributes: Vec<Attribute>,
    /// Lower-cased code, name or alias → the entries it names, in declaration order.
    pub lookup: HashMap<String, Vec<u32>>,
    /// Every entry as a value (`id` set, `typed` its code): the collection
    /// a quantifier over the table walks, keeping those in force.
    pub all: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub code: String,
    /// Names per language (index into [`RuleSet::languages`]).
    pub names: Vec<Vec<String>>,
    pub aliases: Vec<String>,
    /// One value per declared attribute.
    pub attrs: Vec<Field>,
    pub validity: Validity,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub default: Field,
}

impl Table {
    /// The entry a typed name denotes on a date: trimmed, lower-cased, and
    /// matched against codes, names and aliases of the entries in force.
    pub fn resolve(&self, typed: &str, as_of: Date) -> Option<u32> {
        // The common cases allocate nothing: a key already lower-case, or an
        // ASCII one short enough to lower-case on the stack.
        let trimmed = typed.trim();
        let mut buf = [0u8; 64];
        let owned;
        let lower = |c: char| {
            let mut l = c.to_lowercase();
            l.next() == Some(c) && l.next().is_none()
        };
        let key: &str = if trimmed.chars().all(|c| {
            if c.is_ascii() {
                !c.is_ascii_uppercase()
            } else {
                lower(c)
            }
        }) {
            trimmed
        } else if trimmed.is_ascii() && trimmed.len() <= buf.len() {
            let b = buf.get_mut(..trimmed.len())?;
            b.copy_from_slice(trimmed.as_bytes());
            b.make_ascii_lowercase();
            std::str::from_utf8(b).ok()?
        } else {
            owned = bank_key(typed);
            &owned
        };
        self.lookup
            .get(key)?
            .iter()
            .copied()
            .find(|&id| self.list.get(id as usize).is_some_and(|b| b.validity.holds(as_of)))
    }

    /// An entry's display name in a language: its first name there, else in the
    /// default language, else its code.
    pub fn display(&self, id: u32, lang: usize) -> &str {
        let Some(bank) = self.list.get(id as usize) else {
            return "";
        };
        bank.names
            .get(lang)
            .and_then(|n| n.first())
            .or_else(|| bank.names.first().and_then(|n| n.first()))
            .map_or(bank.code.as_str(), String::as_str)
    }
}

/// A typed text as a value of table `t`: the entry it resolves to on a date, if any.
pub fn entry_value(tables: &[Table], t: u32, typed: &str, as_of: Date) -> Field {
    Field::Entry(crate::record::EntryValue {
        table: t,
        id: tables.get(t as usize).and_then(|x| x.resolve(typed, as_of)),
        typed: typed.into(),
    })
}

/// The normalised form of an entry's code, name or alias for lookup.
pub fn bank_key(typed: &str) -> String {
    typed.trim().to_lowercase()
}

/// When a rule, bank or message is in force: from `effective` (inclusive)
/// until `until` (exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    pub effective: Option<Date>,
    pub until: Option<Date>,
}

impl Validity {
    pub fn holds(&self, day: Date) -> bool {
        self.effective.is_none_or(|e| day >= e) && self.until.is_none_or(|u| day < u)
    }

    pub fn is_always(&self) -> bool {
        self.effective.is_none() && self.until.is_none()
    }
}

/// An `as_of` declaration: a record that carries this `date` field is
/// evaluated as of that date, but never later than the run's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOfField {
    /// Field names from the root; every one but the last is a record field.
    pub path: Vec<String>,
    /// The schema's default for the field, used when the field is absent.
    pub default: Option<Date>,
}

/// The four outcomes of a rule, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Note,
    Review,
    Limited,
    Reject,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Note => "note",
            Outcome::Review => "review",
            Outcome::Limited => "limited",
            Outcome::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Some(match s {
            "note" => Outcome::Note,
            "review" => Outcome::Review,
            "limited" => Outcome::Limited,
            "reject" => Outcome::Reject,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub outcome: Outcome,
    /// The fields the rule concerns, as dotted paths.
    pub fields: Vec<String>,
    pub guard: Option<CExpr>,
    pub when: CExpr,
    /// The message choices; the first whose condition holds is shown.
    pub messages: Vec<RuleMessage>,
    pub validity: Validity,
}

#[derive(Debug)]
pub struct RuleMessage {
    pub message: String,
    pub condition: Option<CExpr>,
    /// One template per language; `None` falls back to the default language.
    pub texts: Vec<Option<Template>>,
    pub validity: Validity,
}

pub type Template = Vec<Piece>;

#[derive(Debug)]
pub enum Piece {
    Text(String),
    Hole(CExpr),
    /// A placeholder of an enum type: shown by the value's name in that enum.
    EnumHole(CExpr, u32),
}

#[derive(Debug)]
pub struct NextStep {
    pub name: String,
    pub condition: Option<CExpr>,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum CExpr {
    Const(Field),
    /// Slots from the root record.
    Field(Box<[u16]>),
    /// Slots from a bound quantifier variable (0 = innermost).
    Var(u16, Box<[u16]>),
    Let(u32),
    /// An attribute of a table entry: table, attribute index.
    EntryAttr(Box<CExpr>, u32, u32),
    /// Whether a table-typed value names a declared entry (`x.known`).
    EntryKnown(Box<CExpr>),
    /// An entry's code as text (`x.code`); absent for an unknown entry.
    EntryCode(Box<CExpr>),
    /// `region(text)`: the entry of a table in force whose code, name or
    /// alias the text is (trimmed, lower-cased); absent when none.
    Lookup(u32, Box<CExpr>),
    /// A table as a collection (`count(b in bank: ...)`): its entries in force.
    Table(u32),
    Not(Box<CExpr>),
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Cmp(CmpOp, Box<CExpr>, Box<CExpr>),
    In(Box<CExpr>, Vec<CExpr>),
    Call(Builtin, Vec<CExpr>),
    Quant(crate::ast::Quantifier, Box<CExpr>, Box<CExpr>),
    Fired(u32),
    /// The evaluation date (`today`): the run's `--as-of`, or the record's own
    /// date under an `as_of` declaration.
    Today,
    /// `a + b`, `a - b`, `a * b`, `a / b`, `a mod b` on exact decimals;
    /// absent when either side is, on division by zero, or on overflow.
    Arith(ArithOp, Box<CExpr>, Box<CExpr>),
    /// A date moved by a signed amount of a calendar unit (`d + 30 days`).
    DateShift(Box<CExpr>, i64, DateUnit),
    /// `sum/min/max(x in list: number)`.
    Aggregate(AggOp, Box<CExpr>, Box<CExpr>),
}

impl CExpr {
    /// Calls `f` on each direct sub-expression, in order (a `let`'s body and a
    /// fired rule's conditions are not sub-expressions: they are reached
    /// through the rule set).
    pub fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a CExpr)) {
        match self {
            CExpr::Const(_)
            | CExpr::Field(_)
            | CExpr::Var(..)
            | CExpr::Let(_)
            | CExpr::Table(_)
            | CExpr::Fired(_)
            | CExpr::Today => {}
            CExpr::EntryAttr(x, ..)
            | CExpr::EntryKnown(x)
            | CExpr::EntryCode(x)
            | CExpr::Lookup(_, x)
            | CExpr::Not(x)
            | CExpr::DateShift(x, ..) => f(x),
            CExpr::And(a, b)
            | CExpr::Or(a, b)
            | CExpr::Cmp(_, a, b)
            | CExpr::Quant(_, a, b)
            | CExpr::Arith(_, a, b)
            | CExpr::Aggregate(_, a, b) => {
                f(a);
                f(b);
            }
            CExpr::In(x, items) => {
                f(x);
                items.iter().for_each(f);
            }
            CExpr::Call(_, args) => args.iter().for_each(f),
        }
    }
}

/// The arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// Calendar units of a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateUnit {
    Days,
    Months,
    Years,
}

/// The aggregates over a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Min,
    Max,
}

/// How `date(text, layout)` reads a text: `YYYY`, `MM`, `DD` and literal
/// ASCII characters, at most 16 in all (checked by the compiler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateLayout {
    pub bytes: [u8; 16],
    pub len: u8,
}

impl DateLayout {
    pub const MAX: usize = 16;

    /// A layout that holds `YYYY`, `MM` and `DD` once each and otherwise
    /// printable ASCII characters other than those letters; `None` otherwise.
    pub fn new(s: &str) -> Option<DateLayout> {
        if s.len() > Self::MAX || !s.is_ascii() {
            return None;
        }
        if s.matches("YYYY").count() != 1 || s.matches("MM").count() != 1 || s.matches("DD").count() != 1 {
            return None;
        }
        let rest = s.replacen("YYYY", "", 1).replacen("MM", "", 1).replacen("DD", "", 1);
        if rest
            .chars()
            .any(|c| matches!(c, 'Y' | 'M' | 'D') || !c.is_ascii_graphic())
        {
            return None;
        }
        let mut bytes = [0u8; 16];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(DateLayout {
            bytes,
            len: u8::try_from(s.len()).ok()?,
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..usize::from(self.len)).unwrap_or(&[])).unwrap_or("")
    }

    /// The date a text spells in this layout, if it is a real date.
    pub fn parse(&self, text: &str) -> Option<Date> {
        let layout = self.as_str();
        if text.len() != layout.len() || !text.is_ascii() {
            return None;
        }
        let field = |pat: &str| -> Option<&str> {
            let at = layout.find(pat)?;
            let part = text.get(at..at + pat.len())?;
            part.bytes().all(|b| b.is_ascii_digit()).then_some(part)
        };
        for (i, (l, t)) in layout.bytes().zip(text.bytes()).enumerate() {
            let in_field = ["YYYY", "MM", "DD"]
                .iter()
                .any(|p| layout.find(p).is_some_and(|at| (at..at + p.len()).contains(&i)));
            if !in_field && l != t {
                return None;
            }
        }
        Date::parse(&format!("{}-{}-{}", field("YYYY")?, field("MM")?, field("DD")?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The built-in functions, with their compile-time arguments resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Length,
    Size,
    Nfc,
    Trim,
    FoldSpace,
    AsciiLower,
    Lower,
    NormalizeName,
    Only(u32),
    HasAny(u32),
    FirstOutside(u32),
    Remove(u32),
    StartsWith,
    EndsWith,
    Contains,
    StripPrefix,
    Matches(u32),
    Present,
    CharName,
    CharCode,
    ConfusableHint,
    Luhn,
    Icao9303,
    Mod11_2,
    Mask,
    /// The number of banks in force (on the evaluation's date) whose `bool`
    /// attribute (by index into the `bank` table's [`Table::attributes`]) is true.
    CountBanks(u32),
    /// `upper(text)`: upper case, character by character after NFC.
    Upper,
    /// `slice(text, from, to)`: characters `from` (inclusive) to `to`
    /// (exclusive), counted from 0 after NFC; clamped to the text.
    Slice,
    /// `char_at(text, i)`: the character at `i` (from 0) after NFC, absent past the end.
    CharAt,
    /// `number(text)`: the decimal a text spells, absent when it spells none.
    Number,
    /// `date(text, "YYYYMMDD")`: absent when the text is no real date in that layout.
    DateFrom(DateLayout),
    /// `years_between(from, to)`: full years from one date to another; a
    /// 29 February anniversary falls on 1 March in other years.
    YearsBetween,
    /// `days_between(from, to)`: days from one date to another (negative if before).
    DaysBetween,
    /// `round(number, places)`: half away from zero.
    Round,
    /// `floor(number, places)`: towards negative infinity.
    Floor,
    /// `ceil(number, places)`: towards positive infinity.
    Ceil,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod pattern_tests {
    use super::*;

    /// What a full build by the `regex` crate says of a pattern.
    fn regex_says(text: &str) -> Result<(), String> {
        regex::RegexBuilder::new(text)
            .size_limit(PATTERN_SIZE_LIMIT)
            .dfa_size_limit(PATTERN_SIZE_LIMIT)
            .nest_limit(PATTERN_NEST_LIMIT)
            .build()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_check_fails_where_and_as_a_full_build_does() {
        let deep = format!("{}a{}", "(".repeat(70), ")".repeat(70));
        let texts = [
            "^1[3458][0-9]{9}$",
            "",
            "[0-9",
            "a{5,2}",
            "(?<=x)y",
            r"\1",
            r"\p{Greek}+",
            r"\p{NoSuchScript}",
            "(?i)straße",
            r"\w{1000}{1000}",
            "[[:alpha:]]{300}{300}",
            &deep,
        ];
        let mut failures = 0;
        for text in texts {
            let ours = Pattern::check(text);
            if let Ok(p) = &ours {
                assert!(p.regex().is_some(), "a checked pattern builds: {text}");
            }
            failures += usize::from(ours.is_err());
            assert_eq!(ours.map(|_| ()), regex_says(text), "{text}");
        }
        assert!(failures >= 7, "the list exercises errors of every kind");
    }

    #[test]
    fn a_checked_pattern_matches_as_the_regex_does() {
        let p = Pattern::check(r"^1[3458][0-9]{9}$").unwrap();
        assert_eq!(p.as_str(), r"^1[3458][0-9]{9}$");
        assert_eq!(p.is_match("13800138000"), Some(true));
        assert_eq!(p.is_match("12800138000"), Some(false));
        assert_eq!(p.is_match("1380013800"), Some(false));
    }
}
