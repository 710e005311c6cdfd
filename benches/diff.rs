//! `kycrules diff` against one `kycrules check` over the same JSON Lines corpus.
//!
//! Both run as the real binary (reading, evaluating and writing JSON Lines to
//! a null stdout), over one pre-generated corpus of `KYCRULES_BENCH_RECORDS`
//! applications (default 100 000): `check` with the shipped policy, `diff` of
//! the shipped policy against `examples/policy-change/rules`. The issue's
//! target is diff within 2.5× of check at 1M records:
//!
//! ```sh
//! KYCRULES_BENCH_RECORDS=1000000 cargo bench --bench diff
//! ```
//!
//! The corpus is written once to `target/kycrules-bench/gen-N.jsonl` (made by `kycrules gen`'s generator), so the
//! two commands can also be timed by hand on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kycrules");

/// Writes the corpus once; later runs reuse it.
fn corpus(n: u64) -> PathBuf {
    let dir = Path::new(ROOT).join("target/kycrules-bench");
    let path = dir.join(format!("gen-{n}.jsonl"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        // `kycrules gen`'s generator, from the shipped policy's banks and enums.
        let sources = kycrules::policy::embedded();
        let rs = kycrules::policy::build(&sources).ruleset.unwrap();
        let mut text = Vec::with_capacity(n as usize * 320);
        kycrules::r#gen::write(&rs, n, 7, kycrules::r#gen::Format::Jsonl, &mut text).unwrap();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn run(args: &[&str]) {
    let status = Command::new(BIN)
        .current_dir(ROOT)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    // check: 1 = something rejected, 2 = input errors (the corpus has some);
    // diff: 1 = something changed. Anything else is a failure to run.
    assert!(matches!(status.code(), Some(0..=2)), "{args:?}: {status}");
}

fn bench(c: &mut Criterion) {
    let n: u64 = std::env::var("KYCRULES_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let path = corpus(n);
    let file = path.to_str().unwrap();
    let mut g = c.benchmark_group(format!("records_{n}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    g.bench_function("check", |b| b.iter(|| run(&["check", "--format", "json", file])));
    g.bench_function("diff", |b| {
        b.iter(|| {
            run(&[
                "diff",
                "rules",
                "examples/policy-change/rules",
                "--format",
                "json",
                file,
            ])
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
