//! The charged N-body dataset of "E(n) Equivariant Graph Neural Networks" (Satorras,
//! Hoogeboom, Welling): a simulator, a writer and a loader for its file format.
//!
//! **Physics.** `n` particles (default 5) of unit mass and charge ±1 (probability 1/2
//! each); positions ~ N(0, 1) per coordinate, velocity of norm 0.5 in a uniformly random
//! direction. The force on particle i is `F_i = sum_{j != i} q_i q_j (x_i - x_j) /
//! |x_i - x_j|^3` (like charges repel), each component clipped to [-100, 100]. Integration
//! (dt = 0.001, 5000 steps, no walls): one initial kick `v += dt F(x)`, then for step
//! `i = 1..4999`: `x += dt v`; every 100th step record `(x, v)`; `v += dt F(x)`. That
//! records 49 frames; frame k is the state after step `100 (k + 1)`.
//!
//! **Files.** For each split `s` in `train`, `valid`, `test` and a suffix (default
//! `charged5_initvel1small`), four `.npy` files of float64: `loc_s_suffix.npy` and
//! `vel_s_suffix.npy` `[samples, frames, 3, particles]`, `edges_s_suffix.npy`
//! `[samples, particles, particles]` (= q qᵀ) and `charges_s_suffix.npy`
//! `[samples, particles, 1]`.
//!
//! **Graphs.** [`ChargedDataset`] turns sample s into a fully connected graph over ordered
//! pairs `i != j`: node positions and velocities at the input frame (default 30), node
//! scalar `|v|`, edge scalar `q_i q_j` (from the edges file), target positions at the
//! target frame (default 40).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::npy::{read_npy, write_npy, NpyArray};
use super::parallel::for_each_chunk;
use super::{DataError, Dataset, GraphSet, GraphView, Rng};

/// The three splits of the charged dataset, generated in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training trajectories.
    Train,
    /// Validation trajectories.
    Valid,
    /// Test trajectories.
    Test,
}

impl Split {
    /// All splits, in generation order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    /// The name used in file names: `train`, `valid` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    fn stream(self) -> u64 {
        match self {
            Split::Train => 0,
            Split::Valid => 1,
            Split::Test => 2,
        }
    }
}

impl std::str::FromStr for Split {
    type Err = DataError;

    /// Parses `train`, `valid` or `test`.
    fn from_str(s: &str) -> Result<Self, DataError> {
        Split::ALL
            .into_iter()
            .find(|split| split.name() == s)
            .ok_or_else(|| {
                DataError::Config(format!(
                    "unknown split {s:?}; expected train, valid or test"
                ))
            })
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parameters of the charged N-body simulation; the defaults are the reference ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChargedSim {
    /// Number of particles.
    pub particles: usize,
    /// Time step.
    pub dt: f64,
    /// Number of integration steps (the initial kick counts as step 0).
    pub steps: usize,
    /// Record a frame every this many steps.
    pub record_every: usize,
    /// Standard deviation of the initial positions.
    pub position_std: f64,
    /// Norm of every initial velocity.
    pub speed: f64,
    /// Each force component is clipped to `[-max_force, max_force]`.
    pub max_force: f64,
}

impl Default for ChargedSim {
    fn default() -> Self {
        ChargedSim {
            particles: 5,
            dt: 0.001,
            steps: 5000,
            record_every: 100,
            position_std: 1.0,
            speed: 0.5,
            max_force: 100.0,
        }
    }
}

/// One simulated trajectory in the file layout: `loc` and `vel` `[frames, 3, particles]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ChargedTrajectory {
    /// Recorded positions `[frames, 3, particles]`.
    pub loc: Vec<f64>,
    /// Recorded velocities `[frames, 3, particles]`.
    pub vel: Vec<f64>,
}

/// Initial conditions of one system, `[particles, 3]` for vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct ChargedInit {
    /// Positions `[particles, 3]`.
    pub positions: Vec<f64>,
    /// Velocities `[particles, 3]`.
    pub velocities: Vec<f64>,
    /// Charges `[particles]`, each +1 or -1.
    pub charges: Vec<f64>,
}

