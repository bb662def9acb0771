//! [`NbodyTrainer`]: REMUL training of a graph model on charged N-body data.
//!
//! A step, recorded into one command encoder and submitted once: draw a roto-translation per
//! graph, transform copy 0 of the batch into copy 1 (positions, velocities, targets), run the
//! model forward over the doubled batch, compute the task and equivariance losses and the
//! gradient of their weighted sum, run the backward, let GradNorm move the weights (when on),
//! and take the Adam step. The two losses of every step are copied into a history buffer on the
//! GPU that is read back once an epoch.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoint;
use super::config::{TrainConfig, Weighting};
use crate::data::{BatchStream, ChargedDataset, Dataset, GraphBatch, StreamConfig};
use crate::gpu::{Dispatch, ReadbackRing};
use crate::kernels::adam::Adam;
use crate::kernels::gradnorm::GradNorm;
use crate::kernels::matmul::{self, Layout};
use crate::kernels::remul_loss::{self, Form, LossInputs};
use crate::kernels::rotate::{self, Apply, Mode, Rows, Transforms};
use crate::models::{self, GraphInputs, Model, ModelPlan};
use crate::{Engine, Error, Result, Tensor};

/// Steps between the loss values shown while an epoch runs (read back without waiting).
const LIVE_LOSS_EVERY: usize = 5;

/// The checkpoint layout this build writes and reads.
const CHECKPOINT_FORMAT: &str = "remul-nbody-1";

/// Seed offsets that keep the training, validation and test transforms apart.
const EVAL_STREAM: u64 = 0x4556_414c;

/// What one epoch of training achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean task loss (MSE) over the epoch's steps.
    pub train_task: f64,
    /// Mean equivariance loss over the epoch's steps (0 without an equivariance term).
    pub train_equi: f64,
    /// The loss weights at the end of the epoch, `[alpha, beta]` (GradNorm's when on).
    pub weights: [f64; 2],
    /// Training graphs per second (wall clock, host work included).
    pub samples_per_sec: f64,
    /// Seconds the epoch took.
    pub seconds: f64,
    /// Validation after this epoch, if it was due.
    pub valid: Option<EvalReport>,
    /// Test MSE after this epoch, when validated.
    pub test_mse: Option<f64>,
    /// Whether this epoch's validation MSE is the best so far (save the model now).
    pub improved: bool,
}

/// Task error and equivariance error of a model on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Graphs evaluated.
    pub samples: usize,
    /// Mean squared error of the predicted positions.
    pub mse: f64,
    /// Mean over graphs and transforms of the per-node `|f(Rx + t) - (R f(x) + t)|`.
    pub equi_error: f64,
    /// The same error by rotation angle, in equal bins over 0..180 degrees.
    pub equi_by_angle: Vec<AngleBin>,
}

/// The equivariance error of the transforms whose rotation angle fell in one bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AngleBin {
    /// Lower edge in degrees.
    pub from_deg: f64,
    /// Upper edge in degrees.
    pub to_deg: f64,
    /// Mean error over the bin's transforms; `None` when none fell in it.
    pub mean_error: Option<f64>,
    /// Transforms in the bin.
    pub transforms: usize,
}

/// Everything planned for one batch layout (graphs, nodes, edges).
#[derive(Debug)]
struct StepPlan {
    copies: usize,
    inputs: GraphInputs,
    /// The untransformed positions, velocities and targets, when a transform runs.
    raw: Option<[Tensor; 3]>,
    transforms: Transforms,
    prepare: Vec<Dispatch>,
    model: ModelPlan,
    losses: Tensor,
    loss_dispatches: Vec<Dispatch>,
    gradnorm: Vec<Dispatch>,
}

/// A REMUL training run, planned once and stepped epoch by epoch.
pub struct NbodyTrainer {
    engine: Engine,
    config: TrainConfig,
    model: Box<dyn Model>,
    optimizer: Adam,
    train: Arc<ChargedDataset>,
    valid: Arc<ChargedDataset>,
    test: Arc<ChargedDataset>,
    weights: Tensor,
    gradnorm: Option<GradNorm>,
    train_plans: HashMap<(usize, usize, usize), StepPlan>,
    eval_plans: HashMap<(usize, usize, usize), StepPlan>,
    history: Tensor,
    live: ReadbackRing,
    epoch: usize,
    step: u64,
    best: Option<(usize, f64, f64)>,
}

