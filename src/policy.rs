//! Loading a policy: files or directories of `.rules` files, or the shipped
//! policy embedded in the binary; then parsing and compiling them.

use crate::compile::{Compiled, compile};
use crate::diag::{self, Diagnostic};
use crate::source::SourceMap;
use std::path::PathBuf;

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

/// Reads policy files and directories (recursively, `*.rules`, sorted).
pub fn read(paths: &[PathBuf]) -> (SourceMap, Vec<Diagnostic>) {
    let mut map = SourceMap::default();
    let mut diags = Vec::new();
    for path in paths {
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

/// Runs `f` on a thread with [`COMPILER_STACK`] bytes of stack (reserved, not
/// committed), or on this thread if no thread can be started. A panic in `f`
/// (a bug) is passed on to the caller unchanged.
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().ok().and_then(|mut g| g.take());
    std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("kycrules-compile".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(s, || take().map(|f| f()));
        match spawned.map(|h| h.join()) {
            Ok(Ok(Some(v))) => Some(v),
            Ok(Err(payload)) => std::panic::resume_unwind(payload),
            Ok(Ok(None)) | Err(_) => None,
        }
    })
    .or_else(|| take().map(|f| f()))
    .unwrap_or_else(|| unreachable_none())
}

#[expect(
    clippy::panic,
    reason = "`f` runs exactly once, on the thread or here; it cannot be gone twice"
)]
fn unreachable_none<T>() -> T {
    panic!("the compiler closure was taken twice")
}

/// Parses and compiles every file of a policy, reporting all errors at once.
pub fn build(sources: &SourceMap) -> Compiled {
    with_large_stack(|| build_here(sources))
}

pub(crate) fn build_here(sources: &SourceMap) -> Compiled {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    for (i, src) in sources.files.iter().enumerate() {
        match crate::syntax::parse(u32::try_from(i).unwrap_or(u32::MAX), &src.text) {
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
