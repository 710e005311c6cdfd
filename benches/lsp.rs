//! The language server on the shipped policy, through the real binary and
//! its stdio transport:
//!
//! 1. latency: the time from sending a `didChange` of `20-applicant.rules` to
//!    receiving that version's diagnostics, with the default debounce (the
//!    figure an author sees), over `LSP_EDITS` edits (default 200);
//! 2. memory: the server's resident set (`VmRSS`) over `LSP_MEMORY_EDITS`
//!    edits (default 10,000), each compiled (debounce 0, every version's
//!    diagnostics awaited), sampled every 1,000 edits.
//!
//! `cargo bench --bench lsp`. Prints figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kycrules_lsp::client::Client;
use kycrules_lsp::text::path_to_uri;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn policy_copy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kycrules-lsp-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    for f in kycrules::files::collect(&rules, &["rules"]) {
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    dir
}

struct Bench {
    client: Client,
    uri: String,
    text: String,
}

impl Bench {
    fn start(dir: &Path, options: Value) -> Bench {
        let mut client = Client::start(env!("CARGO_BIN_EXE_kycrules"), &["lsp"]).unwrap();
        client
            .request(
                "initialize",
                json!({"processId": null, "rootUri": path_to_uri(dir), "capabilities": {}, "initializationOptions": options}),
            )
            .unwrap();
        client.notify("initialized", json!({})).unwrap();
        let path = dir.join("20-applicant.rules");
        let uri = path_to_uri(&path);
        let text = std::fs::read_to_string(&path).unwrap();
        client
            .notify(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": uri, "languageId": "kycrules", "version": 0, "text": text}}),
            )
            .unwrap();
        let mut b = Bench { client, uri, text };
        b.await_version(0);
        b
    }

    /// Sends version `v` (the file with a comment that changes each time) and
    /// waits for its diagnostics; returns the time it took.
    fn edit(&mut self, v: i64) -> Duration {
        let text = format!("{}\n# edit {v}\n", self.text);
        let start = Instant::now();
        self.client
            .notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": self.uri, "version": v}, "contentChanges": [{"text": text}]}),
            )
            .unwrap();
        let diags = self.await_version(v);
        let took = start.elapsed();
        assert_eq!(diags["diagnostics"], json!([]), "the shipped policy has no diagnostics");
        took
    }

    fn await_version(&mut self, v: i64) -> Value {
        let uri = self.uri.clone();
        let msg = self
            .client
            .wait(|m| {
                m.get("method").and_then(Value::as_str) == Some("textDocument/publishDiagnostics")
                    && m.pointer("/params/uri").and_then(Value::as_str) == Some(uri.as_str())
                    && m.pointer("/params/version").and_then(Value::as_i64) == Some(v)
            })
            .unwrap();
        self.client.backlog.clear();
        msg["params"].clone()
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let dir = policy_copy();

    let edits = if quick { 5 } else { env_count("LSP_EDITS", 200) };
    let mut b = Bench::start(&dir, json!({}));
    let mut times: Vec<Duration> = (1..=edits).map(|v| b.edit(i64::try_from(v).unwrap())).collect();
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    println!(
        "lsp/diagnostics_after_change (shipped policy, debounce {} ms, {edits} edits): min {:.1} ms, median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        kycrules_lsp::DEFAULT_DEBOUNCE.as_millis(),
        ms(times[0]),
        ms(pct(50)),
        ms(pct(95)),
        ms(times[times.len() - 1]),
    );
    drop(b);

    let total = if quick {
        20
    } else {
        env_count("LSP_MEMORY_EDITS", 10_000)
    };
    let step = (total / 10).max(1);
    let mut b = Bench::start(&dir, json!({"debounceMs": 0}));
    let mut samples = vec![(0usize, b.client.rss_kib().unwrap_or(0))];
    let start = Instant::now();
    for v in 1..=total {
        b.edit(i64::try_from(v).unwrap());
        if v % step == 0 {
            samples.push((v, b.client.rss_kib().unwrap_or(0)));
        }
    }
    let line: Vec<String> = samples
        .iter()
        .map(|(n, kib)| format!("{n}: {:.1}", *kib as f64 / 1024.0))
        .collect();
    println!(
        "lsp/memory over {total} compiled edits ({:.1} s): RSS MiB after N edits: {}",
        start.elapsed().as_secs_f64(),
        line.join(", ")
    );
    b.client.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
