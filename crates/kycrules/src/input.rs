//! Reading applications: files, directories and stdin as a lazy stream of
//! documents ([`read_units`], parsed on demand with [`Unit::parse`], so that
//! parsing can run on worker threads; [`read_inputs`] parses as it reads), and
//! the schema-driven conversion of one document into a [`Record`] ([`convert`]).

use crate::date::Date;
use crate::decimal::{Decimal, DecimalError};
use crate::ir::{AsOfField, Schema, Table, Type, entry_value};
use crate::record::{Field, Record};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The deepest nesting of lists and records an application may have.
pub const MAX_DEPTH: usize = 64;
/// The largest JSON Lines record, in bytes.
pub const MAX_LINE: usize = 1 << 20;
/// The largest file that is read whole (JSON, YAML).
pub const MAX_FILE: usize = 64 << 20;
/// The read buffer of streamed inputs: fewer, larger reads than the default.
const READ_BUFFER: usize = 1 << 16;

// ---------------------------------------------------------------- conversion

/// Converts a parsed document into a record of `schema` (record 0 is the
/// root). Returns the first error, in schema field order; unknown keys are
/// reported after a record's declared fields have been checked.
pub fn convert(value: &Value, schema: &Schema, tables: &[Table], as_of: Date) -> Result<Record, String> {
    let Value::Object(obj) = value else {
        return Err(format!(
            "expected an application (a mapping of fields), found {}",
            describe(value, false)
        ));
    };
    let conv = Conv { schema, tables, as_of };
    Ok(Record {
        fields: conv.record(obj, 0, &Seg::Root, 1)?,
    })
}

/// The date a document is evaluated as of: the policy's `as_of` field when the
/// document carries a valid date there (else the field's default), but never
/// later than `run`; otherwise `run`. A malformed date is left for [`convert`]
/// to report.
pub fn record_date(field: Option<&AsOfField>, value: &Value, run: Date) -> Date {
    let Some((last, parents)) = field.and_then(|f| f.path.split_last()) else {
        return run;
    };
    let mut cur = value;
    for key in parents {
        match cur.get(key) {
            // An absent parent record has no field, and so no default either.
            Some(v) if !v.is_null() => cur = v,
            _ => return run,
        }
    }
    let own = match cur.get(last) {
        None | Some(Value::Null) => field.and_then(|f| f.default),
        Some(Value::String(s)) => Date::parse(s),
        Some(_) => None,
    };
    own.map_or(run, |d| d.min(run))
}

/// The root's `id`, when it is text or a number, to label records.
pub fn record_id(value: &Value) -> Option<String> {
    match value.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The candidate nearest to `name` within edit distance 2 (the first of
/// equally near ones), for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let a: Vec<char> = name.chars().take(65).collect();
    if a.len() > 64 {
        return None;
    }
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let b: Vec<char> = cand.chars().take(67).collect();
        if a.len().abs_diff(b.len()) > 2 {
            continue;
        }
        let d = levenshtein(&a, &b);
        // A distance as long as the name itself is no resemblance ("x" → "id").
        if d <= 2 && d < a.len().max(1) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A field path, rendered only when an error needs it.
enum Seg<'a> {
    Root,
    Key(&'a Seg<'a>, &'a str),
    Index(&'a Seg<'a>, usize),
}

impl fmt::Display for Seg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Root => Ok(()),
            Seg::Key(Seg::Root, k) => f.write_str(k),
            Seg::Key(p, k) => write!(f, "{p}.{k}"),
            Seg::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

fn at(path: &Seg, msg: impl fmt::Display) -> String {
    match path {
        Seg::Root => msg.to_string(),
        _ => format!("{path}: {msg}"),
    }
}

struct Conv<'a> {
    schema: &'a Schema,
    tables: &'a [Table],
    as_of: Date,
}

impl Conv<'_> {
    fn record(&self, obj: &Map<String, Value>, r: u32, path: &Seg, depth: usize) -> Result<Box<[Field]>, String> {
        if depth > MAX_DEPTH {
            return Err(at(path, format_args!("nested deeper than {MAX_DEPTH} levels")));
        }
        let Some(rs) = self.schema.records.get(r as usize) else {
            return Err(at(path, "the schema has no such record type"));
        };
        let mut out = Vec::with_capacity(rs.fields.len());
        for f in &rs.fields {
            let p = Seg::Key(path, &f.name);
            out.push(match obj.get(&f.name) {
                Some(v) if !v.is_null() => self.value(v, &f.ty, &p, depth, f.sensitive)?,
                _ => match &f.default {
                    Some(d) => d.clone(),
                    None if f.optional => Field::Absent,
                    None => return Err(at(&p, "missing required field")),
                },
            });
        }
        if let Some(key) = obj.keys().find(|k| rs.slot(k).is_none()) {
            let mut msg = format!("unknown field `{}`", shown(key));
            if let Some(c) = closest(key, rs.fields.iter().map(|f| f.name.as_str())) {
                msg.push_str(&format!("; did you mean `{c}`?"));
            }
            return Err(at(path, msg));
        }
        Ok(out.into_boxed_slice())
    }

    /// Converts one value; `secret` masks the value in an error (a field
    /// marked `sensitive`).
    fn value(&self, v: &Value, ty: &Type, path: &Seg, depth: usize, secret: bool) -> Result<Field, String> {
        let hide = |s: &str| if secret { crate::text::mask(s) } else { s.to_owned() };
        match (ty, v) {
            (Type::Text, Value::String(s)) => Ok(Field::Text(s.as_str().into())),
            (Type::Bool, Value::Bool(b)) => Ok(Field::Bool(*b)),
            // A number is read from its text, quoted or not: never through `f64`.
            (Type::Number, Value::Number(n)) => decimal(n.as_str(), path, &hide),
            (Type::Number, Value::String(s)) => decimal(s, path, &hide),
            (Type::Date, Value::String(s)) => Date::parse(s)
                .map(Field::Date)
                .ok_or_else(|| at(path, format_args!("`{}` is not a date (YYYY-MM-DD)", shown(&hide(s))))),
            (Type::Entry(t), Value::String(s)) => Ok(entry_value(self.tables, *t, s, self.as_of)),
            (Type::Enum(e), Value::String(s)) => {
                let values = self.enum_values(*e);
                match values.iter().position(|x| x == s).and_then(|i| u32::try_from(i).ok()) {
                    Some(i) => Ok(Field::Enum(i)),
                    None => Err(at(
                        path,
                        format_args!(
                            "unknown value {}; expected one of {}",
                            quoted(&hide(s)),
                            values.join(", ")
                        ),
                    )),
                }
            }
            (Type::List(t), Value::Array(items)) => {
                let depth = depth + 1;
                if depth > MAX_DEPTH {
                    return Err(at(path, format_args!("nested deeper than {MAX_DEPTH} levels")));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.value(item, t, &Seg::Index(path, i), depth, secret)?);
                }
                Ok(Field::List(out))
            }
            (Type::Record(r), Value::Object(obj)) => self.record(obj, *r, path, depth + 1).map(Field::Record),
            _ => Err(self.wrong(ty, v, path, secret)),
        }
    }

    fn enum_values(&self, e: u32) -> &[String] {
        self.schema.enums.get(e as usize).map_or(&[], Vec::as_slice)
    }

    fn wrong(&self, ty: &Type, v: &Value, path: &Seg, secret: bool) -> String {
        let what = match ty {
            Type::Text => "text".to_owned(),
            Type::Bool => "bool".to_owned(),
            Type::Number => "decimal".to_owned(),
            Type::Date => "date".to_owned(),
            Type::Entry(t) => match self.tables.get(*t as usize) {
                Some(table) => format!("a {} name", table.name),
                None => "a name".to_owned(),
            },
            Type::Enum(e) => format!("one of {}", self.enum_values(*e).join(", ")),
            Type::List(_) => "a list".to_owned(),
            Type::Record(_) => "a record".to_owned(),
        };
        let hint = match (ty, v) {
            (Type::Text | Type::Entry(_), Value::Number(_)) => "; quote it to keep it as typed",
            (Type::Bool, Value::String(s))
                if ["true", "false", "yes", "no"]
                    .iter()
                    .any(|w| s.trim().eq_ignore_ascii_case(w)) =>
            {
                "; write true or false without quotes"
            }
            _ => "",
        };
        at(
            path,
            format_args!("expected {what}, found {}{hint}", describe(v, secret)),
        )
    }
}

