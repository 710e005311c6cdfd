//! The kycrules language server: `kycrules lsp` speaks the Language Server
//! Protocol on stdin and stdout.
//!
//! A policy is a directory: when a `.rules` file is opened, every `.rules`
//! file of its directory (open or only on disk) is compiled with it, and each
//! file gets its own diagnostics, so a file that does not parse never hides
//! the errors and warnings of the others. Edits are debounced: a burst of
//! changes is compiled once, [`Config::debounce`] after the last one; a
//! request about a file whose policy changed is answered after compiling it.
//!
//! Everything is computed by the engine: the parser's spanned syntax tree
//! (names and places), the compiler and linter (diagnostics), the formatter,
//! the test runner and the generator (code lenses), and the facade's
//! decisions. The server runs on one thread and answers in the order it is
//! asked, so a session's replies are deterministic.

#[doc(hidden)]
pub mod client;
pub mod features;
pub mod index;
pub mod project;
pub mod text;

use features::At;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use project::Project;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use text::{path_to_uri, uri_to_path};

/// The default pause after the last change before a policy is compiled.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(20);
/// The longest debounce a client may ask for.
pub const MAX_DEBOUNCE: Duration = Duration::from_secs(5);
pub use project::MAX_DOCUMENT;

/// Settings: from `initializationOptions` or `workspace/didChangeConfiguration`
/// (`{"kycrules": {...}}`).
#[derive(Debug, Clone)]
pub struct Config {
    pub debounce: Duration,
    /// A `.jsonl` file of applications for the "fires on K% of the sample"
    /// lens; relative to the workspace root. Without it, generated records.
    pub sample: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            debounce: DEFAULT_DEBOUNCE,
            sample: None,
        }
    }
}

impl Config {
    fn update(&mut self, v: &Value, root: Option<&Path>) {
        let v = v.get("kycrules").unwrap_or(v);
        if let Some(ms) = v.get("debounceMs").and_then(Value::as_u64) {
            self.debounce = Duration::from_millis(ms).min(MAX_DEBOUNCE);
        }
        match v.get("sample") {
            Some(Value::String(s)) if !s.is_empty() => {
                let p = PathBuf::from(s);
                self.sample = Some(match root {
                    Some(r) if p.is_relative() => r.join(p),
                    _ => p,
                });
            }
            Some(Value::Null | Value::String(_)) => self.sample = None,
            _ => {}
        }
    }
}

/// Serves one client on stdin and stdout until it asks to exit.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io.join().map_err(|e| e.to_string())
}

/// Serves one client over a connection until it shuts down.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let mut server = Server::new(&params);
    let result = json!({
        "capabilities": capabilities(),
        "serverInfo": {"name": "kycrules", "version": env!("CARGO_PKG_VERSION")},
    });
    connection.initialize_finish(id, result).map_err(|e| e.to_string())?;
    server.main_loop(connection)
}

fn capabilities() -> Value {
    json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
        "hoverProvider": true,
        "definitionProvider": true,
        "referencesProvider": true,
        "renameProvider": true,
        "completionProvider": {"triggerCharacters": ["."]},
        "documentFormattingProvider": true,
        "documentSymbolProvider": true,
        "workspaceSymbolProvider": true,
        "foldingRangeProvider": true,
        "semanticTokensProvider": {
            "legend": {"tokenTypes": features::TOKEN_TYPES, "tokenModifiers": ["declaration"]},
            "full": true,
        },
        "codeLensProvider": {"resolveProvider": false},
        "executeCommandProvider": {"commands": ["kycrules.runTests"]},
    })
}

struct Server {
    projects: BTreeMap<PathBuf, Project>,
    /// Policy directories with edits not compiled yet, and when to compile them.
    dirty: BTreeMap<PathBuf, Instant>,
    config: Config,
    root: Option<PathBuf>,
    lens_refresh: bool,
    next_request: i32,
    /// Test files that have diagnostics published.
    test_uris: BTreeSet<String>,
}

