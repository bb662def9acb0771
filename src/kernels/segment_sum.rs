//! Wrapper for `shaders/segment_sum.wgsl`: edge rows summed (or averaged) into nodes over CSR
//! offsets, deterministically and without atomics; plus [`source_csr`], the offsets over
//! edge sources that the backward of a gather to sources needs.

use super::{BlockParams, Cols};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "segment_sum.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/segment_sum.wgsl");

/// Plans `dst[i] (+)= sum (or mean) of src[perm[k]] for k in offsets[i]..offsets[i + 1]`
/// over the chosen columns, for every row `i` of `dst` (`src[k]` without `perm`).
///
/// `offsets` is u32 `[dst rows + 1]`, non-decreasing; `perm` is u32 `[offsets[last]]`.
/// A node without edges gets 0 (sum and mean alike).
pub fn plan(
    engine: &Engine,
    src: Cols<'_>,
    offsets: &Tensor,
    perm: Option<&Tensor>,
    dst: Cols<'_>,
    mean: bool,
    accumulate: bool,
) -> Result<Dispatch> {
    let rows = dst.rows();
    dst.check("segment sum output", None)?;
    src.check("segment sum input", None)?;
    super::expect_shape("segment sum offsets", offsets, &[rows + 1])?;
    if let Some(perm) = perm {
        super::expect_shape("segment sum permutation", perm, &[src.rows()])?;
    }
    let flags = u32::from(perm.is_some()) | (u32::from(accumulate) << 1) | (u32::from(mean) << 2);
    let p = BlockParams::new("segment sum", src, dst, flags)?;
    let placeholder;
    let perm = match perm {
        Some(perm) => perm,
        None => {
            placeholder = engine.empty_u32(&[1]);
            &placeholder
        }
    };
    let uniform = engine.uniform("segment sum params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "segment_sum",
        pipeline,
        &uniform,
        &[src.tensor, offsets, perm, dst.tensor],
        grid_1d(groups_for(rows * dst.width, 256)),
    ))
}

/// CPU twin: segment sums (or means) of `src` rows into `dst` rows, as the kernel computes
/// them, on row-major matrices with `src_stride` and `dst_stride` columns.
#[allow(clippy::too_many_arguments)]
pub fn cpu(
    src: &[f64],
    (src_stride, src_col): (usize, usize),
    offsets: &[u32],
    perm: Option<&[u32]>,
    dst: &mut [f64],
    (dst_stride, dst_col): (usize, usize),
    width: usize,
    (mean, accumulate): (bool, bool),
) {
    for i in 0..offsets.len() - 1 {
        let (first, last) = (offsets[i] as usize, offsets[i + 1] as usize);
        for c in 0..width {
            let mut sum = 0.0;
            for k in first..last {
                let row = perm.map_or(k, |p| p[k] as usize);
                sum += src[row * src_stride + src_col + c];
            }
            if mean && last > first {
                sum /= (last - first) as f64;
            }
            let to = &mut dst[i * dst_stride + dst_col + c];
            *to = if accumulate { *to + sum } else { sum };
        }
    }
}

/// CSR over edge sources for `nodes` nodes: `(offsets [nodes + 1], perm [edges])` with the
/// edges leaving node `i` at `perm[offsets[i]..offsets[i + 1]]`, in increasing edge order.
pub fn source_csr(src: &[u32], nodes: usize) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; nodes + 1];
    for &s in src {
        offsets[s as usize + 1] += 1;
    }
    for i in 0..nodes {
        offsets[i + 1] += offsets[i];
    }
    let mut next: Vec<u32> = offsets[..nodes].to_vec();
    let mut perm = vec![0u32; src.len()];
    for (k, &s) in src.iter().enumerate() {
        perm[next[s as usize] as usize] = k as u32;
        next[s as usize] += 1;
    }
    (offsets, perm)
}
