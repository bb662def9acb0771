//! Wrapper for `shaders/peak_fma.wgsl`: the arithmetic-bound kernel behind the FMA ceiling of
//! `remul bench --ceilings`.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "peak_fma.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/peak_fma.wgsl");

/// Floating-point operations one invocation performs per round (8 vec4 FMAs).
pub const FLOPS_PER_ROUND: u64 = 64;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    invocations: u32,
    iters: u32,
    _pad: [u32; 2],
}

/// Plans `out.len()` invocations of `iters` rounds each.
pub fn plan(engine: &Engine, out: &Tensor, iters: u32) -> Result<Dispatch> {
    let n = out.len();
    expect_shape("peak fma output", out, &[n])?;
    let p = Params {
        invocations: as_u32("peak fma", n)?,
        iters,
        _pad: [0; 2],
    };
    let uniform = engine.uniform("peak fma params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "peak_fma",
        pipeline,
        &uniform,
        &[out],
        grid_1d(groups_for(n, 256)),
    ))
}

/// CPU twin: what invocation `i` writes after `iters` rounds.
pub fn cpu(i: u32, iters: u32) -> f64 {
    let s = f64::from(i % 7) * 0.125;
    let mut total = 0.0;
    for j in 0..8 {
        for start in [s, 0.1, 0.2, 0.3] {
            let mut a = start + 0.01 * j as f64;
            for _ in 0..iters {
                a = a * 0.999 + 0.001;
            }
            total += a;
        }
    }
    total
}