impl ChargedSim {
    /// Number of recorded frames: the steps `1..steps` divisible by `record_every`.
    pub fn frames(&self) -> usize {
        self.steps.saturating_sub(1) / self.record_every.max(1)
    }

    /// Checks that the parameters make a simulation.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Config(m));
        if self.particles == 0 {
            return bad("particles must be at least 1".into());
        }
        if self.record_every == 0 {
            return bad("record_every must be at least 1".into());
        }
        if self.frames() == 0 {
            return bad(format!(
                "steps = {} with record_every = {} records no frame",
                self.steps, self.record_every
            ));
        }
        for (name, v) in [
            ("dt", self.dt),
            ("position_std", self.position_std),
            ("speed", self.speed),
            ("max_force", self.max_force),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{name} = {v} must be finite and non-negative"));
            }
        }
        Ok(())
    }

    /// Draws initial conditions: positions ~ N(0, position_std²), velocities of norm `speed`
    /// in a uniform direction, charges ±1.
    pub fn sample_init(&self, rng: &mut Rng) -> ChargedInit {
        let n = self.particles;
        let charges = (0..n)
            .map(|_| if rng.coin() { 1.0 } else { -1.0 })
            .collect();
        let positions = (0..3 * n)
            .map(|_| rng.normal() * self.position_std)
            .collect();
        let mut velocities = Vec::with_capacity(3 * n);
        for _ in 0..n {
            // A normalised Gaussian vector is uniform on the sphere; redraw the (measure
            // zero) vectors too short to normalise.
            let v = loop {
                let v = [rng.normal(), rng.normal(), rng.normal()];
                let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                if norm > 1e-12 {
                    break v.map(|c| c * self.speed / norm);
                }
            };
            velocities.extend_from_slice(&v);
        }
        ChargedInit {
            positions,
            velocities,
            charges,
        }
    }

    /// Integrates from `init` and returns the recorded frames.
    pub fn simulate(&self, init: &ChargedInit) -> Result<ChargedTrajectory, DataError> {
        self.validate()?;
        let n = self.particles;
        for (name, len, want) in [
            ("positions", init.positions.len(), 3 * n),
            ("velocities", init.velocities.len(), 3 * n),
            ("charges", init.charges.len(), n),
        ] {
            if len != want {
                return Err(DataError::Config(format!(
                    "{name} has {len} values, expected {want} for {n} particles"
                )));
            }
        }
        let size = self.frames() * 3 * n;
        let mut traj = ChargedTrajectory {
            loc: vec![0.0; size],
            vel: vec![0.0; size],
        };
        self.run(init, &mut traj.loc, &mut traj.vel);
        Ok(traj)
    }

    /// The integration loop; `loc` and `vel` are `[frames, 3, particles]`, the parameters
    /// already validated.
    fn run(&self, init: &ChargedInit, loc: &mut [f64], vel: &mut [f64]) {
        let n = self.particles;
        let dt = self.dt;
        let to_vecs = |flat: &[f64]| {
            flat.chunks_exact(3)
                .map(|c| [c[0], c[1], c[2]])
                .collect::<Vec<[f64; 3]>>()
        };
        let mut x = to_vecs(&init.positions);
        let mut v = to_vecs(&init.velocities);
        let q = &init.charges;
        let mut f = vec![[0.0f64; 3]; n];

        let kick = |x: &[[f64; 3]], v: &mut [[f64; 3]], f: &mut [[f64; 3]]| {
            forces(x, q, self.max_force, f);
            for (vi, fi) in v.iter_mut().zip(f.iter()) {
                for d in 0..3 {
                    vi[d] += dt * fi[d];
                }
            }
        };

        kick(&x, &mut v, &mut f);
        let mut frame = 0;
        for step in 1..self.steps {
            for (xi, vi) in x.iter_mut().zip(&v) {
                for d in 0..3 {
                    xi[d] += dt * vi[d];
                }
            }
            if step % self.record_every == 0 {
                let base = frame * 3 * n;
                for p in 0..n {
                    for d in 0..3 {
                        loc[base + d * n + p] = x[p][d];
                        vel[base + d * n + p] = v[p][d];
                    }
                }
                frame += 1;
            }
            kick(&x, &mut v, &mut f);
        }
    }
}

