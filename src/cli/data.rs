//! `remul data`: generate and inspect N-body datasets.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use remul::data::{
    self, charged, generate_charged, generate_gravity, ChargedConfig, Dataset, GravityConfig,
    GravityDataset, GravitySplit,
};

use super::progress_bar;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Simulate a dataset and write it as `.npy` files.
    Generate(GenerateArgs),
    /// Check a dataset folder: files, shapes, and the simple baselines' test MSE.
    Inspect {
        /// The dataset folder.
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataKind {
    /// Charged particles (the EGNN paper's N-body data; the EGNN `.npy` format).
    Charged,
    /// A star and planets under gravity (the GATr paper's setup).
    Gravity,
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Which simulator.
    #[arg(long, value_enum, default_value = "charged")]
    kind: DataKind,
    /// Folder to write; must not already hold a dataset.
    #[arg(long)]
    out: PathBuf,
    /// Seed of every random draw (the reference charged dataset uses 43).
    #[arg(long)]
    seed: Option<u64>,
    /// Training samples (default 10000).
    #[arg(long)]
    train: Option<usize>,
    /// Validation samples (default 2000 charged, 1000 gravity).
    #[arg(long)]
    valid: Option<usize>,
    /// Test samples (charged) or evaluation samples and each generalisation split (gravity);
    /// default 2000 charged, 1000 gravity.
    #[arg(long)]
    test: Option<usize>,
    /// File-name suffix of the charged files.
    #[arg(long)]
    suffix: Option<String>,
    /// Worker threads (0: every core); the output does not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Generate(args) => generate(args),
        DataCommand::Inspect { dir } => inspect(&dir),
    }
}

fn generate(args: GenerateArgs) -> Result<()> {
    refuse_existing(&args.out)?;
    let start = Instant::now();
    let bar = progress_bar(0, "simulating", "trajectories");
    let mut progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    match args.kind {
        DataKind::Charged => {
            let mut config = ChargedConfig::default();
            macro_rules! set {
                ($field:ident = $value:expr) => {
                    if let Some(v) = $value {
                        config.$field = v;
                    }
                };
            }
            set!(seed = args.seed);
            set!(train = args.train);
            set!(valid = args.valid);
            set!(test = args.test);
            set!(suffix = args.suffix);
            config.threads = args.threads;
            generate_charged(&args.out, &config, &mut progress)
                .with_context(|| format!("generating into {}", args.out.display()))?;
            write_manifest(&args.out, &config)?;
        }
        DataKind::Gravity => {
            if args.suffix.is_some() {
                bail!("--suffix applies to charged datasets only");
            }
            let mut config = GravityConfig::default();
            if let Some(seed) = args.seed {
                config.seed = seed;
            }
            if let Some(n) = args.train {
                config.train = n;
            }
            if let Some(n) = args.valid {
                config.val = n;
            }
            if let Some(n) = args.test {
                config.eval = n;
                config.e3_generalization = n;
                config.object_generalization = n;
            }
            config.threads = args.threads;
            generate_gravity(&args.out, &config, &mut progress)
                .with_context(|| format!("generating into {}", args.out.display()))?;
            write_manifest(&args.out, &config)?;
        }
    }
    bar.finish_and_clear();
    println!(
        "wrote {} in {:.1} s",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    inspect(&args.out)
}

/// Errors when `dir` already holds files: generating never overwrites a dataset.
fn refuse_existing(dir: &Path) -> Result<()> {
    if dir.is_file() {
        bail!("{} is a file, not a folder", dir.display());
    }
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            bail!(
                "{} is not empty; choose a new folder (remul never overwrites a dataset)",
                dir.display()
            );
        }
    }
    Ok(())
}

fn write_manifest<T: serde::Serialize>(dir: &Path, config: &T) -> Result<()> {
    let path = dir.join("remul-dataset.json");
    std::fs::write(&path, serde_json::to_string_pretty(config)?)
        .with_context(|| format!("writing {}", path.display()))
}

fn inspect(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a folder", dir.display());
    }
    if data::gravity::gravity_file(dir, "x0", GravitySplit::Train).exists() {
        return inspect_gravity(dir);
    }
    let has_charged = std::fs::read_dir(dir)?
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("loc_train_"));
    if !has_charged {
        bail!(
            "{} holds neither a charged dataset (loc_train_<suffix>.npy, ...) nor a gravity \
             dataset (x0_train.npy, ...)",
            dir.display()
        );
    }
    let mut loader = charged::LoaderConfig::default();
    if let Some(suffix) = charged_suffix(dir) {
        loader.suffix = suffix;
    }
    println!("{}", data::inspect_with(dir, &loader)?);
    Ok(())
}

/// The suffix of the charged files in `dir`, from `loc_train_<suffix>.npy`.
fn charged_suffix(dir: &Path) -> Option<String> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.strip_prefix("loc_train_")?
            .strip_suffix(".npy")
            .map(str::to_string)
    })
}

fn inspect_gravity(dir: &Path) -> Result<()> {
    println!("gravity N-body dataset in {}", dir.display());
    for split in GravitySplit::ALL {
        let set = GravityDataset::load(dir, split)?;
        let mut objects = 0;
        let (mut se_static, mut se_velocity, mut count) = (0.0, 0.0, 0usize);
        for i in 0..set.len() {
            let g = set.graph(i).expect("index below len");
            objects = g.positions.len() / 3;
            for k in 0..g.positions.len() {
                let (x, y, v) = (g.positions[k], g.targets[k], g.velocities[k]);
                se_static += (y - x) * (y - x);
                // The simulation spans a total time of 0.1.
                let e = y - (x + 0.1 * v);
                se_velocity += e * e;
                count += 1;
            }
        }
        let n = count.max(1) as f64;
        println!(
            "  {:<22} {:>6} systems of {objects} objects   \
             MSE of x1 = x0: {:.6}, x1 = x0 + 0.1 v0: {:.6}",
            split.name(),
            set.len(),
            se_static / n,
            se_velocity / n
        );
    }
    Ok(())
}
