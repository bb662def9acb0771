//! `remul train` and `remul eval`: N-body training with REMUL (the default), its run folder,
//! and the first MLP regression task.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use remul::data::{self, ChargedDataset, Split};
use remul::kernels::bias_act::Activation;
use remul::kernels::rotate::RotationKind;
use remul::train::{
    Checkpoint, EpochMetrics, EpochSummary, EvalReport, NbodyObserver, NbodyTrainer, Observer,
    RegressionConfig, RegressionTrainer, TrainConfig,
};
use remul::{Engine, EngineOptions};
use serde_json::Value;

use super::config;
use super::plot::{self, Series};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Multilayer perceptron over each whole graph (also the regression task's model).
    Mlp,
    /// Message-passing GNN (not equivariant).
    Gnn,
    /// E(n)-equivariant GNN.
    Egnn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskArg {
    /// Predict charged N-body positions 10 frames ahead (the default).
    Nbody,
    /// Learn a smooth map R^3 -> R^3 from generated samples (MLP only).
    Regression,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormArg {
    /// No equivariance term (plain training).
    None,
    /// |f(Rx + t) - (R y + t)|^2.
    Label,
    /// |f(Rx + t) - (R f(x) + t)|^2.
    Consistency,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Model to train (default: gnn, from the config).
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// Task to train on.
    #[arg(long, value_enum, default_value = "nbody")]
    task: TaskArg,
    /// JSON config file (e.g. a preset in data/presets/); flags override its fields.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Set any config field: --set remul.transform.max_angle_deg=90 (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Passes over the training data.
    #[arg(long)]
    epochs: Option<usize>,
    /// Graphs (or samples) per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate (default 1e-3; 5e-4 for EGNN).
    #[arg(long)]
    lr: Option<f32>,
    /// Hidden width.
    #[arg(long)]
    hidden: Option<usize>,
    /// Message-passing layers (hidden layers for the regression MLP).
    #[arg(long)]
    layers: Option<usize>,
    /// Activation: identity, relu or silu.
    #[arg(long)]
    activation: Option<Activation>,
    /// Seed of the weights, the shuffling and the random roto-translations.
    #[arg(long)]
    seed: Option<u64>,
    /// Weight of the task loss.
    #[arg(long, allow_negative_numbers = true)]
    alpha: Option<f32>,
    /// Weight of the equivariance loss.
    #[arg(long, allow_negative_numbers = true)]
    beta: Option<f32>,
    /// The equivariance loss.
    #[arg(long, value_enum)]
    form: Option<FormArg>,
    /// Data augmentation baseline: train on roto-translated graphs, no equivariance term.
    #[arg(long)]
    augment: bool,
    /// GradNorm balances alpha and beta instead of fixing them.
    #[arg(long)]
    gradnorm: bool,
    /// Validate every this many epochs.
    #[arg(long)]
    valid_every: Option<usize>,
    /// A charged N-body dataset folder in the EGNN `.npy` format (default: generated once
    /// into the cache).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint (--epochs may extend it).
    #[arg(long, conflicts_with_all = ["config", "out"])]
    resume: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A checkpoint written by `remul train` (best.safetensors or last.safetensors).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Dataset folder (default: the one the run trained on).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Split to evaluate.
    #[arg(long, default_value = "test")]
    split: Split,
    /// Random roto-translations per graph for the equivariance error.
    #[arg(long)]
    rotations: Option<usize>,
    /// Change how the model is probed: a `remul.transform.*` or `eval.*` field, e.g.
    /// --set remul.transform.translation_std=0 (rotations only) (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn train(args: TrainArgs) -> Result<()> {
    match (args.task, args.model) {
        (TaskArg::Regression, None | Some(ModelArg::Mlp)) => regression(args),
        (TaskArg::Regression, Some(_)) => bail!("--task regression trains an MLP: use --model mlp"),
        (TaskArg::Nbody, _) => nbody(args),
    }
}

/// The config of a new or resumed run, from defaults, file and flags.
fn resolve(args: &TrainArgs) -> Result<TrainConfig> {
    let mut value = match (&args.resume, &args.config) {
        (Some(dir), _) => config::read_file(&dir.join("config.json"))
            .with_context(|| format!("resuming {}", dir.display()))?,
        (None, Some(path)) => config::read_file(path)?,
        (None, None) => serde_json::to_value(TrainConfig::default())?,
    };
    let lr_from_file = args.config.is_some() && file_sets(args, "lr");
    let mut flags: Vec<(&str, Value)> = Vec::new();
    let mut put = |path: &'static str, v: Option<Value>| {
        if let Some(v) = v {
            flags.push((path, v));
        }
    };
    let kind = args.model.map(|m| match m {
        ModelArg::Gnn => "gnn",
        ModelArg::Egnn => "egnn",
        ModelArg::Mlp => "mlp",
    });
    put("model.kind", kind.map(Value::from));
    put("epochs", args.epochs.map(Value::from));
    put("batch_size", args.batch_size.map(Value::from));
    put("optimizer.lr", args.lr.map(|v| Value::from(v as f64)));
    put("model.hidden", args.hidden.map(Value::from));
    put("model.layers", args.layers.map(Value::from));
    put(
        "model.activation",
        args.activation
            .map(|a| serde_json::to_value(a).expect("activation")),
    );
    put("seed", args.seed.map(Value::from));
    put("remul.alpha", args.alpha.map(|v| Value::from(v as f64)));
    put("remul.beta", args.beta.map(|v| Value::from(v as f64)));
    let form = args.form.map(|f| match f {
        FormArg::None => "none",
        FormArg::Label => "label",
        FormArg::Consistency => "consistency",
    });
    put("remul.form", form.map(Value::from));
    if args.augment {
        put("remul.augment", Some(Value::Bool(true)));
        if args.form.is_none() {
            put("remul.form", Some(Value::from("none")));
        }
    }
    if args.gradnorm {
        put("remul.weighting", Some(Value::from("gradnorm")));
    }
    put("valid_every", args.valid_every.map(Value::from));
    put(
        "data.dir",
        args.data
            .as_ref()
            .map(|d| Value::from(d.display().to_string())),
    );
    for (path, v) in flags {
        config::set(&mut value, path, v)?;
    }
    for text in &args.set {
        let (path, v) = config::split_assignment(text)?;
        config::set(&mut value, path, v)?;
    }
    // EGNN's reference learning rate differs from the GNN's; a new run that sets none gets it.
    let lr_set = args.lr.is_some()
        || lr_from_file
        || args.resume.is_some()
        || args.set.iter().any(|s| s.starts_with("optimizer.lr"));
    if !lr_set && value["model"]["kind"] == "egnn" {
        config::set(&mut value, "optimizer.lr", Value::from(5e-4))?;
    }
    config::finish(value)
}

/// Whether the config file names `optimizer.<field>`.
fn file_sets(args: &TrainArgs, field: &str) -> bool {
    let Some(path) = &args.config else {
        return false;
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    v.get("optimizer").and_then(|o| o.get(field)).is_some()
}

/// The charged dataset's folder: the config's, or the cached reference set (generated once).
fn data_dir(config: &TrainConfig) -> Result<PathBuf> {
    if let Some(dir) = &config.data.dir {
        if !dir.is_dir() {
            bail!(
                "dataset folder {} does not exist (data.dir / --data)",
                dir.display()
            );
        }
        return Ok(dir.clone());
    }
    let cache = data::default_cache_dir()
        .context("no cache folder: set REMUL_CACHE_DIR or HOME, or pass --data DIR")?;
    let bar = super::progress_bar(0, "generating the charged N-body dataset", "trajectories");
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let dir = data::ensure_default_charged(&cache, &mut progress)?;
    bar.finish_and_clear();
    println!("charged N-body data: {}", dir.display());
    Ok(dir)
}

type Splits = (
    Arc<ChargedDataset>,
    Arc<ChargedDataset>,
    Arc<ChargedDataset>,
);

fn load_splits(config: &TrainConfig) -> Result<Splits> {
    let dir = data_dir(config)?;
    let load = |split| -> Result<Arc<ChargedDataset>> {
        Ok(Arc::new(ChargedDataset::load(
            &dir,
            split,
            &config.data.loader,
        )?))
    };
    Ok((load(Split::Train)?, load(Split::Valid)?, load(Split::Test)?))
}

/// What the run trains, in words.
fn describe(config: &TrainConfig) -> String {
    let r = &config.remul;
    let model = format!("{:?}", config.model.kind).to_uppercase();
    let objective = if r.augment {
        "data augmentation (random roto-translations, no equivariance term)".to_string()
    } else if r.form == remul::kernels::remul_loss::Form::None {
        "the task loss only".to_string()
    } else if r.weighting == remul::train::Weighting::Gradnorm {
        format!("REMUL ({} form, GradNorm weights)", form_name(r.form))
    } else {
        format!(
            "REMUL ({} form, alpha {}, beta {})",
            form_name(r.form),
            r.alpha,
            r.beta
        )
    };
    format!("{model} with {objective}")
}

fn form_name(form: remul::kernels::remul_loss::Form) -> String {
    format!("{form:?}").to_lowercase()
}

fn nbody(args: TrainArgs) -> Result<()> {
    let config = resolve(&args)?;
    let run_dir = match (&args.resume, &args.out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => default_run_dir(&config),
    };
    let (train, valid, test) = load_splits(&config)?;
    let engine = Engine::new(EngineOptions {
        autotune: true,
        ..EngineOptions::default()
    })?;
    let mut trainer = NbodyTrainer::new(&engine, config.clone(), train, valid, test)?;

    let last = run_dir.join("last.safetensors");
    if args.resume.is_some() {
        let ckpt = Checkpoint::load(&last)?;
        trainer.restore(&ckpt, &last)?;
        truncate_metrics(&run_dir.join("metrics.jsonl"), trainer.epochs_done())?;
        println!(
            "resuming {} after epoch {} (step {})",
            run_dir.display(),
            trainer.epochs_done(),
            trainer.steps_done()
        );
    } else {
        if run_dir.join("config.json").exists() {
            bail!(
                "{} already holds a run: pick another --out, or continue it with --resume",
                run_dir.display()
            );
        }
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("creating run folder {}", run_dir.display()))?;
    }
    let config_text = serde_json::to_string_pretty(&config)? + "\n";
    remul::train::checkpoint::write_atomic(&run_dir.join("config.json"), config_text.as_bytes())?;

    println!(
        "training {} ({} parameters, hidden {}, {} layers) on {} graphs, {} epochs of {} steps, \
         batch {}; run folder {}",
        describe(&config),
        trainer.model().params().count(),
        config.model.hidden,
        config.model.layers,
        trainer.steps_per_epoch() * config.batch_size,
        config.epochs,
        trainer.steps_per_epoch(),
        config.batch_size,
        run_dir.display()
    );
    let start = Instant::now();
    let mut observer = Console::new(config.epochs);
    let mut history = read_metrics(&run_dir.join("metrics.jsonl"))?;
    while trainer.epochs_done() < config.epochs {
        let metrics = trainer.epoch(&mut observer)?;
        append_metrics(&run_dir.join("metrics.jsonl"), &metrics)?;
        if metrics.improved {
            trainer
                .checkpoint()?
                .save(&run_dir.join("best.safetensors"))?;
        }
        trainer.checkpoint()?.save(&last)?;
        history.push(metrics);
    }
    write_plots(&run_dir, &history)?;

    let first = history.first().context("no epoch ran")?;
    let end = history.last().expect("non-empty");
    println!(
        "done in {:.1} s: task loss {:.6} -> {:.6}, equivariance loss {:.6} -> {:.6}",
        start.elapsed().as_secs_f64(),
        first.train_task,
        end.train_task,
        first.train_equi,
        end.train_equi
    );
    if let Some((epoch, valid, test)) = trainer.best() {
        println!(
            "best validation MSE {valid:.6} at epoch {epoch}: test MSE {test:.6} \
             (model in {})",
            run_dir.join("best.safetensors").display()
        );
    }
    Ok(())
}

fn default_run_dir(config: &TrainConfig) -> PathBuf {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_date(secs / 86_400);
    let t = secs % 86_400;
    let mut name = format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{:?}",
        t / 3600,
        t / 60 % 60,
        t % 60,
        config.model.kind
    )
    .to_lowercase();
    if config.remul.augment {
        name.push_str("-augment");
    } else if config.remul.doubled() {
        name.push_str("-remul");
    }
    let mut dir = PathBuf::from("runs").join(&name);
    let mut k = 2;
    while dir.exists() {
        dir = PathBuf::from("runs").join(format!("{name}-{k}"));
        k += 1;
    }
    dir
}

