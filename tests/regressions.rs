//! Inputs that once crashed or hung a fuzz target (see `fuzz/README.md`),
//! replayed through the same code: `tests/fixtures/regressions/policy/*` are
//! policy texts, `input/*` are input files (read as YAML, JSON, JSON Lines
//! and sniffed), `evaluate/*.json` are applications.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/regressions")
        .join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn policy_regressions() {
    for path in cases("policy") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let mut sources = kycrules::source::SourceMap::default();
        for (i, part) in text.split('\0').take(4).enumerate() {
            sources.add(format!("fuzz{i}.rules"), part);
        }
        let compiled = kycrules::policy::build(&sources);
        let _ = kycrules::diag::render_human(&compiled.diagnostics, &sources, false);
        for d in &compiled.diagnostics {
            let _ = kycrules::diag::to_json(d, &sources);
        }
    }
}

#[test]
fn input_regressions() {
    let rs = shipped();
    for path in cases("input") {
        let bytes = std::fs::read(&path).unwrap();
        for ext in ["yaml", "json", "jsonl", ""] {
            for rec in kycrules::input::read_bytes(bytes.clone(), ext, "fuzz".into()) {
                if let Ok(v) = &rec.value {
                    let _ = kycrules::input::convert(v, &rs.schema, &rs.tables, as_of());
                }
            }
        }
    }
}

#[test]
fn evaluate_regressions() {
    let rs = shipped();
    for path in cases("evaluate") {
        let app: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for lang in ["en", "zh"] {
            let (o, _) = evaluate_json(rs, &app, lang);
            let _ = kycrules::report::human_block(rs, &o, &kycrules::report::Palette::default());
        }
    }
}