/// Coulomb-like forces `F_i = sum_{j != i} q_i q_j (x_i - x_j) / |x_i - x_j|^3`, each
/// component clipped to `[-max_force, max_force]`. Two particles at exactly the same place
/// exert no force on each other (the reference would divide by zero).
fn forces(x: &[[f64; 3]], q: &[f64], max_force: f64, f: &mut [[f64; 3]]) {
    f.fill([0.0; 3]);
    let n = x.len();
    for i in 0..n {
        for j in i + 1..n {
            let d = [x[i][0] - x[j][0], x[i][1] - x[j][1], x[i][2] - x[j][2]];
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if r2 == 0.0 {
                continue;
            }
            let s = q[i] * q[j] / (r2 * r2.sqrt());
            for k in 0..3 {
                f[i][k] += s * d[k];
                f[j][k] -= s * d[k];
            }
        }
    }
    for fi in f.iter_mut() {
        for c in fi.iter_mut() {
            *c = c.clamp(-max_force, max_force);
        }
    }
}

/// What [`generate_charged`] writes; the defaults make the reference dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChargedConfig {
    /// Seed of every random draw; sample i of split s uses the stream `(seed, s, i)`.
    pub seed: u64,
    /// Training trajectories.
    pub train: usize,
    /// Validation trajectories.
    pub valid: usize,
    /// Test trajectories.
    pub test: usize,
    /// File name suffix.
    pub suffix: String,
    /// Worker threads; 0 uses every core. Does not change the output.
    pub threads: usize,
    /// Physics.
    pub sim: ChargedSim,
}

/// The suffix of the reference dataset's file names.
pub const DEFAULT_SUFFIX: &str = "charged5_initvel1small";

impl Default for ChargedConfig {
    fn default() -> Self {
        ChargedConfig {
            seed: 43,
            train: 10_000,
            valid: 2_000,
            test: 2_000,
            suffix: DEFAULT_SUFFIX.to_string(),
            threads: 0,
            sim: ChargedSim::default(),
        }
    }
}

impl ChargedConfig {
    /// Number of trajectories in `split`.
    pub fn count(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train,
            Split::Valid => self.valid,
            Split::Test => self.test,
        }
    }
}

/// The path of one charged-dataset file, e.g. `loc_train_charged5_initvel1small.npy`.
pub fn charged_file(dir: &Path, field: &str, split: Split, suffix: &str) -> PathBuf {
    dir.join(format!("{field}_{}_{suffix}.npy", split.name()))
}

