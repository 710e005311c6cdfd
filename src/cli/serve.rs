//! `kycrules serve`: the decision service (the `kycrules-serve` crate).

use super::ExitStatus;
use clap::Args;
use kycrules_serve::{Config, LogConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// A policy file or directory of `.rules` files (repeatable); default: the shipped policy.
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// The address to listen on (port 0: any free port; the first line on stdout names it).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Reload when a policy or test file under the policy paths changes.
    #[arg(long)]
    pub watch: bool,
    /// How long file changes must settle before a reload, in milliseconds.
    #[arg(long = "debounce-ms", value_name = "MS", default_value_t = 300)]
    pub debounce_ms: u64,
    /// Write every decision answered to this JSON Lines file, before answering.
    #[arg(long = "decision-log", value_name = "PATH")]
    pub decision_log: Option<PathBuf>,
    /// Rotate the decision log before it grows past this many MiB.
    #[arg(long = "decision-log-max-mb", value_name = "MIB", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub decision_log_max_mb: u64,
    /// Rotated decision logs kept (`PATH.1` … `PATH.N`).
    #[arg(long = "decision-log-keep", value_name = "N", default_value_t = 10)]
    pub decision_log_keep: usize,
    /// Do not fdatasync the decision log after each group (a killed process
    /// still loses nothing; a power cut may).
    #[arg(long = "decision-log-no-sync")]
    pub decision_log_no_sync: bool,
    /// Require `Authorization: Bearer <token>`, the token read from this file
    /// (`/healthz` and `/readyz` stay open).
    #[arg(long = "token-file", value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The largest body of one application (`/v1/decide`, `/v1/explain`), in bytes.
    #[arg(long = "max-body", value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// The largest batch body, in bytes.
    #[arg(long = "max-batch-body", value_name = "BYTES", default_value_t = 64 << 20)]
    pub max_batch_body: usize,
    /// The most applications in one batch.
    #[arg(long = "max-batch-lines", value_name = "N", default_value_t = 100_000)]
    pub max_batch_lines: usize,
    /// A request not answered within this many milliseconds gets `503`.
    #[arg(long = "timeout-ms", value_name = "MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Requests served at once; more wait for a slot.
    #[arg(long = "max-concurrency", value_name = "N", default_value_t = 1024)]
    pub max_concurrency: usize,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Load a changed policy only when `kycrules prove` proves this claim of it
    /// against the policy in force (a refutation or an unknown keeps the old one).
    #[arg(long = "require-claim", value_enum, value_name = "CLAIM")]
    pub require_claim: Option<RequiredClaim>,
    /// Also answer a constant on `POST /bench/constant`: the HTTP floor for load tests.
    #[arg(long = "bench-floor", hide = true)]
    pub bench_floor: bool,
}

/// The claims `--require-claim` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RequiredClaim {
    Tightens,
    Equivalent,
}

pub fn run(args: ServeArgs) -> ExitStatus {
    let config = Config {
        policy: args.policy,
        addr: args.addr,
        watch: args.watch,
        debounce: Duration::from_millis(args.debounce_ms),
        decision_log: args.decision_log.map(|path| LogConfig {
            path,
            max_bytes: args.decision_log_max_mb.saturating_mul(1 << 20),
            keep: args.decision_log_keep,
            sync: !args.decision_log_no_sync,
        }),
        token_file: args.token_file,
        max_body: args.max_body,
        max_batch_body: args.max_batch_body,
        max_batch_lines: args.max_batch_lines,
        timeout: Duration::from_millis(args.timeout_ms),
        max_concurrency: args.max_concurrency,
        bench_floor: args.bench_floor,
        threads: args.threads,
        require_claim: args.require_claim.map(|c| match c {
            RequiredClaim::Tightens => kycrules::prove::Claim::Tightens,
            RequiredClaim::Equivalent => kycrules::prove::Claim::Equivalent,
        }),
    };
    match kycrules_serve::run(config) {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Error
        }
    }
}
