//! The kycrules decision service (`kycrules serve`): decisions over HTTP with
//! the engine's facade, hot reload behind a gate, and a decision log that holds
//! every decision before its answer is sent.
//!
//! The crate is a front: it turns HTTP requests into the engine's records and
//! the engine's JSON lines into responses, and nothing more. Every decision is
//! made by [`kycrules::Policy`] and rendered by [`kycrules::Policy::json_line`].

mod auth;
mod clock;
mod decision_log;
mod obs;
pub mod reload;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use decision_log::LogConfig;

/// Everything `kycrules serve` is started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Policy files or directories; empty: the policy shipped in the binary.
    pub policy: Vec<PathBuf>,
    pub addr: SocketAddr,
    /// Reload when a file under the policy paths changes (debounced).
    pub watch: bool,
    /// How long the watcher waits for a burst of changes to settle.
    pub debounce: Duration,
    pub decision_log: Option<LogConfig>,
    /// A file holding the bearer token requests must carry.
    pub token_file: Option<PathBuf>,
    /// The largest body of `/v1/decide` and `/v1/explain`.
    pub max_body: usize,
    /// The largest body of `/v1/decide/batch`.
    pub max_batch_body: usize,
    /// The most lines one batch may hold.
    pub max_batch_lines: usize,
    /// A request that takes longer is answered `503`.
    pub timeout: Duration,
    /// Requests served at once; more wait for a slot.
    pub max_concurrency: usize,
    /// Answer a constant on `POST /bench/constant` (the HTTP floor for benchmarks).
    pub bench_floor: bool,
    /// Worker threads of the runtime (0: one per core).
    pub threads: usize,
    /// A claim every reloaded policy must prove against the one in force.
    pub require_claim: Option<kycrules::prove::Claim>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            policy: Vec::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            watch: false,
            debounce: Duration::from_millis(300),
            decision_log: None,
            token_file: None,
            max_body: 1 << 20,
            max_batch_body: 64 << 20,
            max_batch_lines: 100_000,
            timeout: Duration::from_secs(10),
            max_concurrency: 1024,
            bench_floor: false,
            threads: 0,
            require_claim: None,
        }
    }
}

/// Runs the service until `SIGTERM` or `SIGINT`; `Err` when it cannot start
/// (the policy does not load, the address is taken, the log cannot be opened).
pub fn run(config: Config) -> Result<(), String> {
    obs::init_tracing();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if config.threads > 0 {
        rt.worker_threads(config.threads);
    }
    let rt = rt.build().map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), String> {
    let metrics = obs::Metrics::install()?;
    metrics.spawn_upkeep();
    let extra: Vec<Box<dyn reload::Gate>> = match config.require_claim {
        Some(claim) => vec![Box::new(reload::RequireClaim(claim))],
        None => Vec::new(),
    };
    let policy = reload::Holder::start(&config.policy, extra).map_err(|r| r.to_string())?;
    obs::policy_in_force(&policy.current().policy);
    let token = match &config.token_file {
        Some(p) => Some(auth::read_token(p)?),
        None => None,
    };
    let log = match &config.decision_log {
        Some(c) => Some(decision_log::DecisionLog::open(c.clone())?),
        None => None,
    };
    let state = Arc::new(routes::State {
        policy,
        log,
        metrics,
        config: config.clone(),
        ids: routes::DecisionIds::new(),
    });
    reload::spawn_triggers(state.clone(), &config)?;
    let app = routes::router(state.clone(), token);
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    // The first line on stdout is the address, for scripts and tests started on port 0.
    println!("listening on http://{bound}");
    tracing::info!(addr = %bound, policy = %state.policy.current().policy.hash(), "serving");
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal());
    let served = server.await.map_err(|e| format!("the server failed: {e}"));
    tracing::info!("draining done; flushing the decision log");
    if let Some(log) = &state.log {
        log.close();
    }
    served
}

/// Resolves on `SIGTERM` or `SIGINT`.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        match (term, int) {
            (Ok(mut t), Ok(mut i)) => {
                tokio::select! {
                    _ = t.recv() => {},
                    _ = i.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown requested; draining requests in flight");
}
