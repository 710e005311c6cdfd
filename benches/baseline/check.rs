//! The hand-written baseline end to end: reads a JSON Lines file, decides
//! each application with [`baseline::Baseline`] on one thread, and writes one
//! JSON line per record in the shape of `kycrules check --format json`.
//! `benches/end_to_end.sh` times it against `kycrules check --jobs 1`.
//!
//!     cargo build --release --example baseline-check
//!     target/release/examples/baseline-check FILE > /dev/null
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "mod.rs"]
mod baseline;

use baseline::{Baseline, RULES};
use std::io::{BufRead, BufReader, BufWriter, Write};

fn string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).unwrap();
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: baseline-check FILE.jsonl");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut input = BufReader::with_capacity(1 << 16, file);
    let stdout = std::io::stdout();
    let mut output = BufWriter::with_capacity(1 << 16, stdout.lock());
    let base = Baseline::new();
    let mut line = Vec::new();
    let mut out = Vec::with_capacity(1024);
    let mut n = 0usize;
    let (mut records, mut errors) = (0usize, 0usize);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).unwrap() == 0 {
            break;
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records += 1;
        out.clear();
        let source = format!("{path}:{n}");
        match Baseline::parse(&line) {
            Ok(app) => {
                let v = base.decide(&app);
                out.extend_from_slice(b"{\"id\":");
                string(&mut out, &app.id);
                out.extend_from_slice(b",\"source\":");
                string(&mut out, &source);
                out.extend_from_slice(b",\"decision\":\"");
                out.extend_from_slice(v.decision.as_bytes());
                out.extend_from_slice(b"\",\"next_step\":");
                match v.next_step {
                    Some(s) => string(&mut out, s),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"violations\":[");
                for (i, (id, message)) in v.violations.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let (_, outcome, fields) = RULES.iter().find(|r| r.0 == *id).unwrap();
                    out.extend_from_slice(b"{\"rule\":");
                    string(&mut out, id);
                    out.extend_from_slice(b",\"outcome\":");
                    string(&mut out, outcome);
                    out.extend_from_slice(b",\"fields\":");
                    serde_json::to_writer(&mut out, fields).unwrap();
                    out.extend_from_slice(b",\"message\":");
                    string(&mut out, message);
                    out.push(b'}');
                }
                out.extend_from_slice(b"],\"policy\":{\"name\":\"alipay-foreign-real-name\",\"version\":\"2026.11\",\"hash\":\"0000000000000000\"}}\n");
            }
            Err(e) => {
                errors += 1;
                out.extend_from_slice(b"{\"id\":null,\"source\":");
                string(&mut out, &source);
                out.extend_from_slice(b",\"decision\":\"error\",\"error\":");
                string(&mut out, &e.to_string());
                out.extend_from_slice(b"}\n");
            }
        }
        output.write_all(&out).unwrap();
    }
    output.flush().unwrap();
    eprintln!("{records} records read, {errors} input errors");
}
