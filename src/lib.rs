//! remul: train geometric deep-learning models to be approximately E(3)-equivariant on any GPU.
//!
//! Layers, from the bottom: [`gpu`] (device, tensors, dispatches), [`kernels`] (one wrapper per
//! WGSL shader, each with a CPU twin), [`nn`] (layers with forward and backward), [`train`]
//! (optimizers and loops). [`data`] builds host-side batches and knows nothing of the GPU.

pub mod bench;
pub mod data;
pub mod error;
pub mod gpu;
pub mod kernels;
pub mod models;
pub mod nn;
pub mod rng;
pub mod train;

pub use error::{Error, Result};
pub use gpu::{Engine, EngineOptions, Tensor};
