//! Loading a policy: files or directories of `.rules` files, or the shipped
//! policy embedded in the binary; then parsing and compiling them.

use crate::compile::{Compiled, compile};
use crate::diag::{self, Diagnostic};
use crate::source::SourceMap;
use std::path::PathBuf;

/// A policy embedded in the binary, with its tests.
#[derive(Debug)]
pub struct Embedded {
    /// How it is named on the command line: `shipped` or `shipped:NAME`.
    pub name: &'static str,
    /// Where it lives in the repository (`rules`, `policies/NAME`).
    pub dir: &'static str,
    /// Its `.rules` files: (path, text), sorted by path.
    pub files: &'static [(&'static str, &'static str)],
    /// The YAML files of its `tests/` folder: (path, text), sorted by path.
    pub tests: &'static [(&'static str, &'static str)],
}

impl Embedded {
    /// Its sources.
    pub fn sources(&self) -> SourceMap {
        let mut map = SourceMap::default();
        for (name, text) in self.files {
            map.add(*name, *text);
        }
        map
    }
}

include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));

/// The largest policy file read.
pub const MAX_POLICY_FILE: u64 = 4 << 20;

/// The shipped policy's sources.
pub fn embedded() -> SourceMap {
    let mut map = SourceMap::default();
    for (name, text) in EMBEDDED {
        map.add(*name, *text);
    }
    map
}

/// Whether a `--policy` value names an embedded policy (`shipped`, `shipped:NAME`)
/// rather than a path. A directory called `shipped` is named `./shipped`.
pub fn is_shipped_name(spec: &str) -> bool {
    spec == "shipped" || spec.starts_with("shipped:")
}

/// The embedded policy named `shipped` or `shipped:NAME`.
pub fn shipped(spec: &str) -> Option<&'static Embedded> {
    POLICIES.iter().find(|p| p.name == spec)
}

/// The error for a `shipped:NAME` that names no embedded policy.
pub fn unknown_shipped(spec: &str) -> Diagnostic {
    let names: Vec<String> = POLICIES.iter().map(|p| format!("`{}`", p.name)).collect();
    Diagnostic::global(diag::READ, format!("no embedded policy `{spec}`"))
        .with_help(format!("the embedded policies are {}", names.join(", ")))
}

/// The prefix that names a shipped policy other than the default: `shipped:NAME`.
pub const SHIPPED_PREFIX: &str = "shipped:";

/// The names of the shipped policies other than the default (`policies/<name>/`), sorted.
pub fn shipped_names() -> Vec<&'static str> {
    POLICIES
        .iter()
        .filter_map(|p| p.name.strip_prefix(SHIPPED_PREFIX))
        .collect()
}

/// The sources of a shipped policy other than the default, by its name.
pub fn embedded_named(name: &str) -> Option<SourceMap> {
    let p = shipped(&format!("{SHIPPED_PREFIX}{name}"))?;
    let mut map = SourceMap::default();
    for (path, text) in p.files {
        map.add(*path, *text);
    }
    Some(map)
}

/// Reads policy files and directories (recursively, `*.rules`, sorted); a
/// path spelled `shipped` or `shipped:NAME` is that embedded policy.
pub fn read(paths: &[PathBuf]) -> (SourceMap, Vec<Diagnostic>) {
    let mut map = SourceMap::default();
    let mut diags = Vec::new();
    for path in paths {
        if let Some(spec) = path.to_str().filter(|s| is_shipped_name(s)) {
            match shipped(spec) {
                Some(p) => {
                    for (name, text) in p.files {
                        map.add(*name, *text);
                    }
                }
                None => diags.push(unknown_shipped(spec)),
            }
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            files = crate::files::collect(path, &["rules"]);
            if files.is_empty() {
                diags.push(
                    Diagnostic::global(diag::READ, format!("no `.rules` files in `{}`", path.display()))
                        .with_help("a policy directory holds files ending in `.rules`"),
                );
            }
        } else {
            files.push(path.clone());
        }
        for f in files {
            let name = f.to_string_lossy().replace('\\', "/");
            match crate::files::read_file(&f, MAX_POLICY_FILE) {
                Ok(text) => {
                    map.add(name, text);
                }
                Err(e) => diags.push(Diagnostic::global(diag::READ, format!("cannot read `{name}`: {e}"))),
            }
        }
    }
    (map, diags)
}

/// The stack the compiler runs on: expressions nest up to
/// [`syntax::MAX_DEPTH`](crate::syntax::MAX_DEPTH) levels, and a debug build's
/// frames are large; a thread of its own keeps any caller's stack safe.
pub const COMPILER_STACK: usize = 256 << 20;

type Job = Box<dyn FnOnce() + Send>;

