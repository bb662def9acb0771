//! Wrapper for `shaders/reduce.wgsl`: deterministic row and column sums of a matrix.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, matrix};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "reduce.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/reduce.wgsl");

/// Which dimension a sum runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Sum over rows: `[rows, cols] -> [cols]`.
    Rows,
    /// Sum over columns: `[rows, cols] -> [rows]`.
    Cols,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    rows: u32,
    cols: u32,
    accumulate: u32,
    _pad: u32,
}

/// Plans `out = sum of x over axis` (added to `out` when `accumulate`).
pub fn plan_sum(
    engine: &Engine,
    x: &Tensor,
    out: &Tensor,
    axis: Axis,
    accumulate: bool,
) -> Result<Dispatch> {
    let (rows, cols) = matrix("sum", x)?;
    let p = Params {
        rows: as_u32("sum", rows)?,
        cols: as_u32("sum", cols)?,
        accumulate: accumulate as u32,
        _pad: 0,
    };
    let uniform = engine.uniform("reduce params", &p);
    let (entry, len, grid) = match axis {
        Axis::Rows => ("sum_rows", cols, [groups_for(cols, 16), 1, 1]),
        Axis::Cols => ("sum_cols", rows, grid_1d(groups_for(rows, 256))),
    };
    expect_shape("sum output", out, &[len])?;
    let pipeline = engine.pipeline(FILE, SOURCE, entry)?;
    Ok(Dispatch::new(
        engine,
        entry,
        pipeline,
        &uniform,
        &[x, out],
        grid,
    ))
}

/// CPU twin: the sums of `x [rows, cols]` over `axis`.
pub fn cpu_sum(x: &[f64], rows: usize, cols: usize, axis: Axis) -> Vec<f64> {
    match axis {
        Axis::Rows => (0..cols)
            .map(|j| (0..rows).map(|i| x[i * cols + j]).sum())
            .collect(),
        Axis::Cols => (0..rows)
            .map(|i| x[i * cols..(i + 1) * cols].iter().sum())
            .collect(),
    }
}
