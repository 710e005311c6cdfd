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

/// How many records a group holds (see [`groups`]): a worker's unit of work.
pub const GROUP: usize = 64;
/// How many groups are handed to the workers together: 4096 records.
pub const CHUNK: usize = 64;
/// The most bytes of input one chunk holds (besides its first item, which
/// may be larger): with [`AHEAD`] chunks queued, one at work and one being
/// written, input held in memory stays under about 32 MiB whatever the size of
/// the records (a record may have up to 1 MiB).
pub const CHUNK_BYTES: usize = 8 << 20;

/// How many bytes of input an item holds, for chunking by size.
pub trait Weight {
    fn weight(&self) -> usize;
}

impl Weight for crate::input::Unit {
    fn weight(&self) -> usize {
        self.size()
    }
}

impl<T: Weight> Weight for Vec<T> {
    fn weight(&self) -> usize {
        self.iter().map(Weight::weight).sum()
    }
}

impl Weight for crate::input::InputRecord {
    /// Parsed already: counted by number only.
    fn weight(&self) -> usize {
        0
    }
}

/// Each worker thread's stack (reserved, not committed).
pub const WORKER_STACK: usize = 32 << 20;
/// How many chunks the reader may read ahead of the workers.
pub const AHEAD: usize = 2;

/// The items in groups of at most `n` (and about [`CHUNK_BYTES`] / [`CHUNK`]
/// bytes), so that a worker's result (a block of output) is one allocation
/// per group rather than one per record.
pub fn groups<T>(
    items: impl Iterator<Item = T> + Send + 'static,
    n: usize,
) -> impl Iterator<Item = Vec<T>> + Send + 'static
where
    T: Weight + Send + 'static,
{
    let mut items = items.peekable();
    std::iter::from_fn(move || {
        let group = take_weighed(&mut items, n, CHUNK_BYTES / CHUNK);
        (!group.is_empty()).then_some(group)
    })
}

/// Up to `n` items, stopping early once they weigh `max_bytes` (at least one).
fn take_weighed<T: Weight>(
    items: &mut std::iter::Peekable<impl Iterator<Item = T>>,
    n: usize,
    max_bytes: usize,
) -> Vec<T> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    while out.len() < n.max(1) {
        if !out.is_empty()
            && items
                .peek()
                .is_some_and(|next| bytes.saturating_add(next.weight()) > max_bytes)
        {
            break;
        }
        let Some(item) = items.next() else { break };
        bytes = bytes.saturating_add(item.weight());
        out.push(item);
    }
    out
}

/// Runs `work` over `items` on `jobs` worker threads (default: one per core),
/// `chunk` items at a time, calling `sink` with each result in input order
/// until it returns `false`. Each worker keeps a scratch state made by `init`,
/// reused between items.
pub fn ordered<T, R, S>(
    items: impl Iterator<Item = T> + Send + 'static,
    chunk: usize,
    jobs: Option<usize>,
    init: impl Fn() -> S + Sync + Send,
    work: impl Fn(&mut S, T) -> R + Sync + Send,
    mut sink: impl FnMut(R) -> bool,
) -> Result<(), String>
where
    T: Weight + Send + 'static,
    R: Send,
{
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        // Evaluation recurses as deep as a policy's expressions and lets nest
        // (bounded by the compiler); leave it ample room in a debug build too.
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let (tx, rx) = mpsc::sync_channel::<Vec<T>>(AHEAD);
    // Not joined: when the sink stops early (a closed pipe), the reader may be
    // blocked on an endless stdin; it ends with the process.
    std::thread::Builder::new()
        .name("kycrules-reader".into())
        .spawn(move || {
            let mut items = items.peekable();
            loop {
                let chunk: Vec<T> = take_weighed(&mut items, chunk, CHUNK_BYTES);
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

#[cfg(test)]
mod weighing {
    use super::*;

    struct Blob(usize);

    impl Weight for Blob {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn chunks_stop_at_their_byte_budget_but_hold_at_least_one_item() {
        let mut items = [3usize, 3, 3, 10, 1].into_iter().map(Blob).peekable();
        let sizes = |v: Vec<Blob>| v.iter().map(|b| b.0).collect::<Vec<_>>();
        assert_eq!(sizes(take_weighed(&mut items, 100, 7)), [3, 3]);
        assert_eq!(sizes(take_weighed(&mut items, 100, 7)), [3]);
        assert_eq!(
            sizes(take_weighed(&mut items, 100, 7)),
            [10],
            "an oversized item goes alone"
        );
        assert_eq!(sizes(take_weighed(&mut items, 100, 7)), [1]);
        assert!(take_weighed(&mut items, 100, 7).is_empty());
        let mut many = (0..10).map(|_| Blob(0)).peekable();
        assert_eq!(take_weighed(&mut many, 4, 7).len(), 4, "and at most n items");
    }
}