/// Simulates every split of `config` and writes its `.npy` files into `dir` (created if
/// missing). `progress(done, total)` is called on the calling thread as trajectories finish.
///
/// Each file appears under its final name only when complete, but a killed run can leave
/// some splits written and others not: use [`ensure_charged`](super::cache::ensure_charged)
/// for a folder that is either complete or absent.
pub fn generate_charged(
    dir: &Path,
    config: &ChargedConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), DataError> {
    let sim = &config.sim;
    sim.validate()?;
    if config.suffix.is_empty() || config.suffix.contains(['/', '\\']) {
        return Err(DataError::Config(format!(
            "suffix {:?} must be a non-empty file-name part",
            config.suffix
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let n = sim.particles;
    let frames = sim.frames();
    let per_sample = frames * 3 * n;
    let total: usize = Split::ALL.iter().map(|&s| config.count(s)).sum();
    let mut done = 0;
    progress(0, total);

    for split in Split::ALL {
        let count = config.count(split);
        let mut loc = vec![0.0; count * per_sample];
        let mut vel = vec![0.0; count * per_sample];
        let mut charges = vec![0.0; count * n];
        let mut edges = vec![0.0; count * n * n];

        let work = |range: std::ops::Range<usize>| {
            let len = range.len();
            let mut out = (
                vec![0.0; len * per_sample],
                vec![0.0; len * per_sample],
                Vec::with_capacity(len * n),
            );
            for (k, index) in range.enumerate() {
                let mut rng = Rng::for_sample(config.seed, split.stream(), index as u64);
                let init = sim.sample_init(&mut rng);
                let span = k * per_sample..(k + 1) * per_sample;
                sim.run(&init, &mut out.0[span.clone()], &mut out.1[span]);
                out.2.extend_from_slice(&init.charges);
            }
            out
        };
        for_each_chunk(count, 16, config.threads, work, |range, (l, v, q)| {
            let span = range.start * per_sample..range.end * per_sample;
            loc[span.clone()].copy_from_slice(&l);
            vel[span].copy_from_slice(&v);
            charges[range.start * n..range.end * n].copy_from_slice(&q);
            done += range.len();
            progress(done, total);
            Ok::<(), DataError>(())
        })?;
        for (s, q) in charges.chunks_exact(n).enumerate() {
            for i in 0..n {
                for j in 0..n {
                    edges[s * n * n + i * n + j] = q[i] * q[j];
                }
            }
        }

        let suffix = &config.suffix;
        let file = |field| charged_file(dir, field, split, suffix);
        write_npy(&file("loc"), &[count, frames, 3, n], &loc)?;
        write_npy(&file("vel"), &[count, frames, 3, n], &vel)?;
        write_npy(&file("edges"), &[count, n, n], &edges)?;
        write_npy(&file("charges"), &[count, n, 1], &charges)?;
        log::debug!("wrote the {split} split: {count} trajectories");
    }
    Ok(())
}

/// How [`ChargedDataset::load`] turns trajectories into graphs; the defaults follow the
/// EGNN paper's experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoaderConfig {
    /// File name suffix.
    pub suffix: String,
    /// Use at most this many training trajectories (the first ones); `None` uses all.
    pub max_train: Option<usize>,
    /// Use at most this many validation trajectories; `None` uses all.
    pub max_valid: Option<usize>,
    /// Use at most this many test trajectories; `None` uses all.
    pub max_test: Option<usize>,
    /// Frame giving the input positions and velocities.
    pub input_frame: usize,
    /// Frame giving the target positions.
    pub target_frame: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            suffix: DEFAULT_SUFFIX.to_string(),
            max_train: Some(3000),
            max_valid: None,
            max_test: None,
            input_frame: 30,
            target_frame: 40,
        }
    }
}

impl LoaderConfig {
    /// The sample limit for `split`.
    pub fn max_samples(&self, split: Split) -> Option<usize> {
        match split {
            Split::Train => self.max_train,
            Split::Valid => self.max_valid,
            Split::Test => self.max_test,
        }
    }
}

/// The shapes of one split's four files after checking that they agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitShape {
    /// Trajectories in the files.
    pub samples: usize,
    /// Recorded frames per trajectory.
    pub frames: usize,
    /// Particles per system.
    pub particles: usize,
}

/// Checks the shapes of `loc`, `vel`, `edges` and `charges` against each other
/// (`[S, F, 3, N]`, `[S, F, 3, N]`, `[S, N, N]`, `[S, N, 1]`).
pub(crate) fn check_shapes(
    paths: &[PathBuf; 4],
    shapes: [&[usize]; 4],
) -> Result<SplitShape, DataError> {
    let [loc, vel, edges, charges] = shapes;
    let shape_err = |k: usize, expected: String| DataError::Shape {
        path: paths[k].clone(),
        found: shapes[k].to_vec(),
        expected,
    };
    if loc.len() != 4 || loc[2] != 3 {
        return Err(shape_err(0, "[samples, frames, 3, particles]".into()));
    }
    let (s, f, n) = (loc[0], loc[1], loc[3]);
    let loc_name = paths[0].file_name().unwrap_or_default().to_string_lossy();
    if vel != loc {
        return Err(shape_err(1, format!("the shape of {loc_name}, {loc:?}")));
    }
    if edges != [s, n, n] {
        return Err(shape_err(
            2,
            format!("[{s}, {n}, {n}] (samples and particles of {loc_name})"),
        ));
    }
    if charges != [s, n, 1] {
        return Err(shape_err(
            3,
            format!("[{s}, {n}, 1] (samples and particles of {loc_name})"),
        ));
    }
    Ok(SplitShape {
        samples: s,
        frames: f,
        particles: n,
    })
}