/// A decimal from the text of a number, quoted or not; `hide` masks it in an error.
fn decimal(s: &str, path: &Seg, hide: &dyn Fn(&str) -> String) -> Result<Field, String> {
    Decimal::parse(s).map(Field::Num).map_err(|e| match e {
        DecimalError::Syntax => at(path, format_args!("`{}` is not a decimal number", shown(&hide(s)))),
        e => at(path, format_args!("`{}`: {e}", shown(&hide(s)))),
    })
}

/// A value in an error; `secret` masks all but the last four characters of
/// a number or text (a `sensitive` field).
fn describe(v: &Value, secret: bool) -> String {
    let hide = |s: &str| if secret { crate::text::mask(s) } else { s.to_owned() };
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("bool {b}"),
        Value::Number(n) => format!("number {}", truncated(&hide(n.as_str()))),
        Value::String(s) => format!("text {}", quoted(&hide(s))),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// At most 60 characters of a typed text.
fn truncated(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// A typed text in a message: JSON-quoted (so control characters are escaped).
fn quoted(s: &str) -> String {
    Value::String(truncated(s)).to_string()
}

/// A typed text between backticks: control characters escaped.
fn shown(s: &str) -> String {
    truncated(s)
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

// ------------------------------------------------------------------- parsing

/// A document as a JSON value, parsed from JSON or YAML. Unlike
/// `serde_json::Value` it rejects duplicate keys, and keeps YAML's `.inf` and
/// `.nan` as text rather than turning them into `null`.
///
/// It builds at most `budget` units (one per value plus one per byte of
/// text): YAML aliases (`*name`) repeat an anchored value, so a 50 KB
/// document could otherwise expand to gigabytes. A document without aliases
/// never costs more than twice its length.
struct Doc<'b>(&'b Cell<usize>, &'b Cell<bool>);

/// The budget of a document of `len` bytes.
fn budget(len: usize) -> Cell<usize> {
    Cell::new(len.saturating_mul(2).saturating_add(64))
}

impl<'de> DeserializeSeed<'de> for Doc<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(DocVisitor(self.0, self.1))
    }
}

/// The budget left, and whether a float was read (its text is read again).
struct DocVisitor<'b>(&'b Cell<usize>, &'b Cell<bool>);

impl DocVisitor<'_> {
    fn spend<E: de::Error>(&self, units: usize) -> Result<(), E> {
        match self.0.get().checked_sub(units.saturating_add(1)) {
            Some(left) => {
                self.0.set(left);
                Ok(())
            }
            None => Err(E::custom(
                "the document expands to more than twice its size; YAML aliases (`*name`) may not repeat this much",
            )),
        }
    }
}

impl<'de> Visitor<'de> for DocVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.spend(0)?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.spend(0)?;
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.spend(0)?;
        Ok(Value::from(v))
    }
    // Integers of any size are kept exactly (the schema decides what fits).
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.spend(0)?;
        exact(&v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.spend(0)?;
        exact(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // Only YAML gives a float (JSON numbers come as text, below): its
        // digits are read again from the document's text afterwards.
        self.spend(0)?;
        self.1.set(true);
        Ok(Number::from_f64(v).map_or_else(
            || {
                Value::String(
                    if v.is_nan() {
                        ".nan"
                    } else if v > 0.0 {
                        ".inf"
                    } else {
                        "-.inf"
                    }
                    .into(),
                )
            },
            Value::Number,
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.spend(v.len())?;
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.spend(v.len())?;
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.spend(0)?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.spend(0)?;
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Doc(self.0, self.1).deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.spend(0)?;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(v) = seq.next_element_seed(Doc(self.0, self.1))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.spend(0)?;
        let mut out = Map::new();
        let mut first = true;
        while let Some(k) = map.next_key::<String>()? {
            if std::mem::take(&mut first) && k == JSON_NUMBER {
                // A JSON number, as serde_json hands it over: its text.
                let text: String = map.next_value()?;
                return exact(&text);
            }
            self.spend(k.len())?;
            if out.contains_key(&k) {
                return Err(de::Error::custom(format_args!("duplicate key `{}`", shown(&k))));
            }
            let v = map.next_value_seed(Doc(self.0, self.1))?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// The key under which serde_json (with `arbitrary_precision`) hands a number's text to a visitor.
pub(crate) const JSON_NUMBER: &str = "$serde_json::private::Number";

/// A number from its text, exactly as written; a YAML spelling JSON has no
/// word for (`+1`, `.5`, `0x1F`) is written as the decimal it means.
fn exact<E: de::Error>(text: &str) -> Result<Value, E> {
    if let Ok(n) = text.parse::<Number>() {
        return Ok(Value::Number(n));
    }
    match Decimal::parse(text).map(|d| d.to_string().parse::<Number>()) {
        Ok(Ok(n)) => Ok(Value::Number(n)),
        // More digits than a decimal holds: kept as written, for the schema to report.
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// Parses one JSON document.
fn parse_json(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let budget = budget(bytes.len());
    let float = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Doc(&budget, &float).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// The deepest nesting of flow collections (`[...]`, `{...}`) one YAML
/// document may have. The YAML scanner's work per token grows with this
/// nesting (`[[[...`), so a deeply nested one takes minutes; no application
/// needs this much. Brackets in quoted text, in comments and inside plain
/// words (`a[b`) do not count, nor do collections side by side.
pub const MAX_YAML_FLOW: usize = 256;

/// The offset of the first `[` or `{` nested deeper than [`MAX_YAML_FLOW`].
/// A lexical scan: quoted scalars and comments are skipped, and a bracket
/// opens a collection only where a value may start (after `:`, `-`, `?`,
/// `,`, another bracket or at the start of a line) or inside a collection.
fn flow_too_deep(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    let mut prev: Option<u8> = None; // the last non-blank byte of the line
    let value_starts = |prev: Option<u8>, depth: usize| match prev {
        None | Some(b':' | b'-' | b'?') => true,
        Some(b'[' | b'{' | b',') => depth > 0,
        _ => false,
    };
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' => prev = None,
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == 0 || matches!(b.get(i - 1), Some(b' ' | b'\t' | b'\n' | b'\r')) => {
                i = b
                    .get(i..)
                    .and_then(|r| r.iter().position(|&x| x == b'\n'))
                    .map_or(b.len(), |n| i + n);
                continue;
            }
            b'"' | b'\'' if value_starts(prev, depth) => {
                i += 1;
                while let Some(&q) = b.get(i) {
                    if c == b'"' && q == b'\\' {
                        i += 2;
                        continue;
                    }
                    if q == c {
                        if c == b'\'' && b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                prev = Some(c);
            }
            b'[' | b'{' if depth > 0 || value_starts(prev, depth) => {
                depth += 1;
                if depth > MAX_YAML_FLOW {
                    return Some(i);
                }
                prev = Some(c);
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                prev = Some(c);
            }
            _ => prev = Some(c),
        }
        i += 1;
    }
    None
}

/// Parses one YAML document (of at most [`MAX_LINE`] bytes).
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    parse_yaml_at(text).map_err(|(e, _)| e)
}

/// [`parse_yaml`], with the line of the error when it has one.
pub fn parse_yaml_at(text: &str) -> Result<Value, (String, Option<usize>)> {
    if let Some(i) = flow_too_deep(text) {
        let (line, col) = crate::source::line_col(text, i);
        return Err((
            format!(
                "`[` and `{{` nested more than {MAX_YAML_FLOW} deep at line {line} column {col}; write lists and records in block style"
            ),
            Some(line),
        ));
    }
    // A document written as JSON is read as JSON, so that it decides as the
    // same record in a `.json` file would (escapes, numbers).
    if let Some(json) = json_body(text)
        && let Ok(v) = parse_json(json.as_bytes())
    {
        return Ok(v);
    }
    let budget = budget(text.len());
    let float = Cell::new(false);
    let located = |e: serde_yaml::Error| (e.to_string(), e.location().map(|l| l.line()));
    let v = Doc(&budget, &float)
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(located)?;
    if !float.get() {
        return Ok(v);
    }
    // A float was read through `f64`: read the text of every number again.
    Exact(&v)
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .map_err(located)
}

/// The document from its first line that is not blank, a comment or `---`,
/// when that line starts a JSON object or array.
fn json_body(text: &str) -> Option<&str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t == "---" {
            offset += line.len();
            continue;
        }
        return t.starts_with(['{', '[']).then(|| text.get(offset..)).flatten();
    }
    None
}

/// A second reading of a YAML document, guided by the first (`.0`): every
/// number is read as the text it was written as, so no digit is lost to `f64`.
struct Exact<'v>(&'v Value);

impl<'de> DeserializeSeed<'de> for Exact<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.0 {
            Value::Array(_) => d.deserialize_seq(self),
            Value::Object(_) => d.deserialize_map(self),
            Value::Number(_) => d.deserialize_str(self),
            v => {
                d.deserialize_ignored_any(de::IgnoredAny)?;
                Ok(v.clone())
            }
        }
    }
}

impl<'de> Visitor<'de> for Exact<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value read before")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        match self.0 {
            // An integer is exact already (and may have been written in hex).
            Value::Number(n)
                if n.is_i64() || n.is_u64() || n.as_str().bytes().all(|c| c.is_ascii_digit() || c == b'-') =>
            {
                Ok(self.0.clone())
            }
            _ => exact(v),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Value::Array(items) = self.0 else {
            return Err(de::Error::custom("the document changed between readings"));
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match seq.next_element_seed(Exact(item))? {
                Some(v) => out.push(v),
                None => return Err(de::Error::custom("the document changed between readings")),
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Value::Object(obj) = self.0 else {
            return Err(de::Error::custom("the document changed between readings"));
        };
        let mut out = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let Some(v) = obj.get(&k) else {
                return Err(de::Error::custom("the document changed between readings"));
            };
            out.insert(k, map.next_value_seed(Exact(v))?);
        }
        Ok(Value::Object(out))
    }
}

/// One document read from the input, before conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRecord {
    /// Where it came from: `path:LINE`, `<stdin>:LINE`, or the path alone.
    pub source: String,
    /// The root's `id` (see [`record_id`]).
    pub id: Option<String>,
    /// The parsed document, or why it could not be read or parsed.
    pub value: Result<Value, String>,
}

