//! The policy in force, and how a new one replaces it.
//!
//! A reload compiles the policy files into a candidate, passes it through every
//! gate (by default: the policy's own tests under `tests/` must pass), and only
//! then swaps it in with one atomic pointer store. A request loads the pointer
//! once and decides wholly under that policy. A rejected candidate changes
//! nothing but the reload status (`/v1/policy`), the log and the metrics.
//!
//! A gate is anything implementing [`Gate`]: a later check (say, a proof that
//! the change only tightens the policy) is one more gate in [`Holder::gates`].

use crate::clock;
use arc_swap::ArcSwap;
use kycrules::Policy;
use kycrules::date::Date;
use kycrules::prove::{self, Claim, Verdict};
use kycrules::testing;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A policy in force, with when it came in.
pub struct Loaded {
    pub policy: Policy,
    pub loaded_at: String,
}

/// How the last reload (or the start) went.
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    pub ok: bool,
    pub at: String,
    /// Compiler diagnostics or failed tests, as JSON objects.
    pub diagnostics: Vec<Value>,
}

/// Why a candidate policy was not admitted.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub reason: String,
    pub diagnostics: Vec<Value>,
    /// The diagnostics as a person reads them (`file:line:col`, a caret), when rendered.
    pub human: Option<String>,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(text) = &self.human {
            return write!(f, "\n{}", text.trim_end());
        }
        for d in &self.diagnostics {
            match d.get("rendered").and_then(Value::as_str) {
                Some(text) => write!(f, "\n{text}")?,
                None => write!(f, "\n{d}")?,
            }
        }
        Ok(())
    }
}

/// A policy that asks to come into force, and where it was read from.
pub struct Candidate<'a> {
    pub policy: &'a Policy,
    /// The policy paths given to the service (empty: the shipped policy).
    pub paths: &'a [PathBuf],
}

