//! Batch processing: a stream of work items, handled in parallel chunks,
//! with results delivered in input order.
//!
//! ```text
//! reader thread ── chunks of `chunk` items ─(bounded channel)─▶ rayon pool: one task per chunk
//!                                                                └▶ calling thread: sink(result), in order
//! ```
//! A worker takes the next chunk as soon as it is done with one (no barrier
//! between chunks), and the calling thread hands a chunk's results on as soon
//! as those of every earlier chunk have been: reading, working and writing
//! overlap, and memory stays bounded by the chunks in flight
//! ([`IN_FLIGHT_PER_WORKER`] per worker, as many queued), whatever the input's
//! length.

use std::collections::VecDeque;
use std::sync::{Mutex, mpsc};

/// How many records a group holds (see [`groups`]): a worker's unit of work.
pub const GROUP: usize = 64;
/// How many groups a task of `check` takes: two (128 records, about 50 KB of
/// input and 80 KB of output; fewer hand-offs than one, little more memory).
pub const CHUNK: usize = 2;
/// The most bytes of input one chunk holds (besides its first item, which
/// may be larger, a record having up to 1 MiB).
pub const CHUNK_BYTES: usize = 128 << 10;

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
/// The fewest chunks in flight, whatever the number of workers.
pub const AHEAD: usize = 2;

/// The items in groups of at most `n` (and about [`CHUNK_BYTES`] bytes), so that a worker's result (a block of output) is one allocation
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
        let group = take_weighed(&mut items, n, CHUNK_BYTES);
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

/// How many chunks may be at work or waiting to be handed on, per worker
/// thread (and as many queued by the reader): enough that no worker waits for
/// a slow neighbour's chunk, few enough that memory stays small.
pub const IN_FLIGHT_PER_WORKER: usize = 4;

