//! JSON straight into a [`Record`]: a schema-driven `DeserializeSeed` that
//! skips the `serde_json::Value` tree [`input::convert`](crate::input::convert)
//! works on. It handles the records that convert cleanly; on anything else
//! (an error of any kind, or a shape it does not take on) it gives up, and
//! the caller takes the general path, which owns every error message. So the
//! two paths agree by construction: same record, or the general path's error.

use crate::date::Date;
use crate::decimal::Decimal;
use crate::input::{JSON_NUMBER, MAX_DEPTH};
use crate::ir::{RecordSchema, Schema, Table, Type, entry_value};
use crate::record::{Field, Record};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

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
    let mut de = serde_json::Deserializer::from_str(text);
    let (fields, seen) = RecordSeed {
        ctx: &ctx,
        r: 0,
        depth: 1,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
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

/// Gives up: the message is never shown.
fn bail<E: de::Error>() -> E {
    E::custom("")
}

struct RecordSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
    r: u32,
    depth: usize,
}

/// The fields, and a bit per slot the document gave a value (not null).
impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = (Box<[Field]>, u64);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = (Box<[Field]>, u64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(bail());
        }
        let rs = self.ctx.schema.records.get(self.r as usize).ok_or_else(bail)?;
        if rs.fields.len() > 64 {
            return Err(bail()); // more fields than `seen` has bits
        }
        let mut out = vec![Field::Absent; rs.fields.len()];
        let mut seen = 0u64;
        let mut next = 0;
        while let Some(i) = map.next_key_seed(KeySeed { rs, next })? {
            next = i + 1;
            let (Some(slot), Some(f)) = (out.get_mut(i), rs.fields.get(i)) else {
                return Err(bail());
            };
            if seen & (1 << i) != 0 {
                return Err(bail()); // a duplicate key
            }
            seen |= 1 << i;
            *slot = map.next_value_seed(ValueSeed {
                ctx: self.ctx,
                ty: &f.ty,
                depth: self.depth,
            })?;
        }
        // The fields written with a value (not null), before defaults.
        let written = out
            .iter()
            .enumerate()
            .filter(|(_, f)| !matches!(f, Field::Absent))
            .fold(0u64, |m, (i, _)| m | (1 << i));
        // Absent (or null) fields take their default, or are missing.
        for (slot, f) in out.iter_mut().zip(&rs.fields) {
            if matches!(slot, Field::Absent) {
                match &f.default {
                    Some(d) => *slot = d.clone(),
                    None if f.optional => {}
                    None => return Err(bail()),
                }
            }
        }
        Ok((out.into_boxed_slice(), written))
    }
}

/// A key of a record: its slot; an unknown key gives up. `next` is the slot
/// after the previous key's, tried first: documents mostly list their keys in
/// the schema's order.
struct KeySeed<'s> {
    rs: &'s RecordSchema,
    next: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        if self.rs.fields.get(self.next).is_some_and(|f| f.name == v) {
            return Ok(self.next);
        }
        self.rs.slot(v).ok_or_else(bail)
    }
}

/// A value of a schema type; `null` is [`Field::Absent`].
struct ValueSeed<'c, 'a> {
    ctx: &'c Ctx<'a>,
    ty: &'c Type,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_any(self)
    }
}

impl ValueSeed<'_, '_> {
    fn number<E: de::Error>(&self, n: Result<Decimal, impl Sized>) -> Result<Field, E> {
        match (self.ty, n) {
            (Type::Number, Ok(n)) => Ok(Field::Num(n)),
            _ => Err(bail()),
        }
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        Ok(Field::Absent)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field, E> {
        match self.ty {
            Type::Bool => Ok(Field::Bool(v)),
            _ => Err(bail()),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
        self.number(Ok::<_, ()>(Decimal::from_i64(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
        self.number(Decimal::parse(&v.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Field, E> {
        let ctx = self.ctx;
        match self.ty {
            Type::Text => Ok(Field::Text(s.into())),
            Type::Number => Decimal::parse(s).map(Field::Num).map_err(|_| bail()),
            Type::Date => Date::parse(s).map(Field::Date).ok_or_else(bail),
            Type::Entry(t) => Ok(entry_value(ctx.tables, *t, s, ctx.as_of)),
            Type::Enum(e) => ctx
                .schema
                .enums
                .get(*e as usize)
                .and_then(|values| values.iter().position(|x| x == s))
                .and_then(|i| u32::try_from(i).ok())
                .map(Field::Enum)
                .ok_or_else(bail),
            Type::List(_) | Type::Record(_) | Type::Bool => Err(bail()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        let Type::List(t) = self.ty else {
            return Err(bail());
        };
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(bail());
        }
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        let item = || ValueSeed {
            ctx: self.ctx,
            ty: t,
            depth,
        };
        while let Some(v) = seq.next_element_seed(item())? {
            if v == Field::Absent {
                return Err(bail()); // a list item may not be null
            }
            out.push(v);
        }
        Ok(Field::List(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        match self.ty {
            Type::Record(r) => RecordSeed {
                ctx: self.ctx,
                r: *r,
                depth: self.depth + 1,
            }
            .visit_map(map)
            .map(|(fields, _)| Field::Record(fields)),
            // serde_json hands a number over as its text (`arbitrary_precision`):
            // read exactly, never through `f64`.
            Type::Number => match map.next_key::<&str>()? {
                Some(JSON_NUMBER) => {
                    let text: String = map.next_value()?;
                    self.number(Decimal::parse(&text))
                }
                _ => Err(bail()),
            },
            _ => Err(bail()),
        }
    }
}
