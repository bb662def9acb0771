//! Wrapper for `shaders/peak_copy.wgsl`: the bandwidth-bound kernel behind the copy ceiling of
//! `remul bench --ceilings`.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "peak_copy.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/peak_copy.wgsl");

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    _pad: [u32; 3],
}

/// Plans `dst = src` for two tensors of the same length, a multiple of 4 floats.
pub fn plan(engine: &Engine, src: &Tensor, dst: &Tensor) -> Result<Dispatch> {
    let n = src.len();
    if !n.is_multiple_of(4) {
        return Err(Error::Shape {
            op: "peak copy",
            expected: "a multiple of 4 floats (vec4 copies)".into(),
            got: n.to_string(),
        });
    }
    expect_shape("peak copy output", dst, &[n])?;
    let p = Params {
        len: as_u32("peak copy", n / 4)?,
        _pad: [0; 3],
    };
    let uniform = engine.uniform("peak copy params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "peak_copy",
        pipeline,
        &uniform,
        &[src, dst],
        grid_1d(groups_for(n / 4, 256)),
    ))
}

/// CPU twin: the copy.
pub fn cpu(src: &[f64]) -> Vec<f64> {
    src.to_vec()
}
