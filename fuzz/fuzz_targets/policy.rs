//! Parse and compile arbitrary text as a one-file policy, then render every
//! diagnostic as a person and as a machine would see it; lint the policy,
//! and when it compiles, explain two applications with it (every field
//! absent, and every field given a value of its type, lists of one item) —
//! the linter and the explainer follow `let`s, so a policy that reuses them
//! is their worst case.
#![no_main]

use kycrules::record::{Field, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // A NUL starts another file: a policy is several files compiled together.
    let mut sources = kycrules::source::SourceMap::default();
    for (i, part) in text.split('\0').take(4).enumerate() {
        sources.add(format!("fuzz{i}.rules"), part);
    }
    let compiled = kycrules::policy::build(&sources);
    let _ = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
    for d in &compiled.diagnostics {
        let _ = kycrules::diag::to_json(d, &sources);
    }
    let linted = kycrules::lint::lint_policy(&sources);
    let _ = kycrules::diag::render_human(&linted, &sources, false);
    let Some(rs) = compiled.ruleset else { return };
    let Some(as_of) = kycrules::date::Date::parse("2026-11-27") else { return };
    let Some(root) = rs.schema.records.first() else { return };
    let absent = Record {
        fields: vec![Field::Absent; root.fields.len()].into(),
    };
    let texts = Record {
        fields: root.fields.iter().map(|f| value(&rs.schema, &f.ty, as_of, 0)).collect(),
    };
    for record in [absent, texts] {
        for show_pii in [false, true] {
            let opts = kycrules::explain::Options {
                eval: kycrules::eval::Options {
                    lang: rs.language("en"),
                    as_of,
                },
                show_pii,
            };
            let ex = kycrules::explain::explain(&rs, &record, Some("fuzz"), "fuzz:1", opts);
            let _ = serde_json::to_string(&ex);
        }
    }
});

/// A value of type `ty`: a card-like text, one, true, the date, the first
/// enum value, an unknown bank, records filled the same way, lists of one.
fn value(schema: &kycrules::ir::Schema, ty: &kycrules::ir::Type, as_of: kycrules::date::Date, depth: usize) -> Field {
    use kycrules::ir::Type;
    if depth > 8 {
        return Field::Absent;
    }
    match ty {
        Type::Text => Field::Text("4111111111111111".into()),
        Type::Bool => Field::Bool(true),
        Type::Number => Field::Num(kycrules::decimal::Decimal::from_i64(1)),
        Type::Date => Field::Date(as_of),
        Type::Bank => Field::Bank(kycrules::record::BankValue {
            id: None,
            typed: "Nowhere Bank".into(),
        }),
        Type::Enum(_) => Field::Enum(0),
        Type::List(t) => Field::List(vec![value(schema, t, as_of, depth + 1)]),
        Type::Record(r) => match schema.records.get(*r as usize) {
            Some(rec) => Field::Record(rec.fields.iter().map(|f| value(schema, &f.ty, as_of, depth + 1)).collect()),
            None => Field::Absent,
        },
    }
}
