//! Runs per-sample work on scoped threads in chunks, handing finished chunks back to the
//! calling thread in whatever order they finish. Results depend only on the sample index,
//! so output is identical for any thread count.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Resolves a thread count: 0 means every available core.
pub(crate) fn resolve_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Calls `work` on consecutive ranges of `0..count` (at most `chunk` long) on `threads`
/// worker threads, and `consume` on the calling thread with each range and its result.
/// Stops handing out new ranges once `consume` returns an error, and returns that error.
pub(crate) fn for_each_chunk<R, E, W, C>(
    count: usize,
    chunk: usize,
    threads: usize,
    work: W,
    mut consume: C,
) -> Result<(), E>
where
    R: Send,
    W: Fn(Range<usize>) -> R + Sync,
    C: FnMut(Range<usize>, R) -> Result<(), E>,
{
    let chunk = chunk.max(1);
    let chunks = count.div_ceil(chunk);
    let threads = resolve_threads(threads).min(chunks.max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(Range<usize>, R)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                if c >= chunks {
                    break;
                }
                let range = c * chunk..((c + 1) * chunk).min(count);
                if tx.send((range.clone(), work(range))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (range, result) in rx {
            if let Err(e) = consume(range, result) {
                // Workers stop at their next chunk; the receiver is dropped on return.
                next.store(chunks, Ordering::Relaxed);
                return Err(e);
            }
        }
        Ok(())
    })
}
