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
//! The corpus is written once to `target/kycrules-bench/corpus-N.jsonl`, so the
//! two commands can also be timed by hand on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_kycrules");

/// A small deterministic generator (xorshift64*): the same corpus every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "John Smith",
    "王小明",
    "Maria Garcia-Lopez",
    "Anna Mueller",
    "Kim Minjun",
    "Mary J. Watson",
    "Alexandria Catherine Montgomery",
    "Li·Wei",
    "X",
    "Jean•Pierre Martin",
];
const BANKS: &[&str] = &[
    "ICBC",
    "招商银行",
    " bank of communications ",
    "CMB",
    "BOC",
    "Bank of Hangzhou",
    "农行",
    "citic bank",
    "Shinhan Bank",
    "PAB",
];
const KINDS: &[&str] = &[
    "passport",
    "entry_certificate",
    "permanent_residence_permit",
    "foreign_residence_permit",
];

fn phone(r: &mut Rng) -> String {
    let prefix = ["13", "14", "15", "18", "16", "17", "19", "12"][r.below(8) as usize];
    let rest = r.below(1_000_000_000);
    match r.below(6) {
        0 => format!("+1-415-555-{:04}", rest % 10_000),
        1 if r.below(8) == 0 => "+86 138 0000 0000".to_string(),
        1 => format!(
            "+86-{prefix}{}-{:04}-{:04}",
            rest % 10,
            rest / 10 % 10_000,
            rest / 100_000 % 10_000
        ),
        _ => format!("{prefix}{rest:09}"),
    }
}

fn application(r: &mut Rng, i: u64) -> String {
    // Mostly well-formed applications, with every rule firing now and then.
    let name = if r.below(4) == 0 {
        r.pick(NAMES)
    } else {
        NAMES[r.below(4) as usize]
    };
    let kinds: Vec<&str> = match r.below(10) {
        0..=6 => vec!["passport", "entry_certificate"],
        7 => vec!["permanent_residence_permit"],
        8 => vec!["passport", "foreign_residence_permit"],
        _ => (0..r.below(3) + 1).map(|_| r.pick(KINDS)).collect(),
    };
    let mut docs: Vec<String> = Vec::new();
    for kind in kinds {
        let kind = if r.below(400) == 0 { "drivers_license" } else { kind };
        let legible = if r.below(20) == 0 {
            r#","photo_legible":false"#
        } else {
            ""
        };
        docs.push(format!(r#"{{"kind":"{kind}"{legible}}}"#));
    }
    let mut line = format!(
        r#"{{"id":"B-{i:07}","applicant":{{"name":"{name}","phone":"{}"}},"documents":[{}]"#,
        phone(r),
        docs.join(",")
    );
    if r.below(10) != 0 {
        let card_type = ["savings", "savings", "savings", "credit", "passbook"][r.below(5) as usize];
        let holder = if r.below(15) == 0 { "Someone Else" } else { name };
        let region = if r.below(10) == 0 { "overseas" } else { "mainland" };
        let _ = write!(
            line,
            r#","bank_card":{{"bank":"{}","number":"6222021234567890123","card_type":"{card_type}","holder_name":"{holder}","region":"{region}"}}"#,
            if r.below(3) == 0 {
                r.pick(BANKS)
            } else {
                BANKS[r.below(4) as usize]
            }
        );
    }
    if r.below(3) == 0 {
        let deposited = r.below(120);
        let entered = if r.below(4) == 0 { deposited + 1 } else { deposited };
        let _ = write!(
            line,
            r#","verification":{{"deposited":"{}.{:02}","entered":"{}.{:02}"}}"#,
            deposited / 100,
            deposited % 100,
            entered / 100,
            entered % 100
        );
        if r.below(2) == 0 {
            let outcome = if r.below(5) == 0 { "failed" } else { "passed" };
            let _ = write!(line, r#","review":{{"outcome":"{outcome}"}}"#);
        }
    }
    line.push_str("}\n");
    line
}

/// Writes the corpus once; later runs reuse it.
fn corpus(n: u64) -> PathBuf {
    let dir = Path::new(ROOT).join("target/kycrules-bench");
    let path = dir.join(format!("corpus-{n}.jsonl"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut text = String::with_capacity(n as usize * 320);
        for i in 0..n {
            text.push_str(&application(&mut r, i));
        }
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
