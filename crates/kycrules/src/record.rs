//! An application as the evaluator sees it: values in schema slots.

use crate::date::Date;
use crate::decimal::Decimal;

/// One field's value. Records and lists nest; a record's fields sit in the
/// order its schema declares them, so a field path is a list of slot indices.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Absent,
    Bool(bool),
    Text(String),
    Num(Decimal),
    Date(Date),
    /// An enum value: its index among the enum's values.
    Enum(u32),
    /// An entry of a table, as typed.
    Entry(EntryValue),
    Record(Box<[Field]>),
    List(Vec<Field>),
}

/// A table entry (a bank, a region) as typed, and the declared entry it
/// resolved to (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryValue {
    /// The table, by index into [`RuleSet::tables`](crate::ir::RuleSet::tables).
    pub table: u32,
    pub id: Option<u32>,
    pub typed: Box<str>,
}

/// One application: the root record's slots.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub fields: Box<[Field]>,
}

thread_local! {
    /// The last record given back on this thread ([`Record::recycle`]).
    static SPARE: std::cell::Cell<Option<Record>> = const { std::cell::Cell::new(None) };
}

impl Record {
    /// Gives the record back when it has been evaluated: the next record read
    /// on this thread by [`direct`](crate::direct) is read into it in place,
    /// its slots, nested records, lists and texts overwritten rather than
    /// allocated anew. Dropping a record instead is always correct, only
    /// slower.
    pub fn recycle(self) {
        SPARE.with(|s| s.set(Some(self)));
    }

    /// The record last given back on this thread, if any.
    pub(crate) fn spare() -> Option<Record> {
        SPARE.with(std::cell::Cell::take)
    }
}
