//! The `remul` command line: parses arguments, prints, and calls the library.

mod cli;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use remul::kernels::bias_act::Activation;
use remul::train::{EpochSummary, Observer, RegressionConfig, RegressionTrainer};
use remul::{Engine, EngineOptions};

#[derive(Parser)]
#[command(
    name = "remul",
    version,
    about = "Train geometric deep-learning models on any GPU"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List every GPU adapter wgpu can see, with the limits and features remul cares about.
    Info {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train a model (today: an MLP on a synthetic regression task).
    Train(TrainArgs),
    /// Generate or inspect N-body datasets.
    #[command(subcommand)]
    Data(cli::data::DataCommand),
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelKind {
    /// Multilayer perceptron.
    Mlp,
}

#[derive(Clone, Copy, ValueEnum)]
enum TaskKind {
    /// Learn a smooth map R^3 -> R^3 from generated samples.
    Regression,
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Model to train.
    #[arg(long, value_enum, default_value = "mlp")]
    model: ModelKind,
    /// Task to train on.
    #[arg(long, value_enum, default_value = "regression")]
    task: TaskKind,
    /// JSON config file; command-line options override its fields.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Passes over the training data.
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per step.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f32>,
    /// Hidden width.
    #[arg(long)]
    hidden: Option<usize>,
    /// Hidden layers.
    #[arg(long)]
    layers: Option<usize>,
    /// Activation: identity, relu or silu.
    #[arg(long)]
    activation: Option<Activation>,
    /// Seed for data, initial weights and shuffling.
    #[arg(long)]
    seed: Option<u64>,
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("remul=info"))
        .format_timestamp(None)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { json } => info(json),
        Command::Train(args) => train(args),
        Command::Data(command) => cli::data::run(command),
    }
}

fn info(json: bool) -> Result<()> {
    let adapters = Engine::adapters(&EngineOptions::default());
    if json {
        println!("{}", serde_json::to_string_pretty(&adapters)?);
        return Ok(());
    }
    if adapters.is_empty() {
        bail!(
            "wgpu sees no adapter. Install a Vulkan driver, or Mesa's lavapipe \
             (`apt-get install mesa-vulkan-drivers`); see README.md"
        );
    }
    for (i, a) in adapters.iter().enumerate() {
        let chosen = if i == 0 { "  <- remul's choice" } else { "" };
        println!("[{i}] {}{chosen}", a.name);
        println!(
            "    backend {}, type {}, driver {} {}",
            a.backend, a.device_type, a.driver, a.driver_info
        );
        println!(
            "    max storage binding {} MiB, {} storage buffers/stage, {} invocations/workgroup, \
             {} KiB workgroup memory, {} workgroups/dim",
            a.max_storage_buffer_binding_size >> 20,
            a.max_storage_buffers_per_shader_stage,
            a.max_compute_invocations_per_workgroup,
            a.max_compute_workgroup_storage_size >> 10,
            a.max_compute_workgroups_per_dimension,
        );
        println!(
            "    timestamp queries: {}, subgroups: {}, meets WebGPU default limits: {}",
            yes_no(a.timestamp_query),
            yes_no(a.subgroups),
            yes_no(a.meets_default_limits),
        );
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Draws a progress bar per epoch and prints one summary line after each.
struct ConsoleObserver {
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Observer for ConsoleObserver {
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

fn train(args: TrainArgs) -> Result<()> {
    let (ModelKind::Mlp, TaskKind::Regression) = (args.model, args.task);
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

    let engine = Engine::new(EngineOptions::default())?;
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
    let mut observer = ConsoleObserver {
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
