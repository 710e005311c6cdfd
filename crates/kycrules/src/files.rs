//! Reading the files a command is given: bounded in size, UTF-8 only, and
//! directories walked recursively in sorted order (deterministic output).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The files under `dir` (recursively) whose extension is one of `extensions`,
/// sorted by path. Unreadable and hidden (`.name`) entries are skipped.
/// Symbolic links to directories are not followed (a link loop cannot hang a
/// command), and a file reached twice (a link to a file already found) is
/// listed once.
pub fn collect(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, extensions, &mut out, 0);
    out.sort();
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out
}

/// Directories nest at most this deep.
const MAX_DIR_DEPTH: usize = 64;

fn walk(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>, depth: usize) {
    if depth > MAX_DIR_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        // Hidden entries are skipped: editors' temporary files, and the
        // `..data` links through which Kubernetes mounts a ConfigMap (walked,
        // they would read every file twice).
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // The entry's own type: a link is a link, not what it points to.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, extensions, out, depth + 1);
        } else if (ft.is_file() || (ft.is_symlink() && path.is_file()))
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
        {
            out.push(path);
        }
    }
}

/// Reads at most `max` bytes of UTF-8 text; more is an error, never a truncation.
pub fn read_text(reader: impl Read, max: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("it has more than {max} bytes, the most a file may have here"));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// [`read_text`] of a file.
pub fn read_file(path: &Path, max: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    read_text(file, max)
}
