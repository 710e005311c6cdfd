//! `prove` of the shipped policy against each of its single-rule edits.
//!
//! The edits: every rule's outcome moved one step up (a tightening, to be
//! proven) and one step down (a loosening, to be refuted), and the
//! 16x/17x/19x pattern edit of `examples/policy-change` both ways. Each proof
//! runs once (proofs are deterministic; the figure is one wall-clock run per
//! edit, after one warm-up proof), and the table lists edit, verdict, models
//! and time. The issue's target is under 1 s for each:
//!
//! ```sh
//! cargo bench --bench prove
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules::prove::{self, Claim, Verdict};
use kycrules::{Date, Policy};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn texts(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

const OUTCOMES: [&str; 4] = ["note", "review", "limited", "reject"];

fn main() {
    let as_of = Date::parse("2026-12-07").unwrap();
    let shipped_texts = texts(&Path::new(ROOT).join("rules"));
    let shipped = Policy::from_texts(shipped_texts.clone()).unwrap();
    let mut edits: Vec<(String, Policy, Policy)> = Vec::new();
    for (fi, (_, text)) in shipped_texts.iter().enumerate() {
        for (li, line) in text.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let ["rule", id, outcome, "{"] = words.as_slice() else {
                continue;
            };
            let Some(k) = OUTCOMES.iter().position(|o| o == outcome) else {
                continue;
            };
            for to in [k.checked_add(1), k.checked_sub(1)].into_iter().flatten() {
                let Some(&target) = OUTCOMES.get(to) else { continue };
                let mut files = shipped_texts.clone();
                let edited: Vec<String> = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        if i == li {
                            format!("rule {id} {target} {{")
                        } else {
                            l.to_owned()
                        }
                    })
                    .collect();
                files[fi].1 = edited.join("\n") + "\n";
                let new = Policy::from_texts(files).unwrap();
                edits.push((
                    format!("{id}: {outcome} -> {target}"),
                    Policy::from_texts(shipped_texts.clone()).unwrap(),
                    new,
                ));
            }
        }
    }
    let change = Policy::load(&[Path::new(ROOT).join("examples/policy-change/rules")]).unwrap();
    let change2 = Policy::load(&[Path::new(ROOT).join("examples/policy-change/rules")]).unwrap();
    edits.push((
        "mainland_mobile: [3458] -> [3-9]".into(),
        Policy::from_texts(shipped_texts.clone()).unwrap(),
        change,
    ));
    edits.push(("mainland_mobile: [3-9] -> [3458]".into(), change2, shipped));

    // Warm-up: page in the code and the allocator.
    if let Some((_, old, new)) = edits.first() {
        prove::prove(old, new, Claim::Tightens, as_of);
    }
    println!(
        "{:<48} {:>9} {:>7} {:>10}",
        "edit (claim: tightens)", "verdict", "models", "time"
    );
    let mut worst = Duration::ZERO;
    let mut over = 0;
    for (name, old, new) in &edits {
        let start = Instant::now();
        let r = prove::prove(old, new, Claim::Tightens, as_of);
        let took = start.elapsed();
        worst = worst.max(took);
        if took >= Duration::from_secs(1) {
            over += 1;
        }
        let verdict = match r.verdict {
            Verdict::Proven => "proven",
            Verdict::Refuted { .. } => "refuted",
            Verdict::Unknown { .. } => "unknown",
        };
        println!("{name:<48} {verdict:>9} {:>7} {:>8.3} s", r.models, took.as_secs_f64());
    }
    println!(
        "{} edits; slowest {:.3} s; {over} at or over 1 s",
        edits.len(),
        worst.as_secs_f64()
    );
}
