//! Wrapper for `shaders/adam.wgsl`: one fused Adam / AdamW step over a flat parameter buffer.

use bytemuck::{Pod, Zeroable};

use super::{as_u32, expect_shape};
use crate::gpu::{grid_1d, groups_for, Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "adam.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/adam.wgsl");

/// Adam's hyperparameters (PyTorch's defaults but for the learning rate).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f32,
    /// Decay of the first-moment average.
    pub beta1: f32,
    /// Decay of the second-moment average.
    pub beta2: f32,
    /// Added to the denominator for stability.
    pub eps: f32,
    /// Weight decay: an L2 term in the gradient (Adam) or a decoupled shrink (AdamW).
    pub weight_decay: f32,
    /// AdamW (decoupled weight decay) instead of Adam.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// Errors naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, detail: String| {
            Err(Error::InvalidValue {
                what: format!("optimizer.{what}"),
                detail,
            })
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("{} (expected a finite value > 0)", self.lr));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(name, format!("{b} (expected 0 <= beta < 1)"));
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("eps", format!("{} (expected a finite value > 0)", self.eps));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "weight_decay",
                format!("{} (expected >= 0)", self.weight_decay),
            );
        }
        Ok(())
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    decoupled: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    bias1: f32,
    bias2: f32,
    _pad: [u32; 3],
}

impl Params {
    fn new(count: u32, c: &AdamConfig, step: u32, lr: f32) -> Self {
        Self {
            count,
            decoupled: c.decoupled as u32,
            lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            bias1: 1.0 - (c.beta1 as f64).powi(step as i32) as f32,
            bias2: 1.0 - (c.beta2 as f64).powi(step as i32) as f32,
            _pad: [0; 3],
        }
    }
}

/// A planned Adam step over one flat parameter buffer, with its moment buffers.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    count: u32,
    step: u32,
    uniform: wgpu::Buffer,
    dispatch: Dispatch,
    m: Tensor,
    v: Tensor,
}

impl Adam {
    /// Allocates zeroed moments for `param` and plans the update from `grad`.
    pub fn new(engine: &Engine, param: &Tensor, grad: &Tensor, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        expect_shape("adam gradient", grad, param.shape())?;
        let count = as_u32("adam", param.len())?;
        let m = engine.zeros(param.shape());
        let v = engine.zeros(param.shape());
        let uniform = engine.uniform("adam params", &Params::new(count, &config, 1, config.lr));
        let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
        let dispatch = Dispatch::new(
            engine,
            "adam",
            pipeline,
            &uniform,
            &[param, grad, &m, &v],
            grid_1d(groups_for(param.len(), 256)),
        );
        Ok(Self {
            config,
            count,
            step: 0,
            uniform,
            dispatch,
            m,
            v,
        })
    }

    /// Advances the step count and writes this step's learning rate and bias corrections; call
    /// once before recording [`Adam::dispatch`] in a step's command buffer.
    pub fn prepare_step(&mut self, engine: &Engine, lr: f32) {
        self.step += 1;
        engine.update_uniform(
            &self.uniform,
            &Params::new(self.count, &self.config, self.step, lr),
        );
    }

    /// The update dispatch.
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Steps taken so far.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// Resets the step count (when moments are restored from a checkpoint).
    pub fn set_step(&mut self, step: u32) {
        self.step = step;
    }

    /// First and second moment buffers, for checkpoints.
    pub fn moments(&self) -> (&Tensor, &Tensor) {
        (&self.m, &self.v)
    }

    /// The configuration.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

/// CPU twin: one step in place on `param`, `m`, `v` (step counts from 1).
pub fn cpu_step(
    param: &mut [f64],
    grad: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    c: &AdamConfig,
    step: u32,
) {
    let (b1, b2) = (c.beta1 as f64, c.beta2 as f64);
    let (lr, wd, eps) = (c.lr as f64, c.weight_decay as f64, c.eps as f64);
    let bias1 = 1.0 - b1.powi(step as i32);
    let bias2 = 1.0 - b2.powi(step as i32);
    for i in 0..param.len() {
        let mut g = grad[i];
        if c.decoupled {
            param[i] *= 1.0 - lr * wd;
        } else {
            g += wd * param[i];
        }
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        param[i] -= lr * (m[i] / bias1) / ((v[i] / bias2).sqrt() + eps);
    }
}