/// A check a candidate must pass before it replaces the policy in force
/// (`current` is `None` at start).
pub trait Gate: Send + Sync {
    fn admit(&self, current: Option<&Policy>, candidate: &Candidate<'_>) -> Result<(), Rejection>;
}

/// The gate every service has: the policy's tests (the `tests/` folder next to
/// each policy path, when there is one) must all pass, as `kycrules test` runs them.
pub struct PolicyTests;

/// The largest test file read.
const MAX_TEST_FILE: u64 = 16 << 20;

impl Gate for PolicyTests {
    fn admit(&self, _current: Option<&Policy>, c: &Candidate<'_>) -> Result<(), Rejection> {
        let rs = c.policy.ruleset();
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for dir in test_dirs(c.paths) {
            for f in kycrules::files::collect(&dir, &["yaml", "yml"]) {
                let name = f.to_string_lossy().replace('\\', "/");
                match kycrules::files::read_file(&f, MAX_TEST_FILE) {
                    Ok(text) => match testing::parse(rs, &name, &text) {
                        Ok(t) => files.push(t),
                        Err(e) => errors.extend(e.iter().map(|e| json!({"message": e.to_string()}))),
                    },
                    Err(e) => errors.push(json!({"message": format!("{name}: cannot read the test file: {e}")})),
                }
            }
        }
        if !errors.is_empty() {
            return Err(Rejection {
                reason: "the policy's test files have errors".into(),
                diagnostics: errors,
                human: None,
            });
        }
        if files.is_empty() {
            return Ok(());
        }
        let report = testing::run(rs, &files, Date::today());
        if report.failed() == 0 {
            return Ok(());
        }
        let detail = serde_json::from_str(&testing::json(rs, &report, false)).unwrap_or(Value::Null);
        Err(Rejection {
            human: Some(testing::human(rs, &report, false)),
            reason: format!("{} of the policy's tests failed", report.failed()),
            diagnostics: vec![json!({
                "message": format!("{} policy test(s) failed", report.failed()),
                "rendered": testing::human(rs, &report, false),
                "tests": detail,
            })],
        })
    }
}

/// `--require-claim`: a new policy comes into force only when `kycrules prove`
/// proves the claim of it against the policy in force. A refutation or an
/// unknown keeps the old policy (the first load at start has nothing to
/// compare with and is not gated).
pub struct RequireClaim(pub Claim);

impl Gate for RequireClaim {
    fn admit(&self, current: Option<&Policy>, c: &Candidate<'_>) -> Result<(), Rejection> {
        let Some(current) = current else { return Ok(()) };
        let claim = match self.0 {
            Claim::Tightens => "tightens",
            Claim::Equivalent => "equivalent",
        };
        let report = prove::prove(current, c.policy, self.0, Date::today());
        let (reason, detail) = match &report.verdict {
            Verdict::Proven => return Ok(()),
            Verdict::Refuted {
                counterexample,
                old,
                new,
                ..
            } => (
                format!(
                    "the new policy does not prove `{claim}`: refuted, an application is {} under the policy in force and {} under the new one",
                    old.as_str(),
                    new.as_str()
                ),
                json!({"status": "refuted", "counterexample": counterexample}),
            ),
            Verdict::Unknown { reasons } => (
                format!("the new policy does not prove `{claim}`: the proof could not decide"),
                json!({"status": "unknown", "reasons": reasons}),
            ),
        };
        Err(Rejection {
            diagnostics: vec![
                json!({"message": reason.clone(), "claim": claim, "prove": detail, "changed_rules": report.changed}),
            ],
            reason,
            human: None,
        })
    }
}

/// The `tests/` folder next to each policy path, where one exists.
fn test_dirs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in paths {
        let dir = if p.is_dir() {
            p.clone()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let tests = dir.join("tests");
        if tests.is_dir() && !out.contains(&tests) {
            out.push(tests);
        }
    }
    out
}

/// Holds the policy in force and swaps it.
pub struct Holder {
    current: ArcSwap<Loaded>,
    status: Mutex<ReloadStatus>,
    paths: Vec<PathBuf>,
    /// The checks a candidate must pass, in order.
    pub gates: Vec<Box<dyn Gate>>,
    /// One reload at a time.
    reloading: Mutex<()>,
}

impl Holder {
    /// Loads the policy and admits it through the default gates, then `extra`.
    pub fn start(paths: &[PathBuf], extra: Vec<Box<dyn Gate>>) -> Result<Holder, Rejection> {
        let mut gates: Vec<Box<dyn Gate>> = vec![Box::new(PolicyTests)];
        gates.extend(extra);
        let policy = candidate(paths, None, &gates)?;
        let at = clock::now_rfc3339();
        Ok(Holder {
            current: ArcSwap::from_pointee(Loaded {
                policy,
                loaded_at: at.clone(),
            }),
            status: Mutex::new(ReloadStatus {
                ok: true,
                at,
                diagnostics: Vec::new(),
            }),
            paths: paths.to_vec(),
            gates,
            reloading: Mutex::new(()),
        })
    }