/// Runs `work` over `items` on `jobs` worker threads (default: one per core),
/// `chunk` items per task, calling `sink` with each result in input order
/// until it returns `false`. Each worker keeps a scratch state made by `init`,
/// reused between items. With `jobs` = 1, everything runs on this thread in
/// turn (read a chunk, work, hand on): one core's work, without the hand-offs
/// between a reader, a worker and this thread.
///
/// There is no barrier between chunks: a worker takes the next chunk as soon
/// as it is done with one, and this thread hands each result on as soon as
/// every earlier one has been; at most [`IN_FLIGHT_PER_WORKER`] chunks per
/// worker are at work or waiting for an earlier one, and as many are queued
/// by the reader.
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
    S: Send,
{
    if jobs == Some(1) {
        let mut state = init();
        let mut items = items.peekable();
        loop {
            let chunk: Vec<T> = take_weighed(&mut items, chunk, CHUNK_BYTES);
            if chunk.is_empty() {
                return Ok(());
            }
            for item in chunk {
                if !sink(work(&mut state, item)) {
                    return Ok(());
                }
            }
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        // Evaluation recurses as deep as a policy's expressions and lets nest
        // (bounded by the compiler); leave it ample room in a debug build too.
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let window = pool
        .current_num_threads()
        .saturating_mul(IN_FLIGHT_PER_WORKER)
        .max(AHEAD);
    let (tx, rx) = mpsc::sync_channel::<Vec<T>>(window);
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
    // Scratch states not in use; a task takes one (or makes one) and puts it back.
    let spare: Mutex<Vec<S>> = Mutex::new(Vec::new());
    let (init, work, spare) = (&init, &work, &spare);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Option<Vec<R>>)>();
    pool.in_place_scope(|s| {
        let (mut started, mut next) = (0usize, 0usize);
        // The results of chunks `next..started` that are done, by position.
        let mut ready: VecDeque<Option<Vec<R>>> = VecDeque::new();
        let (mut read_all, mut stopped) = (false, false);
        loop {
            while !read_all && !stopped && started - next < window {
                let Ok(chunk) = rx.recv() else {
                    read_all = true;
                    break;
                };
                let done = Done {
                    tx: done_tx.clone(),
                    seq: started,
                    out: None,
                };
                s.spawn(move |_| {
                    let mut done = done; // the whole guard, not only its field
                    let mut state = spare.lock().ok().and_then(|mut v| v.pop()).unwrap_or_else(init);
                    done.out = Some(chunk.into_iter().map(|t| work(&mut state, t)).collect());
                    if let Ok(mut v) = spare.lock() {
                        v.push(state);
                    }
                });
                started += 1;
            }
            if next == started {
                break;
            }
            let Ok((seq, out)) = done_rx.recv() else { break };
            let Some(out) = out else {
                // A task failed (it panicked: the scope raises it again).
                stopped = true;
                next += 1;
                continue;
            };
            let at = seq.saturating_sub(next);
            while ready.len() <= at {
                ready.push_back(None);
            }
            if let Some(slot) = ready.get_mut(at) {
                *slot = Some(out);
            }
            while ready.front().is_some_and(Option::is_some) {
                let out = ready.pop_front().flatten().unwrap_or_default();
                next += 1;
                if !stopped {
                    stopped = !out.into_iter().all(&mut sink);
                }
            }
        }
    });
    Ok(())
}

/// A task's results, sent to the calling thread when the task ends — with
/// `None` if it ended by a panic, so the calling thread never waits for it.
struct Done<R> {
    tx: mpsc::Sender<(usize, Option<Vec<R>>)>,
    seq: usize,
    out: Option<Vec<R>>,
}

impl<R> Drop for Done<R> {
    fn drop(&mut self) {
        let _ = self.tx.send((self.seq, self.out.take()));
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod order {
    use super::*;

    struct Item(usize);

    impl Weight for Item {
        fn weight(&self) -> usize {
            0
        }
    }

    #[test]
    fn results_come_in_input_order_whatever_each_item_costs() {
        for jobs in [1, 2, 3] {
            let mut got = Vec::new();
            let work = |calls: &mut usize, Item(i): Item| {
                *calls += 1;
                // Every seventh item is slow, so later chunks finish first.
                if i % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                i * 10
            };
            let items = (0..500).map(Item);
            ordered(
                items,
                3,
                Some(jobs),
                || 0usize,
                work,
                |r| {
                    got.push(r);
                    true
                },
            )
            .unwrap();
            assert_eq!(got, (0..500).map(|i| i * 10).collect::<Vec<_>>(), "{jobs} workers");
        }
    }

    #[test]
    fn the_sink_is_not_called_again_once_it_says_stop() {
        for jobs in [1, 2] {
            let mut calls = 0;
            let items = (0..10_000).map(Item);
            ordered(
                items,
                2,
                Some(jobs),
                || (),
                |_: &mut (), Item(i)| i,
                |i| {
                    calls += 1;
                    i < 100
                },
            )
            .unwrap();
            assert_eq!(
                calls, 101,
                "items 0 to 100, and none after the refusal ({jobs} workers)"
            );
        }
    }

    #[test]
    fn one_job_works_on_the_calling_thread_with_one_scratch_state() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let here = std::thread::current().id();
        let inits = AtomicUsize::new(0);
        let mut got = Vec::new();
        ordered(
            (0..50).map(Item),
            4,
            Some(1),
            || inits.fetch_add(1, Ordering::Relaxed),
            |_: &mut usize, Item(i)| (std::thread::current().id(), i),
            |r| {
                got.push(r);
                true
            },
        )
        .unwrap();
        assert_eq!(inits.load(Ordering::Relaxed), 1, "one scratch state");
        assert!(got.iter().all(|(t, _)| *t == here), "all on this thread");
        assert_eq!(got.iter().map(|r| r.1).collect::<Vec<_>>(), (0..50).collect::<Vec<_>>());
    }
}
