//! Progress of a long batch on stderr: a bar with ETA when the input's size is
//! known (regular files), a spinner otherwise. Shown only when stderr is a
//! terminal, stdout is not (the report would interleave with the bar on the
//! same screen), `CI` is not set, and the run has lasted a second; otherwise
//! nothing is made, and each record costs one branch. The bar follows the
//! records written, not the bytes the reader has read ahead: each batch of
//! results carries the size of its records.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::{Cell, OnceCell};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a run goes before its progress is shown.
const DELAY: Duration = Duration::from_secs(1);
/// Records between two updates.
const EVERY: u64 = 1024;

pub struct Progress(Option<Live>);

struct Live {
    start: Instant,
    /// The inputs' total size in bytes, when every input is a regular file.
    total: Option<u64>,
    /// Bytes of the records written so far.
    done: Cell<u64>,
    records: Cell<u64>,
    bar: OnceCell<ProgressBar>,
}

/// The total size of the inputs, when each is a regular file.
fn total_size(inputs: &[PathBuf]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |sum, p| {
        if p.as_os_str() == "-" {
            return None;
        }
        let m = std::fs::metadata(p).ok()?;
        m.is_file().then(|| sum.saturating_add(m.len()))
    })
}

impl Progress {
    /// Progress for a run over `inputs`; inert unless stderr is a terminal,
    /// stdout is not, and `CI` is unset.
    pub fn start(inputs: &[PathBuf]) -> Self {
        if !std::io::stderr().is_terminal() || std::io::stdout().is_terminal() || std::env::var_os("CI").is_some() {
            return Progress(None);
        }
        Progress(Some(Live {
            start: Instant::now(),
            total: total_size(inputs),
            done: Cell::new(0),
            records: Cell::new(0),
            bar: OnceCell::new(),
        }))
    }

    /// `n` more records written, `bytes` their size as read.
    pub fn records(&self, n: usize, bytes: u64) {
        if let Some(live) = &self.0 {
            live.done.set(live.done.get().saturating_add(bytes));
            let before = live.records.get();
            let after = before + n as u64;
            live.records.set(after);
            if after / EVERY != before / EVERY {
                live.update();
            }
        }
    }

    /// Runs `f` with the bar hidden, so what `f` writes to the terminal does
    /// not interleave with it.
    pub fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match self.0.as_ref().and_then(|l| l.bar.get()) {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar, if it was shown.
    pub fn finish(&self) {
        if let Some(bar) = self.0.as_ref().and_then(|l| l.bar.get()) {
            bar.finish_and_clear();
        }
    }
}

impl Live {
    fn update(&self) {
        let elapsed = self.start.elapsed();
        if elapsed < DELAY {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let (bar, template) = match self.total {
                Some(len) => (
                    ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()),
                    "{spinner} {msg} [{bar:30}] {percent}% ETA {eta}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                    "{spinner} {msg}",
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let records = self.records.get();
        let rate = records as f64 / elapsed.as_secs_f64().max(1e-3);
        if self.total.is_some() {
            bar.set_position(self.done.get());
        }
        bar.set_message(format!("{records} records, {rate:.0} records/s"));
    }
}