/// The compiler thread: started on first use and kept for the life of the
/// process, so that a build pays a hand-over (a few microseconds) instead of
/// starting a thread and mapping its stack (some 70 µs of CPU) every time.
/// `None` when no thread could be started.
fn compiler_thread() -> Option<&'static std::sync::mpsc::Sender<Job>> {
    static WORKER: std::sync::OnceLock<Option<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("kycrules-compile".into())
                .stack_size(COMPILER_STACK)
                .spawn(move || rx.into_iter().for_each(|job| job()))
                .ok()
                .map(|_| tx)
        })
        .as_ref()
}

/// Runs `f` on the compiler thread, which has [`COMPILER_STACK`] bytes of
/// stack (reserved, not committed), or on this thread if no thread can be
/// started. Calls from several threads take turns. A panic in `f` (a bug) is
/// passed on to the caller unchanged.
pub fn with_large_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        // The caller waits for this; it cannot be gone.
        let _ = tx.send(result);
    });
    match compiler_thread() {
        Some(worker) => {
            if let Err(std::sync::mpsc::SendError(job)) = worker.send(job) {
                job();
            }
        }
        None => job(),
    }
    match rx.recv() {
        Ok(Ok(v)) => v,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => unreachable_gone(),
    }
}

#[expect(
    clippy::panic,
    reason = "the job always answers: it catches panics, and runs here when the thread is gone"
)]
fn unreachable_gone<T>() -> T {
    panic!("the compiler thread dropped a job")
}

/// Below this many bytes of policy text, parsing on a second thread costs
/// more than it saves (a thread start is some 70 µs; parsing, about 0.25 µs
/// a byte).
const PARALLEL_PARSE_BYTES: usize = 4096;

/// Parses every file of a policy, in the order of `sources`. A policy of
/// several files and [`PARALLEL_PARSE_BYTES`] or more is parsed by two
/// threads, this one and one started for the purpose (with the compiler
/// thread's stack), each taking the largest file not yet taken until none is
/// left, so that start-up waits for about half the parse on two cores. The
/// result is the same either way: each file's parse depends on its text and
/// index only.
fn parse_all(sources: &SourceMap) -> Vec<Parsed> {
    let all = &sources.files;
    let parse = |i: usize| crate::syntax::parse(u32::try_from(i).unwrap_or(u32::MAX), &all[i].text);
    let total: usize = all.iter().map(|f| f.text.len()).sum();
    if all.len() < 2 || total < PARALLEL_PARSE_BYTES {
        return (0..all.len()).map(parse).collect();
    }
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(all[i].text.len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let take = || {
        let mut done = Vec::new();
        while let Some(&i) = order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            done.push((i, parse(i)));
        }
        done
    };
    let mut done = std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .name("kycrules-parse".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(scope, take);
        let mut done = take();
        match second.map(std::thread::ScopedJoinHandle::join) {
            Ok(Ok(theirs)) => done.extend(theirs),
            // A panic while parsing is a bug: passed on as it is.
            Ok(Err(payload)) => std::panic::resume_unwind(payload),
            // No thread could be started: this one has taken every file.
            Err(_) => {}
        }
        done
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, parsed)| parsed).collect()
}

type Parsed = Result<crate::ast::File, Vec<Diagnostic>>;

/// Parses and compiles every file of a policy, reporting all errors at once.
pub fn build(sources: &SourceMap) -> Compiled {
    let sources = sources.clone();
    with_large_stack(move || build_here(&sources))
}

pub(crate) fn build_here(sources: &SourceMap) -> Compiled {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for parsed in parse_all(sources) {
        match parsed {
            Ok(f) => files.push(f),
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        // Compile what parsed too, so name errors elsewhere are reported in the same run;
        // but a missing header or schema in a file that failed to parse is no news.
        let mut compiled = compile(&files, sources);
        compiled.diagnostics.retain(|d| d.span.is_some());
        diags.append(&mut compiled.diagnostics);
        diag::sort(&mut diags);
        return Compiled {
            ruleset: None,
            diagnostics: diags,
        };
    }
    compile(&files, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_on_two_threads_gives_what_one_gives() {
        let mut sources = SourceMap::default();
        let rule = |i: usize| format!("rule r-{i} reject {{ when applicant.age < {i} }}\n");
        for f in 0..6 {
            let mut text: String = (0..40).map(rule).collect();
            if f == 1 || f == 4 {
                // Two files with syntax errors, likely parsed by different threads.
                text.push_str("rule broken reject { when ( }\n");
            }
            sources.add(format!("f{f}.rules"), text);
        }
        assert!(sources.files.iter().map(|f| f.text.len()).sum::<usize>() >= PARALLEL_PARSE_BYTES);
        let two = parse_all(&sources);
        let one: Vec<_> = sources
            .files
            .iter()
            .enumerate()
            .map(|(i, s)| crate::syntax::parse(u32::try_from(i).unwrap_or(0), &s.text))
            .collect();
        assert_eq!(format!("{two:?}"), format!("{one:?}"));
        assert_eq!(two.iter().filter(|r| r.is_err()).count(), 2);
    }
}