/// Year, month, day of a day count since 1970-01-01 (the proleptic Gregorian calendar).
fn civil_date(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{} line {}", path.display(), i + 1))
        })
        .collect()
}

fn append_metrics(path: &Path, m: &EpochMetrics) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    // One write per line, so a kill leaves whole lines or at most one cut-off last line.
    let line = serde_json::to_string(m)? + "\n";
    f.write_all(line.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Drops metrics lines of epochs after the checkpoint (written before a kill), and a last line
/// that a kill cut off in the middle.
fn truncate_metrics(path: &Path, epochs_done: usize) -> Result<()> {
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if !text.is_empty() && !text.ends_with('\n') {
            let cut = text.rfind('\n').map_or(0, |i| i + 1);
            log::warn!(
                "{}: dropping an unfinished last line (the run was stopped while writing it)",
                path.display()
            );
            remul::train::checkpoint::write_atomic(path, &text.as_bytes()[..cut])?;
        }
    }
    let kept: Vec<EpochMetrics> = read_metrics(path)?
        .into_iter()
        .filter(|m| m.epoch <= epochs_done)
        .collect();
    let mut text = String::new();
    for m in &kept {
        text += &serde_json::to_string(m)?;
        text.push('\n');
    }
    remul::train::checkpoint::write_atomic(path, text.as_bytes())?;
    Ok(())
}

