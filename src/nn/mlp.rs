//! [`Mlp`]: a stack of [`Linear`] layers, one activation between them.

use super::{Init, Linear, LinearPlan, ParamBuilder, ParamStore};
use crate::gpu::Dispatch;
use crate::kernels::bias_act::Activation;
use crate::rng::Rng;
use crate::{Engine, Result, Tensor};

/// A multilayer perceptron `dims[0] -> dims[1] -> ... -> dims[last]`.
#[derive(Debug, Clone)]
pub struct Mlp {
    /// The layers, input first.
    pub layers: Vec<Linear>,
}

impl Mlp {
    /// Declares the layers: `act` after every hidden layer, `final_act` after the last.
    pub fn new(
        params: &mut ParamBuilder,
        name: &str,
        dims: &[usize],
        act: Activation,
        final_act: Activation,
        rng: &mut Rng,
    ) -> Self {
        assert!(dims.len() >= 2, "an MLP needs an input and an output width");
        let n = dims.len() - 1;
        let layers = (0..n)
            .map(|i| {
                let a = if i + 1 == n { final_act } else { act };
                let name = format!("{name}.{i}");
                Linear::new(
                    params,
                    &name,
                    (dims[i], dims[i + 1]),
                    a,
                    true,
                    Init::Default,
                    rng,
                )
            })
            .collect();
        Self { layers }
    }

    /// Wraps layers declared elsewhere (e.g. with a custom last layer).
    pub fn from_layers(layers: Vec<Linear>) -> Self {
        assert!(!layers.is_empty(), "an MLP needs at least one layer");
        Self { layers }
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.layers[0].in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.out_dim)
    }

    /// Plans every layer for input `x [rows, in]`; `dx` as in [`Linear::plan`].
    pub fn plan(
        &self,
        engine: &Engine,
        params: &ParamStore,
        x: &Tensor,
        dx: Option<(&Tensor, bool)>,
    ) -> Result<MlpPlan> {
        let mut plans: Vec<LinearPlan> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let plan = match plans.last() {
                None => layer.plan(engine, params, x, dx)?,
                Some(prev) => layer.plan(engine, params, &prev.y, Some((&prev.dy, false)))?,
            };
            plans.push(plan);
        }
        Ok(MlpPlan { layers: plans })
    }

    /// CPU twin of the forward in f64, reading parameters from `host` (as
    /// [`ParamStore::read_values`] returns them, converted to f64 and indexed by parameter id).
    pub fn cpu_forward(&self, host: &dyn Fn(super::ParamId) -> Vec<f64>, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for l in &self.layers {
            let w = host(l.weight);
            let b = l.bias.map(host);
            h = l.cpu_forward(&w, b.as_deref(), &h);
        }
        h
    }
}

/// An [`Mlp`] planned for one input.
#[derive(Debug)]
pub struct MlpPlan {
    layers: Vec<LinearPlan>,
}

impl MlpPlan {
    /// The output `[rows, out]`.
    pub fn y(&self) -> &Tensor {
        &self.layers.last().expect("at least one layer").y
    }

    /// The output's gradient, written by the consumer before the backward runs.
    pub fn dy(&self) -> &Tensor {
        &self.layers.last().expect("at least one layer").dy
    }

    /// The output of layer `i` (the input of layer `i + 1`).
    pub fn layer_output(&self, i: usize) -> &Tensor {
        &self.layers[i].y
    }

    /// Forward dispatches, first layer first.
    pub fn forward(&self) -> Vec<&Dispatch> {
        self.layers.iter().flat_map(LinearPlan::forward).collect()
    }

    /// Backward dispatches, last layer first.
    pub fn backward(&self) -> Vec<&Dispatch> {
        self.layers
            .iter()
            .rev()
            .flat_map(LinearPlan::backward)
            .collect()
    }
}
