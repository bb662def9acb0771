//! Where generated datasets live between runs, and a summary ([`Report`]) of a charged
//! dataset folder.
//!
//! A dataset is generated into a temporary folder beside its final place and renamed into
//! place only when complete, so a killed generation never leaves a folder that looks
//! finished. The folder name encodes the generator version and a hash of the
//! configuration, so a changed configuration never reuses stale files.
//!
//! Known shortcoming: a generation killed mid-way leaves its `.tmp-*` folder in the cache
//! folder. It is never mistaken for a dataset, but nothing deletes it either.

use std::fmt;
use std::path::{Path, PathBuf};

use super::charged::{check_shapes, require_files, split_paths, SplitShape};
use super::npy::read_header;
use super::{generate_charged, ChargedConfig, ChargedDataset, DataError, LoaderConfig, Split};

/// Bumped whenever the generator's output for a given configuration changes.
const GENERATOR_VERSION: u32 = 1;

/// The folder for cached datasets: `$REMUL_CACHE_DIR`, else `$XDG_CACHE_HOME/remul`, else
/// `~/.cache/remul`; `None` when none of these variables is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("REMUL_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("remul"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("remul"))
}

/// FNV-1a, for naming folders after configurations (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The folder name under a cache folder for the dataset `config` generates.
pub fn charged_dir_name(config: &ChargedConfig) -> String {
    // The thread count does not change the output, so it is left out of the hash.
    let mut key = config.clone();
    key.threads = 0;
    let json = serde_json::to_string(&key).unwrap_or_default();
    format!(
        "charged-v{GENERATOR_VERSION}-{}-seed{}-{:016x}",
        config.suffix,
        config.seed,
        fnv1a(json.as_bytes())
    )
}

/// Returns the folder holding the dataset of `config` under `cache_dir`, generating it
/// first when it is not there.
pub fn ensure_charged(
    cache_dir: &Path,
    config: &ChargedConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PathBuf, DataError> {
    let dir = cache_dir.join(charged_dir_name(config));
    if dir.is_dir() {
        for split in Split::ALL {
            require_files(&split_paths(&dir, split, &config.suffix), split.name())?;
        }
        log::info!("using the cached dataset {}", dir.display());
        return Ok(dir);
    }
    std::fs::create_dir_all(cache_dir).map_err(|e| DataError::io(cache_dir, e))?;
    let tmp = cache_dir.join(format!(
        ".tmp-{}-{}",
        charged_dir_name(config),
        std::process::id()
    ));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| DataError::io(&tmp, e))?;
    }
    log::info!("generating the charged dataset into {}", dir.display());
    let generated = generate_charged(&tmp, config, progress).and_then(|()| {
        let manifest = serde_json::to_string_pretty(config).unwrap_or_default();
        let path = tmp.join("remul-dataset.json");
        std::fs::write(&path, manifest).map_err(|e| DataError::io(path, e))
    });
    if let Err(e) = generated {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another process may have finished the same dataset first; use theirs.
        if !dir.is_dir() {
            return Err(DataError::io(&dir, e));
        }
    }
    Ok(dir)
}

/// [`ensure_charged`] with the reference configuration (seed 43, 10000 / 2000 / 2000).
pub fn ensure_default_charged(
    cache_dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PathBuf, DataError> {
    ensure_charged(cache_dir, &ChargedConfig::default(), progress)
}

/// A summary of a charged dataset folder, for `remul data inspect`.
#[derive(Clone, Debug)]
pub struct Report {
    /// The folder.
    pub dir: PathBuf,
    /// The file name suffix.
    pub suffix: String,
    /// Shapes of each split's files, in split order.
    pub splits: Vec<(Split, SplitShape)>,
    /// Input and target frame of the baselines.
    pub frames: (usize, usize),
    /// Test trajectories the baselines use.
    pub test_samples: usize,
    /// Test MSE of predicting the target positions as the input positions.
    pub mse_static: f64,
    /// Test MSE of predicting `x + Δt v` with Δt the time between the two frames in the
    /// reference simulation (1.0 for frames 30 and 40).
    pub mse_velocity: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "charged N-body dataset in {}", self.dir.display())?;
        writeln!(f, "  suffix: {}", self.suffix)?;
        for (split, s) in &self.splits {
            writeln!(
                f,
                "  {:<5}  {:>6} trajectories x {} frames x {} particles  \
                 (loc/vel [{}, {}, 3, {}], edges [{}, {}, {}], charges [{}, {}, 1])",
                split.name(),
                s.samples,
                s.frames,
                s.particles,
                s.samples,
                s.frames,
                s.particles,
                s.samples,
                s.particles,
                s.particles,
                s.samples,
                s.particles
            )?;
        }
        let (a, b) = self.frames;
        writeln!(
            f,
            "  baselines on {} test trajectories, frame {a} -> {b}:",
            self.test_samples
        )?;
        let still = format!("x{b} = x{a}:");
        let moving = format!("x{b} = x{a} + dt v{a}:");
        writeln!(f, "    {still:<22} MSE {:.4}", self.mse_static)?;
        write!(f, "    {moving:<22} MSE {:.4}", self.mse_velocity)
    }
}

/// Summarises the default-suffix charged dataset in `dir` (see [`inspect_with`]).
pub fn inspect(dir: &Path) -> Result<Report, DataError> {
    inspect_with(dir, &LoaderConfig::default())
}

/// Checks the headers of the train and valid files, loads the test split and computes the two
/// baseline MSEs (mean over samples, particles and xyz of the squared error).
pub fn inspect_with(dir: &Path, config: &LoaderConfig) -> Result<Report, DataError> {
    // Train and valid: headers only. Test: loaded once, its shapes taken from the load.
    let mut splits = Vec::new();
    for split in [Split::Train, Split::Valid] {
        let paths = split_paths(dir, split, &config.suffix);
        require_files(&paths, split.name())?;
        let headers = [0, 1, 2, 3].map(|k| read_header(&paths[k]));
        let [a, b, c, d] = headers;
        let shapes = [a?.shape, b?.shape, c?.shape, d?.shape];
        let shape = check_shapes(&paths, [0, 1, 2, 3].map(|k| shapes[k].as_slice()))?;
        splits.push((split, shape));
    }
    let test = ChargedDataset::load(dir, Split::Test, config)?;
    splits.push((Split::Test, test.file_shape().clone()));
    // Frames are 100 steps of 0.001 apart in the reference simulation.
    let dt = (config.target_frame as f64 - config.input_frame as f64) * 0.1;
    let g = test.graphs();
    let (mut se_static, mut se_velocity, mut count) = (0.0, 0.0, 0usize);
    for i in 0..g.len() {
        let graph = g.get(i).expect("index below len");
        for k in 0..graph.positions.len() {
            let x = graph.positions[k];
            let y = graph.targets[k];
            se_static += (y - x) * (y - x);
            let e = y - (x + dt * graph.velocities[k]);
            se_velocity += e * e;
            count += 1;
        }
    }
    let count_f = count.max(1) as f64;
    Ok(Report {
        dir: dir.to_path_buf(),
        suffix: config.suffix.clone(),
        splits,
        frames: (config.input_frame, config.target_frame),
        test_samples: g.len(),
        mse_static: se_static / count_f,
        mse_velocity: se_velocity / count_f,
    })
}