fn failed(source: impl Into<String>, msg: impl Into<String>) -> InputRecord {
    InputRecord {
        source: source.into(),
        id: None,
        value: Err(msg.into()),
    }
}

fn parsed(source: String, v: Value) -> InputRecord {
    InputRecord {
        source,
        id: record_id(&v),
        value: Ok(v),
    }
}

/// Parses one JSON document (a JSON Lines record, or a whole `.json` file).
pub fn json_record(source: String, bytes: &[u8]) -> InputRecord {
    if bytes.len() > MAX_LINE {
        return failed(source, "record larger than 1 MiB");
    }
    match parse_json(bytes) {
        Ok(v) => parsed(source, v),
        Err(e) => failed(source, format!("invalid JSON: {e}")),
    }
}

/// One document as read, not yet parsed (or an error found while reading).
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// A JSON Lines record: its bytes, without the line end.
    Json { source: String, bytes: Vec<u8> },
    /// A YAML document: its text and the file line it starts on.
    Yaml { source: String, text: String, first: usize },
    /// Parsed already, or an error.
    Ready(InputRecord),
}

impl Unit {
    /// Where the document came from (see [`InputRecord::source`]).
    pub fn source(&self) -> &str {
        match self {
            Unit::Json { source, .. } | Unit::Yaml { source, .. } => source,
            Unit::Ready(r) => &r.source,
        }
    }

    /// The document's size in bytes, as far as it is known (for progress).
    pub fn size(&self) -> usize {
        match self {
            Unit::Json { bytes, .. } => bytes.len() + 1,
            Unit::Yaml { text, .. } => text.len(),
            Unit::Ready(_) => 0,
        }
    }

    /// Parses the document.
    pub fn parse(self) -> InputRecord {
        match self {
            Unit::Json { source, bytes } => json_record(source, &bytes),
            Unit::Yaml { source, text, .. } if text.len() > MAX_LINE => failed(source, "record larger than 1 MiB"),
            Unit::Yaml { source, text, first } => match parse_yaml(&text) {
                Ok(v) => parsed(source, v),
                Err(e) => match tab_indent_line(&text) {
                    Some(line) if e.contains("cannot start any token") || e.contains("tab") => failed(
                        source,
                        format!(
                            "invalid YAML: a tab in the indentation of line {}; YAML indents with spaces only",
                            line + first - 1
                        ),
                    ),
                    _ => failed(source, format!("invalid YAML: {}", shift_lines(&e, first - 1))),
                },
            },
            Unit::Ready(r) => r,
        }
    }
}

fn too_large(label: &str) -> InputRecord {
    failed(label, "file larger than 64 MiB; use JSON Lines for large batches")
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// The index of the first `\n` in `b`, found eight bytes at a time (the
/// reader thread's inner loop).
fn newline(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut start = 0;
    for word in b.chunks_exact(8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8])) ^ NL;
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break; // a zero byte of `x` is a newline of `word`
        }
        start += 8;
    }
    let rest = b.get(start..)?;
    rest.iter().position(|&c| c == b'\n').map(|i| start + i)
}

/// Reads one line without its line end, keeping at most `limit + 2` bytes.
/// `None` at the end of input; `Some(true)` when the line exceeds `limit`.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<Option<bool>> {
    buf.clear();
    read_line_into(r, buf, limit)
}

/// [`read_line`], appending the line to what `buf` holds already (a group's
/// buffer): the line is `buf[len at entry..]`.
fn read_line_into(r: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<Option<bool>> {
    let base = buf.len();
    let (mut any, mut dropped) = (false, false);
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (len, done) = newline(chunk).map_or((chunk.len(), false), |i| (i, true));
        let keep = len.min(limit.saturating_add(2).saturating_sub(buf.len() - base));
        dropped |= keep < len;
        buf.extend_from_slice(chunk.get(..keep).unwrap_or_default());
        r.consume(len + usize::from(done));
        if done {
            break;
        }
    }
    if !dropped && buf.len() > base && buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(any.then_some(dropped || buf.len() - base > limit))
}

/// `label:line`, in one allocation of the exact size (the reader thread makes
/// one per record).
fn line_source(label: &str, line: usize) -> String {
    let digits = line.checked_ilog10().map_or(1, |d| d as usize + 1);
    let mut source = String::with_capacity(label.len() + 1 + digits);
    source.push_str(label);
    source.push(':');
    let _ = fmt::Write::write_fmt(&mut source, format_args!("{line}"));
    source
}

/// JSON Lines, streamed: one record per non-blank line.
struct JsonLines {
    reader: Box<dyn BufRead + Send>,
    label: String,
    /// `label`, shared by the groups that hold this file's lines (made once).
    shared: Option<Arc<str>>,
    line: usize,
    buf: Vec<u8>,
    pre: VecDeque<InputRecord>,
    done: bool,
}

