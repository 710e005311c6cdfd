//! JSON straight into a [`Record`]: a schema-driven scanner over the text
//! that skips the `serde_json::Value` tree [`input::convert`](crate::input::convert)
//! works on, and serde's visitor machinery. It handles the records that
//! convert cleanly; on anything else (an error of any kind, or a shape it does
//! not take on: a number with an exponent, an object where a number is
//! expected) it gives up, and the caller takes the general path, which owns
//! every error message. So the two paths agree by construction: same record,
//! or the general path's error.

use crate::date::Date;
use crate::decimal::Decimal;
use crate::input::MAX_DEPTH;
use crate::ir::{RecordSchema, Schema, Table, Type, entry_value};
use crate::record::{Field, Record};

/// The record a JSON document converts to, with its `id` label (see
/// [`record_id`](crate::input::record_id)); `None` when the general path must decide.
pub fn json_record(bytes: &[u8], schema: &Schema, tables: &[Table], as_of: Date) -> Option<(Option<String>, Record)> {
    // Validating the text once spares the parser a check of every string.
    json_str_record(std::str::from_utf8(bytes).ok()?, schema, tables, as_of)
}

/// [`json_record`] of text known to be UTF-8 (a group's buffer is checked once).
pub fn json_str_record(text: &str, schema: &Schema, tables: &[Table], as_of: Date) -> Option<(Option<String>, Record)> {
    let (slot, record) = json_str_record_at(text, schema, tables, as_of)?;
    let id = match slot.and_then(|i| record.fields.get(i)) {
        Some(Field::Text(t)) => Some(t.to_string()),
        _ => None,
    };
    Some((id, record))
}

/// [`json_str_record`] with the `id` label left in the record: the slot of
/// the root's `id` when the document gave it as text (a [`Field::Text`]).
pub fn json_str_record_at(
    text: &str,
    schema: &Schema,
    tables: &[Table],
    as_of: Date,
) -> Option<(Option<usize>, Record)> {
    let ctx = Ctx { schema, tables, as_of };
    let mut s = Scan { text, at: 0 };
    s.ws();
    // Read into the record last given back on this thread, if any.
    let mut fields = Record::spare().map(|r| r.fields).unwrap_or_default();
    let seen = s.record(&ctx, 0, 1, &mut fields)?;
    s.ws();
    if s.at != text.len() {
        return None; // trailing text
    }
    let root = schema.records.first()?;
    // The label is the `id` as typed (never its default, which the general
    // path does not see either); only a text `id` is taken here.
    let id = match root.slot("id").map(|i| (i, &root.fields[i].ty, fields.get(i))) {
        None => return None,
        Some((i, ..)) if seen & (1 << i) == 0 => None,
        Some((_, _, Some(Field::Absent) | None)) => None,
        Some((i, Type::Text, Some(Field::Text(_)))) => Some(i),
        Some(_) => return None,
    };
    Some((id, Record { fields }))
}

struct Ctx<'a> {
    schema: &'a Schema,
    tables: &'a [Table],
    as_of: Date,
}

/// A cursor over a JSON document's text. Every method returns `None` where
/// the document is not JSON, or not of the shape the schema asks for: the
/// caller then gives up on the whole document.
struct Scan<'t> {
    text: &'t str,
    at: usize,
}

/// A JSON string: borrowed from the document, or decoded (it had escapes).
enum Str<'t> {
    Plain(&'t str),
    Decoded(String),
}

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Str::Plain(s) => s,
            Str::Decoded(s) => s,
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A bit set at the high bit of each of the eight bytes of `w` that is a
/// quote, a backslash or a control character (below 0x20): those end a run
/// of plain string text. Exact for the lowest such byte (bits above it may be
/// set falsely), so `trailing_zeros() / 8` is its index.
fn special(w: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
}