fn write_plots(dir: &Path, history: &[EpochMetrics]) -> Result<()> {
    let curve = |f: &dyn Fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|m| f(m).map(|v| (m.epoch as f64, v)))
            .collect()
    };
    let mut series = vec![Series {
        name: "train task loss",
        points: curve(&|m| Some(m.train_task)),
    }];
    if history.iter().any(|m| m.train_equi > 0.0) {
        series.push(Series {
            name: "train equivariance loss",
            points: curve(&|m| Some(m.train_equi)),
        });
    }
    series.push(Series {
        name: "validation MSE",
        points: curve(&|m| m.valid.as_ref().map(|v| v.mse)),
    });
    series.push(Series {
        name: "test MSE",
        points: curve(&|m| m.test_mse),
    });
    let losses = plot::svg("Losses", "epoch", "loss (log scale)", &series, true);
    std::fs::write(dir.join("losses.svg"), losses)?;

    if let Some(report) = history.iter().rev().find_map(|m| m.valid.as_ref()) {
        let points = report
            .equi_by_angle
            .iter()
            .filter_map(|b| Some((0.5 * (b.from_deg + b.to_deg), b.mean_error?)))
            .collect();
        let by_angle = plot::svg(
            "Equivariance error by rotation angle (last validation)",
            "rotation angle (degrees)",
            "mean |f(Rx+t) - (R f(x) + t)|",
            &[Series {
                name: "validation",
                points,
            }],
            false,
        );
        std::fs::write(dir.join("equivariance_by_angle.svg"), by_angle)?;
    }
    Ok(())
}

