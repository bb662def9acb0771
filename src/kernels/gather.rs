//! Wrapper for `shaders/gather.wgsl`: rows of one matrix copied (or added) into columns of
//! another, optionally through an index (node rows to edges, concatenation, residuals).

use super::{BlockParams, Cols};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "gather.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/gather.wgsl");

/// Plans `dst[r] (+)= src[index[r]]` over the chosen columns, for every row `r` of `dst`
/// (`src[r]` without an index; then `src` and `dst` have as many rows).
///
/// `index` is a u32 tensor `[dst rows]` of rows of `src`; `accumulate` adds instead of
/// overwriting. `src` and `dst` must be different buffers.
pub fn plan(
    engine: &Engine,
    src: Cols<'_>,
    index: Option<&Tensor>,
    dst: Cols<'_>,
    accumulate: bool,
) -> Result<Dispatch> {
    let rows = dst.rows();
    dst.check("gather output", None)?;
    src.check("gather input", index.is_none().then_some(rows))?;
    if let Some(ix) = index {
        super::expect_shape("gather index", ix, &[rows])?;
    }
    let flags = u32::from(index.is_some()) | (u32::from(accumulate) << 1);
    let p = BlockParams::new("gather", src, dst, flags)?;
    let placeholder;
    let index = match index {
        Some(ix) => ix,
        None => {
            placeholder = engine.empty_u32(&[1]);
            &placeholder
        }
    };
    let uniform = engine.uniform("gather params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "gather",
        pipeline,
        &uniform,
        &[src.tensor, index, dst.tensor],
        grid_1d(groups_for(rows * dst.width, 256)),
    ))
}

/// CPU twin: `dst[r, dst_col..] (+)= src[index[r] or r, src_col..]` on row-major matrices
/// with `src_stride` and `dst_stride` columns.
pub fn cpu(
    src: &[f64],
    (src_stride, src_col): (usize, usize),
    index: Option<&[u32]>,
    dst: &mut [f64],
    (dst_stride, dst_col): (usize, usize),
    width: usize,
    accumulate: bool,
) {
    let rows = dst.len() / dst_stride.max(1);
    for r in 0..rows {
        let from = index.map_or(r, |ix| ix[r] as usize);
        for c in 0..width {
            let v = src[from * src_stride + src_col + c];
            let to = &mut dst[r * dst_stride + dst_col + c];
            *to = if accumulate { *to + v } else { v };
        }
    }
}
