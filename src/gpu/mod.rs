//! The GPU context: adapter choice, the device and queue, buffers, dispatches and readback.
//!
//! Everything above this module talks to the GPU through [`Engine`], [`Tensor`] and
//! [`Dispatch`]; nothing here knows about layers or training.

mod counters;
mod dispatch;
mod engine;
mod pool;
mod readback;
mod tensor;

pub use counters::{Counters, CountersSnapshot};
pub use dispatch::{grid_1d, groups_for, Dispatch, MAX_WORKGROUPS_PER_DIM};
pub use engine::{AdapterSummary, Engine, EngineOptions};
pub use pool::{BufferPool, PooledBuffer};
pub use readback::ReadbackRing;
pub use tensor::{DType, Tensor};
