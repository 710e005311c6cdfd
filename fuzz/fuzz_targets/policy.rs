//! Parse and compile arbitrary text as a one-file policy, then render every
//! diagnostic as a person and as a machine would see it.
#![no_main]

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
});
