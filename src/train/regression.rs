//! A synthetic regression task for the MLP: learn a smooth map `R^3 -> R^3` from samples.
//!
//! It exercises the whole training machinery (forward, loss, backward, Adam, loss history
//! read back once an epoch) without any dataset on disk.

use std::time::Instant;

use super::{EpochSummary, Observer};
use crate::gpu::Dispatch;
use crate::kernels::adam::{Adam, AdamConfig};
use crate::kernels::bias_act::Activation;
use crate::kernels::mse;
use crate::nn::{Mlp, MlpPlan, ParamBuilder, ParamStore};
use crate::rng::Rng;
use crate::{Engine, Error, Result, Tensor};

/// Input and output width of the synthetic task.
pub const DIM: usize = 3;

/// Settings of the synthetic regression run; every field has a default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegressionConfig {
    /// Seed of the data, the initial weights and the shuffling.
    pub seed: u64,
    /// Training samples.
    pub train_samples: usize,
    /// Validation samples.
    pub valid_samples: usize,
    /// Samples per step; the last partial batch of an epoch is dropped.
    pub batch_size: usize,
    /// Passes over the training samples.
    pub epochs: usize,
    /// Width of the hidden layers.
    pub hidden: usize,
    /// Number of hidden layers.
    pub layers: usize,
    /// Activation between layers.
    pub activation: Activation,
    /// Adam settings.
    pub optimizer: AdamConfig,
}

impl Default for RegressionConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            train_samples: 4096,
            valid_samples: 1024,
            batch_size: 128,
            epochs: 30,
            hidden: 64,
            layers: 2,
            activation: Activation::Silu,
            optimizer: AdamConfig {
                lr: 3e-3,
                ..AdamConfig::default()
            },
        }
    }
}

impl RegressionConfig {
    /// Errors naming the first field that cannot work.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("train_samples", self.train_samples),
            ("valid_samples", self.valid_samples),
            ("batch_size", self.batch_size),
            ("epochs", self.epochs),
            ("hidden", self.hidden),
            ("layers", self.layers),
        ];
        for (what, v) in positive {
            if v == 0 {
                return Err(Error::InvalidValue {
                    what: what.into(),
                    detail: "0 (expected at least 1)".into(),
                });
            }
        }
        if self.batch_size > self.train_samples {
            return Err(Error::InvalidValue {
                what: "batch_size".into(),
                detail: format!(
                    "{} is larger than train_samples ({})",
                    self.batch_size, self.train_samples
                ),
            });
        }
        self.optimizer.validate()
    }
}

/// The function to learn: smooth, bounded, mixing all three inputs.
pub fn target(x: [f64; 3]) -> [f64; 3] {
    use std::f64::consts::PI;
    [
        (PI * x[0]).sin() * (PI * x[1]).cos(),
        x[2] * x[2] - x[0] * x[1],
        (2.0 * x[0] + x[2]).tanh(),
    ]
}

/// `n` samples with inputs uniform in `[-1, 1]^3`: flat `[n, 3]` inputs and targets.
pub fn samples(rng: &mut Rng, n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut xs = Vec::with_capacity(n * DIM);
    let mut ys = Vec::with_capacity(n * DIM);
    for _ in 0..n {
        let x = [
            rng.uniform_in(-1.0, 1.0),
            rng.uniform_in(-1.0, 1.0),
            rng.uniform_in(-1.0, 1.0),
        ];
        xs.extend(x.map(|v| v as f32));
        ys.extend(target(x.map(|v| v as f32 as f64)).map(|v| v as f32));
    }
    (xs, ys)
}

/// Everything one MLP regression run needs, planned and allocated once.
#[derive(Debug)]
pub struct RegressionTrainer {
    engine: Engine,
    config: RegressionConfig,
    mlp: Mlp,
    params: ParamStore,
    optimizer: Adam,
    rng: Rng,
    train_x: Vec<f32>,
    train_y: Vec<f32>,
    batch_x: Tensor,
    batch_y: Tensor,
    plan: MlpPlan,
    loss_forward: Dispatch,
    loss_backward: Dispatch,
    loss: Tensor,
    loss_history: Tensor,
    valid_plan: MlpPlan,
    valid_loss: Dispatch,
    valid_loss_value: Tensor,
    epoch: usize,
}

impl RegressionTrainer {
    /// Generates the data, initialises the model and plans every dispatch of a step.
    pub fn new(engine: &Engine, config: RegressionConfig) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let (train_x, train_y) = samples(&mut rng, config.train_samples);
        let (valid_x, valid_y) = samples(&mut rng, config.valid_samples);

        let mut dims = vec![DIM];
        dims.extend(std::iter::repeat_n(config.hidden, config.layers));
        dims.push(DIM);
        let mut builder = ParamBuilder::default();
        let mlp = Mlp::new(
            &mut builder,
            "mlp",
            &dims,
            config.activation,
            Activation::Identity,
            &mut rng,
        );
        let params = builder.build(engine)?;
        let optimizer = Adam::new(
            engine,
            params.flat_values(),
            params.flat_grads(),
            config.optimizer,
        )?;