impl JsonLines {
    fn new(reader: Box<dyn BufRead + Send>, label: String) -> Self {
        JsonLines {
            reader,
            label,
            shared: None,
            line: 0,
            buf: Vec::new(),
            pre: VecDeque::new(),
            done: false,
        }
    }
}

impl Iterator for JsonLines {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        if let Some(r) = self.pre.pop_front() {
            return Some(Unit::Ready(r));
        }
        while !self.done {
            match read_line(&mut *self.reader, &mut self.buf, MAX_LINE) {
                Err(e) => {
                    self.done = true;
                    return Some(Unit::Ready(failed(
                        &self.label,
                        format!("cannot read {}: {e}", self.label),
                    )));
                }
                Ok(None) => self.done = true,
                Ok(Some(over)) => {
                    self.line += 1;
                    let source = line_source(&self.label, self.line);
                    if over {
                        return Some(Unit::Ready(failed(source, "record larger than 1 MiB")));
                    }
                    let bytes = if self.line == 1 {
                        strip_bom(&self.buf)
                    } else {
                        &self.buf
                    };
                    if !bytes.trim_ascii().is_empty() {
                        return Some(Unit::Json {
                            source,
                            bytes: bytes.to_vec(),
                        });
                    }
                }
            }
        }
        None
    }
}

impl JsonLines {
    /// Reads lines straight into `g`'s buffer until it holds `n` documents or
    /// `max_bytes`, this file ends, or it has a record of another kind to
    /// give first (one read while sniffing the format).
    fn fill(&mut self, g: &mut Group, n: usize, max_bytes: usize) {
        let label = Arc::clone(self.shared.get_or_insert_with(|| Arc::from(self.label.as_str())));
        while self.pre.is_empty() && !self.done && g.items.len() < n && g.size < max_bytes {
            let start = g.text.len();
            match read_line_into(&mut *self.reader, &mut g.text, MAX_LINE) {
                Err(e) => {
                    g.text.truncate(start);
                    self.done = true;
                    let msg = format!("cannot read {}: {e}", self.label);
                    g.push_unit(Unit::Ready(failed(&self.label, msg)));
                }
                Ok(None) => {
                    g.text.truncate(start);
                    self.done = true;
                }
                Ok(Some(over)) => {
                    self.line += 1;
                    if over {
                        g.text.truncate(start);
                        let source = line_source(&self.label, self.line);
                        g.push_unit(Unit::Ready(failed(source, "record larger than 1 MiB")));
                        continue;
                    }
                    let line = g.text.get(start..).unwrap_or_default();
                    let from = if self.line == 1 {
                        start + (line.len() - strip_bom(line).len())
                    } else {
                        start
                    };
                    if g.text.get(from..).unwrap_or_default().trim_ascii().is_empty() {
                        g.text.truncate(start);
                    } else {
                        g.push_line(&label, self.line, from);
                    }
                }
            }
        }
    }
}

/// A group of documents as read, a worker's unit of work: the JSON Lines
/// records' bytes in one buffer (one allocation per group where there were
/// two per record, freed on the worker as before) with each line's place and
/// file line, so that a record's `file:line` is written only where it is
/// shown; documents of other kinds (YAML, whole JSON files, errors found
/// while reading) as [`Unit`]s.
#[derive(Debug, Default)]
pub struct Group {
    text: Vec<u8>,
    /// The labels (file names) of the lines, each once per group.
    labels: Vec<Arc<str>>,
    items: Vec<Item>,
    /// The documents' size as read (for progress and chunking).
    size: usize,
}

#[derive(Debug)]
enum Item {
    /// A JSON Lines record: `text[start..end]`, line `line` of `labels[label]`.
    Line {
        label: u32,
        line: usize,
        start: usize,
        end: usize,
    },
    Other(Unit),
}

/// Where a JSON Lines record was read: shown as `label:line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt<'a> {
    pub label: &'a str,
    pub line: usize,
}

impl fmt::Display for LineAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.label, self.line)
    }
}

/// One document of a [`Group`], as [`Group::each`] hands it over.
pub enum GroupDoc<'a> {
    /// A JSON Lines record's text, or its bytes when they are not UTF-8.
    Line {
        text: Result<&'a str, &'a [u8]>,
        at: LineAt<'a>,
    },
    /// Any other document.
    Unit(Unit),
}

impl Group {
    fn with_capacity(bytes: usize, n: usize) -> Self {
        Group {
            text: Vec::with_capacity(bytes),
            labels: Vec::new(),
            items: Vec::with_capacity(n),
            size: 0,
        }
    }

    fn push_line(&mut self, label: &Arc<str>, line: usize, start: usize) {
        if !self.labels.last().is_some_and(|l| Arc::ptr_eq(l, label)) {
            self.labels.push(Arc::clone(label));
        }
        let end = self.text.len();
        self.size += end - start + 1;
        self.items.push(Item::Line {
            label: u32::try_from(self.labels.len() - 1).unwrap_or(u32::MAX),
            line,
            start,
            end,
        });
    }

    fn push_unit(&mut self, unit: Unit) {
        self.size += unit.size();
        self.items.push(Item::Other(unit));
    }

    /// How many documents the group holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The documents' size in bytes as read, as far as it is known (see [`Unit::size`]).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Hands each document to `f`, in input order. The buffer is checked as
    /// UTF-8 once (line by line only when it is not).
    pub fn each(self, mut f: impl FnMut(GroupDoc<'_>)) {
        let Group {
            text, labels, items, ..
        } = self;
        let (valid, bytes) = match String::from_utf8(text) {
            Ok(s) => (s, Vec::new()),
            Err(e) => (String::new(), e.into_bytes()),
        };
        for item in items {
            match item {
                Item::Other(u) => f(GroupDoc::Unit(u)),
                Item::Line {
                    label,
                    line,
                    start,
                    end,
                } => {
                    let text = if bytes.is_empty() {
                        Ok(valid.get(start..end).unwrap_or_default())
                    } else {
                        let b = bytes.get(start..end).unwrap_or_default();
                        std::str::from_utf8(b).map_err(|_| b)
                    };
                    let label = labels.get(label as usize).map_or("", |l| l);
                    f(GroupDoc::Line {
                        text,
                        at: LineAt { label, line },
                    });
                }
            }
        }
    }

    /// The documents as [`Unit`]s (a line's source written out).
    pub fn into_units(self) -> Vec<Unit> {
        let mut out = Vec::with_capacity(self.len());
        self.each(|d| {
            out.push(match d {
                GroupDoc::Line { text, at } => Unit::Json {
                    source: at.to_string(),
                    bytes: text.map_or_else(<[u8]>::to_vec, |t| t.as_bytes().to_vec()),
                },
                GroupDoc::Unit(u) => u,
            });
        });
        out
    }
}

impl crate::batch::Weight for Group {
    fn weight(&self) -> usize {
        self.size
    }
}

/// A YAML stream, split on `---` and `...` lines so that each document is
/// parsed (lazily) on its own and a broken one spoils only itself.
struct YamlDocs {
    text: String,
    pos: usize,
    line: usize,
    label: String,
}

/// The marker's remainder when `line` is a document marker (`---`, `...`).
fn marker<'a>(line: &'a str, m: &str) -> Option<&'a str> {
    line.strip_prefix(m)
        .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

impl YamlDocs {
    fn new(text: String, label: String) -> Self {
        let pos = if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        YamlDocs {
            text,
            pos,
            line: 1,
            label,
        }
    }

