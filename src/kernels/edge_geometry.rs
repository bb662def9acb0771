//! Wrapper for `shaders/edge_geometry.wgsl` and `shaders/edge_geometry_backward.wgsl`: per-edge
//! difference vectors `x_i - x_j` and squared distances (EGNN's geometry), and the gradient of
//! the positions they came from.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape, Cols};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Forward shader file name.
pub const FILE: &str = "edge_geometry.wgsl";
/// Forward shader source.
pub const SOURCE: &str = include_str!("../../shaders/edge_geometry.wgsl");
/// Backward shader file name.
pub const BACKWARD_FILE: &str = "edge_geometry_backward.wgsl";
/// Backward shader source.
pub const BACKWARD_SOURCE: &str = include_str!("../../shaders/edge_geometry_backward.wgsl");

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    sq_stride: u32,
    sq_col: u32,
    flags: u32,
}

/// Plans `diff[k] = x[dst[k]] - x[src[k]]` (`[edges, 3]`) and `sq[k] = |diff[k]|^2` (one
/// column of `sq`) for positions `x [nodes, 3]`.
pub fn plan(
    engine: &Engine,
    x: &Tensor,
    src: &Tensor,
    dst: &Tensor,
    diff: &Tensor,
    sq: Cols<'_>,
) -> Result<Dispatch> {
    let edges = src.len();
    expect_shape("edge geometry x", x, &[x.len() / 3, 3])?;
    expect_shape("edge geometry dst", dst, &[edges])?;
    expect_shape("edge geometry diff", diff, &[edges, 3])?;
    sq.check("edge geometry squared distances", Some(edges))?;
    let p = Params {
        count: as_u32("edge geometry", edges)?,
        sq_stride: as_u32("edge geometry", sq.stride())?,
        sq_col: as_u32("edge geometry", sq.first)?,
        flags: 0,
    };
    let uniform = engine.uniform("edge geometry params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "edge_geometry",
        pipeline,
        &uniform,
        &[x, src, dst, diff, sq.tensor],
        grid_1d(groups_for(edges, 256)),
    ))
}

/// The graph's CSR structure that the backward walks: edges into each node (`dst_offsets`)
/// and out of each node (`src_offsets` over `src_perm`).
#[derive(Debug, Clone, Copy)]
pub struct Adjacency<'a> {
    /// First incoming edge of each node plus the total, u32 `[nodes + 1]`.
    pub dst_offsets: &'a Tensor,
    /// First outgoing edge of each node in `src_perm` plus the total, u32 `[nodes + 1]`.
    pub src_offsets: &'a Tensor,
    /// Edge ids ordered by source, u32 `[edges]`.
    pub src_perm: &'a Tensor,
}

/// Plans `dx (+)= d(positions)` from `d_diff [edges, 3]` (if any) and `d_sq` (one column),
/// given the forward's `diff`.
pub fn plan_backward(
    engine: &Engine,
    diff: &Tensor,
    d_diff: Option<&Tensor>,
    d_sq: Cols<'_>,
    graph: Adjacency<'_>,
    dx: &Tensor,
    accumulate: bool,
) -> Result<Dispatch> {
    let edges = diff.len() / 3;
    let nodes = dx.len() / 3;
    expect_shape("edge geometry backward diff", diff, &[edges, 3])?;
    expect_shape("edge geometry backward dx", dx, &[nodes, 3])?;
    if let Some(d) = d_diff {
        expect_shape("edge geometry backward d_diff", d, &[edges, 3])?;
    }
    d_sq.check("edge geometry backward d_sq", Some(edges))?;
    expect_shape("edge geometry dst offsets", graph.dst_offsets, &[nodes + 1])?;
    expect_shape("edge geometry src offsets", graph.src_offsets, &[nodes + 1])?;
    expect_shape("edge geometry src perm", graph.src_perm, &[edges])?;
    let p = Params {
        count: as_u32("edge geometry backward", nodes)?,
        sq_stride: as_u32("edge geometry backward", d_sq.stride())?,
        sq_col: as_u32("edge geometry backward", d_sq.first)?,
        flags: u32::from(d_diff.is_some()) | (u32::from(accumulate) << 1),
    };
    let placeholder;
    let d_diff = match d_diff {
        Some(d) => d,
        None => {
            placeholder = engine.empty(&[1]);
            &placeholder
        }
    };
    let uniform = engine.uniform("edge geometry backward params", &p);
    let pipeline = engine.pipeline(BACKWARD_FILE, BACKWARD_SOURCE, "main")?;
    Ok(Dispatch::new(
        engine,
        "edge_geometry_backward",
        pipeline,
        &uniform,
        &[
            diff,
            d_diff,
            d_sq.tensor,
            graph.dst_offsets,
            graph.src_offsets,
            graph.src_perm,
            dx,
        ],
        grid_1d(groups_for(nodes, 64)),
    ))
}

/// CPU twin of the forward: `(diff [edges * 3], sq [edges])`.
pub fn cpu(x: &[f64], src: &[u32], dst: &[u32]) -> (Vec<f64>, Vec<f64>) {
    let mut diff = Vec::with_capacity(3 * src.len());
    let mut sq = Vec::with_capacity(src.len());
    for (&j, &i) in src.iter().zip(dst) {
        let d: Vec<f64> = (0..3)
            .map(|c| x[3 * i as usize + c] - x[3 * j as usize + c])
            .collect();
        sq.push(d.iter().map(|v| v * v).sum());
        diff.extend(d);
    }
    (diff, sq)
}

/// CPU twin of the backward: the gradient of the positions `[nodes * 3]` from `d_diff`
/// (`[edges * 3]`, or none) and `d_sq [edges]`.
pub fn cpu_backward(
    diff: &[f64],
    d_diff: Option<&[f64]>,
    d_sq: &[f64],
    src: &[u32],
    dst: &[u32],
    nodes: usize,
) -> Vec<f64> {
    let mut dx = vec![0.0; 3 * nodes];
    for k in 0..src.len() {
        for c in 0..3 {
            let g = 2.0 * d_sq[k] * diff[3 * k + c] + d_diff.map_or(0.0, |d| d[3 * k + c]);
            dx[3 * dst[k] as usize + c] += g;
            dx[3 * src[k] as usize + c] -= g;
        }
    }
    dx
}