impl std::fmt::Debug for NbodyTrainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NbodyTrainer")
            .field("model", &self.model.name())
            .field("epoch", &self.epoch)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl NbodyTrainer {
    /// Builds the model and the optimizer over loaded splits; plans are made on first use.
    pub fn new(
        engine: &Engine,
        config: TrainConfig,
        train: Arc<ChargedDataset>,
        valid: Arc<ChargedDataset>,
        test: Arc<ChargedDataset>,
    ) -> Result<Self> {
        config.validate()?;
        if train.len() < config.batch_size {
            return Err(Error::InvalidValue {
                what: "batch_size".into(),
                detail: format!(
                    "{} is larger than the training set ({} graphs)",
                    config.batch_size,
                    train.len()
                ),
            });
        }
        let model = models::build(
            engine,
            &config.model,
            models::GraphDims::of(train.as_ref()),
            config.seed,
        )?;
        let params = model.params();
        let optimizer = Adam::new(
            engine,
            params.flat_values(),
            params.flat_grads(),
            config.optimizer,
        )?;
        let gradnorm = match config.remul.weighting {
            Weighting::Gradnorm => {
                let out = Self::probe_output_layer(engine, model.as_ref(), &train, &config)?;
                Some(GradNorm::new(engine, out, config.remul.gradnorm)?)
            }
            Weighting::Fixed => None,
        };
        let weights = match &gradnorm {
            Some(g) => g.weights().clone(),
            None => engine.zeros(&[2]),
        };
        let steps = train.len() / config.batch_size;
        // One row of [task, equi] per step, then the loss weights after the last step.
        let history = engine.zeros(&[steps.max(1) + 1, 2]);
        Ok(Self {
            engine: engine.clone(),
            config,
            model,
            optimizer,
            train,
            valid,
            test,
            weights,
            gradnorm,
            train_plans: HashMap::new(),
            eval_plans: HashMap::new(),
            history,
            live: ReadbackRing::new(engine, 3, 8),
            epoch: 0,
            step: 0,
            best: None,
        })
    }

    /// The number of weights of the model's output layer (GradNorm's gradient length).
    fn probe_output_layer(
        engine: &Engine,
        model: &dyn Model,
        train: &ChargedDataset,
        config: &TrainConfig,
    ) -> Result<usize> {
        let indices: Vec<usize> = (0..config.batch_size.min(train.len())).collect();
        let batch = train.batch(&indices)?;
        let plan = model.plan(engine, &GraphInputs::new(engine, &batch, 1)?)?;
        match plan.output_layer {
            Some(layer) => Ok(model.params().value(layer.weight).len()),
            None => Err(Error::InvalidValue {
                what: "remul.weighting".into(),
                detail: format!(
                    "GradNorm needs a model whose output is a linear layer; {} has none",
                    model.name()
                ),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The model.
    pub fn model(&self) -> &dyn Model {
        self.model.as_ref()
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// Optimizer steps taken.
    pub fn steps_done(&self) -> u64 {
        self.step
    }

    /// Training steps in one epoch (the last partial batch is dropped).
    pub fn steps_per_epoch(&self) -> usize {
        self.train.len() / self.config.batch_size
    }

    /// Plans a step for `batch`'s layout: `train` with the configured objective, else the
    /// doubled evaluation layout with transforms from the evaluation stream.
    fn plan(&self, batch: &GraphBatch, train: bool) -> Result<StepPlan> {
        let engine = &self.engine;
        let remul = &self.config.remul;
        let form = if train { remul.form } else { Form::Consistency };
        let copies = if form == Form::None { 1 } else { 2 };
        let inputs = GraphInputs::new(engine, batch, copies)?;
        let (g, n) = (batch.num_graphs(), batch.num_nodes());
        let seed = if train {
            self.config.seed
        } else {
            self.config.seed ^ EVAL_STREAM
        };
        let transforms = Transforms::new(engine, g, remul.transform.clone(), seed)?;
        // REMUL transforms copy 0's vectors into copy 1 of the same buffers; augmentation
        // transforms in place, so it reads the untransformed vectors from buffers of their own.
        let augment = train && remul.augment;
        let mut prepare = Vec::new();
        let mut raw = None;
        if copies == 2 || augment {
            prepare.push(transforms.sample_dispatch().clone());
            let fields = [
                (&inputs.positions, Mode::Point),
                (&inputs.velocities, Mode::Vector),
                (&inputs.targets, Mode::Point),
            ];
            let sources: Vec<Tensor> = if augment {
                let own = [0, 1, 2].map(|_| engine.empty(&[n, 3]));
                raw = Some(own.clone());
                own.to_vec()
            } else {
                fields.iter().map(|(t, _)| (*t).clone()).collect()
            };
            let rows = Rows {
                count: n,
                graph_first: 0,
                in_first: 0,
                out_first: if augment { 0 } else { n },
            };
            for (source, (t, mode)) in sources.iter().zip(fields) {
                prepare.push(rotate::plan_apply(
                    engine,
                    transforms.transforms(),
                    &inputs.node_graph,
                    source,
                    t,
                    rows,
                    Apply::new(mode),
                )?);
            }
        }

        let model = self.model.plan(engine, &inputs)?;
        let losses = engine.zeros(&[2]);
        let d_task = engine.empty(model.output.shape());
        let d_equi = engine.empty(model.output.shape());
        let loss_inputs = LossInputs {
            output: &model.output,
            targets: &inputs.targets,
            transforms: transforms.transforms(),
            node_graph: &inputs.node_graph,
            nodes: n,
            form,
        };
        let mut loss_dispatches = vec![remul_loss::plan_losses(engine, loss_inputs, &losses)?];
        if train {
            loss_dispatches.push(remul_loss::plan_grads(
                engine,
                loss_inputs,
                &self.weights,
                &model.d_output,
                &d_task,
                &d_equi,
            )?);
        }

        let mut gradnorm = Vec::new();
        if let (true, Some(gn), Some(layer)) = (train, &self.gradnorm, &model.output_layer) {
            let shape = self.model.params().value(layer.weight).shape().to_vec();
            let g_task = engine.empty(&shape);
            let g_equi = engine.empty(&shape);
            gradnorm.push(matmul::plan(
                engine,
                &layer.input,
                &d_task,
                &g_task,
                Layout::TN,
                false,
            )?);
            gradnorm.push(matmul::plan(
                engine,
                &layer.input,
                &d_equi,
                &g_equi,
                Layout::TN,
                false,
            )?);
            gradnorm.push(gn.plan(
                engine,
                &g_task.reshape(&[g_task.len()]),
                &g_equi.reshape(&[g_equi.len()]),
                &losses,
            )?);
        }
        Ok(StepPlan {
            copies,
            inputs,
            raw,
            transforms,
            prepare,
            model,
            losses,
            loss_dispatches,
            gradnorm,
        })
    }

    /// Writes `batch` into a plan's inputs: copy 0 whole, later copies' scalars only (the
    /// transform writes their vectors on the GPU).
    fn upload(&self, plan: &StepPlan, batch: &GraphBatch) -> Result<()> {
        plan.inputs.write_features(&self.engine, batch, 0)?;
        for copy in 1..plan.copies {
            plan.inputs.write_scalars(&self.engine, batch, copy)?;
        }
        if let Some([x, v, y]) = &plan.raw {
            self.engine.write(x, &batch.positions)?;
            self.engine.write(v, &batch.velocities)?;
            self.engine.write(y, &batch.targets)?;
        }
        Ok(())
    }

    /// The loss weights of `epoch` under fixed weighting.
    fn fixed_weights(&self, epoch: usize) -> [f32; 2] {
        let r = &self.config.remul;
        match r.form {
            Form::None => [r.alpha, 0.0],
            _ => [r.alpha, r.beta_at(epoch)],
        }
    }

    /// One epoch of training, then validation when due.
    pub fn epoch(&mut self, observer: &mut dyn super::NbodyObserver) -> Result<EpochMetrics> {
        self.epoch += 1;
        let start = Instant::now();
        if self.gradnorm.is_none() {
            let w = self.fixed_weights(self.epoch);
            self.engine.write(&self.weights, &w)?;
        }
        let stream_config = StreamConfig {
            batch_size: self.config.batch_size,
            seed: self.config.seed,
            shuffle: true,
            drop_last: true,
            prefetch: 2,
        };
        let mut batches = BatchStream::new(self.train.clone(), &stream_config, self.epoch as u64)?;
        let steps = self.steps_per_epoch();
        let mut step_in_epoch: usize = 0;
        while let Some(batch) = batches.next() {
            let batch = batch?;
            let key = (batch.num_graphs(), batch.num_nodes(), batch.num_edges());
            if !self.train_plans.contains_key(&key) {
                let plan = self.plan(&batch, true)?;
                self.train_plans.insert(key, plan);
            }
            let plan = &self.train_plans[&key];
            self.upload(plan, &batch)?;
            batches.recycle(batch);

            self.step += 1;
            plan.transforms.prepare_step(&self.engine, self.step);
            self.optimizer
                .prepare_step(&self.engine, self.config.optimizer.lr);
            let mut dispatches: Vec<&Dispatch> = plan.prepare.iter().collect();
            dispatches.extend(&plan.model.forward);
            dispatches.extend(&plan.loss_dispatches);
            dispatches.extend(&plan.model.backward);
            dispatches.extend(&plan.gradnorm);
            dispatches.push(self.optimizer.dispatch());
            let mut enc = self.engine.encoder("remul step");
            self.engine.record(&mut enc, &dispatches);
            enc.copy_buffer_to_buffer(
                plan.losses.buffer(),
                plan.losses.offset(),
                self.history.buffer(),
                self.history.offset() + step_in_epoch as u64 * 8,
                8,
            );
            enc.copy_buffer_to_buffer(
                self.weights.buffer(),
                self.weights.offset(),
                self.history.buffer(),
                self.history.offset() + steps as u64 * 8,
                8,
            );
            if step_in_epoch.is_multiple_of(LIVE_LOSS_EVERY) {
                self.live.record_copy(&mut enc, &plan.losses, self.step);
            }
            self.engine.submit(enc)?;
            self.live.after_submit();
            step_in_epoch += 1;
            observer.on_step(self.epoch, step_in_epoch, steps);
            if let Some((_, l)) = self.live.poll(&self.engine)? {
                observer.on_losses(l[0] as f64, l[1] as f64);
            }
        }

        let history = self.engine.read(&self.history)?;
        let mean = |k: usize| {
            history
                .chunks(2)
                .take(steps)
                .map(|p| p[k] as f64)
                .sum::<f64>()
                / steps.max(1) as f64
        };
        let (train_task, train_equi) = (mean(0), mean(1));
        if !train_task.is_finite() || !train_equi.is_finite() {
            return Err(Error::InvalidValue {
                what: format!("training loss in epoch {}", self.epoch),
                detail: format!(
                    "task {train_task}, equivariance {train_equi} (diverged: lower optimizer.lr)"
                ),
            });
        }
        let w = &history[2 * steps..2 * steps + 2];
        let seconds = start.elapsed().as_secs_f64();
        let mut metrics = EpochMetrics {
            epoch: self.epoch,
            train_task,
            train_equi,
            weights: [w[0] as f64, w[1] as f64],
            samples_per_sec: (steps * self.config.batch_size) as f64 / seconds,
            seconds,
            valid: None,
            test_mse: None,
            improved: false,
        };
        let due =
            self.epoch.is_multiple_of(self.config.valid_every) || self.epoch == self.config.epochs;
        if due {
            let valid = self.valid.clone();
            let test = self.test.clone();
            metrics.valid = Some(self.evaluate(valid.as_ref(), self.config.eval.rotations)?);
            let test_mse = self.evaluate(test.as_ref(), 1)?.mse;
            metrics.test_mse = Some(test_mse);
            let valid_mse = metrics.valid.as_ref().map_or(f64::INFINITY, |v| v.mse);
            if self.best.is_none_or(|(_, best, _)| valid_mse < best) {
                self.best = Some((self.epoch, valid_mse, test_mse));
                metrics.improved = true;
            }
        }
        observer.on_epoch(&metrics);
        Ok(metrics)
    }

    /// Task MSE and equivariance error on `split`, over `rotations` transforms per graph.
    pub fn evaluate(&mut self, split: &ChargedDataset, rotations: usize) -> Result<EvalReport> {
        let bins = self.config.eval.angle_bins;
        let mut bin_sum = vec![0.0; bins];
        let mut bin_count = vec![0usize; bins];
        let (mut se, mut se_count) = (0.0, 0usize);
        let (mut equi_sum, mut equi_count) = (0.0, 0usize);
        let size = self.config.batch_size;
        let indices: Vec<usize> = (0..split.len()).collect();
        for (chunk_index, chunk) in indices.chunks(size).enumerate() {
            let batch = split.batch(chunk)?;
            let key = (batch.num_graphs(), batch.num_nodes(), batch.num_edges());
            if !self.eval_plans.contains_key(&key) {
                let plan = self.plan(&batch, false)?;
                self.eval_plans.insert(key, plan);
            }
            let plan = &self.eval_plans[&key];
            self.upload(plan, &batch)?;
            let n = batch.num_nodes();
            for r in 0..rotations {
                // A step of its own for every batch and rotation: each graph gets fresh draws.
                let step = (chunk_index * rotations + r) as u64;
                plan.transforms.prepare_step(&self.engine, step);
                let mut dispatches: Vec<&Dispatch> = plan.prepare.iter().collect();
                dispatches.extend(&plan.model.forward);
                self.engine.run(&dispatches)?;
                let out = self.engine.read(&plan.model.output)?;
                let transforms = self.engine.read(plan.transforms.transforms())?;
                if r == 0 {
                    for (o, y) in out[..n * 3].iter().zip(&batch.targets) {
                        se += ((o - y) as f64).powi(2);
                    }
                    se_count += n * 3;
                }
                for g in 0..batch.num_graphs() {
                    let t = &transforms[g * 12..(g + 1) * 12];
                    let nodes =
                        batch.graph_offsets[g] as usize..batch.graph_offsets[g + 1] as usize;
                    let count = nodes.len().max(1) as f64;
                    let mut err = 0.0;
                    for i in nodes {
                        let o0 = &out[i * 3..i * 3 + 3];
                        let o1 = &out[(n + i) * 3..(n + i) * 3 + 3];
                        let d: f64 = (0..3)
                            .map(|a| {
                                let want =
                                    (0..3).map(|b| t[a * 3 + b] * o0[b]).sum::<f32>() + t[9 + a];
                                ((o1[a] - want) as f64).powi(2)
                            })
                            .sum();
                        err += d.sqrt();
                    }
                    let err = err / count;
                    equi_sum += err;
                    equi_count += 1;
                    let bin = ((angle_deg(t) / 180.0 * bins as f64) as usize).min(bins - 1);
                    bin_sum[bin] += err;
                    bin_count[bin] += 1;
                }
            }
        }
        let width = 180.0 / bins as f64;
        Ok(EvalReport {
            samples: split.len(),
            mse: se / se_count.max(1) as f64,
            equi_error: equi_sum / equi_count.max(1) as f64,
            equi_by_angle: (0..bins)
                .map(|b| AngleBin {
                    from_deg: b as f64 * width,
                    to_deg: (b + 1) as f64 * width,
                    mean_error: (bin_count[b] > 0).then(|| bin_sum[b] / bin_count[b] as f64),
                    transforms: bin_count[b],
                })
                .collect(),
        })
    }

    /// The best validation so far: `(epoch, validation MSE, test MSE at that epoch)`.
    pub fn best(&self) -> Option<(usize, f64, f64)> {
        self.best
    }

    /// Everything a run needs to continue exactly where it stopped: parameters, Adam moments,
    /// loss weights and GradNorm's state, the counters and the best epoch so far.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        let e = &self.engine;
        let mut ckpt = Checkpoint::default();
        for p in self.model.params().read_values(e)? {
            ckpt.insert(format!("model.{}", p.name), &p.shape, p.data);
        }
        let (m, v) = self.optimizer.moments();
        let mut state = vec![("optimizer.m", m.clone()), ("optimizer.v", v.clone())];
        state.push(("loss.weights", self.weights.clone()));
        if let Some(g) = &self.gradnorm {
            state.push(("gradnorm.state", g.state().clone()));
        }
        for (name, t) in state {
            ckpt.insert(name, t.shape(), e.read(&t)?);
        }
        let meta = &mut ckpt.metadata;
        meta.insert("format".into(), CHECKPOINT_FORMAT.into());
        meta.insert("model".into(), self.model.name().into());
        meta.insert("epoch".into(), self.epoch.to_string());
        meta.insert("step".into(), self.step.to_string());
        meta.insert("adam_step".into(), self.optimizer.step().to_string());
        if let Some((epoch, valid, test)) = self.best {
            // Bit patterns, so that a resumed run compares against exactly the same numbers.
            let bits = format!("{epoch} {} {}", valid.to_bits(), test.to_bits());
            meta.insert("best".into(), bits);
        }
        meta.insert(
            "config".into(),
            serde_json::to_string(&self.config).expect("configs serialise"),
        );
        Ok(ckpt)
    }

    /// Loads the model's parameters from `ckpt` (read from `path`, for messages).
    pub fn load_params(&self, ckpt: &Checkpoint, path: &Path) -> Result<()> {
        write_params(&self.engine, self.model.as_ref(), ckpt, path)
    }

    /// Restores a [`NbodyTrainer::checkpoint`]: the next [`NbodyTrainer::epoch`] continues
    /// the run as if it had never stopped.
    pub fn restore(&mut self, ckpt: &Checkpoint, path: &Path) -> Result<()> {
        let bad = |detail: String| Error::Checkpoint {
            path: path.to_path_buf(),
            detail,
        };
        let format = ckpt.meta(path, "format")?;
        if format != CHECKPOINT_FORMAT {
            return Err(bad(format!(
                "format {format:?}, this build reads {CHECKPOINT_FORMAT:?}"
            )));
        }
        let model = ckpt.meta(path, "model")?;
        if model != self.model.name() {
            return Err(bad(format!(
                "holds a {model}, the config trains a {}",
                self.model.name()
            )));
        }
        self.load_params(ckpt, path)?;
        let (m, v) = self.optimizer.moments();
        let mut state = vec![("optimizer.m", m.clone()), ("optimizer.v", v.clone())];
        state.push(("loss.weights", self.weights.clone()));
        if let Some(g) = &self.gradnorm {
            state.push(("gradnorm.state", g.state().clone()));
        }
        for (name, t) in state {
            self.engine.write(&t, ckpt.get(path, name, t.shape())?)?;
        }
        let number = |key: &str| -> Result<u64> {
            ckpt.meta(path, key)?
                .parse()
                .map_err(|_| bad(format!("metadata {key:?} is not a number")))
        };
        self.epoch = number("epoch")? as usize;
        self.step = number("step")?;
        self.optimizer.set_step(number("adam_step")? as u32);
        self.best = match ckpt.metadata.get("best") {
            None => None,
            Some(text) => {
                let parts: Vec<&str> = text.split(' ').collect();
                let parsed = (|| -> Option<(usize, f64, f64)> {
                    let [e, v, t] = parts.as_slice() else {
                        return None;
                    };
                    let v = f64::from_bits(v.parse().ok()?);
                    Some((e.parse().ok()?, v, f64::from_bits(t.parse().ok()?)))
                })();
                Some(parsed.ok_or_else(|| bad(format!("metadata \"best\" is {text:?}")))?)
            }
        };
        Ok(())
    }
}

/// Writes every parameter of `model` from `ckpt` (tensors named `model.<parameter>`).
fn write_params(engine: &Engine, model: &dyn Model, ckpt: &Checkpoint, path: &Path) -> Result<()> {
    let params = model.params();
    for id in params.ids() {
        let name = format!("model.{}", params.name(id));
        let values = ckpt.get(path, &name, params.shape(id))?;
        params.write(engine, id, values)?;
    }
    Ok(())
}

/// The trained model in a checkpoint written by `remul train` (`path` names it in errors),
/// built for graphs of `dims`, with the training config it came from. For inference without
/// a trainer, e.g. inside an application that owns the device.
pub fn load_model(
    engine: &Engine,
    ckpt: &Checkpoint,
    path: &Path,
    dims: models::GraphDims,
) -> Result<(TrainConfig, Box<dyn Model>)> {
    let bad = |detail: String| Error::Checkpoint {
        path: path.to_path_buf(),
        detail,
    };
    let config = TrainConfig::from_json(ckpt.meta(path, "config")?)
        .map_err(|e| bad(format!("its config: {e}")))?;
    let model = models::build(engine, &config.model, dims, config.seed)?;
    let kind = ckpt.meta(path, "model")?;
    if kind != model.name() {
        return Err(bad(format!(
            "holds a {kind}, its config describes a {}",
            model.name()
        )));
    }
    write_params(engine, model.as_ref(), ckpt, path)?;
    Ok((config, model))
}

/// The rotation angle in degrees of a transform's `R` (of `-R` when `R` is a reflection).
fn angle_deg(t: &[f32]) -> f64 {
    let r: Vec<f64> = t[..9].iter().map(|&v| v as f64).collect();
    let det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6])
        + r[2] * (r[3] * r[7] - r[4] * r[6]);
    let trace = (r[0] + r[4] + r[8]) * det.signum();
    ((trace - 1.0) / 2.0).clamp(-1.0, 1.0).acos().to_degrees()
}