    /// The next non-empty document: byte range, first line, first content line.
    fn fragment(&mut self) -> Option<(usize, usize, usize, usize)> {
        let len = self.text.len();
        while self.pos < len {
            let (start, start_line) = (self.pos, self.line);
            let (mut opened, mut content) = (false, None);
            while self.pos < len {
                let rest = self.text.get(self.pos..).unwrap_or_default();
                let next = rest.find('\n').map_or(len, |i| self.pos + i + 1);
                let line = rest.split('\n').next().unwrap_or_default();
                let line = line.strip_suffix('\r').unwrap_or(line);
                if let Some(after) = marker(line, "---") {
                    if opened || content.is_some() {
                        break; // this line opens the next document
                    }
                    opened = true;
                    let after = after.trim();
                    if !after.is_empty() && !after.starts_with('#') {
                        content = Some(self.line);
                    }
                } else if marker(line, "...").is_some() {
                    self.pos = next;
                    self.line += 1;
                    break;
                } else {
                    let t = line.trim();
                    let directive = line.starts_with('%') && !opened && content.is_none();
                    if content.is_none() && !t.is_empty() && !t.starts_with('#') && !directive {
                        content = Some(self.line);
                    }
                }
                self.pos = next;
                self.line += 1;
            }
            if let Some(c) = content {
                return Some((start, self.pos, start_line, c));
            }
        }
        None
    }
}

impl Iterator for YamlDocs {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let (start, end, first, content) = self.fragment()?;
        Some(Unit::Yaml {
            source: format!("{}:{content}", self.label),
            text: self.text.get(start..end).unwrap_or_default().to_owned(),
            first,
        })
    }
}

/// The first line (1-based, in `text`) whose indentation holds a tab, which
/// YAML forbids; the parser reports it as a character that cannot start a
/// token, sometimes on a later line.
fn tab_indent_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let indent = &l[..l.len() - l.trim_start_matches([' ', '\t']).len()];
            indent.contains('\t') && !l.trim().is_empty() && !l.trim_start().starts_with('#')
        })
        .map(|i| i + 1)
}

/// Adds `offset` to each `line N column M` of a parser message, so that the
/// position of an error in one document is its position in the file.
fn shift_lines(msg: &str, offset: usize) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + 5);
        out.push_str(head);
        rest = tail;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (num, after) = rest.split_at(digits);
        if let Ok(n) = num.parse::<usize>()
            && after.starts_with(" column ")
        {
            out.push_str(&n.saturating_add(offset).to_string());
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A source of records: one file, stdin, or an error.
enum Source {
    Lines(JsonLines),
    Yaml(YamlDocs),
    One(Option<InputRecord>),
    /// The records of a `.json` file holding an array, or none for an empty file.
    Many(std::vec::IntoIter<InputRecord>),
}

impl Iterator for Source {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        match self {
            Source::Lines(l) => l.next(),
            Source::Yaml(y) => y.next(),
            Source::One(r) => r.take().map(Unit::Ready),
            Source::Many(r) => r.next().map(Unit::Ready),
        }
    }
}

fn one(r: InputRecord) -> Source {
    Source::One(Some(r))
}

/// Reads a file whole, as text of at most [`MAX_FILE`] bytes.
fn read_whole(file: fs::File, label: &str) -> Result<String, InputRecord> {
    let cannot = |e: &dyn fmt::Display| failed(label, format!("cannot read {label}: {e}"));
    if file.metadata().is_ok_and(|m| m.len() > MAX_FILE as u64) {
        return Err(too_large(label));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() > MAX_FILE {
        return Err(too_large(label));
    }
    String::from_utf8(bytes).map_err(|_| cannot(&"stream did not contain valid UTF-8"))
}

/// Text of unknown format (stdin, or a file without a known extension):
/// JSON Lines when the first non-blank line is a JSON value by itself (`{..}`,
/// `[]`: each later line is then a record of its own, broken or not), or
/// when the first two non-blank lines start with `{`; else one JSON document
/// when the text starts as JSON does (`{"`, `[{`, `{}`), with JSON's error
/// when it is broken; else a YAML stream.
fn sniff(mut reader: Box<dyn BufRead + Send>, label: String) -> Source {
    let mut text: Vec<u8> = Vec::new();
    let mut lines: Vec<(usize, usize, usize)> = Vec::new(); // non-blank: line, start, end
    let (mut line, mut buf) = (0, Vec::new());
    while lines.len() < 2 {
        match read_line(&mut *reader, &mut buf, MAX_FILE) {
            Err(e) => return one(failed(&label, format!("cannot read {label}: {e}"))),
            Ok(None) => break,
            Ok(Some(true)) => return one(too_large(&label)),
            Ok(Some(false)) => {
                line += 1;
                let bytes = if line == 1 { strip_bom(&buf) } else { &buf };
                let start = text.len();
                text.extend_from_slice(bytes);
                if !bytes.trim_ascii().is_empty() {
                    lines.push((line, start, text.len()));
                }
                text.push(b'\n');
                if text.len() > MAX_FILE {
                    return one(too_large(&label));
                }
            }
        }
    }
    let brace = |&(_, s, e): &(usize, usize, usize)| {
        text.get(s..e).unwrap_or_default().trim_ascii_start().first() == Some(&b'{')
    };
    let whole_line = |&(_, s, e): &(usize, usize, usize)| {
        text.get(s..e).is_some_and(|b| {
            b.trim_ascii_start().first().is_some_and(|c| matches!(c, b'{' | b'[')) && parse_json(b).is_ok()
        })
    };
    match lines.as_slice() {
        [] => return Source::One(None),
        [a, ..] if whole_line(a) => return json_lines(reader, label, line, buf, &text, &lines),
        [a, b] if brace(a) && brace(b) => return json_lines(reader, label, line, buf, &text, &lines),
        _ => {}
    }
    let json_like = lines
        .first()
        .is_some_and(|&(_, s, e)| looks_json(text.get(s..e).unwrap_or_default()));
    let limit = (MAX_FILE + 1).saturating_sub(text.len()) as u64;
    if let Err(e) = reader.take(limit).read_to_end(&mut text) {
        return one(failed(&label, format!("cannot read {label}: {e}")));
    }
    if text.len() > MAX_FILE {
        return one(too_large(&label));
    }
    let Ok(text) = String::from_utf8(text) else {
        return one(failed(
            &label,
            format!("cannot read {label}: stream did not contain valid UTF-8"),
        ));
    };
    let trimmed = text.trim_start();
    let blank = text.get(..text.len() - trimmed.len()).unwrap_or_default();
    let first = 1 + blank.matches('\n').count();
    let source = format!("{label}:{first}");
    if json_like || trimmed.starts_with('{') {
        match parse_json(text.as_bytes()) {
            Ok(_) if text.len() > MAX_LINE => return one(failed(source, "record larger than 1 MiB")),
            Ok(v) => return one(parsed(source, v)),
            // Text that starts as JSON does is judged as JSON, never as YAML.
            Err(e) if json_like => return one(failed(source, format!("invalid JSON: {e}"))),
            Err(_) => {}
        }
    }
    Source::Yaml(YamlDocs::new(text, label))
}

/// Whether a line starts as a JSON document does, and not as YAML's flow
/// style may: `{"`, `{}`, `[{`, `["`, `[]`, `[` alone, `{` alone.
fn looks_json(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    let (Some(&open), rest) = (t.first(), t.get(1..).unwrap_or_default().trim_ascii_start()) else {
        return false;
    };
    match open {
        b'{' => matches!(rest.first(), None | Some(b'"' | b'}')),
        b'[' => matches!(rest.first(), None | Some(b'"' | b'{' | b'[' | b']')),
        _ => false,
    }
}

/// The JSON Lines stream whose first lines (`lines`, in `text`) are read already.
fn json_lines(
    reader: Box<dyn BufRead + Send>,
    label: String,
    line: usize,
    buf: Vec<u8>,
    text: &[u8],
    lines: &[(usize, usize, usize)],
) -> Source {
    let pre = lines
        .iter()
        .map(|&(l, s, e)| match text.get(s..e) {
            Some(bytes) if bytes.len() <= MAX_LINE => json_record(format!("{label}:{l}"), bytes),
            _ => failed(format!("{label}:{l}"), "record larger than 1 MiB"),
        })
        .collect();
    Source::Lines(JsonLines {
        reader,
        label,
        shared: None,
        line,
        buf,
        pre,
        done: false,
    })
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// How text without a known extension (stdin, `data.txt`) is read:
/// `--input-format`. Files named `.jsonl`, `.json`, `.yaml` or `.yml` are
/// always read as their extension says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InputFormat {
    /// Told from the text (see `sniff`).
    #[default]
    Auto,
    /// A YAML stream: documents separated by `---`.
    Yaml,
    /// One JSON document.
    Json,
    /// JSON Lines: one record per line.
    Jsonl,
}

/// Text of unknown format read as `format` says.
fn unknown(reader: Box<dyn BufRead + Send>, label: String, format: InputFormat) -> Source {
    let ext = match format {
        InputFormat::Auto => return sniff(reader, label),
        InputFormat::Jsonl => return Source::Lines(JsonLines::new(reader, label)),
        InputFormat::Json => "json",
        InputFormat::Yaml => "yaml",
    };
    let mut bytes = Vec::new();
    if let Err(e) = reader.take(MAX_FILE as u64 + 1).read_to_end(&mut bytes) {
        return one(failed(&label, format!("cannot read {label}: {e}")));
    }
    if bytes.len() > MAX_FILE {
        return one(too_large(&label));
    }
    match String::from_utf8(bytes) {
        Ok(text) => whole(text, ext, label),
        Err(_) => one(failed(
            &label,
            format!("cannot read {label}: stream did not contain valid UTF-8"),
        )),
    }
}

fn open_file(path: &Path, label: String, format: InputFormat) -> Source {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return one(failed(&label, format!("cannot read {label}: {e}"))),
    };
    match extension(path).as_str() {
        "jsonl" => Source::Lines(JsonLines::new(
            Box::new(BufReader::with_capacity(READ_BUFFER, file)),
            label,
        )),
        ext @ ("json" | "yaml" | "yml") => match read_whole(file, &label) {
            Ok(text) => whole(text, ext, label),
            Err(r) => one(r),
        },
        // `--input-format` names the format of a file whose name does not; a
        // pipe or device (`<(...)`, `/dev/stdin`) has no name to go by: its first byte decides.
        _ if format != InputFormat::Auto || file.metadata().is_ok_and(|m| !m.is_file()) => {
            unknown(Box::new(BufReader::with_capacity(READ_BUFFER, file)), label, format)
        }
        ext => one(failed(
            &label,
            format!(
                "cannot read {label}: {}; the supported formats are .yaml or .yml (YAML), \
                 .json (a record or an array of records) and .jsonl (JSON Lines)",
                if ext.is_empty() {
                    "the file name has no extension".to_owned()
                } else {
                    format!("unknown file extension `.{ext}`")
                }
            ),
        )),
    }
}

