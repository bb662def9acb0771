//! Epochs of graph batches, assembled on a worker thread while the caller uses the previous
//! one (a bounded channel of `prefetch` batches between them).
//!
//! The order of an epoch is a permutation fixed by `(seed, epoch)`, so a run can be resumed
//! at any epoch and gives the same batches. Uploading batches to the GPU is not done here.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::{DataError, Dataset, GraphBatch, Rng};

/// How an epoch is cut into batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamConfig {
    /// Graphs per batch.
    pub batch_size: usize,
    /// Seed of the per-epoch shuffles.
    pub seed: u64,
    /// Shuffle each epoch; `false` keeps dataset order (for evaluation).
    pub shuffle: bool,
    /// Drop the last batch when it has fewer than `batch_size` graphs.
    pub drop_last: bool,
    /// Batches prepared ahead of the one in use (the channel's capacity), at least 1.
    pub prefetch: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            batch_size: 100,
            seed: 0,
            shuffle: true,
            drop_last: false,
            prefetch: 2,
        }
    }
}

impl StreamConfig {
    /// Batches in one epoch over `len` graphs.
    pub fn batches_per_epoch(&self, len: usize) -> usize {
        if self.batch_size == 0 {
            0
        } else if self.drop_last {
            len / self.batch_size
        } else {
            len.div_ceil(self.batch_size)
        }
    }
}

/// Stream id that keeps epoch shuffles apart from the simulators' sample streams.
const SHUFFLE_STREAM: u64 = 0x5348_5546_464c_4521;

/// The order in which epoch `epoch` visits `len` graphs: a permutation fixed by
/// `(seed, epoch)`, or `0..len` when `shuffle` is false.
pub fn epoch_order(len: usize, seed: u64, epoch: u64, shuffle: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    if shuffle {
        Rng::for_sample(seed, SHUFFLE_STREAM, epoch).shuffle(&mut order);
    }
    order
}

/// An iterator over the batches of one epoch, built on a worker thread.
///
/// Dropping the stream early stops the worker. Batches handed back with
/// [`recycle`](BatchStream::recycle) lend their allocations to later batches.
pub struct BatchStream {
    batches: Option<Receiver<Result<GraphBatch, DataError>>>,
    recycled: Sender<GraphBatch>,
    worker: Option<JoinHandle<()>>,
    remaining: usize,
}

impl BatchStream {
    /// Starts assembling the batches of epoch `epoch` of `dataset`.
    pub fn new<D>(dataset: Arc<D>, config: &StreamConfig, epoch: u64) -> Result<Self, DataError>
    where
        D: Dataset + ?Sized + 'static,
    {
        if config.batch_size == 0 {
            return Err(DataError::Config("batch_size must be at least 1".into()));
        }
        let order = epoch_order(dataset.len(), config.seed, epoch, config.shuffle);
        let remaining = config.batches_per_epoch(order.len());
        let batch_size = config.batch_size;
        let (tx, rx): (SyncSender<Result<GraphBatch, DataError>>, _) =
            mpsc::sync_channel(config.prefetch.max(1));
        let (recycle_tx, recycle_rx) = mpsc::channel::<GraphBatch>();
        let worker = std::thread::Builder::new()
            .name("remul-batches".into())
            .spawn(move || {
                for indices in order.chunks(batch_size).take(remaining) {
                    let mut batch = recycle_rx.try_recv().unwrap_or_default();
                    let result = dataset.batch_into(indices, &mut batch).map(|()| batch);
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
            })
            .map_err(|e| DataError::io("<batch worker thread>", e))?;
        Ok(BatchStream {
            batches: Some(rx),
            recycled: recycle_tx,
            worker: Some(worker),
            remaining,
        })
    }

    /// Hands a used batch back so that a later batch reuses its allocations.
    pub fn recycle(&self, batch: GraphBatch) {
        // The worker may have finished; then the batch is simply dropped.
        let _ = self.recycled.send(batch);
    }

    fn finish(&mut self) {
        self.batches = None;
        if let Some(worker) = self.worker.take() {
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

impl Iterator for BatchStream {
    type Item = Result<GraphBatch, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            self.finish();
            return None;
        }
        match self.batches.as_ref()?.recv() {
            Ok(result) => {
                self.remaining = if result.is_ok() {
                    self.remaining - 1
                } else {
                    0
                };
                Some(result)
            }
            Err(_) => {
                // The worker ended before its last batch: only a panic does that.
                self.remaining = 0;
                self.finish();
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for BatchStream {}

impl Drop for BatchStream {
    fn drop(&mut self) {
        self.batches = None;
        if let Some(worker) = self.worker.take() {
            // A worker panic was already reported by the panic hook; do not panic in drop.
            let _ = worker.join();
        }
    }
}