impl<'t> Scan<'t> {
    fn bytes(&self) -> &'t [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Whitespace, then `c`.
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(c)).then(|| self.at += 1)
    }

    /// The literal `word` (`true`, `false`, `null`) at the cursor.
    fn word(&mut self, word: &str) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// The end of the run of plain string bytes from `i`: the first quote,
    /// backslash or control character, eight bytes at a time (a short string
    /// ends within its first word: no byte-by-byte loop).
    fn plain_end(&self, mut i: usize) -> usize {
        let b = self.bytes();
        while let Some(chunk) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or([0; 8]));
            let m = special(w);
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        // The last few bytes of the text, one at a time.
        while let Some(&c) = b.get(i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            i += 1;
        }
        i
    }

    /// A string, the cursor at its opening quote.
    fn string(&mut self) -> Option<Str<'t>> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.at + 1;
        let end = self.plain_end(start);
        match self.bytes().get(end) {
            Some(b'"') => {
                self.at = end + 1;
                Some(Str::Plain(self.text.get(start..end)?))
            }
            Some(b'\\') => {
                let mut out = String::with_capacity(end - start + 16);
                out.push_str(self.text.get(start..end)?);
                self.at = end;
                self.escaped(out).map(Str::Decoded)
            }
            _ => None, // a control character, or the end of the text
        }
    }

    /// The rest of a string that has escapes, from the cursor (at a backslash).
    fn escaped(&mut self, mut out: String) -> Option<String> {
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => {
                    let c = self.bytes().get(self.at + 1).copied()?;
                    self.at += 2;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode()?),
                        _ => return None,
                    }
                }
                _ => {
                    let end = self.plain_end(self.at);
                    if end == self.at {
                        return None; // a control character
                    }
                    out.push_str(self.text.get(self.at..end)?);
                    self.at = end;
                }
            }
        }
    }

    /// The character of a `\u` escape (the cursor after the `u`): a
    /// surrogate pair as one character; a lone surrogate gives up.
    fn unicode(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.bytes().get(self.at..self.at + 2)? != b"\\u" {
                    return None;
                }
                self.at += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return None;
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return None,
            _ => hi,
        };
        char::from_u32(code)
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    /// A number's text as written: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`. A number
    /// with an exponent gives up (serde_json rewrites its text).
    fn number(&mut self) -> Option<&'t str> {
        let b = self.bytes();
        let start = self.at;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            if end == i + 1 {
                return None;
            }
            i = end;
        }
        if matches!(b.get(i), Some(b'e' | b'E') | Some(b'0'..=b'9')) {
            return None;
        }
        self.at = i;
        self.text.get(start..i)
    }

    /// After an item of an object or array: a `,` (another item follows:
    /// `false`) or its `close` (the end: `true`).
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = self.peek()?;
        if c != b',' && c != close {
            return None;
        }
        self.at += 1;
        Some(c == close)
    }

    /// A record of schema record `r`, read into `out` (whose slots and their
    /// allocations are reused when it has as many as the record has fields):
    /// a bit per slot the document gave a value (not null).
    fn record(&mut self, ctx: &Ctx<'_>, r: u32, depth: usize, out: &mut Box<[Field]>) -> Option<u64> {
        if depth > MAX_DEPTH {
            return None;
        }
        let rs = ctx.schema.records.get(r as usize)?;
        if rs.fields.len() > 64 {
            return None; // more fields than `seen` has bits
        }
        self.eat(b'{')?;
        if out.len() != rs.fields.len() {
            // Not `vec![Field::Absent; n]`, which clones its element n times.
            *out = std::iter::repeat_with(|| Field::Absent).take(rs.fields.len()).collect();
        }
        let mut seen = 0u64;
        let mut written = 0u64;
        let mut next = 0;
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                self.ws();
                let i = key_slot(rs, next, &self.string()?)?;
                next = i + 1;
                let (slot, f) = (out.get_mut(i)?, rs.fields.get(i)?);
                if seen & (1 << i) != 0 {
                    return None; // a duplicate key
                }
                seen |= 1 << i;
                self.eat(b':')?;
                self.value(ctx, &f.ty, depth, slot)?;
                if !matches!(slot, Field::Absent) {
                    written |= 1 << i;
                }
                if self.separator(b'}')? {
                    break;
                }
            }
        }
        // Absent (not given, or null) fields take their default, or are missing.
        for (i, (slot, f)) in out.iter_mut().zip(&rs.fields).enumerate() {
            if written & (1 << i) == 0 {
                match &f.default {
                    Some(d) => *slot = d.clone(),
                    None if f.optional => *slot = Field::Absent,
                    None => return None,
                }
            }
        }
        Some(written)
    }

    /// A value of type `ty` in a record at `depth`, read into `slot` (reusing
    /// what it holds where the kinds match); `null` is [`Field::Absent`].
    fn value(&mut self, ctx: &Ctx<'_>, ty: &Type, depth: usize, slot: &mut Field) -> Option<()> {
        self.ws();
        match (self.peek()?, ty) {
            (b'n', _) => {
                self.word("null")?;
                *slot = Field::Absent;
            }
            (b't', Type::Bool) => {
                self.word("true")?;
                *slot = Field::Bool(true);
            }
            (b'f', Type::Bool) => {
                self.word("false")?;
                *slot = Field::Bool(false);
            }
            (b'"', Type::Text) => match (self.string()?, slot) {
                (Str::Plain(p), Field::Text(t)) => {
                    t.clear();
                    t.push_str(p);
                }
                (Str::Plain(p), slot) => *slot = Field::Text(p.to_owned()),
                (Str::Decoded(d), slot) => *slot = Field::Text(d),
            },
            (b'"', _) => {
                let s = self.string()?;
                *slot = text_value(ctx, ty, s)?;
            }
            (b'-' | b'0'..=b'9', Type::Number) => *slot = Field::Num(number_value(self.number()?)?),
            (b'{', Type::Record(r)) => {
                if !matches!(slot, Field::Record(_)) {
                    *slot = Field::Record(Box::default());
                }
                let Field::Record(fields) = slot else { return None };
                self.record(ctx, *r, depth + 1, fields)?;
            }
            (b'[', Type::List(t)) => {
                let depth = depth + 1;
                if depth > MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                if !matches!(slot, Field::List(_)) {
                    *slot = Field::List(Vec::new());
                }
                let Field::List(items) = slot else { return None };
                let mut n = 0;
                self.ws();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        if n == items.len() {
                            items.push(Field::Absent);
                        }
                        let item = items.get_mut(n)?;
                        self.value(ctx, t, depth, item)?;
                        if matches!(item, Field::Absent) {
                            return None; // a list item may not be null
                        }
                        n += 1;
                        if self.separator(b']')? {
                            break;
                        }
                    }
                }
                items.truncate(n);
            }
            _ => return None,
        }
        Some(())
    }
}