/// Six decimals, or three significant digits for values too small for them (an equivariant
/// model's error is f32 rounding, ~1e-7).
fn small(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.2e}")
    } else {
        format!("{v:.6}")
    }
}

/// A progress bar per epoch and a summary line after each.
struct Console {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Console {
    fn new(epochs: usize) -> Self {
        Self { bar: None, epochs }
    }
}

impl NbodyObserver for Console {
    fn on_step(&mut self, epoch: usize, step: usize, steps: usize) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(steps as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} steps  {per_sec}  eta {eta}  {msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        bar.set_prefix(format!("{epoch}/{}", self.epochs));
        bar.set_position(step as u64);
    }

    fn on_losses(&mut self, task: f64, equi: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("task {task:.5}  equi {equi:.5}"));
        }
    }

    fn on_epoch(&mut self, m: &EpochMetrics) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        println!(
            "epoch {:>3}/{}  task {:.6}  equi {:.6}  alpha {:.3} beta {:.3}  {:.0} graphs/s",
            m.epoch,
            self.epochs,
            m.train_task,
            m.train_equi,
            m.weights[0],
            m.weights[1],
            m.samples_per_sec
        );
        if let (Some(v), Some(t)) = (&m.valid, m.test_mse) {
            let best = if m.improved { "  (best so far)" } else { "" };
            println!(
                "    validation MSE {:.6}  equivariance error {}  test MSE {t:.6}{best}",
                v.mse,
                small(v.equi_error)
            );
        }
    }
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let ckpt = Checkpoint::load(&args.checkpoint)?;
    let text = ckpt.meta(&args.checkpoint, "config")?;
    let config = TrainConfig::from_json(text)
        .with_context(|| format!("the config inside {}", args.checkpoint.display()))?;
    let mut config = probe_settings(config, &args.set)?;
    if let Some(dir) = &args.data {
        config.data.dir = Some(dir.clone());
    }
    if let Some(r) = args.rotations {
        config.eval.rotations = r;
    }
    config.validate()?;
    let (train, valid, test) = load_splits(&config)?;
    let engine = Engine::new(EngineOptions {
        autotune: true,
        ..EngineOptions::default()
    })?;
    let mut trainer =
        NbodyTrainer::new(&engine, config.clone(), train, valid.clone(), test.clone())?;
    trainer.load_params(&ckpt, &args.checkpoint)?;
    let split = match args.split {
        Split::Valid => valid,
        Split::Test => test,
        Split::Train => bail!("evaluate on valid or test"),
    };
    let report = trainer.evaluate(&split, config.eval.rotations)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    print_report(&args, &config, &report);
    Ok(())
}

