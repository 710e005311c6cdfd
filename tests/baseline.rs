//! The hand-written baseline of the benches (`benches/baseline/`) decides as
//! the engine does on the bench corpus: same decision, next step, rules and
//! English messages, for every record the engine can read. Its speed figures
//! mean nothing otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "../benches/baseline/mod.rs"]
mod baseline;

use baseline::Baseline;
use common::*;
use kycrules::eval::{self, Options};
use kycrules::exec::{self, Program};

#[test]
fn the_baseline_decides_as_the_engine_on_the_bench_corpus() {
    let rs = shipped();
    let program = Program::new(rs);
    let base = Baseline::new();
    let opts = Options {
        lang: rs.language("en"),
        as_of: as_of(),
    };
    let mut corpus = Vec::new();
    // The engine bench's corpus (seed 42), and more of the same generator.
    kycrules::r#gen::write(rs, 20_000, 42, kycrules::r#gen::Format::Jsonl, &mut corpus).unwrap();
    let (mut compared, mut errors) = (0, 0);
    for line in corpus.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let engine = kycrules::input::json_record(String::new(), line)
            .value
            .and_then(|v| kycrules::input::convert(&v, &rs.schema, &rs.tables, opts.as_of));
        let Ok(record) = engine else {
            errors += 1;
            continue;
        };
        let text = String::from_utf8_lossy(line);
        let app = Baseline::parse(line).unwrap_or_else(|e| panic!("the baseline cannot read {text}: {e}"));
        let got = base.decide(&app);
        for want in [
            eval::evaluate(rs, &record, opts),
            exec::evaluate(&program, rs, &record, opts),
        ] {
            assert_eq!(got.decision, want.decision.as_str(), "{text}");
            let step = want.next_step.map(|i| rs.next_steps[i].name.as_str());
            assert_eq!(got.next_step, step, "{text}");
            let fired: Vec<(&str, &str)> = want
                .violations
                .iter()
                .map(|v| (rs.rules[v.rule].id.as_str(), v.message.as_str()))
                .collect();
            let base_fired: Vec<(&str, &str)> = got.violations.iter().map(|(id, m)| (*id, &**m)).collect();
            assert_eq!(base_fired, fired, "{text}");
        }
        compared += 1;
    }
    assert!(compared > 19_000, "{compared} compared, {errors} input errors");
}
