//! Observability: structured logs on stderr (tracing, JSON lines) and the
//! Prometheus metrics of `/metrics`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use kycrules::Policy;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::time::Instant;

/// JSON log lines on stderr; `RUST_LOG` filters them (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

/// The recorder behind `/metrics`.
pub struct Metrics {
    handle: PrometheusHandle,
}

/// Latency buckets in seconds: 50 µs to 10 s.
const BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

impl Metrics {
    pub fn install() -> Result<Metrics, String> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .map_err(|e| format!("cannot set up metrics: {e}"))?
            .install_recorder()
            .map_err(|e| format!("cannot set up metrics: {e}"))?;
        describe();
        Ok(Metrics { handle })
    }

    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds the latency samples recorded since the last call into the
    /// histograms. Without it (and without a scraper calling `/metrics`) the
    /// recorder keeps every sample, and memory grows with each request.
    pub fn spawn_upkeep(&self) {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

/// `kycrules_policy_info{name,version,hash} 1` for the policy in force only.
pub fn policy_in_force(policy: &Policy) {
    {
        let labels = [
            ("name", policy.name().to_owned()),
            ("version", policy.version().to_owned()),
            ("hash", policy.hash().to_owned()),
        ];
        if let Ok(mut last) = IN_FORCE.lock() {
            if let Some(old) = last.take() {
                metrics::gauge!("kycrules_policy_info", &old).set(0.0);
            }
            metrics::gauge!("kycrules_policy_info", &labels).set(1.0);
            *last = Some(labels);
        }
    }
}

type Labels = [(&'static str, String); 3];
static IN_FORCE: std::sync::Mutex<Option<Labels>> = std::sync::Mutex::new(None);

fn describe() {
    metrics::describe_counter!(
        "kycrules_http_requests_total",
        "HTTP requests answered, by route and status"
    );
    metrics::describe_histogram!(
        "kycrules_http_request_duration_seconds",
        "Time from request to response head, by route"
    );
    metrics::describe_counter!("kycrules_decisions_total", "Decisions answered, by decision");
    metrics::describe_counter!(
        "kycrules_rules_fired_total",
        "Rules that fired in answered decisions, by rule id"
    );
    metrics::describe_counter!("kycrules_reloads_total", "Policy reloads, by result (ok, failed)");
    metrics::describe_counter!(
        "kycrules_decision_log_errors_total",
        "Groups of decisions the log could not write (answered 503)"
    );
    metrics::describe_gauge!(
        "kycrules_policy_info",
        "The policy in force (1) by name, version and hash"
    );
}

/// Counts each request and times it, labelled by its route.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("kycrules_http_request_duration_seconds", "route" => route.clone())
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("kycrules_http_requests_total", "route" => route, "status" => status).increment(1);
    response
}
