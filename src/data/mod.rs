//! Host-side datasets: simulators, `.npy` files, graph batches and their streaming. No GPU
//! types live here; the training loop uploads the [`GraphBatch`]es this module produces.
//!
//! - [`charged`]: the charged N-body dataset of the EGNN paper (simulate, write, load).
//! - [`gravity`]: the gravitational N-body dataset of the GATr paper (simulate, write, load).
//! - [`graph`]: [`GraphSet`], the [`Dataset`] trait and [`GraphBatch`].
//! - [`stream`]: shuffled epochs assembled on a worker thread ([`BatchStream`]).
//! - [`npy`]: the `.npy` reader and writer.
//! - [`cache`]: where generated datasets live, and [`inspect`] for a dataset folder.
//!
//! Every random draw goes through [`Rng`], one stream per sample, so generated data is
//! bit-identical for a given seed whatever the number of threads.
//!
//! A training loop's view of this module:
//!
//! ```no_run
//! use std::sync::Arc;
//! use remul::data::{self, BatchStream, ChargedDataset, LoaderConfig, Split, StreamConfig};
//!
//! # fn main() -> Result<(), data::DataError> {
//! let cache = data::default_cache_dir().expect("no cache folder");
//! let dir = data::ensure_default_charged(&cache, &mut |done, total| {
//!     log::debug!("generated {done} of {total} trajectories");
//! })?;
//! let train = Arc::new(ChargedDataset::load(&dir, Split::Train, &LoaderConfig::default())?);
//! let config = StreamConfig { batch_size: 100, seed: 1, ..StreamConfig::default() };
//! for epoch in 0..10 {
//!     let mut batches = BatchStream::new(train.clone(), &config, epoch)?;
//!     while let Some(batch) = batches.next() {
//!         let batch = batch?;
//!         // upload batch.positions, batch.src, batch.dst_offsets, ... and step
//!         batches.recycle(batch);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod cache;
pub mod charged;
mod error;
pub mod graph;
pub mod gravity;
pub mod npy;
mod parallel;
pub mod stream;

pub use crate::rng::Rng;
pub use cache::{default_cache_dir, ensure_default_charged, inspect, inspect_with, Report};
pub use charged::{
    generate_charged, ChargedConfig, ChargedDataset, ChargedSim, LoaderConfig, Split,
};
pub use error::DataError;
pub use graph::{Dataset, GraphBatch, GraphSet, GraphView};
pub use gravity::{generate_gravity, GravityConfig, GravityDataset, GravitySim, GravitySplit};
pub use stream::{epoch_order, BatchStream, StreamConfig};
