//! Wrapper for `shaders/coord_update.wgsl` and `shaders/coord_update_backward.wgsl`: EGNN's
//! position update `x_i + mean_j clamp((x_i - x_j) phi_x(m_ij), -100, 100) + phi_v(h_i) v_i`,
//! and its backward.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, Cols};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Forward shader file name.
pub const FILE: &str = "coord_update.wgsl";
/// Forward shader source.
pub const SOURCE: &str = include_str!("../../shaders/coord_update.wgsl");
/// Backward shader file name.
pub const BACKWARD_FILE: &str = "coord_update_backward.wgsl";
/// Backward shader source.
pub const BACKWARD_SOURCE: &str = include_str!("../../shaders/coord_update_backward.wgsl");

/// Each component of an edge's `diff * phi_x` is clamped to `±CLAMP`, as in the EGNN authors'
/// code, so that a near-collision cannot throw a node across the system.
pub const CLAMP: f64 = 100.0;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    nodes: u32,
    a_stride: u32,
    a_col: u32,
    b_stride: u32,
    b_col: u32,
    c_stride: u32,
    c_col: u32,
    _pad: u32,
}

fn check_common(
    op: &'static str,
    x: &Tensor,
    diff: &Tensor,
    phi_x: Cols<'_>,
    dst_offsets: &Tensor,
    v: &Tensor,
) -> Result<(usize, usize)> {
    let nodes = x.len() / 3;
    let edges = diff.len() / 3;
    expect_shape(op, x, &[nodes, 3])?;
    expect_shape(op, diff, &[edges, 3])?;
    expect_shape(op, dst_offsets, &[nodes + 1])?;
    expect_shape(op, v, &[nodes, 3])?;
    phi_x.check(op, Some(edges))?;
    Ok((nodes, edges))
}

/// Plans `x_out = x_in + mean over incoming edges of clamp(diff * phi_x) + phi_v * v`.
///
/// `diff [edges, 3]` are the edge differences of `x_in` (edges sorted by destination,
/// `dst_offsets` their CSR), `phi_x` one column per edge, `phi_v` one column per node.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    engine: &Engine,
    x_in: &Tensor,
    diff: &Tensor,
    phi_x: Cols<'_>,
    dst_offsets: &Tensor,
    v: &Tensor,
    phi_v: Cols<'_>,
    x_out: &Tensor,
) -> Result<Dispatch> {
    let (nodes, _) = check_common("coord update", x_in, diff, phi_x, dst_offsets, v)?;
    phi_v.check("coord update phi_v", Some(nodes))?;
    expect_shape("coord update output", x_out, &[nodes, 3])?;
    let op = "coord update";
    let p = Params {
        nodes: as_u32(op, nodes)?,
        a_stride: as_u32(op, phi_x.stride())?,
        a_col: as_u32(op, phi_x.first)?,
        b_stride: as_u32(op, phi_v.stride())?,
        b_col: as_u32(op, phi_v.first)?,
        c_stride: 0,
        c_col: 0,
        _pad: 0,
    };
    let uniform = engine.uniform("coord update params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "coord_update",
        pipeline,
        &uniform,
        &[
            x_in,
            diff,
            phi_x.tensor,
            dst_offsets,
            v,
            phi_v.tensor,
            x_out,
        ],
        grid_1d(groups_for(nodes, 64)),
    ))
}

/// Plans the backward from `dx_out`: writes `d_diff [edges, 3]`, `d_phi_x` and `d_phi_v`
/// (one column each). The gradient of `x_in` is `dx_out` itself; the caller adds it.
#[allow(clippy::too_many_arguments)]
pub fn plan_backward(
    engine: &Engine,
    dx_out: &Tensor,
    diff: &Tensor,
    phi_x: Cols<'_>,
    dst_offsets: &Tensor,
    v: &Tensor,
    d_diff: &Tensor,
    d_phi_x: Cols<'_>,
    d_phi_v: Cols<'_>,
) -> Result<Dispatch> {
    let op = "coord update backward";
    let (nodes, edges) = check_common(op, dx_out, diff, phi_x, dst_offsets, v)?;
    expect_shape(op, d_diff, &[edges, 3])?;
    d_phi_x.check(op, Some(edges))?;
    d_phi_v.check(op, Some(nodes))?;
    let p = Params {
        nodes: as_u32(op, nodes)?,
        a_stride: as_u32(op, phi_x.stride())?,
        a_col: as_u32(op, phi_x.first)?,
        b_stride: as_u32(op, d_phi_x.stride())?,
        b_col: as_u32(op, d_phi_x.first)?,
        c_stride: as_u32(op, d_phi_v.stride())?,
        c_col: as_u32(op, d_phi_v.first)?,
        _pad: 0,
    };
    let uniform = engine.uniform("coord update backward params", &p);
    let pipeline = engine.pipeline(BACKWARD_FILE, BACKWARD_SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "coord_update_backward",
        pipeline,
        &uniform,
        &[
            dx_out,
            diff,
            phi_x.tensor,
            dst_offsets,
            v,
            d_diff,
            d_phi_x.tensor,
            d_phi_v.tensor,
        ],
        grid_1d(groups_for(nodes, 64)),
    ))
}

/// CPU twin of the forward, with `phi_x [edges]` and `phi_v [nodes]` as plain vectors.
pub fn cpu(
    x_in: &[f64],
    diff: &[f64],
    phi_x: &[f64],
    dst_offsets: &[u32],
    v: &[f64],
    phi_v: &[f64],
) -> Vec<f64> {
    let nodes = dst_offsets.len() - 1;
    let mut out = vec![0.0; 3 * nodes];
    for i in 0..nodes {
        let (first, last) = (dst_offsets[i] as usize, dst_offsets[i + 1] as usize);
        for c in 0..3 {
            let mut agg: f64 = (first..last)
                .map(|k| (diff[3 * k + c] * phi_x[k]).clamp(-CLAMP, CLAMP))
                .sum();
            if last > first {
                agg /= (last - first) as f64;
            }
            out[3 * i + c] = x_in[3 * i + c] + agg + phi_v[i] * v[3 * i + c];
        }
    }
    out
}

/// CPU twin of the backward: `(d_diff [edges * 3], d_phi_x [edges], d_phi_v [nodes])`.
pub fn cpu_backward(
    dx_out: &[f64],
    diff: &[f64],
    phi_x: &[f64],
    dst_offsets: &[u32],
    v: &[f64],
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let nodes = dst_offsets.len() - 1;
    let edges = phi_x.len();
    let (mut d_diff, mut d_phi_x) = (vec![0.0; 3 * edges], vec![0.0; edges]);
    let mut d_phi_v = vec![0.0; nodes];
    for i in 0..nodes {
        d_phi_v[i] = (0..3).map(|c| dx_out[3 * i + c] * v[3 * i + c]).sum();
        let (first, last) = (dst_offsets[i] as usize, dst_offsets[i + 1] as usize);
        for k in first..last {
            for c in 0..3 {
                let u = diff[3 * k + c] * phi_x[k];
                let g = if u.abs() <= CLAMP {
                    dx_out[3 * i + c] / (last - first) as f64
                } else {
                    0.0
                };
                d_diff[3 * k + c] = g * phi_x[k];
                d_phi_x[k] += g * diff[3 * k + c];
            }
        }
    }
    (d_diff, d_phi_x, d_phi_v)
}