/// The four file paths of a split, in the order loc, vel, edges, charges.
pub(crate) fn split_paths(dir: &Path, split: Split, suffix: &str) -> [PathBuf; 4] {
    ["loc", "vel", "edges", "charges"].map(|field| charged_file(dir, field, split, suffix))
}

/// Fails with [`DataError::MissingFile`] for the first of `paths` that does not exist.
pub(crate) fn require_files(paths: &[PathBuf], split: &str) -> Result<(), DataError> {
    for path in paths {
        if !path.is_file() {
            return Err(DataError::MissingFile {
                path: path.clone(),
                split: split.to_string(),
            });
        }
    }
    Ok(())
}

/// One split of the charged dataset as graphs (see the module docs for the graph).
#[derive(Clone, Debug)]
pub struct ChargedDataset {
    split: Split,
    shape: SplitShape,
    graphs: GraphSet,
    charges: Vec<f64>,
}

impl ChargedDataset {
    /// Reads the four files of `split` from `dir` (each once) and builds its graphs.
    pub fn load(dir: &Path, split: Split, config: &LoaderConfig) -> Result<Self, DataError> {
        let paths = split_paths(dir, split, &config.suffix);
        require_files(&paths, split.name())?;
        let arrays = [
            read_npy(&paths[0])?,
            read_npy(&paths[1])?,
            read_npy(&paths[2])?,
            read_npy(&paths[3])?,
        ];
        let shapes = [0, 1, 2, 3].map(|k| arrays[k].shape.as_slice());
        let shape = check_shapes(&paths, shapes)?;
        for (name, frame) in [
            ("input_frame", config.input_frame),
            ("target_frame", config.target_frame),
        ] {
            if frame >= shape.frames {
                return Err(DataError::Shape {
                    path: paths[0].clone(),
                    found: arrays[0].shape.clone(),
                    expected: format!("more than {frame} frames for {name} = {frame}"),
                });
            }
        }
        let samples = match config.max_samples(split) {
            Some(max) if max < shape.samples => max,
            Some(max) => {
                if max > shape.samples {
                    log::warn!(
                        "{split} split: asked for {max} trajectories, {} has {}",
                        paths[0].display(),
                        shape.samples
                    );
                }
                shape.samples
            }
            None => shape.samples,
        };
        let [loc, vel, edges, charges] = arrays;
        let (graphs, charges) = build_graphs(
            &paths,
            &shape,
            samples,
            config,
            [&loc, &vel, &edges, &charges],
        )?;
        log::info!(
            "loaded the {split} split: {samples} graphs of {} nodes from {}",
            shape.particles,
            dir.display()
        );
        Ok(ChargedDataset {
            split,
            shape,
            graphs,
            charges,
        })
    }

    /// The split this dataset holds.
    pub fn split(&self) -> Split {
        self.split
    }

    /// Shapes of the files it was read from.
    pub fn file_shape(&self) -> &SplitShape {
        &self.shape
    }

    /// Particles (nodes) per graph.
    pub fn particles(&self) -> usize {
        self.shape.particles
    }

    /// Charges of sample `index` `[particles]`.
    pub fn charges(&self, index: usize) -> Option<&[f64]> {
        let n = self.shape.particles;
        self.charges.get(index * n..(index + 1) * n)
    }

    /// The graphs, in f64.
    pub fn graphs(&self) -> &GraphSet {
        &self.graphs
    }
}

impl Dataset for ChargedDataset {
    fn len(&self) -> usize {
        self.graphs.len()
    }

    fn node_scalar_dim(&self) -> usize {
        self.graphs.node_scalar_dim()
    }

