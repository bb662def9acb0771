//! Training: objectives, optimizer steps and loops, reporting through an [`Observer`] so the
//! library never prints.

pub mod checkpoint;
pub mod config;
pub mod nbody;
pub mod regression;

pub use checkpoint::Checkpoint;
pub use config::{DataConfig, EvalConfig, RemulConfig, Schedule, TrainConfig, Weighting};
pub use nbody::{load_model, AngleBin, EpochMetrics, EvalReport, NbodyTrainer};
pub use regression::{RegressionConfig, RegressionTrainer};

/// What one epoch achieved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EpochSummary {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Validation loss after the epoch, if validated.
    pub valid_loss: Option<f64>,
    /// Training samples per second over the epoch (wall clock, host work included).
    pub samples_per_sec: f64,
}

/// Receives progress from a training loop; every method has a do-nothing default.
pub trait Observer {
    /// After each step is submitted (`step` counts from 1 within the epoch).
    fn on_step(&mut self, _epoch: usize, _step: usize, _steps: usize) {}
    /// After each epoch.
    fn on_epoch(&mut self, _summary: &EpochSummary) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// Receives progress from [`NbodyTrainer`]; every method has a do-nothing default.
pub trait NbodyObserver {
    /// After each step is submitted (`step` counts from 1 within the epoch).
    fn on_step(&mut self, _epoch: usize, _step: usize, _steps: usize) {}
    /// Now and then during an epoch: the task and equivariance loss of a recent step (read
    /// back without waiting for the GPU, so a few steps old).
    fn on_losses(&mut self, _task: f64, _equi: f64) {}
    /// After each epoch, with its metrics.
    fn on_epoch(&mut self, _metrics: &EpochMetrics) {}
}

/// An observer that ignores everything.
impl NbodyObserver for () {}
