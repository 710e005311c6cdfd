//! Engine benchmarks: compiling the shipped policy, converting and evaluating
//! generated applications (the reference evaluator, the compiled one, and
//! the hand-written baseline of `benches/baseline/`), rendering JSON lines. The end-to-end run of the
//! binary is `benches/end_to_end.sh`. See BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "baseline/mod.rs"]
mod baseline;
mod cpu_time;

use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput};
use kycrules::date::Date;
use kycrules::eval::{self, Options};
use kycrules::exec;
use kycrules::ir::RuleSet;
use kycrules::record::Record;
use kycrules::report::{JsonWriter, Outcome};
use kycrules::{direct, input, policy};
use std::hint::black_box;

/// Generated applications per iteration (seed 42). A thousand records stay in
/// cache, as a record does in `check` between its conversion and evaluation;
/// ten thousand would measure memory latency that the pipeline does not pay.
const RECORDS: u64 = 1_000;

fn shipped() -> RuleSet {
    policy::build(&policy::embedded()).ruleset.unwrap()
}

fn as_of() -> Date {
    Date::parse("2026-11-27").unwrap()
}

/// Generated JSON Lines records, one per element.
fn lines(rs: &RuleSet) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    kycrules::r#gen::write(rs, RECORDS, 42, kycrules::r#gen::Format::Jsonl, &mut out).unwrap();
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn compile<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let sources = policy::embedded();
    c.bench_function("compile/shipped_policy", |b| {
        b.iter(|| black_box(policy::build(black_box(&sources))))
    });
}

fn convert<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let rs = shipped();
    let lines = lines(&rs);
    let values: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|l| input::json_record("b".into(), l).value.ok())
        .collect();
    let mut g = c.benchmark_group("convert");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("parse_value_then_convert", |b| {
        b.iter(|| {
            for l in &lines {
                let rec = input::json_record(String::new(), l);
                black_box(
                    rec.value
                        .and_then(|v| input::convert(&v, &rs.schema, &rs.tables, as_of()))
                        .is_ok(),
                );
            }
        })
    });
    g.bench_function("direct", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(direct::json_record(l, &rs.schema, &rs.tables, as_of()).is_some());
            }
        })
    });
    let base_lines: Vec<&Vec<u8>> = lines.iter().filter(|l| baseline::Baseline::parse(l).is_ok()).collect();
    g.throughput(Throughput::Elements(base_lines.len() as u64));
    g.bench_function("baseline_serde_structs", |b| {
        b.iter(|| {
            for l in &base_lines {
                black_box(baseline::Baseline::parse(l).is_ok());
            }
        })
    });
    g.throughput(Throughput::Elements(values.len() as u64));
    g.bench_function("from_parsed_value", |b| {
        b.iter(|| {
            for v in &values {
                black_box(input::convert(v, &rs.schema, &rs.tables, as_of()).is_ok());
            }
        })
    });
    g.finish();
}

fn evaluate<M: Measurement + 'static>(c: &mut Criterion<M>) {
    let rs = shipped();
    let records: Vec<Record> = lines(&rs)
        .iter()
        .filter_map(|l| direct::json_record(l, &rs.schema, &rs.tables, as_of()).map(|(_, r)| r))
        .collect();
    let opts = Options {
        lang: 0,
        as_of: as_of(),
    };
    let mut g = c.benchmark_group("evaluate");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function("one_thread", |b| {
        let mut scratch = eval::Scratch::default();
        b.iter(|| {
            for r in &records {
                black_box(eval::evaluate_in(&rs, r, opts, &mut scratch));
            }
        })
    });
    let program = exec::Program::new(&rs);
    g.bench_function("compiled", |b| {
        let mut scratch = exec::Scratch::default();
        b.iter(|| {
            for r in &records {
                black_box(exec::evaluate_in(&program, &rs, r, opts, &mut scratch));
            }
        })
    });
    // The hand-written baseline on the same records (those the engine reads),
    // parsed into its own structs beforehand.
    let base = baseline::Baseline::new();
    let apps: Vec<baseline::Application> = lines(&rs)
        .iter()
        .filter(|l| direct::json_record(l, &rs.schema, &rs.tables, as_of()).is_some())
        .filter_map(|l| baseline::Baseline::parse(l).ok())
        .collect();
    assert_eq!(apps.len(), records.len());
    g.bench_function("baseline", |b| {
        b.iter(|| {
            for a in &apps {
                black_box(base.decide(a));
            }
        })
    });
    let outcomes: Vec<Outcome> = records
        .iter()
        .map(|r| Outcome {
            id: Some("G-0000001".into()),
            source: "apps/batch.jsonl:1".into(),
            result: Ok(eval::evaluate(&rs, r, opts)),
        })
        .collect();
    let writer = JsonWriter::new(&rs);
    g.bench_function("render_json_line", |b| {
        b.iter_batched_ref(
            || Vec::with_capacity(1 << 20),
            |buf: &mut Vec<u8>| {
                for o in &outcomes {
                    buf.clear();
                    writer.write(o, buf);
                    black_box(&buf);
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn all<M: Measurement + 'static>(mut c: Criterion<M>) {
    compile(&mut c);
    convert(&mut c);
    evaluate(&mut c);
}

/// CPU time of the benchmark thread by default (the machine may be shared);
/// `BENCH_CLOCK=wall` measures wall-clock time instead.
fn main() {
    let base = || Criterion::default().sample_size(10);
    if std::env::var("BENCH_CLOCK").as_deref() == Ok("wall") {
        all(base().configure_from_args());
    } else {
        all(base().with_measurement(cpu_time::CpuTime).configure_from_args());
    }
    Criterion::default().configure_from_args().final_summary();
}
