//! remul: train geometric deep-learning models to be approximately E(3)-equivariant on any GPU.

pub mod data;
