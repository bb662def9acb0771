//! Wrapper for `shaders/mse.wgsl`: mean squared error and its gradient.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "mse.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/mse.wgsl");

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    accumulate: u32,
    scale: f32,
    _pad: u32,
}

fn params(pred: &Tensor, truth: &Tensor, scale: f32, accumulate: bool) -> Result<Params> {
    expect_shape("mse target", truth, pred.shape())?;
    Ok(Params {
        count: as_u32("mse", pred.len())?,
        accumulate: accumulate as u32,
        scale,
        _pad: 0,
    })
}

/// Plans `loss[0] = scale * mean((pred - truth)^2)`; `loss` is `[1]`.
pub fn plan_forward(
    engine: &Engine,
    pred: &Tensor,
    truth: &Tensor,
    loss: &Tensor,
    scale: f32,
) -> Result<Dispatch> {
    let p = params(pred, truth, scale, false)?;
    expect_shape("mse loss", loss, &[1])?;
    let pipeline = engine.pipeline(FILE, SOURCE, "forward")?;
    let uniform = engine.uniform("mse params", &p);
    Ok(Dispatch::new(
        engine,
        "mse",
        pipeline,
        &uniform,
        &[pred, truth, loss],
        [1, 1, 1],
    ))
}

/// Plans `grad = d loss / d pred = scale * 2 (pred - truth) / count` (added when `accumulate`).
pub fn plan_backward(
    engine: &Engine,
    pred: &Tensor,
    truth: &Tensor,
    grad: &Tensor,
    scale: f32,
    accumulate: bool,
) -> Result<Dispatch> {
    let p = params(pred, truth, scale, accumulate)?;
    expect_shape("mse gradient", grad, pred.shape())?;
    let pipeline = engine.pipeline(FILE, SOURCE, "backward")?;
    let uniform = engine.uniform("mse params", &p);
    Ok(Dispatch::new(
        engine,
        "mse_backward",
        pipeline,
        &uniform,
        &[pred, truth, grad],
        grid_1d(groups_for(pred.len(), 256)),
    ))
}

/// CPU twin of the forward.
pub fn cpu_forward(pred: &[f64], truth: &[f64], scale: f64) -> f64 {
    let sum: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t) * (p - t)).sum();
    scale * sum / pred.len().max(1) as f64
}

/// CPU twin of the backward.
pub fn cpu_backward(pred: &[f64], truth: &[f64], scale: f64) -> Vec<f64> {
    let n = pred.len() as f64;
    pred.iter()
        .zip(truth)
        .map(|(p, t)| scale * 2.0 * (p - t) / n)
        .collect()
}