        let b = config.batch_size;
        let batch_x = engine.zeros(&[b, DIM]);
        let batch_y = engine.zeros(&[b, DIM]);
        let plan = mlp.plan(engine, &params, &batch_x, None)?;
        let loss = engine.zeros(&[1]);
        let loss_forward = mse::plan_forward(engine, plan.y(), &batch_y, &loss, 1.0)?;
        let loss_backward = mse::plan_backward(engine, plan.y(), &batch_y, plan.dy(), 1.0, false)?;
        let steps = config.train_samples / b;
        let loss_history = engine.zeros(&[steps]);

        let vx = engine.tensor(&valid_x, &[config.valid_samples, DIM])?;
        let vy = engine.tensor(&valid_y, &[config.valid_samples, DIM])?;
        let valid_plan = mlp.plan(engine, &params, &vx, None)?;
        let valid_loss_value = engine.zeros(&[1]);
        let valid_loss = mse::plan_forward(engine, valid_plan.y(), &vy, &valid_loss_value, 1.0)?;

        Ok(Self {
            engine: engine.clone(),
            config,
            mlp,
            params,
            optimizer,
            rng,
            train_x,
            train_y,
            batch_x,
            batch_y,
            plan,
            loss_forward,
            loss_backward,
            loss,
            loss_history,
            valid_plan,
            valid_loss,
            valid_loss_value,
            epoch: 0,
        })
    }

    /// The model.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Its parameters.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// Steps in one epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.config.train_samples / self.config.batch_size
    }

    /// One epoch of training then a validation pass; the loss history is read back once.
    pub fn epoch(&mut self, observer: &mut dyn Observer) -> Result<EpochSummary> {
        self.epoch += 1;
        let start = Instant::now();
        let b = self.config.batch_size;
        let steps = self.steps_per_epoch();
        let mut order: Vec<usize> = (0..self.config.train_samples).collect();
        self.rng.shuffle(&mut order);
        let mut bx = vec![0.0f32; b * DIM];
        let mut by = vec![0.0f32; b * DIM];

        for step in 0..steps {
            for (row, &i) in order[step * b..(step + 1) * b].iter().enumerate() {
                bx[row * DIM..(row + 1) * DIM]
                    .copy_from_slice(&self.train_x[i * DIM..(i + 1) * DIM]);
                by[row * DIM..(row + 1) * DIM]
                    .copy_from_slice(&self.train_y[i * DIM..(i + 1) * DIM]);
            }
            self.engine.write(&self.batch_x, &bx)?;
            self.engine.write(&self.batch_y, &by)?;
            self.optimizer
                .prepare_step(&self.engine, self.config.optimizer.lr);

            let mut dispatches = self.plan.forward();
            dispatches.push(&self.loss_forward);
            dispatches.push(&self.loss_backward);
            dispatches.extend(self.plan.backward());
            dispatches.push(self.optimizer.dispatch());
            let mut enc = self.engine.encoder("regression step");
            self.engine.record(&mut enc, &dispatches);
            enc.copy_buffer_to_buffer(
                self.loss.buffer(),
                self.loss.offset(),
                self.loss_history.buffer(),
                self.loss_history.offset() + step as u64 * 4,
                4,
            );
            self.engine.submit(enc)?;
            observer.on_step(self.epoch, step + 1, steps);
        }

        let history = self.engine.read(&self.loss_history)?;
        let train_loss = history.iter().map(|&v| v as f64).sum::<f64>() / steps as f64;
        if !train_loss.is_finite() {
            return Err(Error::InvalidValue {
                what: format!("training loss in epoch {}", self.epoch),
                detail: format!("{train_loss} (diverged: lower optimizer.lr)"),
            });
        }
        let samples_per_sec = (steps * b) as f64 / start.elapsed().as_secs_f64();
        let valid_loss = Some(self.validate()?);
        let summary = EpochSummary {
            epoch: self.epoch,
            train_loss,
            valid_loss,
            samples_per_sec,
        };
        observer.on_epoch(&summary);
        Ok(summary)
    }

    /// Mean squared error over the validation samples.
    pub fn validate(&self) -> Result<f64> {
        let mut dispatches = self.valid_plan.forward();
        dispatches.push(&self.valid_loss);
        self.engine.run(&dispatches)?;
        Ok(self.engine.read(&self.valid_loss_value)?[0] as f64)
    }

    /// Runs every configured epoch.
    pub fn run(&mut self, observer: &mut dyn Observer) -> Result<Vec<EpochSummary>> {
        (0..self.config.epochs)
            .map(|_| self.epoch(observer))
            .collect()
    }
}
