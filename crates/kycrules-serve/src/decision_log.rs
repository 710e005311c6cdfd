//! The decision log: JSON Lines, one line per decision answered, written and
//! synced to disk before the answer leaves.
//!
//! Requests hand their lines to one writer thread and wait. The writer takes
//! every line waiting (a group commit), appends them with one `write`, calls
//! `fdatasync` once for the group, and only then releases the requests. So a
//! decision a client received is on disk, and under load one sync serves many
//! decisions. A failed write or sync answers every request of the group with an
//! error (the service turns it into `503`) and cuts the file back to its last
//! complete line. A file that would grow past `max_bytes` is rotated first:
//! `PATH` becomes `PATH.1`, `PATH.1` becomes `PATH.2`, … up to `keep` files.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Where and how the decision log is written.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub path: PathBuf,
    /// A file is rotated before it would grow past this size.
    pub max_bytes: u64,
    /// Rotated files kept (`PATH.1` … `PATH.keep`); older ones are removed.
    pub keep: usize,
    /// Call `fdatasync` after each group (on by default; off only trusts the
    /// page cache, which survives a killed process but not a power cut).
    pub sync: bool,
}

/// The largest group written at once, in bytes (more waits for the next group).
const MAX_GROUP: usize = 8 << 20;

enum Msg {
    Write(Vec<u8>, oneshot::Sender<Result<(), String>>),
    Close,
}

pub struct DecisionLog {
    tx: Sender<Msg>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl DecisionLog {
    /// Opens (appends to) the log and starts its writer thread.
    pub fn open(config: LogConfig) -> Result<DecisionLog, String> {
        let file = open(&config.path)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let (tx, rx) = channel();
        let mut writer = Writer {
            config,
            file: Some(file),
            len,
        };
        let handle = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| format!("cannot start the decision log writer: {e}"))?;
        Ok(DecisionLog {
            tx,
            writer: Mutex::new(Some(handle)),
        })
    }

    /// Appends complete lines (each ending in `\n`); resolves once they are
    /// written and synced, or with why they could not be.
    pub async fn append(&self, lines: Vec<u8>) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Msg::Write(lines, done))
            .map_err(|_| "the decision log is closed".to_owned())?;
        wait.await
            .unwrap_or_else(|_| Err("the decision log writer stopped".to_owned()))
    }

    /// Writes what is queued, then stops the writer and waits for it.
    pub fn close(&self) {
        let _ = self.tx.send(Msg::Close);
        let handle = self.writer.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// The length of the longest run of whole lines at the start of `group` that fits in `room` bytes.
fn fitting_lines(group: &[u8], room: u64) -> usize {
    let limit = usize::try_from(room).unwrap_or(usize::MAX).min(group.len());
    group[..limit].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
}

fn open(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: cannot open the decision log: {e}", path.display()))
}

struct Writer {
    config: LogConfig,
    file: Option<File>,
    /// The length of the file's complete lines.
    len: u64,
}

impl Writer {
    fn run(&mut self, rx: &Receiver<Msg>) {
        let mut closing = false;
        while !closing {
            let Ok(first) = rx.recv() else { break };
            let mut group = Vec::new();
            let mut waiting = Vec::new();
            let mut take = |m: Msg, group: &mut Vec<u8>| match m {
                Msg::Write(lines, done) => {
                    group.extend_from_slice(&lines);
                    waiting.push(done);
                }
                Msg::Close => closing = true,
            };
            take(first, &mut group);
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(m) => take(m, &mut group),
                    Err(_) => break,
                }
            }
            let result = if group.is_empty() { Ok(()) } else { self.write(&group) };
            if let Err(e) = &result {
                tracing::error!(error = %e, path = %self.config.path.display(), "decision log write failed");
                metrics::counter!("kycrules_decision_log_errors_total").increment(1);
            }
            for done in waiting {
                let _ = done.send(result.clone());
            }
        }
    }

    /// Writes a group, rotating between lines so that no file grows past
    /// `max_bytes` (a single longer line gets a file of its own), then syncs.
    fn write(&mut self, mut group: &[u8]) -> Result<(), String> {
        while !group.is_empty() {
            let room = self.config.max_bytes.saturating_sub(self.len);
            let fits = fitting_lines(group, room);
            let take = match fits {
                0 if self.len > 0 => {
                    self.rotate()
                        .map_err(|e| format!("{}: cannot rotate the decision log: {e}", self.config.path.display()))?;
                    continue;
                }
                0 => group.iter().position(|b| *b == b'\n').map_or(group.len(), |i| i + 1),
                n => n,
            };
            let (part, rest) = group.split_at(take);
            self.append(part, !rest.is_empty())?;
            group = rest;
        }
        Ok(())
    }

    /// Appends complete lines; syncs unless more of the group follows.
    fn append(&mut self, part: &[u8], more: bool) -> Result<(), String> {
        let shown = self.config.path.display().to_string();
        let file = match self.file.as_mut() {
            Some(f) => f,
            None => {
                let f = open(&self.config.path)?;
                self.len = f.metadata().map(|m| m.len()).unwrap_or(0);
                self.file.insert(f)
            }
        };
        let written = file.write_all(part).and_then(|()| {
            if self.config.sync && !more {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        match written {
            Ok(()) => {
                self.len += part.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Cut back to the last complete line; reopen on the next group.
                let _ = file.set_len(self.len);
                self.file = None;
                Err(format!("{shown}: cannot write the decision log: {e}"))
            }
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let path = &self.config.path;
        let numbered = |n: usize| {
            let mut p = path.clone().into_os_string();
            p.push(format!(".{n}"));
            PathBuf::from(p)
        };
        if let Some(f) = self.file.take() {
            f.sync_all()?;
        }
        if self.config.keep == 0 {
            std::fs::remove_file(path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.config.keep));
            for n in (1..self.config.keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))?;
                }
            }
            std::fs::rename(path, numbered(1))?;
        }
        self.file = Some(OpenOptions::new().create(true).append(true).open(path)?);
        self.len = 0;
        Ok(())
    }
}