/// The records of a JSON or YAML file read whole.
fn whole(text: String, ext: &str, label: String) -> Source {
    if ext == "json" {
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        json_file(text, &label)
    } else {
        Source::Yaml(YamlDocs::new(text, label))
    }
}

/// The records of a `.json` file: none when it is empty (white space only),
/// one per element when it holds an array, else the one document (or its
/// error). An element's source is the line it starts on.
fn json_file(text: &str, label: &str) -> Source {
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Source::Many(Vec::new().into_iter());
    }
    let first = 1 + text[..text.len() - trimmed.len()].matches('\n').count();
    if !trimmed.starts_with('[') {
        return one(json_record(format!("{label}:{first}"), text.as_bytes()));
    }
    let Some(spans) = array_elements(text.as_bytes()) else {
        // Not a well-formed array: the parser says where.
        return one(json_record(format!("{label}:{first}"), text.as_bytes()));
    };
    let mut line = 1;
    let mut at = 0;
    let records = spans
        .into_iter()
        .map(|(start, end)| {
            line += text.as_bytes()[at..start].iter().filter(|&&b| b == b'\n').count();
            at = start;
            json_record(format!("{label}:{line}"), &text.as_bytes()[start..end])
        })
        .collect::<Vec<_>>();
    Source::Many(records.into_iter())
}

/// The byte ranges of the elements of a JSON array filling `b` (white space
/// around it allowed), found by tracking strings and brackets; `None` when
/// `b` is not one bracketed array whose elements are separated by commas.
/// The elements themselves are checked by the parser.
fn array_elements(b: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut spans = Vec::new();
    let mut open: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    let mut start: Option<usize> = None;
    let mut closed = false;
    for (i, &c) in b.iter().enumerate() {
        if closed {
            if !c.is_ascii_whitespace() {
                return None;
            }
            continue;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        let depth = open.len();
        if depth == 1 && start.is_none() && !c.is_ascii_whitespace() && c != b',' && c != b']' {
            start = Some(i);
        }
        match c {
            b'"' => in_string = true,
            b'[' => open.push(b']'),
            b'{' => open.push(b'}'),
            b']' | b'}' => {
                if open.pop()? != c {
                    return None;
                }
                if open.is_empty() {
                    if let Some(s) = start.take() {
                        spans.push((s, trim_end(b, s, i)));
                    } else if !spans.is_empty() {
                        return None; // `[1,]`
                    }
                    closed = true;
                }
            }
            b',' if depth == 1 => spans.push((start.take()?, trim_end(b, 0, i))),
            _ if depth == 0 && !c.is_ascii_whitespace() => return None,
            _ => {}
        }
    }
    closed.then_some(spans)
}

/// `end` moved back over white space, not before `start`.
fn trim_end(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && b[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// The records of bytes in memory, read as a file with extension `ext`
/// would be (`jsonl`, `json`, `yaml`, `yml`; anything else is sniffed).
pub fn read_bytes(bytes: Vec<u8>, ext: &str, label: String) -> impl Iterator<Item = InputRecord> + Send {
    let source = match ext {
        "jsonl" => Source::Lines(JsonLines::new(Box::new(io::Cursor::new(bytes)), label)),
        "json" | "yaml" | "yml" if bytes.len() > MAX_FILE => one(too_large(&label)),
        "json" | "yaml" | "yml" => match String::from_utf8(bytes) {
            Ok(text) => whole(text, ext, label),
            Err(_) => one(failed(
                &label,
                format!("cannot read {label}: stream did not contain valid UTF-8"),
            )),
        },
        _ => sniff(Box::new(io::Cursor::new(bytes)), label),
    };
    source.map(Unit::parse)
}

/// Work still to do: a path as given, a file found in a directory, or an error.
enum Pending {
    Arg(PathBuf),
    File(PathBuf, String),
    Error(InputRecord),
}

/// How many files under a directory are not read by `check` (their extension
/// is not `.yaml`, `.yml`, `.json` or `.jsonl`); hidden entries are not counted.
pub fn skipped_files(root: &Path) -> usize {
    let mut skipped = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            match entry.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(path),
                Ok(_) if !matches!(extension(&path).as_str(), "yaml" | "yml" | "json" | "jsonl") => skipped += 1,
                _ => {}
            }
        }
    }
    skipped
}