    /// The policy in force. Hold the `Arc` for the whole request.
    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    pub fn status(&self) -> ReloadStatus {
        match self.status.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Reads, compiles and gates the policy files again; swaps the result in
    /// when it passes. Blocking: call it off the async workers.
    pub fn reload(&self) -> Result<Arc<Loaded>, Rejection> {
        let _one = self.reloading.lock();
        let old = self.current();
        let result = candidate(&self.paths, Some(&old.policy), &self.gates);
        let at = clock::now_rfc3339();
        let status = match &result {
            Ok(_) => ReloadStatus {
                ok: true,
                at: at.clone(),
                diagnostics: Vec::new(),
            },
            Err(r) => {
                let mut diagnostics = vec![json!({"message": r.reason})];
                diagnostics.extend(r.diagnostics.iter().cloned());
                ReloadStatus {
                    ok: false,
                    at: at.clone(),
                    diagnostics,
                }
            }
        };
        if let Ok(mut s) = self.status.lock() {
            *s = status;
        }
        match result {
            Ok(policy) => {
                let loaded = Arc::new(Loaded { policy, loaded_at: at });
                self.current.store(loaded.clone());
                crate::obs::policy_in_force(&loaded.policy);
                metrics::counter!("kycrules_reloads_total", "result" => "ok").increment(1);
                tracing::info!(
                    old = %old.policy.hash(),
                    new = %loaded.policy.hash(),
                    "policy reloaded"
                );
                Ok(loaded)
            }
            Err(r) => {
                metrics::counter!("kycrules_reloads_total", "result" => "failed").increment(1);
                tracing::error!(
                    reason = %r.reason,
                    diagnostics = %serde_json::Value::Array(r.diagnostics.clone()),
                    kept = %old.policy.hash(),
                    "policy reload failed; the policy in force is kept"
                );
                Err(r)
            }
        }
    }
}

/// Compiles the policy at `paths` (the shipped one when empty) and runs the gates.
fn candidate(paths: &[PathBuf], current: Option<&Policy>, gates: &[Box<dyn Gate>]) -> Result<Policy, Rejection> {
    let policy = if paths.is_empty() {
        Policy::shipped()
    } else {
        Policy::load(paths).map_err(|e| Rejection {
            reason: "the policy does not compile".into(),
            diagnostics: e.to_json(),
            human: Some(e.render()),
        })?
    };
    let c = Candidate { policy: &policy, paths };
    for gate in gates {
        gate.admit(current, &c)?;
    }
    Ok(policy)
}

/// Starts the reload triggers: `SIGHUP` always, file changes with `--watch`.
pub fn spawn_triggers(state: Arc<crate::routes::State>, config: &crate::Config) -> Result<(), String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                if tx.send("SIGHUP").is_err() {
                    break;
                }
            }
        });
    }
    if config.watch && !config.policy.is_empty() {
        let watcher = watch(&config.policy, config.debounce, tx.clone())?;
        // The watcher lives as long as the service.
        std::mem::forget(watcher);
    }
    drop(tx);
    tokio::spawn(async move {
        while let Some(why) = rx.recv().await {
            // Changes that arrived while reloading are covered by this reload.
            while rx.try_recv().is_ok() {}
            tracing::info!(trigger = why, "reloading the policy");
            let s = state.clone();
            let _ = tokio::task::spawn_blocking(move || s.policy.reload()).await;
        }
    });
    Ok(())
}

type Debouncer = notify_debouncer_full::Debouncer<notify::RecommendedWatcher, notify_debouncer_full::RecommendedCache>;

/// Watches the policy paths (a file through its folder, so editors that save
/// by rename are seen) and their `tests/` folders.
fn watch(
    paths: &[PathBuf],
    debounce: std::time::Duration,
    tx: tokio::sync::mpsc::UnboundedSender<&'static str>,
) -> Result<Debouncer, String> {
    use notify::RecursiveMode;
    let handler = move |res: notify_debouncer_full::DebounceEventResult| {
        if let Ok(events) = res {
            let relevant = events.iter().any(|e| e.paths.iter().any(|p| is_policy_file(p)));
            if relevant {
                let _ = tx.send("file change");
            }
        }
    };
    let mut debouncer = notify_debouncer_full::new_debouncer(debounce, None, handler)
        .map_err(|e| format!("cannot watch the policy: {e}"))?;
    for p in paths {
        let (target, mode) = if p.is_dir() {
            (p.clone(), RecursiveMode::Recursive)
        } else {
            let parent = p.parent().map(Path::to_path_buf).unwrap_or_default();
            let parent = if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent
            };
            (parent, RecursiveMode::Recursive)
        };
        debouncer
            .watch(&target, mode)
            .map_err(|e| format!("{}: cannot watch: {e}", target.display()))?;
    }
    Ok(debouncer)
}

/// Policy and test files; other files (a decision log beside the policy) do not reload.
fn is_policy_file(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("rules" | "yaml" | "yml"))
}
