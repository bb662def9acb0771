//! Wrapper for `shaders/gradnorm.wgsl`: GradNorm's update of the task and equivariance loss
//! weights from their gradients on the output layer, on the GPU (no host round trip).

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};

use super::{as_u32, expect_shape};
use crate::gpu::{Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "gradnorm.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/gradnorm.wgsl");

/// GradNorm's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradNormConfig {
    /// Asymmetry: how strongly a loss that trains slower gets a larger gradient share.
    pub gamma: f32,
    /// Learning rate of the weights (plain gradient steps).
    pub lr: f32,
    /// The weights are rescaled to sum to this (2: one per loss on average).
    pub total: f32,
    /// No weight falls below this, so neither loss is switched off.
    pub min_weight: f32,
}

impl Default for GradNormConfig {
    fn default() -> Self {
        Self {
            gamma: 1.5,
            lr: 0.01,
            total: 2.0,
            min_weight: 1e-3,
        }
    }
}

impl GradNormConfig {
    /// Errors naming the first field that cannot work.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, v: f32, expected: &str| {
            Err(Error::InvalidValue {
                what: format!("remul.gradnorm.{what}"),
                detail: format!("{v} (expected {expected})"),
            })
        };
        if !self.gamma.is_finite() || self.gamma < 0.0 {
            return bad("gamma", self.gamma, "a finite value >= 0");
        }
        if !self.lr.is_finite() || self.lr <= 0.0 {
            return bad("lr", self.lr, "a finite value > 0");
        }
        if !self.total.is_finite() || self.total <= 0.0 {
            return bad("total", self.total, "a finite value > 0");
        }
        if !self.min_weight.is_finite()
            || self.min_weight <= 0.0
            || 2.0 * self.min_weight >= self.total
        {
            return bad("min_weight", self.min_weight, "> 0 and below total / 2");
        }
        Ok(())
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    _pad: [u32; 3],
    gamma: f32,
    lr: f32,
    total: f32,
    min_weight: f32,
}

/// The two loss weights `[w_task, w_equi]` and GradNorm's state, on the GPU.
#[derive(Debug)]
pub struct GradNorm {
    config: GradNormConfig,
    len: usize,
    weights: Tensor,
    state: Tensor,
}

impl GradNorm {
    /// Weights start at `total / 2` each; `len` is the number of output-layer weights.
    pub fn new(engine: &Engine, len: usize, config: GradNormConfig) -> Result<Self> {
        config.validate()?;
        let half = config.total / 2.0;
        Ok(Self {
            config,
            len,
            weights: engine.tensor(&[half, half], &[2])?,
            state: engine.zeros(&[4]),
        })
    }

    /// The loss weights `[2]`, updated in place by every planned dispatch.
    pub fn weights(&self) -> &Tensor {
        &self.weights
    }

    /// `[L_task(0), L_equi(0), initialised, updates]`, for checkpoints.
    pub fn state(&self) -> &Tensor {
        &self.state
    }

    /// Plans one update from the gradients `[len]` of each unweighted loss on the output
    /// layer and the step's `losses [2]`.
    pub fn plan(
        &self,
        engine: &Engine,
        g_task: &Tensor,
        g_equi: &Tensor,
        losses: &Tensor,
    ) -> Result<Dispatch> {
        expect_shape("gradnorm task gradient", g_task, &[self.len])?;
        expect_shape("gradnorm equivariance gradient", g_equi, &[self.len])?;
        expect_shape("gradnorm losses", losses, &[2])?;
        let c = self.config;
        let p = Params {
            len: as_u32("gradnorm", self.len)?,
            _pad: [0; 3],
            gamma: c.gamma,
            lr: c.lr,
            total: c.total,
            min_weight: c.min_weight,
        };
        let uniform = engine.uniform("gradnorm params", &p);
        let pipeline = engine.pipeline(FILE, SOURCE, "main")?;
        Ok(Dispatch::new(
            engine,
            "gradnorm",
            pipeline,
            &uniform,
            &[g_task, g_equi, losses, &self.weights, &self.state],
            [1, 1, 1],
        ))
    }
}

/// CPU twin of one update: changes `weights [2]` and `state [4]` in place.
pub fn cpu_step(
    config: &GradNormConfig,
    g_task: &[f64],
    g_equi: &[f64],
    losses: [f64; 2],
    weights: &mut [f64; 2],
    state: &mut [f64; 4],
) {
    const TINY: f64 = 1e-12;
    let norm = |g: &[f64]| g.iter().map(|v| v * v).sum::<f64>().sqrt();
    let norms = [norm(g_task), norm(g_equi)];
    if state[2] == 0.0 {
        state[0] = losses[0].max(TINY);
        state[1] = losses[1].max(TINY);
        state[2] = 1.0;
    }
    let g = [weights[0] * norms[0], weights[1] * norms[1]];
    let g_mean = 0.5 * (g[0] + g[1]);
    let ratio = [losses[0] / state[0], losses[1] / state[1]];
    let ratio_mean = (0.5 * (ratio[0] + ratio[1])).max(TINY);
    let mut next = [0.0; 2];
    for i in 0..2 {
        let target = g_mean * (ratio[i] / ratio_mean).max(TINY).powf(config.gamma as f64);
        let sign = if g[i] > target {
            1.0
        } else if g[i] < target {
            -1.0
        } else {
            0.0
        };
        next[i] = (weights[i] - config.lr as f64 * sign * norms[i]).max(config.min_weight as f64);
    }
    // As in the kernel: the rescaled pair sums to total, so this clamp keeps the sum.
    let scale = config.total as f64 / (next[0] + next[1]);
    let (lo, hi) = (
        config.min_weight as f64,
        (config.total - config.min_weight) as f64,
    );
    *weights = next.map(|w| (w * scale).max(lo).min(hi));
    state[3] += 1.0;
}
