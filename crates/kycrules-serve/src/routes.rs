//! The routes of SPEC §6 (in `docs/serve.md`): decisions, explanations, the
//! policy in force, health, readiness and metrics.

use crate::decision_log::DecisionLog;
use crate::reload::{Holder, Loaded};
use crate::{Config, auth, obs};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, State as Shared};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kycrules::date::Date;
use kycrules::{DecideOptions, Decided, Policy};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What every handler shares.
pub struct State {
    pub policy: Holder,
    pub log: Option<DecisionLog>,
    pub metrics: obs::Metrics,
    pub config: Config,
    pub ids: DecisionIds,
}

type S = Arc<State>;

/// Decision ids: the process's start (ms, hex) and pid, then a counter, so ids
/// are unique across restarts and ordered within one process.
pub struct DecisionIds {
    prefix: String,
    next: AtomicU64,
}

impl DecisionIds {
    pub fn new() -> DecisionIds {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        DecisionIds {
            prefix: format!("{ms:011x}-{:06x}", std::process::id()),
            next: AtomicU64::new(1),
        }
    }

    fn take(&self) -> String {
        format!("{}-{:08x}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// The longest `source` label a request may give.
const MAX_SOURCE: usize = 512;
/// Lines decided, logged and sent together in a batch.
const BATCH_CHUNK: usize = 1024;

pub fn router(state: S, token: Option<Arc<str>>) -> Router {
    let c = &state.config;
    let single = DefaultBodyLimit::max(c.max_body);
    let mut app = Router::new()
        .route("/v1/decide", post(decide).layer(single))
        .route("/v1/explain", post(explain).layer(single))
        .route(
            "/v1/decide/batch",
            post(batch).layer(DefaultBodyLimit::max(c.max_batch_body)),
        )
        .route("/v1/policy", get(policy))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    if c.bench_floor {
        app = app.route("/bench/constant", post(constant).layer(single));
    }
    let mut app = app
        .route_layer(middleware::from_fn(obs::track))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(c.max_concurrency.max(1)))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            c.timeout,
        ));
    if let Some(token) = token {
        app = app.layer(middleware::from_fn_with_state(token, auth::require));
    }
    app.fallback(not_found).with_state(state)
}

#[derive(Debug, Deserialize)]
pub struct DecideQuery {
    lang: Option<String>,
    as_of: Option<String>,
    /// The record's label in the report (default `request`; a batch adds `:LINE`).
    source: Option<String>,
}

impl DecideQuery {
    fn options(&self) -> Result<DecideOptions, Response> {
        let as_of = match &self.as_of {
            None => None,
            Some(s) => match Date::parse(s) {
                Some(d) => Some(d),
                None => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        format!("as_of: `{s}` is not a date (YYYY-MM-DD)"),
                    ));
                }
            },
        };
        if self.source.as_ref().is_some_and(|s| s.len() > MAX_SOURCE) {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("source: longer than {MAX_SOURCE} bytes"),
            ));
        }
        Ok(DecideOptions {
            lang: self.lang.clone(),
            as_of,
        })
    }

    fn source(&self) -> &str {
        self.source.as_deref().unwrap_or("request")
    }
}

/// `{"error": message}` with a status.
fn error(status: StatusCode, message: String) -> Response {
    let body = json!({ "error": message }).to_string() + "\n";
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.into()).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route".into())
}

/// The decision line with `"decision_id"` added as its last member: the bytes
/// before it are exactly the line `check --format json` prints.
fn with_id(policy: &Policy, decided: &Decided, id: &str, out: &mut Vec<u8>) {
    let start = out.len();
    policy.write_json_line(decided, out);
    if out.len() > start && out.last() == Some(&b'}') {
        out.pop();
        out.extend_from_slice(b",\"decision_id\":\"");
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(b"\"}");
    }
}

/// One decision log line: id, time, policy stamp, the masked application, the decision.
fn log_line(policy: &Policy, id: &str, application: &Value, decision: &[u8], out: &mut Vec<u8>) {
    let head = json!({
        "decision_id": id,
        "time": crate::clock::now_rfc3339(),
        "policy": {"name": policy.name(), "version": policy.version(), "hash": policy.hash()},
        "application": policy.mask_application(application),
    })
    .to_string();
    out.extend_from_slice(head.trim_end_matches('}').as_bytes());
    out.extend_from_slice(b",\"decision\":");
    out.extend_from_slice(decision);
    out.extend_from_slice(b"}\n");
}

fn count(policy: &Policy, decided: &Decided) {
    metrics::counter!("kycrules_decisions_total", "decision" => decided.decision().as_str()).increment(1);
    if let Ok(d) = &decided.outcome().result {
        let rules = &policy.ruleset().rules;
        for v in &d.violations {
            if let Some(r) = rules.get(v.rule) {
                metrics::counter!("kycrules_rules_fired_total", "rule" => r.id.clone()).increment(1);
            }
        }
    }
}

async fn decide(Shared(s): Shared<S>, Query(q): Query<DecideQuery>, body: Bytes) -> Response {
    let opts = match q.options() {
        Ok(o) => o,
        Err(r) => return r,
    };
    // One load of the pointer: the whole request decides under this policy.
    let loaded: Arc<Loaded> = s.policy.current();
    let policy = &loaded.policy;
    let decided = policy.decide_json(&body, q.source(), &opts);
    let parsed = match decided.error() {
        Some(e) => match serde_json::from_slice::<Value>(&body) {
            Ok(v) => Some(v),
            Err(_) => return error(StatusCode::BAD_REQUEST, e.to_owned()),
        },
        None => None,
    };
    let status = if parsed.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let id = s.ids.take();
    let mut line = Vec::with_capacity(512);
    with_id(policy, &decided, &id, &mut line);
    if let Some(log) = &s.log {
        let app = match parsed {
            Some(v) => v,
            None => serde_json::from_slice(&body).unwrap_or(Value::Null),
        };
        let mut entry = Vec::with_capacity(1024);
        log_line(policy, &id, &app, &line, &mut entry);
        if let Err(e) = log.append(entry).await {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the decision could not be logged: {e}"),
            );
        }
    }
    count(policy, &decided);
    line.push(b'\n');
    json_response(status, line)
}

