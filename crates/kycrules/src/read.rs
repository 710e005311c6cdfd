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
        Unit::Json { source, bytes } if rs.as_of.is_none() => {
            match crate::direct::json_record(&bytes, &rs.schema, &rs.tables, as_of) {
                Some((id, record)) => Converted {
                    source,
                    id,
                    record: Ok(record),
                    as_of,
                },
                None => general(rs, input::json_record(source, &bytes), as_of),
            }
        }
        Unit::Json { source, bytes } => general(rs, input::json_record(source, &bytes), as_of),
        other => general(rs, other.parse(), as_of),
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
