//! Wrapper for `shaders/remul_loss.wgsl`: the task loss and the equivariance loss of REMUL
//! training on a doubled batch, and the gradient of `w_task * L_task + w_equi * L_equi`.

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};

use super::{as_u32, expect_shape};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Result, Tensor};

/// Shader file name.
pub const FILE: &str = "remul_loss.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/remul_loss.wgsl");

/// Which equivariance loss the second copy of the batch carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// No equivariance term; the batch has one copy.
    None,
    /// `|f(Rx + t) - (R y + t)|^2`: the transformed copy against transformed targets.
    #[default]
    Label,
    /// `|f(Rx + t) - (R f(x) + t)|^2`, with gradients through both copies.
    Consistency,
}

impl Form {
    fn code(self) -> u32 {
        match self {
            Form::None => 0,
            Form::Label => 1,
            Form::Consistency => 2,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    nodes: u32,
    form: u32,
    _pad: [u32; 2],
}

/// The buffers both passes read.
#[derive(Debug, Clone, Copy)]
pub struct LossInputs<'a> {
    /// Model output `[copies * nodes, 3]`.
    pub output: &'a Tensor,
    /// Targets `[copies * nodes, 3]` (copy 1 already transformed).
    pub targets: &'a Tensor,
    /// Per-graph transforms `[graphs, 12]`: R row-major, then t.
    pub transforms: &'a Tensor,
    /// Graph of each node, u32; the first `nodes` entries (copy 0) index `transforms`.
    pub node_graph: &'a Tensor,
    /// Nodes per copy.
    pub nodes: usize,
    /// The equivariance loss.
    pub form: Form,
}

impl LossInputs<'_> {
    fn params(&self) -> Result<Params> {
        let copies = if self.form == Form::None { 1 } else { 2 };
        expect_shape("remul loss output", self.output, &[copies * self.nodes, 3])?;
        expect_shape("remul loss targets", self.targets, self.output.shape())?;
        Ok(Params {
            nodes: as_u32("remul loss", self.nodes)?,
            form: self.form.code(),
            _pad: [0; 2],
        })
    }
}

/// Plans `losses = [L_task, L_equi]` (`losses` is `[2]`).
pub fn plan_losses(engine: &Engine, inputs: LossInputs<'_>, losses: &Tensor) -> Result<Dispatch> {
    let p = inputs.params()?;
    expect_shape("remul losses", losses, &[2])?;
    let uniform = engine.uniform("remul loss params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "losses")?;
    Ok(Dispatch::new(
        engine,
        "remul_losses",
        pipeline,
        &uniform,
        &[
            inputs.output,
            inputs.targets,
            inputs.transforms,
            inputs.node_graph,
            losses,
        ],
        [1, 1, 1],
    ))
}

/// Plans the gradients: `d_task`, `d_equi` (of the unweighted losses) and
/// `d_output = weights[0] * d_task + weights[1] * d_equi`, all shaped like the output.
pub fn plan_grads(
    engine: &Engine,
    inputs: LossInputs<'_>,
    weights: &Tensor,
    d_output: &Tensor,
    d_task: &Tensor,
    d_equi: &Tensor,
) -> Result<Dispatch> {
    let p = inputs.params()?;
    expect_shape("remul loss weights", weights, &[2])?;
    for t in [d_output, d_task, d_equi] {
        expect_shape("remul loss gradient", t, inputs.output.shape())?;
    }
    let uniform = engine.uniform("remul loss params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "grads")?;
    Ok(Dispatch::new(
        engine,
        "remul_grads",
        pipeline,
        &uniform,
        &[
            inputs.output,
            inputs.targets,
            inputs.transforms,
            inputs.node_graph,
            d_output,
            weights,
            d_task,
            d_equi,
        ],
        grid_1d(groups_for(inputs.nodes, 64)),
    ))
}

/// CPU twin of both passes: `([L_task, L_equi], d_task, d_equi)`, in f64.
///
/// `output`, `targets`: `[copies * nodes * 3]`; `transforms`: `[graphs * 12]`;
/// `node_graph`: copy 0's graph of each node.
pub fn cpu(
    output: &[f64],
    targets: &[f64],
    transforms: &[f64],
    node_graph: &[u32],
    nodes: usize,
    form: Form,
) -> ([f64; 2], Vec<f64>, Vec<f64>) {
    let count = (nodes * 3).max(1) as f64;
    let mut d_task = vec![0.0; output.len()];
    let mut d_equi = vec![0.0; output.len()];
    let mut losses = [0.0; 2];
    for i in 0..nodes {
        let row = |a: &[f64], r: usize| [a[r * 3], a[r * 3 + 1], a[r * 3 + 2]];
        let (o0, y0) = (row(output, i), row(targets, i));
        for c in 0..3 {
            let d = o0[c] - y0[c];
            losses[0] += d * d / count;
            d_task[i * 3 + c] = 2.0 * d / count;
        }
        if form == Form::None {
            continue;
        }
        let o1 = row(output, nodes + i);
        let t = &transforms[node_graph[i] as usize * 12..][..12];
        let want = match form {
            Form::Label => row(targets, nodes + i),
            _ => std::array::from_fn(|r| {
                (0..3).map(|c| t[r * 3 + c] * o0[c]).sum::<f64>() + t[9 + r]
            }),
        };
        let resid: [f64; 3] = std::array::from_fn(|c| o1[c] - want[c]);
        for c in 0..3 {
            losses[1] += resid[c] * resid[c] / count;
            d_equi[(nodes + i) * 3 + c] = 2.0 * resid[c] / count;
        }
        if form == Form::Consistency {
            for c in 0..3 {
                d_equi[i * 3 + c] = -(0..3)
                    .map(|r| t[r * 3 + c] * 2.0 * resid[r] / count)
                    .sum::<f64>();
            }
        }
    }
    (losses, d_task, d_equi)
}