    fn edge_scalar_dim(&self) -> usize {
        self.graphs.edge_scalar_dim()
    }

    fn graph(&self, index: usize) -> Option<GraphView<'_>> {
        self.graphs.get(index)
    }
}

/// Turns the first `samples` trajectories into graphs, checking every value it reads.
fn build_graphs(
    paths: &[PathBuf; 4],
    shape: &SplitShape,
    samples: usize,
    config: &LoaderConfig,
    [loc, vel, edges, charges]: [&NpyArray; 4],
) -> Result<(GraphSet, Vec<f64>), DataError> {
    let (f, n) = (shape.frames, shape.particles);
    let mut graphs = GraphSet::new(1, 1);
    graphs.reserve(samples, n, n * n.saturating_sub(1));
    let mut all_charges = Vec::with_capacity(samples * n);

    // Fully connected over ordered pairs, sorted by destination.
    let (src, dst): (Vec<u32>, Vec<u32>) = (0..n as u32)
        .flat_map(|d| (0..n as u32).filter(move |&s| s != d).map(move |s| (s, d)))
        .unzip();
    let mut x = vec![0.0; 3 * n];
    let mut v = vec![0.0; 3 * n];
    let mut y = vec![0.0; 3 * n];
    let mut speed = vec![0.0; n];
    let mut edge_attr = vec![0.0; src.len()];
    const AXES: [&str; 3] = ["x", "y", "z"];

    for s in 0..samples {
        let non_finite = |k: usize, field: String, value: f64| DataError::NonFinite {
            path: paths[k].clone(),
            sample: s,
            field,
            value,
        };
        // Positions and velocities: file layout [sample, frame, xyz, particle].
        let frame_values = [
            (0, &loc, config.input_frame, &mut x),
            (1, &vel, config.input_frame, &mut v),
            (0, &loc, config.target_frame, &mut y),
        ];
        for (k, array, frame, out) in frame_values {
            let base = (s * f + frame) * 3 * n;
            for d in 0..3 {
                for p in 0..n {
                    let value = array.data[base + d * n + p];
                    if !value.is_finite() {
                        let field = if k == 0 { "loc" } else { "vel" };
                        return Err(non_finite(
                            k,
                            format!("{field}[frame {frame}, {}, particle {p}]", AXES[d]),
                            value,
                        ));
                    }
                    out[3 * p + d] = value;
                }
            }
        }
        for p in 0..n {
            let vp = &v[3 * p..3 * p + 3];
            speed[p] = (vp[0] * vp[0] + vp[1] * vp[1] + vp[2] * vp[2]).sqrt();
        }

        let q = &charges.data[s * n..(s + 1) * n];
        if let Some(p) = q.iter().position(|c| !c.is_finite()) {
            return Err(non_finite(3, format!("charges[particle {p}]"), q[p]));
        }
        let e = &edges.data[s * n * n..(s + 1) * n * n];
        for i in 0..n {
            for j in 0..n {
                let value = e[i * n + j];
                if !value.is_finite() {
                    return Err(non_finite(2, format!("edges[{i}, {j}]"), value));
                }
                // The relative tolerance only forgives rounding of non-integer charges; ±1
                // charges give exact products.
                let expected = q[i] * q[j];
                if (value - expected).abs() > 1e-9 * expected.abs().max(1.0) {
                    return Err(DataError::Inconsistent {
                        path: paths[2].clone(),
                        sample: s,
                        reason: format!(
                            "edges[{i}, {j}] = {value} but the charges give \
                             q_{i} q_{j} = {expected}"
                        ),
                    });
                }
            }
        }
        for (attr, (&a, &b)) in edge_attr.iter_mut().zip(src.iter().zip(&dst)) {
            *attr = e[a as usize * n + b as usize];
        }
        all_charges.extend_from_slice(q);

        graphs.push(&GraphView {
            positions: &x,
            velocities: &v,
            node_scalars: &speed,
            targets: &y,
            src: &src,
            dst: &dst,
            edge_scalars: &edge_attr,
        })?;
    }
    Ok((graphs, all_charges))
}
