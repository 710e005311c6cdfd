//! Batch processing: a stream of work items, handled in parallel chunks,
//! with results delivered in input order.
//!
//! ```text
//! reader thread ── chunks of CHUNK items ─(bounded channel)─▶ rayon pool: work(item)
//!                                                              └▶ calling thread: sink(result), in order
//! ```
//! The reader runs ahead by at most [`AHEAD`] chunks, and the calling thread
//! hands the results of one chunk to the sink while the pool works on the
//! next: reading, working and writing overlap, and memory stays bounded
//! whatever the input's length.

use rayon::prelude::*;
use std::sync::mpsc;

/// How many items are handed to the workers together.
pub const CHUNK: usize = 4096;
/// How many chunks the reader may read ahead of the workers.
pub const AHEAD: usize = 2;

/// Runs `work` over `items` on `jobs` worker threads (default: one per core),
/// calling `sink` with each result in input order until it returns `false`.
/// Each worker keeps a scratch state made by `init`, reused between items.
pub fn ordered<T, R, S>(
    items: impl Iterator<Item = T> + Send + 'static,
    jobs: Option<usize>,
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, T) -> R + Sync + Send,
    mut sink: impl FnMut(R) -> bool,
) -> Result<(), String>
where
    T: Send + 'static,
    R: Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let (tx, rx) = mpsc::sync_channel::<Vec<T>>(AHEAD);
    // Not joined: when the sink stops early (a closed pipe), the reader may be
    // blocked on an endless stdin; it ends with the process.
    std::thread::Builder::new()
        .name("kycrules-reader".into())
        .spawn(move || {
            let mut items = items;
            loop {
                let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
                if chunk.is_empty() || tx.send(chunk).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("cannot start the reader thread: {e}"))?;
    let (init, work) = (&init, &work);
    let mut pending: Vec<R> = Vec::new();
    loop {
        let chunk = rx.recv().ok();
        let done = chunk.is_none();
        let mut next: Vec<R> = Vec::new();
        let mut stopped = false;
        pool.in_place_scope(|s| {
            if let Some(chunk) = chunk {
                let next = &mut next;
                s.spawn(move |_| *next = chunk.into_par_iter().map_init(init, work).collect());
            }
            // Meanwhile, this thread hands on the previous chunk's results.
            stopped = !pending.drain(..).all(&mut sink);
        });
        if stopped || done {
            return Ok(());
        }
        pending = next;
    }
}
