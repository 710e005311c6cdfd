//! From a unit of input to a record the evaluator takes: the one place every
//! front (the command line, the service, the Python package) reads a record,
//! so that they decide alike.

use crate::date::Date;
use crate::input::{self, InputRecord, Unit};
use crate::ir::RuleSet;
use crate::record::Record;

/// A record as read: its source, its `id` label, the record or why it could
/// not be read or converted, and the date it is judged as of.
pub struct Converted {
    pub source: String,
    pub id: Option<String>,
    pub record: Result<Record, String>,
    /// The run's date, or the record's own when the policy declares `as_of`.
    pub as_of: Date,
}

/// Reads one unit into a record. JSON Lines records take the direct path (no
/// `serde_json::Value` tree) unless the policy dates records by a field of
/// their own; anything the direct path declines takes the general one.
pub fn to_record(rs: &RuleSet, unit: Unit, as_of: Date) -> Converted {
    match unit {
        Unit::Json { source, bytes } => {
            let line = line_to_record(rs, std::str::from_utf8(&bytes).map_err(|_| &bytes[..]), as_of);
            Converted {
                source,
                id: line.id().map(str::to_owned),
                record: line.record,
                as_of: line.as_of,
            }
        }
        other => general(rs, other.parse(), as_of),
    }
}

/// A JSON Lines record as read, without its source (the caller knows where
/// the line is, and writes it only where it is shown).
pub struct LineRecord {
    /// The `id` label: see [`LineRecord::id`].
    id: LineId,
    pub record: Result<Record, String>,
    pub as_of: Date,
}

/// Where a [`LineRecord`]'s `id` label is: none, its own text (the general
/// path's), or a text field of the record (the direct path's, not copied).
enum LineId {
    None,
    Owned(String),
    Slot(usize),
}

impl LineRecord {
    /// The root's `id` label (see [`input::record_id`]).
    pub fn id(&self) -> Option<&str> {
        match (&self.id, &self.record) {
            (LineId::Owned(s), _) => Some(s),
            (LineId::Slot(i), Ok(r)) => match r.fields.get(*i) {
                Some(crate::record::Field::Text(t)) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Reads one JSON Lines record — its text, or its bytes when they are not
/// UTF-8 — as [`to_record`] reads a [`Unit::Json`].
pub fn line_to_record(rs: &RuleSet, text: Result<&str, &[u8]>, as_of: Date) -> LineRecord {
    if rs.as_of.is_none()
        && let Ok(t) = text
        && let Some((slot, record)) = crate::direct::json_str_record_at(t, &rs.schema, &rs.tables, as_of)
    {
        return LineRecord {
            id: slot.map_or(LineId::None, LineId::Slot),
            record: Ok(record),
            as_of,
        };
    }
    let bytes = text.map_or_else(|b| b, str::as_bytes);
    let Converted { id, record, as_of, .. } = general(rs, input::json_record(String::new(), bytes), as_of);
    LineRecord {
        id: id.map_or(LineId::None, LineId::Owned),
        record,
        as_of,
    }
}

fn general(rs: &RuleSet, rec: InputRecord, run_date: Date) -> Converted {
    let InputRecord { source, id, value } = rec;
    let as_of = match &value {
        Ok(v) => input::record_date(rs.as_of.as_ref(), v, run_date),
        Err(_) => run_date,
    };
    let record = value.and_then(|v| input::convert(&v, &rs.schema, &rs.tables, as_of));
    Converted {
        source,
        id,
        record,
        as_of,
    }
}
