//! Read arbitrary bytes as a YAML, JSON and JSON Lines file and convert every
//! record against the shipped policy's schema.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn shipped() -> &'static Option<kycrules::ir::RuleSet> {
    static RS: OnceLock<Option<kycrules::ir::RuleSet>> = OnceLock::new();
    RS.get_or_init(|| kycrules::policy::build(&kycrules::policy::embedded()).ruleset)
}

fuzz_target!(|bytes: &[u8]| {
    let Some(rs) = shipped() else { return };
    let Some(as_of) = kycrules::date::Date::parse("2026-11-27") else { return };
    for ext in ["yaml", "json", "jsonl", ""] {
        for rec in kycrules::input::read_bytes(bytes.to_vec(), ext, "fuzz".into()) {
            if let Ok(v) = &rec.value {
                let _ = kycrules::input::convert(v, &rs.schema, &rs.tables, as_of);
            }
        }
    }
});
