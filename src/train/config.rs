//! [`TrainConfig`]: everything an N-body training run reads, as one JSON document.
//!
//! Every field has a default (`remul train` with no config trains REMUL-GNN), unknown fields
//! are rejected by name, and [`TrainConfig::validate`] names the first field that cannot work.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::data::LoaderConfig;
use crate::kernels::adam::AdamConfig;
use crate::kernels::gradnorm::GradNormConfig;
use crate::kernels::remul_loss::Form;
use crate::kernels::rotate::TransformConfig;
use crate::models::ModelConfig;
use crate::{Error, Result};

/// A training run on N-body data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Seed of the initial weights, the shuffling and the random transforms.
    pub seed: u64,
    /// The network.
    pub model: ModelConfig,
    /// Where the data comes from and how it becomes graphs.
    pub data: DataConfig,
    /// Passes over the training set.
    pub epochs: usize,
    /// Graphs per step (the REMUL batch holds twice as many: each graph and its transform).
    pub batch_size: usize,
    /// Validate (and test) every this many epochs, and after the last one.
    pub valid_every: usize,
    /// Adam settings.
    pub optimizer: AdamConfig,
    /// The equivariance term and how it is weighted.
    pub remul: RemulConfig,
    /// Equivariance metrics at validation and in `remul eval`.
    pub eval: EvalConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            model: ModelConfig::default(),
            data: DataConfig::default(),
            // About two minutes on lavapipe (2 cores): 8 epochs of 30 steps, 2 validations.
            epochs: 8,
            batch_size: 100,
            valid_every: 4,
            optimizer: AdamConfig {
                lr: 1e-3,
                weight_decay: 1e-12,
                ..AdamConfig::default()
            },
            remul: RemulConfig::default(),
            eval: EvalConfig::default(),
        }
    }
}

/// Where the N-body data lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// A folder of charged N-body `.npy` files; `null` generates (once) and uses the cached
    /// reference dataset.
    pub dir: Option<PathBuf>,
    /// Which samples and frames make the graphs.
    pub loader: LoaderConfig,
}

/// How beta changes over the epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// beta throughout.
    #[default]
    Constant,
    /// From 0 at the first epoch to beta at `ramp_epochs`, linearly.
    Linear,
    /// From 0 to beta over `ramp_epochs` along half a cosine.
    Cosine,
}

/// How the task and equivariance losses are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// alpha and (scheduled) beta.
    #[default]
    Fixed,
    /// GradNorm adapts both weights every step (alpha, beta and the schedule are unused).
    Gradnorm,
}

/// The REMUL objective `alpha * L_task + beta * L_equi`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemulConfig {
    /// The equivariance loss: `label`, `consistency`, or `none` for plain training.
    pub form: Form,
    /// Weight of the task loss.
    pub alpha: f32,
    /// Weight of the equivariance loss.
    pub beta: f32,
    /// How beta ramps up.
    pub schedule: Schedule,
    /// Epochs of the ramp (linear and cosine schedules).
    pub ramp_epochs: usize,
    /// Fixed weights or GradNorm.
    pub weighting: Weighting,
    /// GradNorm settings.
    pub gradnorm: GradNormConfig,
    /// Data augmentation instead of REMUL: train on transformed graphs only, no equivariance
    /// term (`form` must be `none`).
    pub augment: bool,
    /// The random roto-translations.
    pub transform: TransformConfig,
}

impl Default for RemulConfig {
    fn default() -> Self {
        Self {
            form: Form::Label,
            alpha: 1.0,
            beta: 1.0,
            schedule: Schedule::Constant,
            ramp_epochs: 0,
            weighting: Weighting::Fixed,
            gradnorm: GradNormConfig::default(),
            augment: false,
            transform: TransformConfig::default(),
        }
    }
}

impl RemulConfig {
    /// beta in `epoch` (from 1) under the schedule.
    pub fn beta_at(&self, epoch: usize) -> f32 {
        let ramp = self.ramp_epochs.max(1) as f32;
        let f = ((epoch.saturating_sub(1)) as f32 / ramp).min(1.0);
        match self.schedule {
            Schedule::Constant => self.beta,
            Schedule::Linear => self.beta * f,
            Schedule::Cosine => self.beta * 0.5 * (1.0 - (std::f32::consts::PI * f).cos()),
        }
    }

    /// Whether the batch carries a transformed copy of every graph.
    pub fn doubled(&self) -> bool {
        self.form != Form::None
    }
}

/// Equivariance metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Random roto-translations per sample.
    pub rotations: usize,
    /// Bins of the rotation angle over 0..180 degrees.
    pub angle_bins: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            rotations: 8,
            angle_bins: 6,
        }
    }
}

fn invalid(what: &str, detail: impl Into<String>) -> Error {
    Error::InvalidValue {
        what: what.into(),
        detail: detail.into(),
    }
}

impl TrainConfig {
    /// Parses a JSON config; an unknown or mistyped field is an error that names it.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| invalid("config", e.to_string()))
    }

    /// Errors naming the first field that cannot work.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        for (what, v) in [
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("valid_every", self.valid_every),
            ("eval.rotations", self.eval.rotations),
            ("eval.angle_bins", self.eval.angle_bins),
        ] {
            if v == 0 {
                return Err(invalid(what, "0 (expected at least 1)"));
            }
        }
        self.optimizer.validate()?;
        let r = &self.remul;
        for (what, v) in [("remul.alpha", r.alpha), ("remul.beta", r.beta)] {
            if !v.is_finite() || v < 0.0 {
                return Err(invalid(what, format!("{v} (expected a finite value >= 0)")));
            }
        }
        if r.augment && r.form != crate::kernels::remul_loss::Form::None {
            return Err(invalid(
                "remul.augment",
                "augmentation trains without an equivariance term: set remul.form to \"none\"",
            ));
        }
        if r.weighting == Weighting::Gradnorm && !r.doubled() {
            return Err(invalid(
                "remul.weighting",
                "GradNorm balances two losses: remul.form must be \"label\" or \"consistency\"",
            ));
        }
        if r.schedule != Schedule::Constant && r.ramp_epochs == 0 {
            return Err(invalid(
                "remul.ramp_epochs",
                "0: a linear or cosine schedule needs at least one epoch",
            ));
        }
        r.gradnorm.validate()?;
        r.transform.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_ramps_linearly_or_along_a_half_cosine_then_holds() {
        let mut r = RemulConfig {
            beta: 10.0,
            ramp_epochs: 4,
            ..RemulConfig::default()
        };
        assert_eq!(r.beta_at(1), 10.0);
        r.schedule = Schedule::Linear;
        let linear: Vec<f32> = (1..=6).map(|e| r.beta_at(e)).collect();
        assert_eq!(linear, vec![0.0, 2.5, 5.0, 7.5, 10.0, 10.0]);
        r.schedule = Schedule::Cosine;
        let cosine: Vec<f32> = (1..=6).map(|e| r.beta_at(e)).collect();
        assert!((cosine[2] - 5.0).abs() < 1e-5 && cosine[0] == 0.0 && cosine[5] == 10.0);
        assert!(
            cosine[1] < linear[1],
            "a cosine ramp starts slower: {cosine:?}"
        );
    }
}
