//! Layers built from the kernels: each plans its buffers and dispatches once for a given input,
//! then a step only records them. Forward and backward are written by hand, per layer, and
//! checked against finite differences of an f64 CPU objective in the tests.

mod linear;
mod mlp;
mod params;

pub use linear::{Init, Linear, LinearPlan};
pub use mlp::{Mlp, MlpPlan};
pub use params::{HostParam, ParamBuilder, ParamId, ParamStore};
