//! [`Linear`]: `y = act(x W + b)` on `[rows, in] -> [rows, out]`, forward and backward on the GPU.

use super::{ParamBuilder, ParamId, ParamStore};
use crate::gpu::Dispatch;
use crate::kernels::bias_act::{self, Activation};
use crate::kernels::matmul::{self, Layout};
use crate::kernels::reduce::{self, Axis};
use crate::rng::Rng;
use crate::{Engine, Result, Tensor};

/// A dense layer: weight `[in, out]`, optional bias `[out]`, then an activation.
#[derive(Debug, Clone)]
pub struct Linear {
    /// Weight parameter, `[in, out]`.
    pub weight: ParamId,
    /// Bias parameter, `[out]`, if the layer has one.
    pub bias: Option<ParamId>,
    /// Input width.
    pub in_dim: usize,
    /// Output width.
    pub out_dim: usize,
    /// Activation after the affine map.
    pub act: Activation,
}

/// How a layer's initial weights are drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weight and bias uniform in `±1/sqrt(in)`.
    Default,
    /// Xavier-uniform weight, `±gain * sqrt(6 / (in + out))`, zero bias.
    XavierUniform {
        /// Scale on the Xavier bound.
        gain: f64,
    },
}

impl Linear {
    /// Declares a layer's parameters in `params`, drawing initial values from `rng`.
    pub fn new(
        params: &mut ParamBuilder,
        name: &str,
        (in_dim, out_dim): (usize, usize),
        act: Activation,
        bias: bool,
        init: Init,
        rng: &mut Rng,
    ) -> Self {
        let (w_bound, b_bound) = match init {
            Init::Default => {
                let b = 1.0 / (in_dim.max(1) as f64).sqrt();
                (b, b)
            }
            Init::XavierUniform { gain } => {
                (gain * (6.0 / (in_dim + out_dim).max(1) as f64).sqrt(), 0.0)
            }
        };
        let mut draw = |n: usize, bound: f64| -> Vec<f32> {
            (0..n)
                .map(|_| rng.uniform_in(-bound, bound) as f32)
                .collect()
        };
        let w = draw(in_dim * out_dim, w_bound);
        let weight = params.add(format!("{name}.weight"), &[in_dim, out_dim], w);
        let bias = bias.then(|| {
            let b = draw(out_dim, b_bound);
            params.add(format!("{name}.bias"), &[out_dim], b)
        });
        Self {
            weight,
            bias,
            in_dim,
            out_dim,
            act,
        }
    }

    /// Plans forward and backward for input `x [rows, in]`, allocating every buffer once.
    ///
    /// `dx` is where the backward writes the input's gradient (added to it when the flag is
    /// set, for inputs that feed several layers); `None` skips that product.
    pub fn plan(
        &self,
        engine: &Engine,
        params: &ParamStore,
        x: &Tensor,
        dx: Option<(&Tensor, bool)>,
    ) -> Result<LinearPlan> {
        let rows = x.shape()[0];
        let w = params.value(self.weight);
        let dw = params.grad(self.weight);
        let z = engine.empty(&[rows, self.out_dim]);
        let dy = engine.empty(&[rows, self.out_dim]);
        let mut forward = vec![matmul::plan(engine, x, &w, &z, Layout::NN, false)?];
        let mut backward = Vec::new();

        // A bias-free layer with an activation still runs the fused kernel, on a zero bias.
        let (b, db) = match self.bias {
            Some(id) => (params.value(id), params.grad(id)),
            None if self.act != Activation::Identity => {
                (engine.zeros(&[self.out_dim]), engine.empty(&[self.out_dim]))
            }
            None => (engine.empty(&[0]), engine.empty(&[0])),
        };

        let (y, dz) = if self.act == Activation::Identity {
            if self.bias.is_some() {
                forward.push(bias_act::plan_forward(engine, &z, &b, None, self.act)?);
                backward.push(reduce::plan_sum(engine, &dy, &db, Axis::Rows, false)?);
            }
            (z.clone(), dy.clone())
        } else {
            let y = engine.empty(&[rows, self.out_dim]);
            let dz = engine.empty(&[rows, self.out_dim]);
            forward.push(bias_act::plan_forward(engine, &z, &b, Some(&y), self.act)?);
            backward.push(bias_act::plan_backward(
                engine, &z, &dy, &dz, &db, self.act, false,
            )?);
            (y, dz)
        };

        backward.push(matmul::plan(engine, x, &dz, &dw, Layout::TN, false)?);
        if let Some((dx, accumulate)) = dx {
            backward.push(matmul::plan(engine, &dz, &w, dx, Layout::NT, accumulate)?);
        }
        Ok(LinearPlan {
            y,
            dy,
            forward,
            backward,
        })
    }

    /// CPU twin of the forward in f64: `act(x W + b)` for `x [rows, in]`.
    pub fn cpu_forward(&self, w: &[f64], b: Option<&[f64]>, x: &[f64]) -> Vec<f64> {
        let rows = x.len() / self.in_dim.max(1);
        let z = matmul::cpu(
            x,
            [rows, self.in_dim],
            w,
            [self.in_dim, self.out_dim],
            Layout::NN,
        );
        let zero = vec![0.0; self.out_dim];
        bias_act::cpu_forward(&z, b.unwrap_or(&zero), self.act).1
    }
}

/// A [`Linear`] planned for one input: its buffers and dispatches.
#[derive(Debug)]
pub struct LinearPlan {
    /// Output `[rows, out]`, written by the forward.
    pub y: Tensor,
    /// Gradient of the objective with respect to `y`: whoever consumes `y` writes it.
    pub dy: Tensor,
    forward: Vec<Dispatch>,
    backward: Vec<Dispatch>,
}

impl LinearPlan {
    /// Forward dispatches, in order.
    pub fn forward(&self) -> impl Iterator<Item = &Dispatch> {
        self.forward.iter()
    }

    /// Backward dispatches, in order (reads `dy`, writes parameter gradients and `dx`).
    pub fn backward(&self) -> impl Iterator<Item = &Dispatch> {
        self.backward.iter()
    }
}
