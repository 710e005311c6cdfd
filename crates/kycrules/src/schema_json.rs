//! A policy's application schema as JSON Schema (draft 2020-12), for platform
//! teams that validate applications or generate forms from the policy.
//!
//! The schema says what [`input::convert`](crate::input::convert) accepts:
//! every declared field with its type, required unless optional or given a
//! default (an optional field may also be `null`, which reads as absent), and
//! no undeclared field. A `bank` is any text (the policy resolves codes, names
//! and aliases, and judges unknown banks itself); the declared codes are given
//! as `examples`. What the schema cannot say — a decimal's precision, a date
//! that does not exist such as `2026-02-30` — the engine still reports as an
//! input error.

use crate::ir::{RuleSet, Schema, Type};
use serde_json::{Map, Value, json};

/// The JSON Schema dialect written.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The application schema of a compiled policy.
pub fn application_schema(rs: &RuleSet) -> Value {
    let codes: Vec<Vec<Value>> = rs
        .tables
        .iter()
        .map(|t| t.list.iter().map(|b| Value::String(b.code.clone())).collect())
        .collect();
    let w = Writer {
        schema: &rs.schema,
        bank_codes: codes,
    };
    let mut root = Map::new();
    root.insert("$schema".into(), DIALECT.into());
    root.insert(
        "title".into(),
        format!("An application to the policy {} {}", rs.name, rs.version).into(),
    );
    if let Value::Object(body) = w.record(0) {
        root.extend(body);
    }
    Value::Object(root)
}

struct Writer<'a> {
    schema: &'a Schema,
    /// Per table, its entries' codes.
    bank_codes: Vec<Vec<Value>>,
}

impl Writer<'_> {
    fn record(&self, r: u32) -> Value {
        let Some(rs) = self.schema.records.get(r as usize) else {
            return json!({ "type": "object" });
        };
        let mut properties = Map::new();
        let mut required = Vec::new();
        for f in &rs.fields {
            let mut ty = self.ty(&f.ty);
            if f.optional || f.default.is_some() {
                ty = json!({ "anyOf": [ty, { "type": "null" }] });
            } else {
                required.push(Value::String(f.name.clone()));
            }
            if f.sensitive
                && let Value::Object(m) = &mut ty
            {
                m.insert(
                    "description".into(),
                    "sensitive: masked to its last four characters in reports".into(),
                );
            }
            properties.insert(f.name.clone(), ty);
        }
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    fn ty(&self, ty: &Type) -> Value {
        match ty {
            Type::Text => json!({ "type": "string" }),
            Type::Bool => json!({ "type": "boolean" }),
            Type::Number => json!({
                "type": ["number", "string"],
                "description": "an exact decimal; as a string it keeps every digit typed"
            }),
            Type::Date => json!({
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "format": "date"
            }),
            Type::Entry(t) => {
                let name = self.schema.tables.get(*t as usize).map_or("", String::as_str);
                json!({
                    "type": "string",
                    "description": format!("a {name}'s code, name or alias"),
                    "examples": self.bank_codes.get(*t as usize).cloned().unwrap_or_default(),
                })
            }
            Type::Enum(e) => {
                let values = self.schema.enums.get(*e as usize).cloned().unwrap_or_default();
                json!({ "enum": values })
            }
            Type::List(t) => json!({ "type": "array", "items": self.ty(t) }),
            Type::Record(r) => self.record(*r),
        }
    }
}
