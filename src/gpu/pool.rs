//! Storage buffers recycled by size class, so a training step allocates nothing after warm-up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::Counters;

/// Smallest size class in bytes: also the storage-buffer offset alignment of WebGPU's limits.
const MIN_CLASS_BYTES: u64 = 256;

/// Usage every pooled buffer has: read and written by kernels, copied to and from.
const STORAGE_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

type FreeLists = Mutex<HashMap<u64, Vec<wgpu::Buffer>>>;

/// A pool of storage buffers keyed by power-of-two size class.
///
/// A buffer goes back to its free list when the last [`PooledBuffer`] handle to it drops.
#[derive(Debug, Clone)]
pub struct BufferPool {
    device: wgpu::Device,
    free: Arc<FreeLists>,
    counters: Arc<Counters>,
}

/// One buffer on loan from a [`BufferPool`]; returned to it on drop.
#[derive(Debug)]
pub struct PooledBuffer {
    buffer: Option<wgpu::Buffer>,
    class: u64,
    home: Weak<FreeLists>,
}

impl BufferPool {
    pub(crate) fn new(device: wgpu::Device, counters: Arc<Counters>) -> Self {
        Self {
            device,
            free: Arc::default(),
            counters,
        }
    }

    /// The size class a request of `bytes` is served from.
    pub fn class_of(bytes: u64) -> u64 {
        bytes.max(MIN_CLASS_BYTES).next_power_of_two()
    }

    /// A buffer of at least `bytes`, reused when one of its class is free. Contents are undefined.
    pub fn take(&self, bytes: u64) -> PooledBuffer {
        let class = Self::class_of(bytes);
        let reused = self
            .free
            .lock()
            .expect("buffer pool lock poisoned")
            .get_mut(&class)
            .and_then(Vec::pop);
        let buffer = reused.unwrap_or_else(|| {
            self.counters.buffer_allocation();
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("remul pooled storage"),
                size: class,
                usage: STORAGE_USAGE,
                mapped_at_creation: false,
            })
        });
        PooledBuffer {
            buffer: Some(buffer),
            class,
            home: Arc::downgrade(&self.free),
        }
    }

    /// Number of idle buffers held, over all classes.
    pub fn idle_buffers(&self) -> usize {
        self.free
            .lock()
            .expect("buffer pool lock poisoned")
            .values()
            .map(Vec::len)
            .sum()
    }
}

impl PooledBuffer {
    /// The underlying wgpu buffer.
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.buffer
            .as_ref()
            .expect("pooled buffer present until drop")
    }

    /// Its capacity in bytes (the size class).
    pub fn capacity(&self) -> u64 {
        self.class
    }
}

impl Drop for PooledBuffer {
    fn drop(&mut self) {
        let (Some(buffer), Some(home)) = (self.buffer.take(), self.home.upgrade()) else {
            return;
        };
        let Ok(mut free) = home.lock() else {
            return;
        };
        free.entry(self.class).or_default().push(buffer);
    }
}