impl Server {
    fn new(params: &Value) -> Self {
        let root = params
            .get("rootUri")
            .and_then(Value::as_str)
            .or_else(|| params.pointer("/workspaceFolders/0/uri").and_then(Value::as_str))
            .and_then(uri_to_path);
        let mut config = Config::default();
        if let Some(o) = params.get("initializationOptions") {
            config.update(o, root.as_deref());
        }
        let lens_refresh = params
            .pointer("/capabilities/workspace/codeLens/refreshSupport")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Server {
            projects: BTreeMap::new(),
            dirty: BTreeMap::new(),
            config,
            root,
            lens_refresh,
            next_request: 0,
            test_uris: BTreeSet::new(),
        }
    }

    fn main_loop(&mut self, c: &Connection) -> Result<(), String> {
        loop {
            let next = self.dirty.values().min().copied();
            let msg = match next {
                Some(when) => match c.receiver.recv_timeout(when.saturating_duration_since(Instant::now())) {
                    Ok(m) => Some(m),
                    Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => None,
                    Err(_) => return Ok(()),
                },
                None => match c.receiver.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return Ok(()),
                },
            };
            match msg {
                None => self.flush_due(c, Instant::now()),
                Some(Message::Request(req)) => {
                    if c.handle_shutdown(&req).map_err(|e| e.to_string())? {
                        return Ok(());
                    }
                    let resp = self.request(c, req);
                    send(c, Message::Response(resp));
                }
                Some(Message::Notification(n)) => self.notification(c, n),
                Some(Message::Response(_)) => {}
            }
        }
    }

    /// Compiles the policies whose debounce time has come.
    fn flush_due(&mut self, c: &Connection, now: Instant) {
        let due: Vec<PathBuf> = self
            .dirty
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(d, _)| d.clone())
            .collect();
        for dir in due {
            self.refresh(c, &dir);
        }
    }

    /// Compiles one policy now and publishes its diagnostics.
    fn refresh(&mut self, c: &Connection, dir: &Path) {
        self.dirty.remove(dir);
        let Some(p) = self.projects.get_mut(dir) else { return };
        p.analyze();
        let params = p.diagnostics();
        let uris: Vec<String> = params
            .iter()
            .filter_map(|v| v.get("uri").and_then(Value::as_str).map(str::to_owned))
            .collect();
        for gone in p.published.iter().filter(|u| !uris.contains(u)) {
            notify(
                c,
                "textDocument/publishDiagnostics",
                json!({"uri": gone, "diagnostics": []}),
            );
        }
        p.published = uris;
        for v in params {
            notify(c, "textDocument/publishDiagnostics", v);
        }
    }

    /// The policy directory of a `.rules` file's URI, loading the policy if it is new.
    fn project_of(&mut self, uri: &str) -> Option<(PathBuf, PathBuf)> {
        let path = uri_to_path(uri)?;
        if path.extension().is_none_or(|e| e != "rules") {
            return None;
        }
        let dir = path.parent()?.to_path_buf();
        if !self.projects.contains_key(&dir) {
            self.projects.insert(dir.clone(), Project::load(&dir));
            self.dirty.insert(dir.clone(), Instant::now());
        }
        Some((dir, path))
    }

    fn count(&mut self, c: &Connection, dir: &Path) {
        let sample = self.config.sample.clone();
        if let Some(p) = self.projects.get_mut(dir) {
            p.count(sample.as_deref());
            p.counted = true;
        }
        if self.lens_refresh {
            self.next_request += 1;
            let id = RequestId::from(format!("kycrules-lens-{}", self.next_request));
            send(
                c,
                Message::Request(Request::new(id, "workspace/codeLens/refresh".into(), Value::Null)),
            );
        }
    }

    fn notification(&mut self, c: &Connection, n: Notification) {
        let p = &n.params;
        let uri = p
            .pointer("/textDocument/uri")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let text = p.pointer("/textDocument/text").and_then(Value::as_str).unwrap_or("");
                let version = p.pointer("/textDocument/version").and_then(Value::as_i64);
                if let Some((dir, path)) = self.project_of(&uri) {
                    let mut counted = true;
                    if let Some(proj) = self.projects.get_mut(&dir) {
                        proj.set_text(&path, Arc::from(text), version);
                        counted = proj.counted;
                    }
                    self.refresh(c, &dir);
                    if !counted {
                        self.count(c, &dir);
                    }
                }
            }
            "textDocument/didChange" => {
                let text = p
                    .get("contentChanges")
                    .and_then(Value::as_array)
                    .and_then(|changes| changes.last())
                    .and_then(|ch| ch.get("text"))
                    .and_then(Value::as_str);
                let version = p.pointer("/textDocument/version").and_then(Value::as_i64);
                if let (Some(text), Some((dir, path))) = (text, self.project_of(&uri)) {
                    if let Some(proj) = self.projects.get_mut(&dir) {
                        proj.set_text(&path, Arc::from(text), version);
                    }
                    self.dirty.insert(dir, Instant::now() + self.config.debounce);
                }
            }
            "textDocument/didSave" => {
                if let Some((dir, _)) = self.project_of(&uri) {
                    if let Some(proj) = self.projects.get_mut(&dir) {
                        proj.reload_disk();
                    }
                    self.refresh(c, &dir);
                    self.count(c, &dir);
                }
            }
            "textDocument/didClose" => {
                if let Some((dir, path)) = self.project_of(&uri) {
                    let on_disk = kycrules::files::read_file(&path, kycrules::policy::MAX_POLICY_FILE);
                    if let Some(proj) = self.projects.get_mut(&dir) {
                        match on_disk {
                            Ok(text) => proj.set_text(&path, text.into(), None),
                            Err(_) => {
                                proj.files.retain(|f| f.path != path);
                            }
                        }
                    }
                    self.dirty.insert(dir, Instant::now() + self.config.debounce);
                }
            }
            "workspace/didChangeConfiguration" => {
                if let Some(s) = p.get("settings") {
                    self.config.update(s, self.root.as_deref());
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, c: &Connection, req: Request) -> Response {
        let id = req.id.clone();
        match self.answer(c, &req) {
            Ok(v) => Response::new_ok(id, v),
            Err(msg) => Response::new_err(id, ErrorCode::RequestFailed as i32, msg),
        }
    }

    fn answer(&mut self, c: &Connection, req: &Request) -> Result<Value, String> {
        let p = &req.params;
        match req.method.as_str() {
            "workspace/symbol" => {
                let dirs: Vec<PathBuf> = self.dirty.keys().cloned().collect();
                for d in dirs {
                    self.refresh(c, &d);
                }
                let query = p.get("query").and_then(Value::as_str).unwrap_or("");
                return Ok(features::workspace_symbols(self.projects.values(), query));
            }
            "workspace/executeCommand" => {
                let command = p.get("command").and_then(Value::as_str).unwrap_or("");
                if command != "kycrules.runTests" {
                    return Err(format!("unknown command `{command}`"));
                }
                let only = p.pointer("/arguments/0").and_then(Value::as_str).and_then(uri_to_path);
                return Ok(self.run_tests(c, only.as_deref()));
            }
            _ => {}
        }
        let uri = p.pointer("/textDocument/uri").and_then(Value::as_str).unwrap_or("");
        let Some((dir, path)) = self.project_of(uri) else {
            return Ok(Value::Null);
        };
        if self.dirty.contains_key(&dir) {
            self.refresh(c, &dir);
        }
        let Some(project) = self.projects.get(&dir) else {
            return Ok(Value::Null);
        };
        let (Some(analysis), Some((file, state))) = (&project.analysis, project.file(&path)) else {
            return Ok(Value::Null);
        };
        let file = text::to_u32(file);
        let line = p.pointer("/position/line").and_then(Value::as_u64).unwrap_or(0);
        let col = p.pointer("/position/character").and_then(Value::as_u64).unwrap_or(0);
        let offset = state.lines.offset(
            &state.text,
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        );
        let at = At {
            analysis,
            project,
            file,
            state,
            offset: text::to_u32(offset),
        };
        Ok(match req.method.as_str() {
            "textDocument/hover" => features::hover(&at),
            "textDocument/definition" => features::definition(&at),
            "textDocument/references" => {
                let decl = p
                    .pointer("/context/includeDeclaration")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                features::references(&at, decl)
            }
            "textDocument/rename" => {
                let new_name = p.get("newName").and_then(Value::as_str).unwrap_or("");
                features::rename(&at, new_name)?
            }
            "textDocument/completion" => features::completion(&at),
            "textDocument/formatting" => features::formatting(state),
            "textDocument/documentSymbol" => features::document_symbols(analysis, file, state),
            "textDocument/foldingRange" => features::folding(analysis, file, state),
            "textDocument/semanticTokens/full" => features::semantic_tokens(analysis, file, state),
            "textDocument/codeLens" => features::code_lenses(project, analysis, file, state),
            _ => return Err(format!("unsupported request `{}`", req.method)),
        })
    }

    /// Runs the tests of every policy (or of the one in `only`), publishes
    /// their failures as diagnostics on the test files, and returns the counts.
    fn run_tests(&mut self, c: &Connection, only: Option<&Path>) -> Value {
        let dirs: Vec<PathBuf> = self.dirty.keys().cloned().collect();
        for d in dirs {
            self.refresh(c, &d);
        }
        let mut published = BTreeSet::new();
        let (mut passed, mut failed, mut errors) = (0usize, 0usize, 0usize);
        let mut problems: Vec<String> = Vec::new();
        for (dir, project) in &self.projects {
            if only.is_some_and(|o| o != dir) {
                continue;
            }
            let Some(policy) = project.analysis.as_ref().and_then(|a| a.policy.as_ref()) else {
                problems.push(format!("{}: the policy does not compile", dir.display()));
                continue;
            };
            let rs = policy.ruleset();
            let mut per_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            let paths = project::test_paths(dir);
            let names: Vec<(String, PathBuf)> = paths
                .iter()
                .map(|p| (p.to_string_lossy().replace('\\', "/"), p.clone()))
                .collect();
            for (name, _) in &names {
                per_file.insert(name.clone(), Vec::new());
            }
            let diag = |line: usize, message: String| {
                let line = line.saturating_sub(1);
                json!({
                    "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 1000}},
                    "severity": 1,
                    "source": "kycrules test",
                    "message": message,
                })
            };
            match project.test_files(rs) {
                Err(errs) => {
                    for e in errs {
                        errors += 1;
                        let mut message = e.message.clone();
                        if let Some(h) = &e.help {
                            message.push_str(&format!("\nhelp: {h}"));
                        }
                        per_file
                            .entry(e.file.clone())
                            .or_default()
                            .push(diag(e.line.unwrap_or(1), message));
                    }
                }
                Ok(files) => {
                    let report = kycrules::testing::run(rs, &files, kycrules::date::Date::today());
                    for r in &report.results {
                        if r.passed() {
                            passed += 1;
                        } else {
                            failed += 1;
                            per_file
                                .entry(r.file.clone())
                                .or_default()
                                .push(diag(r.line, r.failure_line()));
                        }
                    }
                }
            }
            for (name, diags) in per_file {
                let path = names
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or_else(|| PathBuf::from(&name), |(_, p)| p.clone());
                let uri = path_to_uri(&path);
                notify(
                    c,
                    "textDocument/publishDiagnostics",
                    json!({"uri": uri, "diagnostics": diags}),
                );
                published.insert(uri);
            }
        }
        for gone in self.test_uris.difference(&published) {
            notify(
                c,
                "textDocument/publishDiagnostics",
                json!({"uri": gone, "diagnostics": []}),
            );
        }
        self.test_uris = published;
        json!({"passed": passed, "failed": failed, "errors": errors, "problems": problems})
    }
}

fn send(c: &Connection, m: Message) {
    // The client has gone when this fails; the loop ends on the next receive.
    let _ = c.sender.send(m);
}

fn notify(c: &Connection, method: &str, params: Value) {
    send(c, Message::Notification(Notification::new(method.to_string(), params)));
}