/// The slot of a record's key; an unknown key gives up. `next` is the slot
/// after the previous key's, tried first: documents mostly list their keys in
/// the schema's order.
fn key_slot(rs: &RecordSchema, next: usize, key: &str) -> Option<usize> {
    if rs.fields.get(next).is_some_and(|f| f.name == key) {
        return Some(next);
    }
    rs.slot(key)
}

/// A number's value from its text, as serde_json hands it over: a negative
/// whole number that fits 64 bits as an integer, anything else as its text.
fn number_value(text: &str) -> Option<Decimal> {
    if text.starts_with('-')
        && text != "-0"
        && !text.contains('.')
        && let Ok(v) = text.parse::<i64>()
    {
        return Some(Decimal::from_i64(v));
    }
    Decimal::parse(text).ok()
}

/// A string value of type `ty`.
fn text_value(ctx: &Ctx<'_>, ty: &Type, s: Str<'_>) -> Option<Field> {
    match ty {
        Type::Text => Some(Field::Text(match s {
            Str::Plain(p) => p.to_owned(),
            Str::Decoded(d) => d,
        })),
        Type::Number => Decimal::parse(&s).ok().map(Field::Num),
        Type::Date => Date::parse(&s).map(Field::Date),
        Type::Entry(t) => Some(entry_value(ctx.tables, *t, &s, ctx.as_of)),
        Type::Enum(e) => ctx
            .schema
            .enums
            .get(*e as usize)
            .and_then(|values| values.iter().position(|x| *x == *s))
            .and_then(|i| u32::try_from(i).ok())
            .map(Field::Enum),
        Type::List(_) | Type::Record(_) | Type::Bool => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod scan {
    use super::*;

    fn string(json: &str) -> Option<String> {
        let mut s = Scan { text: json, at: 0 };
        let out = s.string().map(|s| s.to_string());
        out.filter(|_| s.at == json.len())
    }

    #[test]
    fn strings_decode_as_serde_json_does() {
        for json in [
            r#""""#,
            r#""plain text, longer than eight bytes""#,
            r#""tab\there""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""\u00e9\u4e2d and a pair \ud83d\ude00 end""#,
            "\"中文 and é, no escapes at all\"",
            r#""\u0041\u0000""#,
        ] {
            let want: String = serde_json::from_str(json).unwrap();
            assert_eq!(string(json).as_deref(), Some(want.as_str()), "{json}");
        }
    }

    #[test]
    fn a_run_of_plain_text_ends_at_the_first_special_byte_wherever_it_is() {
        let specials = [b'"', b'\\', 0x00, 0x01, 0x1f];
        let plain = [b'a', b' ', 0x7f, b'!', b'#', b'[', b']', b'~'];
        for len in 0..24 {
            for at in 0..=len {
                for (k, &sp) in specials.iter().enumerate() {
                    // Plain bytes (ASCII), one special byte at `at`, more after it.
                    let mut b: Vec<u8> = (0..len).map(|i| plain[(i + k) % plain.len()]).collect();
                    if at < len {
                        b[at] = sp;
                        if at + 1 < len {
                            b[at + 1] = specials[(k + 1) % specials.len()];
                        }
                    }
                    let text = String::from_utf8(b).unwrap();
                    for from in 0..=at {
                        let s = Scan { text: &text, at: 0 };
                        assert_eq!(s.plain_end(from), at, "{text:?} from {from}");
                    }
                }
            }
        }
        // Multi-byte characters are plain text.
        let text = "中文é😀\"x";
        assert_eq!(Scan { text, at: 0 }.plain_end(0), text.find('"').unwrap());
    }

    #[test]
    fn broken_strings_give_up() {
        for json in [
            "\"unterminated",
            "\"a control \u{1} character\"",
            "\"a raw\ttab\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""lone \ud83d""#,
            r#""lone \ude00""#,
            r#""\ud83d\u0041""#,
            "\"escape at the end \\",
        ] {
            assert!(serde_json::from_str::<String>(json).is_err(), "{json}");
            assert_eq!(string(json), None, "{json}");
        }
    }

    #[test]
    fn numbers_are_taken_as_written_or_not_at_all() {
        let number = |t: &str| {
            let mut s = Scan { text: t, at: 0 };
            s.number().map(str::to_owned).filter(|_| s.at == t.len())
        };
        for t in ["0", "-0", "12", "-12.50", "0.001", "123456789012345678901234567890"] {
            assert_eq!(number(t).as_deref(), Some(t));
        }
        for t in ["01", "-", "1.", ".5", "1e5", "1E+2", "+1", "--1", "0x1"] {
            assert_eq!(number(t), None, "{t}");
        }
    }
}
