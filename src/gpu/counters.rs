//! Counts of the engine's GPU traffic, so tests can hold a training step to its budget.

use std::sync::atomic::{AtomicU64, Ordering};

/// Running totals of submits, dispatches, uploads, blocking readbacks and buffer allocations.
#[derive(Debug, Default)]
pub struct Counters {
    submits: AtomicU64,
    dispatches: AtomicU64,
    uploads: AtomicU64,
    blocking_readbacks: AtomicU64,
    buffer_allocations: AtomicU64,
}

/// A copy of [`Counters`] at one moment; subtract two to count what happened between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountersSnapshot {
    /// `queue.submit` calls.
    pub submits: u64,
    /// Compute dispatches recorded.
    pub dispatches: u64,
    /// `queue.write_buffer` calls.
    pub uploads: u64,
    /// Readbacks that waited for the GPU.
    pub blocking_readbacks: u64,
    /// New `wgpu::Buffer`s created (pool misses included).
    pub buffer_allocations: u64,
}

impl Counters {
    pub(crate) fn submit(&self) {
        self.submits.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn dispatch(&self, n: u64) {
        self.dispatches.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn upload(&self) {
        self.uploads.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn blocking_readback(&self) {
        self.blocking_readbacks.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn buffer_allocation(&self) {
        self.buffer_allocations.fetch_add(1, Ordering::Relaxed);
    }

    /// The totals now.
    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            submits: self.submits.load(Ordering::Relaxed),
            dispatches: self.dispatches.load(Ordering::Relaxed),
            uploads: self.uploads.load(Ordering::Relaxed),
            blocking_readbacks: self.blocking_readbacks.load(Ordering::Relaxed),
            buffer_allocations: self.buffer_allocations.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for CountersSnapshot {
    type Output = CountersSnapshot;
    fn sub(self, rhs: Self) -> Self {
        CountersSnapshot {
            submits: self.submits - rhs.submits,
            dispatches: self.dispatches - rhs.dispatches,
            uploads: self.uploads - rhs.uploads,
            blocking_readbacks: self.blocking_readbacks - rhs.blocking_readbacks,
            buffer_allocations: self.buffer_allocations - rhs.buffer_allocations,
        }
    }
}