/// Applies `remul eval --set` to the run's config: only the fields that say how the model is
/// probed, since the model itself comes from the checkpoint.
fn probe_settings(config: TrainConfig, sets: &[String]) -> Result<TrainConfig> {
    let mut value = serde_json::to_value(config)?;
    for text in sets {
        let (path, v) = config::split_assignment(text)?;
        if !(path.starts_with("remul.transform.") || path.starts_with("eval.")) {
            bail!(
                "remul eval --set takes remul.transform.* or eval.* fields (the rest comes \
                 from the checkpoint), got '{path}'"
            );
        }
        config::set(&mut value, path, v)?;
    }
    config::finish(value)
}

fn print_report(args: &EvalArgs, config: &TrainConfig, r: &EvalReport) {
    println!(
        "{} on {} {} graphs ({} roto-translations each):",
        args.checkpoint.display(),
        r.samples,
        args.split.name(),
        config.eval.rotations
    );
    let t = &config.remul.transform;
    let group = match t.rotation {
        RotationKind::So3 => "SO(3)".to_string(),
        RotationKind::O3 => "O(3)".to_string(),
        RotationKind::Axis => format!("about the axis {:?}", t.axis),
    };
    println!(
        "  transforms          rotations {group}, {}-{} deg; translations std {}",
        t.min_angle_deg, t.max_angle_deg, t.translation_std
    );
    println!("  task MSE            {:.6}", r.mse);
    println!(
        "  equivariance error  {}  (mean |f(Rx+t) - (R f(x)+t)| per node)",
        small(r.equi_error)
    );
    println!("  by rotation angle:");
    for b in &r.equi_by_angle {
        let err = b.mean_error.map_or("-".to_string(), small);
        println!(
            "    {:>5.0}-{:<5.0} deg  {err:>9}  ({} transforms)",
            b.from_deg, b.to_deg, b.transforms
        );
    }
}

/// Draws a progress bar per epoch and prints one summary line after each.
struct RegressionConsole {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Observer for RegressionConsole {
    fn on_step(&mut self, epoch: usize, step: usize, steps: usize) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::new(steps as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        bar.set_prefix(format!("{epoch}/{}", self.epochs));
        bar.set_position(step as u64);
    }

    fn on_epoch(&mut self, s: &EpochSummary) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let valid = s
            .valid_loss
            .map_or(String::new(), |v| format!("  valid {v:.6}"));
        println!(
            "epoch {:>3}/{}  train {:.6}{valid}  {:.0} samples/s",
            s.epoch, self.epochs, s.train_loss, s.samples_per_sec
        );
    }
}

fn regression(args: TrainArgs) -> Result<()> {
    let mut config: RegressionConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("config {}", path.display()))?
        }
        None => RegressionConfig::default(),
    };
    macro_rules! override_field {
        ($($field:ident).+ = $value:expr) => {
            if let Some(v) = $value {
                config.$($field).+ = v;
            }
        };
    }
    override_field!(epochs = args.epochs);
    override_field!(batch_size = args.batch_size);
    override_field!(optimizer.lr = args.lr);
    override_field!(hidden = args.hidden);
    override_field!(layers = args.layers);
    override_field!(activation = args.activation);
    override_field!(seed = args.seed);
    config.validate()?;

    let engine = Engine::new(EngineOptions {
        autotune: true,
        ..EngineOptions::default()
    })?;
    let start = Instant::now();
    let mut trainer = RegressionTrainer::new(&engine, config.clone())?;
    println!(
        "training an MLP ({} parameters, {} hidden layers of {}) on {} samples of a synthetic \
         regression task, {} epochs of {} steps",
        trainer.params().count(),
        config.layers,
        config.hidden,
        config.train_samples,
        config.epochs,
        trainer.steps_per_epoch()
    );
    let mut observer = RegressionConsole {
        bar: None,
        epochs: config.epochs,
    };
    let history = trainer.run(&mut observer)?;
    let (first, last) = (&history[0], &history[history.len() - 1]);
    println!(
        "done in {:.1} s: training loss {:.6} -> {:.6} ({:.1}x lower)",
        start.elapsed().as_secs_f64(),
        first.train_loss,
        last.train_loss,
        first.train_loss / last.train_loss
    );
    Ok(())
}