/// The input files under a directory, sorted by relative path (component by
/// component). Hidden entries (`.name`) and symbolic links to directories are
/// skipped.
fn walk(root: &Path, label: &str) -> Vec<Pending> {
    let base = if label.len() > 1 {
        label.trim_end_matches('/')
    } else {
        label
    };
    let label_of = |rel: &[OsString]| {
        let mut s = base.to_owned();
        for c in rel {
            if !s.ends_with('/') {
                s.push('/');
            }
            s.push_str(&c.to_string_lossy());
        }
        s
    };
    let mut found: Vec<(Vec<OsString>, Pending)> = Vec::new();
    let mut stack = vec![(root.to_path_buf(), Vec::new())];
    while let Some((dir, rel)) = stack.pop() {
        let cannot = |e: io::Error| {
            let l = label_of(&rel);
            (rel.clone(), Pending::Error(failed(&l, format!("cannot read {l}: {e}"))))
        };
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                found.push(cannot(e));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    found.push(cannot(e));
                    break;
                }
            };
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let mut r = rel.clone();
            r.push(name);
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push((path, r));
            } else if (ft.is_file() || (ft.is_symlink() && fs::metadata(&path).is_ok_and(|m| m.is_file())))
                && matches!(extension(&path).as_str(), "yaml" | "yml" | "json" | "jsonl")
            {
                let l = label_of(&r);
                found.push((r, Pending::File(path, l)));
            }
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, p)| p).collect()
}

struct Inputs {
    pending: VecDeque<Pending>,
    current: Option<Source>,
    format: InputFormat,
}

impl Iterator for Inputs {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        loop {
            if let Some(src) = &mut self.current {
                if let Some(r) = src.next() {
                    return Some(r);
                }
                self.current = None;
            }
            if let Some(unit) = self.open_next()? {
                return Some(unit);
            }
        }
    }
}

impl Inputs {
    /// Opens the next source as `current`: `None` when nothing is pending,
    /// `Some(Some(error))` when it cannot be read.
    fn open_next(&mut self) -> Option<Option<Unit>> {
        {
            match self.pending.pop_front()? {
                Pending::Error(r) => return Some(Some(Unit::Ready(r))),
                Pending::File(path, label) => self.current = Some(open_file(&path, label, self.format)),
                Pending::Arg(path) if path.as_os_str() == "-" => {
                    self.current = Some(unknown(
                        Box::new(BufReader::with_capacity(READ_BUFFER, io::stdin())),
                        "<stdin>".into(),
                        self.format,
                    ));
                }
                Pending::Arg(path) => {
                    let label = path.to_string_lossy().into_owned();
                    match fs::metadata(&path) {
                        Err(e) => return Some(Some(Unit::Ready(failed(&label, format!("cannot read {label}: {e}"))))),
                        Ok(m) if m.is_dir() => {
                            for p in walk(&path, &label).into_iter().rev() {
                                self.pending.push_front(p);
                            }
                        }
                        Ok(_) => self.current = Some(open_file(&path, label, self.format)),
                    }
                }
            }
        }
        Some(None)
    }
}

/// The documents in files, directories (recursively: `.yaml`, `.yml`,
/// `.json`, `.jsonl` files, sorted) and stdin (`-`), read lazily in order.
/// Unreadable files and broken documents are error records; reading goes on.
pub fn read_inputs(paths: Vec<PathBuf>) -> impl Iterator<Item = InputRecord> + Send {
    read_units(paths).map(Unit::parse)
}

/// Like [`read_inputs`], but each document is left unparsed until
/// [`Unit::parse`]: the reading is cheap, the parsing can be parallel.
pub fn read_units(paths: Vec<PathBuf>) -> impl Iterator<Item = Unit> + Send + 'static {
    read_units_as(paths, InputFormat::Auto)
}

/// [`read_units`], reading stdin and files without a known extension as `format`.
pub fn read_units_as(paths: Vec<PathBuf>, format: InputFormat) -> impl Iterator<Item = Unit> + Send + 'static {
    Inputs {
        pending: paths.into_iter().map(Pending::Arg).collect(),
        current: None,
        format,
    }
}

/// [`read_units_as`] in groups of at most `n` documents and about `max_bytes`
/// (at least one document): JSON Lines records are read straight into the
/// group's buffer.
pub fn read_groups_as(
    paths: Vec<PathBuf>,
    format: InputFormat,
    n: usize,
    max_bytes: usize,
) -> impl Iterator<Item = Group> + Send + 'static {
    let mut inputs = Inputs {
        pending: paths.into_iter().map(Pending::Arg).collect(),
        current: None,
        format,
    };
    let mut hint = 0usize;
    std::iter::from_fn(move || {
        let g = inputs.next_group(n.max(1), max_bytes, hint);
        hint = g.text.len().max(hint / 2);
        (!g.is_empty()).then_some(g)
    })
}

impl Inputs {
    /// The next group of documents (empty at the end), its buffer made with
    /// room for `hint` bytes and a little more.
    fn next_group(&mut self, n: usize, max_bytes: usize, hint: usize) -> Group {
        let mut g = Group::with_capacity(hint + hint / 8, n);
        while g.items.len() < n && g.size < max_bytes {
            match &mut self.current {
                Some(Source::Lines(l)) if l.pre.is_empty() && !l.done => l.fill(&mut g, n, max_bytes),
                Some(src) => match src.next() {
                    Some(u) => g.push_unit(u),
                    None => self.current = None,
                },
                None => match self.open_next() {
                    None => break,
                    Some(Some(u)) => g.push_unit(u),
                    Some(None) => {}
                },
            }
        }
        g
    }
}

