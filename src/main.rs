//! The `remul` command line: parses arguments, prints, and calls the library.

mod cli;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};
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
    /// Train a model: REMUL-GNN on charged N-body data by default (see --help for presets).
    Train(cli::train::TrainArgs),
    /// Test MSE and equivariance error of a saved model.
    Eval(cli::train::EvalArgs),
    /// Measure the adapter's ceilings, every kernel and whole models; compare reports.
    Bench(cli::bench::BenchArgs),
    /// Generate or inspect N-body datasets.
    #[command(subcommand)]
    Data(cli::data::DataCommand),
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
        Command::Train(args) => cli::train::train(args),
        Command::Eval(args) => cli::train::eval(args),
        Command::Data(command) => cli::data::run(command),
        Command::Bench(args) => cli::bench::run(args),
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