/// One batch line: its line number and bytes.
type Line = (usize, Bytes);

async fn batch(Shared(s): Shared<S>, Query(q): Query<DecideQuery>, body: Bytes) -> Response {
    let opts = match q.options() {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut lines: Vec<Line> = Vec::new();
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        // A blank line is not a record (as in a `.jsonl` file).
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if lines.len() == s.config.max_batch_lines {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a batch holds at most {} applications", s.config.max_batch_lines),
            );
        }
        let start = line.as_ptr() as usize - body.as_ptr() as usize;
        lines.push((i + 1, body.slice(start..start + line.len())));
    }
    let loaded = s.policy.current();
    let source = q.source().to_owned();
    let mut chunks: Vec<Vec<Line>> = Vec::new();
    let mut rest = lines.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(BATCH_CHUNK).collect());
    }
    let mut chunks = chunks.into_iter();
    // The first chunk is decided and logged before the answer starts, so a log
    // that cannot be written is a 503 rather than a broken stream.
    let first = match chunks.next() {
        Some(c) => match decide_chunk(&s, &loaded, &source, &opts, c).await {
            Ok(out) => out,
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
        },
        None => Vec::new(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(async move {
        if tx.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        for chunk in chunks {
            let sent = match decide_chunk(&s, &loaded, &source, &opts, chunk).await {
                Ok(out) => tx.send(Ok(Bytes::from(out))).await,
                // Never an unlogged decision: the stream breaks off instead.
                Err(e) => tx.send(Err(std::io::Error::other(e))).await,
            };
            if sent.is_err() {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// Decides a chunk of batch lines on the engine's pool, logs them, and returns
/// their answer lines in input order.
async fn decide_chunk(
    s: &S,
    loaded: &Arc<Loaded>,
    source: &str,
    opts: &DecideOptions,
    chunk: Vec<Line>,
) -> Result<Vec<u8>, String> {
    let s2 = s.clone();
    let loaded2 = loaded.clone();
    let source = source.to_owned();
    let opts = opts.clone();
    let work = tokio::task::spawn_blocking(move || {
        let policy = &loaded2.policy;
        let records: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|(n, b)| (format!("{source}:{n}"), b.to_vec()))
            .collect();
        let decided = policy.decide_batch(records, &opts);
        let mut out = Vec::with_capacity(decided.len() * 512);
        let mut log = Vec::new();
        for (d, (_, bytes)) in decided.iter().zip(&chunk) {
            let id = s2.ids.take();
            let start = out.len();
            with_id(policy, d, &id, &mut out);
            if s2.log.is_some() {
                let app = serde_json::from_slice(bytes).unwrap_or(Value::Null);
                log_line(policy, &id, &app, &out[start..], &mut log);
            }
            out.push(b'\n');
        }
        (decided, out, log)
    });
    let (decided, out, log_lines) = work.await.map_err(|e| format!("a batch worker failed: {e}"))?;
    if let Some(log) = &s.log {
        log.append(log_lines)
            .await
            .map_err(|e| format!("the decisions could not be logged: {e}"))?;
    }
    for d in &decided {
        count(&loaded.policy, d);
    }
    Ok(out)
}

async fn explain(Shared(s): Shared<S>, Query(q): Query<DecideQuery>, body: Bytes) -> Response {
    let opts = match q.options() {
        Ok(o) => o,
        Err(r) => return r,
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")),
    };
    let loaded = s.policy.current();
    let policy = &loaded.policy;
    match policy.explain_value(&value, q.source(), &opts) {
        Ok(ex) => match serde_json::to_string_pretty(&ex) {
            Ok(text) => json_response(StatusCode::OK, text + "\n"),
            Err(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot write the explanation: {e}"),
            ),
        },
        Err(_) => {
            let decided = policy.decide_value(&value, q.source(), &opts);
            json_response(StatusCode::UNPROCESSABLE_ENTITY, policy.json_line(&decided) + "\n")
        }
    }
}

async fn policy(Shared(s): Shared<S>) -> Response {
    let loaded = s.policy.current();
    let p = &loaded.policy;
    let status = s.policy.status();
    let rules: Vec<Value> = p
        .rules()
        .map(|(id, outcome)| json!({"id": id, "outcome": outcome}))
        .collect();
    let body = json!({
        "name": p.name(),
        "version": p.version(),
        "hash": p.hash(),
        "loaded_at": loaded.loaded_at,
        "rules": rules,
        "last_reload": {"ok": status.ok, "at": status.at, "diagnostics": status.diagnostics},
    });
    json_response(StatusCode::OK, body.to_string() + "\n")
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, "{\"status\":\"ok\"}\n")
}

async fn readyz(Shared(s): Shared<S>) -> Response {
    let hash = s.policy.current().policy.hash().to_owned();
    json_response(
        StatusCode::OK,
        json!({"status": "ready", "policy": hash}).to_string() + "\n",
    )
}

async fn metrics(Shared(s): Shared<S>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
        .into_response()
}

/// The HTTP floor: the same server, middleware and body read, a constant answer.
async fn constant(_body: Bytes) -> Response {
    json_response(StatusCode::OK, "{\"decision\":\"accept\"}\n")
}