/// [`read_inputs`], reading stdin and files without a known extension as `format`.
pub fn read_inputs_as(paths: Vec<PathBuf>, format: InputFormat) -> impl Iterator<Item = InputRecord> + Send {
    read_units_as(paths, format).map(Unit::parse)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    fn yaml(text: &str) -> Vec<InputRecord> {
        YamlDocs::new(text.into(), "a.yaml".into()).map(Unit::parse).collect()
    }

    #[test]
    fn yaml_documents_are_read_separately() {
        let text = "# batch\n---\nid: one\n---\n\nid: [broken\n--- # third\n# note\nid: three\n...\n---\n# empty\n--- {id: five}\n";
        let recs = yaml(text);
        let sources: Vec<_> = recs.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(sources, ["a.yaml:3", "a.yaml:6", "a.yaml:9", "a.yaml:13"]);
        assert_eq!(recs[0].id.as_deref(), Some("one"));
        let err = recs[1].value.as_ref().unwrap_err();
        assert!(err.starts_with("invalid YAML: "), "{err}");
        assert!(err.contains("line 7 column"), "line numbers are the file's: {err}");
        assert_eq!(recs[2].id.as_deref(), Some("three"));
        assert_eq!(recs[3].value, Ok(json!({"id": "five"})));
        assert!(yaml("# nothing\n---\n\n...\n").is_empty());
    }

    #[test]
    fn yaml_uses_the_core_schema() {
        let recs = yaml("a: NO\nb: yes\nc: 2030-01-01\nd: 0.37\ne: 1e400\nf: .inf\ng: 013\nh: ~\n");
        let v = json!({"a": "NO", "b": "yes", "c": "2030-01-01", "d": 0.37, "e": "1e400", "f": ".inf", "g": "013", "h": null});
        assert_eq!(recs[0].value, Ok(v));
        let dup = &yaml("id: a\nid: b\n")[0];
        assert!(
            dup.value.as_ref().unwrap_err().contains("duplicate key `id`"),
            "{dup:?}"
        );
    }

    fn lines(text: &str) -> Vec<InputRecord> {
        JsonLines::new(Box::new(Cursor::new(text.as_bytes().to_vec())), "b.jsonl".into())
            .map(Unit::parse)
            .collect()
    }

    #[test]
    fn json_lines_skip_blanks_and_isolate_broken_lines() {
        let long = format!("{{\"id\": \"{}\"}}", "x".repeat(MAX_LINE));
        let text = format!("\u{feff}{{\"id\": \"a\"}}\r\n\n  \n{{\"id\": \"b\"\n{long}\n{{\"id\": 3}}");
        let recs = lines(&text);
        let sources: Vec<_> = recs.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(sources, ["b.jsonl:1", "b.jsonl:4", "b.jsonl:5", "b.jsonl:6"]);
        assert_eq!(recs[0].id.as_deref(), Some("a"));
        assert_eq!(
            recs[1].value,
            Err("invalid JSON: EOF while parsing an object at line 1 column 10".into())
        );
        assert_eq!(recs[2].value, Err("record larger than 1 MiB".into()));
        assert_eq!(recs[3].id.as_deref(), Some("3"));
        // A number is kept as written: 1e400 is no infinity, 1e-400 no zero.
        let big = json_record("x".into(), br#"{"deposited": 1e400, "entered": 1e-400}"#);
        let v = big.value.unwrap();
        let exact = |k: &str| v[k].as_number().map(|n| Decimal::parse(n.as_str()));
        assert_eq!(exact("deposited"), Some(Decimal::parse("1e400")));
        assert_eq!(exact("entered"), Some(Decimal::parse("1e-400")));
        assert_ne!(exact("entered"), Some(Ok(Decimal::ZERO)));
        let dup = json_record("x".into(), br#"{"id": 1, "id": 2}"#);
        assert!(dup.value.unwrap_err().contains("duplicate key `id`"));
    }

    fn sniffed(text: &str) -> Vec<InputRecord> {
        sniff(Box::new(Cursor::new(text.as_bytes().to_vec())), "<stdin>".into())
            .map(Unit::parse)
            .collect()
    }

    #[test]
    fn stdin_format_is_sniffed() {
        let jl = sniffed("\n{\"id\": 1}\n{\"id\": 2}\n{broken\n{\"id\": 4}\n");
        let ids: Vec<_> = jl.iter().map(|r| (r.source.as_str(), r.id.as_deref())).collect();
        assert_eq!(
            ids,
            [
                ("<stdin>:2", Some("1")),
                ("<stdin>:3", Some("2")),
                ("<stdin>:4", None),
                ("<stdin>:5", Some("4"))
            ]
        );
        let pretty = sniffed("\n{\n  \"id\": \"p\",\n  \"amount\": 0.1\n}\n");
        assert_eq!(pretty.len(), 1);
        assert_eq!(
            (pretty[0].source.as_str(), pretty[0].id.as_deref()),
            ("<stdin>:2", Some("p"))
        );
        let y = sniffed("id: y1\n---\nid: y2\n");
        assert_eq!(
            y.iter().map(|r| r.source.as_str()).collect::<Vec<_>>(),
            ["<stdin>:1", "<stdin>:3"]
        );
        let flow = sniffed("{id: f}\n");
        assert_eq!(flow[0].value, Ok(json!({"id": "f"})));
        assert!(sniffed("  \n\n").is_empty());
    }

    #[test]
    fn newlines_are_found_word_by_word() {
        // Bytes near `\n` in value, and the newline at every offset.
        let filler = [0x0b, 0x09, 0x8a, 0x00, 0x0a ^ 0x80, 0xff];
        for len in 0..40 {
            let mut b: Vec<u8> = (0..len).map(|i| filler[i % filler.len()]).collect();
            assert_eq!(newline(&b), None, "{len}");
            for at in 0..len {
                let saved = b[at];
                b[at] = b'\n';
                assert_eq!(newline(&b), Some(at), "{len} {at}");
                b[at] = saved;
            }
        }
    }

    #[test]
    fn line_shifting_and_bounded_lines() {
        assert_eq!(
            shift_lines("bad at line 2 column 3, x line 4 column 1", 10),
            "bad at line 12 column 3, x line 14 column 1"
        );
        assert_eq!(shift_lines("line 2", 10), "line 2");
        let mut r = Cursor::new(b"abcdef\nxy\r\n".to_vec());
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf, 3).unwrap(), Some(true));
        assert_eq!(read_line(&mut r, &mut buf, 3).unwrap(), Some(false));
        assert_eq!(buf, b"xy");
        assert_eq!(read_line(&mut r, &mut buf, 3).unwrap(), None);
    }

    #[test]
    fn a_line_source_is_label_colon_line_in_its_exact_size() {
        for (line, want) in [
            (1, "a.jsonl:1"),
            (9, "a.jsonl:9"),
            (10, "a.jsonl:10"),
            (1_000_000, "a.jsonl:1000000"),
        ] {
            let s = line_source("a.jsonl", line);
            assert_eq!(s, want);
            assert_eq!(s.capacity(), s.len());
        }
        assert_eq!(line_source("", 0), ":0");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod groups {
    use super::*;

    /// A directory of inputs of every kind, with the quirks of JSON Lines.
    fn corpus(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kycrules-groups-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut a = b"\xEF\xBB\xBF{\"id\":\"a1\"}\r\n\n   \n{\"id\":\"a2\"} \n{broken\n".to_vec();
        a.extend_from_slice(b"{\"id\":\"\xff\"}\n{\"id\":\"caf\xc3\xa9\"}\n");
        a.extend_from_slice(&[b'x'; MAX_LINE + 5]);
        a.extend_from_slice(b"\n{\"id\":\"a9\"}");
        fs::write(dir.join("a.jsonl"), &a).unwrap();
        let b: String = (1..=150).map(|i| format!("{{\"id\":\"b{i}\"}}\n")).collect();
        fs::write(dir.join("b.jsonl"), b).unwrap();
        fs::write(dir.join("c.yaml"), "id: c1\n---\nid: [broken\n").unwrap();
        fs::write(dir.join("d.json"), "[{\"id\":\"d1\"},{\"id\":\"d2\"}]").unwrap();
        fs::write(dir.join("e.jsonl"), b"\xEF\xBB\xBF\n").unwrap();
        fs::write(dir.join("f.jsonl"), "{\"id\":\"f1\"}\n").unwrap();
        dir
    }

    #[test]
    fn groups_hold_the_same_documents_as_units_in_the_same_order() {
        let dir = corpus("order");
        let want: Vec<Unit> = read_units(vec![dir.clone()]).collect();
        assert!(want.len() > 150, "{} documents", want.len());
        for (n, max_bytes) in [(1, usize::MAX), (3, usize::MAX), (64, usize::MAX), (64, 40), (64, 1)] {
            let groups: Vec<Group> = read_groups_as(vec![dir.clone()], InputFormat::Auto, n, max_bytes).collect();
            assert!(groups.iter().all(|g| !g.is_empty() && g.len() <= n), "n = {n}");
            let sizes: usize = groups.iter().map(Group::size).sum();
            assert_eq!(sizes, want.iter().map(Unit::size).sum::<usize>());
            let got: Vec<Unit> = groups.into_iter().flat_map(Group::into_units).collect();
            assert_eq!(got, want, "groups of {n}, {max_bytes} bytes");
        }
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_group_hands_over_text_bytes_and_places() {
        let dir = corpus("places");
        let a = dir.join("a.jsonl");
        let group = read_groups_as(vec![a], InputFormat::Auto, 64, usize::MAX)
            .next()
            .unwrap();
        let mut seen = Vec::new();
        group.each(|d| match d {
            GroupDoc::Line { text, at } => seen.push(format!("{at} {text:?}")),
            GroupDoc::Unit(u) => seen.push(format!("unit {}", u.source())),
        });
        let label = dir.join("a.jsonl").to_string_lossy().into_owned();
        let want = [
            format!("{label}:1 Ok(\"{{\\\"id\\\":\\\"a1\\\"}}\")"),
            format!("{label}:4 Ok(\"{{\\\"id\\\":\\\"a2\\\"}} \")"),
            format!("{label}:5 Ok(\"{{broken\")"),
            format!("{label}:6 Err([123, 34, 105, 100, 34, 58, 34, 255, 34, 125])"),
            format!("{label}:7 Ok(\"{{\\\"id\\\":\\\"café\\\"}}\")"),
            format!("unit {label}:8"),
            format!("{label}:9 Ok(\"{{\\\"id\\\":\\\"a9\\\"}}\")"),
        ];
        assert_eq!(seen, want);
        let _ = fs::remove_dir_all(&dir);
    }
}
