//! The gravitational N-body dataset of "Geometric Algebra Transformer" (Brehmer, de Haan,
//! Behrends, Cohen): a star with planets, integrated for a short time; the task is to
//! predict the final positions from masses, initial positions and velocities.
//!
//! **Physics.** One star (mass log-uniform in [1, 10]) at rest at the origin and `n`
//! planets (mass log-uniform in [0.01, 0.1]) placed uniformly by area in the annulus
//! `0.1 <= r <= 1` of the z = 0 plane, with the circular-orbit velocity
//! `(o × x) sqrt(M_star) / r^1.5` (o = ±e_z, one sign per system) plus N(0, 0.01²) noise per
//! component. The objects are then permuted randomly, the system is rotated by a
//! Haar-random rotation (a normalised Gaussian quaternion) and shifted by N(0, 20²) per
//! coordinate (plus a fixed offset for the E(3) generalisation split). G = 1; 100 explicit
//! Euler steps over a total time of 0.1 (`v += dt a; x += dt v`); a pair closer than 1e-9
//! exerts no force. A system in which any object moves more than 2.0 is dropped and
//! redrawn from the same sample stream, so split sizes are met exactly.
//!
//! **Files.** For each split, four `.npy` files of float64 (C order, numpy format 1.0):
//! `masses_<split>.npy` `[samples, objects]`, `x0_<split>.npy`, `v0_<split>.npy` and
//! `x1_<split>.npy` `[samples, objects, 3]` (initial positions, initial velocities, final
//! positions), where `<split>` is `train`, `val`, `eval`, `e3_generalization` or
//! `object_generalization`, and objects = planets + 1.
//!
//! **Graphs.** [`GravityDataset`] makes a fully connected graph over ordered pairs per
//! system: node scalars `[mass, |v0|]`, edge scalar `m_i m_j`, target `x1`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::charged::require_files;
use super::npy::{read_npy, write_npy};
use super::parallel::for_each_chunk;
use super::{DataError, Dataset, GraphSet, GraphView, Rng};

/// The splits of the gravity dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GravitySplit {
    /// Training systems.
    Train,
    /// Validation systems.
    Val,
    /// Evaluation systems, drawn like the training ones.
    Eval,
    /// Systems shifted far from the origin (+200 along x by default).
    E3Generalization,
    /// Systems with more planets (5 by default).
    ObjectGeneralization,
}

impl GravitySplit {
    /// All splits, in generation order.
    pub const ALL: [GravitySplit; 5] = [
        GravitySplit::Train,
        GravitySplit::Val,
        GravitySplit::Eval,
        GravitySplit::E3Generalization,
        GravitySplit::ObjectGeneralization,
    ];

    /// The name used in file names.
    pub fn name(self) -> &'static str {
        match self {
            GravitySplit::Train => "train",
            GravitySplit::Val => "val",
            GravitySplit::Eval => "eval",
            GravitySplit::E3Generalization => "e3_generalization",
            GravitySplit::ObjectGeneralization => "object_generalization",
        }
    }

    fn stream(self) -> u64 {
        // Apart from the charged dataset's streams 0..3.
        100 + self as u64
    }
}

impl std::str::FromStr for GravitySplit {
    type Err = DataError;

    /// Parses a split's file-name form, e.g. `e3_generalization`.
    fn from_str(s: &str) -> Result<Self, DataError> {
        GravitySplit::ALL
            .into_iter()
            .find(|split| split.name() == s)
            .ok_or_else(|| {
                DataError::Config(format!(
                    "unknown split {s:?}; expected train, val, eval, e3_generalization or \
                     object_generalization"
                ))
            })
    }
}

impl std::fmt::Display for GravitySplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Parameters of one gravity system and its integration; the defaults are the GATr ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GravitySim {
    /// Planets around the star.
    pub planets: usize,
    /// Star mass range (log-uniform).
    pub star_mass: [f64; 2],
    /// Planet mass range (log-uniform).
    pub planet_mass: [f64; 2],
    /// Inner and outer radius of the annulus the planets start in.
    pub radius: [f64; 2],
    /// Standard deviation of the velocity noise per component.
    pub velocity_noise: f64,
    /// Standard deviation of the random shift per coordinate.
    pub shift_std: f64,
    /// Fixed offset added to every position after the random shift.
    pub offset: [f64; 3],
    /// Euler steps.
    pub steps: usize,
    /// Total simulated time.
    pub total_time: f64,
    /// Pairs closer than this exert no force.
    pub min_distance: f64,
    /// Systems where an object moves further than this are redrawn.
    pub max_displacement: f64,
}

impl Default for GravitySim {
    fn default() -> Self {
        GravitySim {
            planets: 3,
            star_mass: [1.0, 10.0],
            planet_mass: [0.01, 0.1],
            radius: [0.1, 1.0],
            velocity_noise: 0.01,
            shift_std: 20.0,
            offset: [0.0; 3],
            steps: 100,
            total_time: 0.1,
            min_distance: 1e-9,
            max_displacement: 2.0,
        }
    }
}

/// One gravity system: `[objects]` masses and `[objects, 3]` vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct GravitySystem {
    /// Masses `[objects]`.
    pub masses: Vec<f64>,
    /// Initial positions `[objects, 3]`.
    pub x0: Vec<f64>,
    /// Initial velocities `[objects, 3]`.
    pub v0: Vec<f64>,
    /// Final positions `[objects, 3]`.
    pub x1: Vec<f64>,
}

/// Draws from this many candidate systems before giving up on a sample.
const MAX_ATTEMPTS: usize = 10_000;

impl GravitySim {
    /// Objects per system (the star and its planets).
    pub fn objects(&self) -> usize {
        self.planets + 1
    }

    /// Checks that the parameters make a simulation.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |m: String| Err(DataError::Config(m));
        for (name, [lo, hi]) in [
            ("star_mass", self.star_mass),
            ("planet_mass", self.planet_mass),
            ("radius", self.radius),
        ] {
            if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
                return bad(format!("{name} = [{lo}, {hi}] must satisfy 0 < lo <= hi"));
            }
        }
        let scalars = [
            ("velocity_noise", self.velocity_noise),
            ("shift_std", self.shift_std),
            ("total_time", self.total_time),
            ("min_distance", self.min_distance),
            ("max_displacement", self.max_displacement),
        ];
        for (name, v) in scalars {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} = {v} must be finite and non-negative"));
            }
        }
        if !self.offset.iter().all(|v| v.is_finite()) {
            return bad(format!("offset {:?} must be finite", self.offset));
        }
        if self.steps == 0 {
            return bad("steps must be at least 1".into());
        }
        Ok(())
    }

    /// Draws initial conditions (before integration; `x1` is left empty).
    pub fn sample_init(&self, rng: &mut Rng) -> GravitySystem {
        let n = self.objects();
        let mut masses = Vec::with_capacity(n);
        let mut x = vec![[0.0f64; 3]; n];
        let mut v = vec![[0.0f64; 3]; n];
        let star = rng.log_uniform(self.star_mass[0], self.star_mass[1]);
        masses.push(star);
        let sign = if rng.coin() { 1.0 } else { -1.0 };
        let [r_min, r_max] = self.radius;
        for p in 1..n {
            masses.push(rng.log_uniform(self.planet_mass[0], self.planet_mass[1]));
            // Uniform by area: r² is uniform between r_min² and r_max².
            let r = rng.uniform_in(r_min * r_min, r_max * r_max).sqrt();
            let angle = rng.uniform_in(0.0, std::f64::consts::TAU);
            x[p] = [r * angle.cos(), r * angle.sin(), 0.0];
            // o × x with o = (0, 0, sign) is (-sign y, sign x, 0), of length r.
            let speed = star.sqrt() / r.powf(1.5);
            let orbit = [-sign * x[p][1] * speed, sign * x[p][0] * speed, 0.0];
            for d in 0..3 {
                v[p][d] = orbit[d] + self.velocity_noise * rng.normal();
            }
        }

        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let rotation = haar_rotation(rng);
        let shift: [f64; 3] =
            std::array::from_fn(|d| self.shift_std * rng.normal() + self.offset[d]);

        let mut system = GravitySystem {
            masses: order.iter().map(|&k| masses[k]).collect(),
            x0: Vec::with_capacity(3 * n),
            v0: Vec::with_capacity(3 * n),
            x1: Vec::new(),
        };
        for &k in &order {
            let rx = rotation.mul_vec3(glam::DVec3::from(x[k])) + glam::DVec3::from(shift);
            let rv = rotation.mul_vec3(glam::DVec3::from(v[k]));
            system.x0.extend_from_slice(&rx.to_array());
            system.v0.extend_from_slice(&rv.to_array());
        }
        system
    }

    /// Integrates `masses`, `x0`, `v0` with explicit Euler steps and returns the final
    /// positions `[objects, 3]`.
    pub fn integrate(&self, masses: &[f64], x0: &[f64], v0: &[f64]) -> Vec<f64> {
        let n = masses.len();
        let dt = self.total_time / self.steps as f64;
        let mut x = x0.to_vec();
        let mut v = v0.to_vec();
        let mut a = vec![0.0; 3 * n];
        let min2 = self.min_distance * self.min_distance;
        for _ in 0..self.steps {
            a.fill(0.0);
            for i in 0..n {
                for j in i + 1..n {
                    let d: [f64; 3] = std::array::from_fn(|k| x[3 * j + k] - x[3 * i + k]);
                    let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                    if r2 < min2 {
                        continue;
                    }
                    let inv3 = 1.0 / (r2 * r2.sqrt());
                    for k in 0..3 {
                        a[3 * i + k] += masses[j] * d[k] * inv3;
                        a[3 * j + k] -= masses[i] * d[k] * inv3;
                    }
                }
            }
            for k in 0..3 * n {
                v[k] += dt * a[k];
                x[k] += dt * v[k];
            }
        }
        x
    }

    /// Draws and integrates systems until one keeps every object within
    /// `max_displacement` of its start.
    pub fn sample(&self, rng: &mut Rng) -> Result<GravitySystem, DataError> {
        self.validate()?;
        for _ in 0..MAX_ATTEMPTS {
            let mut system = self.sample_init(rng);
            system.x1 = self.integrate(&system.masses, &system.x0, &system.v0);
            let moved = system
                .x0
                .chunks_exact(3)
                .zip(system.x1.chunks_exact(3))
                .map(|(a, b)| {
                    let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
                    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
                })
                .fold(0.0f64, f64::max);
            // `!(moved > max)` also rejects NaN.
            if moved <= self.max_displacement {
                return Ok(system);
            }
        }
        Err(DataError::Config(format!(
            "no system out of {MAX_ATTEMPTS} kept every object within max_displacement = {}",
            self.max_displacement
        )))
    }
}

/// A Haar-random rotation: the unit quaternion of four independent normals.
fn haar_rotation(rng: &mut Rng) -> glam::DQuat {
    loop {
        let q = glam::DQuat::from_xyzw(rng.normal(), rng.normal(), rng.normal(), rng.normal());
        if q.length() > 1e-9 {
            return q.normalize();
        }
    }
}

/// What [`generate_gravity`] writes. The split sizes are remul's defaults, chosen to
/// generate in well under a second; they are not taken from the GATr paper.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GravityConfig {
    /// Seed of every random draw; sample i of split s uses the stream `(seed, s, i)`.
    pub seed: u64,
    /// Training systems.
    pub train: usize,
    /// Validation systems.
    pub val: usize,
    /// Evaluation systems.
    pub eval: usize,
    /// Shifted systems.
    pub e3_generalization: usize,
    /// Systems with more planets.
    pub object_generalization: usize,
    /// Offset of the E(3) generalisation split.
    pub e3_offset: [f64; 3],
    /// Planets in the object generalisation split.
    pub object_generalization_planets: usize,
    /// Worker threads; 0 uses every core. Does not change the output.
    pub threads: usize,
    /// Physics of the train, val and eval splits; the generalisation splits change only
    /// the offset or the planet count.
    pub sim: GravitySim,
}

impl Default for GravityConfig {
    fn default() -> Self {
        GravityConfig {
            seed: 43,
            train: 10_000,
            val: 1_000,
            eval: 1_000,
            e3_generalization: 1_000,
            object_generalization: 1_000,
            e3_offset: [200.0, 0.0, 0.0],
            object_generalization_planets: 5,
            threads: 0,
            sim: GravitySim::default(),
        }
    }
}

impl GravityConfig {
    /// Number of systems in `split`.
    pub fn count(&self, split: GravitySplit) -> usize {
        match split {
            GravitySplit::Train => self.train,
            GravitySplit::Val => self.val,
            GravitySplit::Eval => self.eval,
            GravitySplit::E3Generalization => self.e3_generalization,
            GravitySplit::ObjectGeneralization => self.object_generalization,
        }
    }

    /// The simulation parameters of `split`.
    pub fn sim_for(&self, split: GravitySplit) -> GravitySim {
        let mut sim = self.sim.clone();
        match split {
            GravitySplit::E3Generalization => {
                for d in 0..3 {
                    sim.offset[d] += self.e3_offset[d];
                }
            }
            GravitySplit::ObjectGeneralization => sim.planets = self.object_generalization_planets,
            _ => {}
        }
        sim
    }
}

/// The path of one gravity-dataset file, e.g. `x0_train.npy`.
pub fn gravity_file(dir: &Path, field: &str, split: GravitySplit) -> PathBuf {
    dir.join(format!("{field}_{}.npy", split.name()))
}

/// Simulates every split of `config` and writes its `.npy` files into `dir` (created if
/// missing). `progress(done, total)` is called on the calling thread as systems finish.
pub fn generate_gravity(
    dir: &Path,
    config: &GravityConfig,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), DataError> {
    for split in GravitySplit::ALL {
        config.sim_for(split).validate()?;
    }
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let total: usize = GravitySplit::ALL.iter().map(|&s| config.count(s)).sum();
    let mut done = 0;
    progress(0, total);

    for split in GravitySplit::ALL {
        let sim = config.sim_for(split);
        let count = config.count(split);
        let n = sim.objects();
        let mut masses = vec![0.0; count * n];
        let mut x0 = vec![0.0; count * n * 3];
        let mut v0 = vec![0.0; count * n * 3];
        let mut x1 = vec![0.0; count * n * 3];
        let work = |range: std::ops::Range<usize>| {
            range
                .map(|i| sim.sample(&mut Rng::for_sample(config.seed, split.stream(), i as u64)))
                .collect::<Result<Vec<_>, _>>()
        };
        for_each_chunk(count, 256, config.threads, work, |range, systems| {
            for (i, system) in range.clone().zip(systems?) {
                masses[i * n..(i + 1) * n].copy_from_slice(&system.masses);
                x0[3 * i * n..3 * (i + 1) * n].copy_from_slice(&system.x0);
                v0[3 * i * n..3 * (i + 1) * n].copy_from_slice(&system.v0);
                x1[3 * i * n..3 * (i + 1) * n].copy_from_slice(&system.x1);
            }
            done += range.len();
            progress(done, total);
            Ok::<(), DataError>(())
        })?;
        write_npy(&gravity_file(dir, "masses", split), &[count, n], &masses)?;
        write_npy(&gravity_file(dir, "x0", split), &[count, n, 3], &x0)?;
        write_npy(&gravity_file(dir, "v0", split), &[count, n, 3], &v0)?;
        write_npy(&gravity_file(dir, "x1", split), &[count, n, 3], &x1)?;
        log::debug!("wrote the {split} split: {count} systems of {n} objects");
    }
    Ok(())
}

/// One split of the gravity dataset as graphs (see the module docs for the graph).
#[derive(Clone, Debug)]
pub struct GravityDataset {
    split: GravitySplit,
    objects: usize,
    graphs: GraphSet,
}

impl GravityDataset {
    /// Reads the four files of `split` from `dir` (each once) and builds its graphs.
    pub fn load(dir: &Path, split: GravitySplit) -> Result<Self, DataError> {
        let paths = ["masses", "x0", "v0", "x1"].map(|f| gravity_file(dir, f, split));
        require_files(&paths, split.name())?;
        let [masses, x0, v0, x1] = [0, 1, 2, 3].map(|k| read_npy(&paths[k]));
        let (masses, x0, v0, x1) = (masses?, x0?, v0?, x1?);
        let [s, n] = masses.shape[..] else {
            return Err(DataError::Shape {
                path: paths[0].clone(),
                found: masses.shape.clone(),
                expected: "[samples, objects]".into(),
            });
        };
        for (k, array) in [(1, &x0), (2, &v0), (3, &x1)] {
            if array.shape != [s, n, 3] {
                return Err(DataError::Shape {
                    path: paths[k].clone(),
                    found: array.shape.clone(),
                    expected: format!("[{s}, {n}, 3] (samples and objects of the masses file)"),
                });
            }
        }
        let fields = ["masses", "x0", "v0", "x1"];
        for (k, array) in [&masses, &x0, &v0, &x1].into_iter().enumerate() {
            if let Some(i) = array.data.iter().position(|v| !v.is_finite()) {
                let per_sample = array.data.len() / s.max(1);
                let within = i % per_sample;
                let field = if k == 0 {
                    format!("{}[object {within}]", fields[k])
                } else {
                    format!("{}[object {}, {}]", fields[k], within / 3, within % 3)
                };
                return Err(DataError::NonFinite {
                    path: paths[k].clone(),
                    sample: i / per_sample,
                    field,
                    value: array.data[i],
                });
            }
        }

        let (src, dst): (Vec<u32>, Vec<u32>) = (0..n as u32)
            .flat_map(|d| (0..n as u32).filter(move |&s| s != d).map(move |s| (s, d)))
            .unzip();
        let mut graphs = GraphSet::new(2, 1);
        graphs.reserve(s, n, src.len());
        let mut node_scalars = vec![0.0; 2 * n];
        let mut edge_scalars = vec![0.0; src.len()];
        for i in 0..s {
            let m = &masses.data[i * n..(i + 1) * n];
            let v = &v0.data[3 * i * n..3 * (i + 1) * n];
            for p in 0..n {
                let vp = &v[3 * p..3 * p + 3];
                node_scalars[2 * p] = m[p];
                node_scalars[2 * p + 1] = (vp[0] * vp[0] + vp[1] * vp[1] + vp[2] * vp[2]).sqrt();
            }
            for (e, (&a, &b)) in edge_scalars.iter_mut().zip(src.iter().zip(&dst)) {
                *e = m[a as usize] * m[b as usize];
            }
            graphs.push(&GraphView {
                positions: &x0.data[3 * i * n..3 * (i + 1) * n],
                velocities: v,
                node_scalars: &node_scalars,
                targets: &x1.data[3 * i * n..3 * (i + 1) * n],
                src: &src,
                dst: &dst,
                edge_scalars: &edge_scalars,
            })?;
        }
        log::info!(
            "loaded the gravity {split} split: {s} graphs of {n} nodes from {}",
            dir.display()
        );
        Ok(GravityDataset {
            split,
            objects: n,
            graphs,
        })
    }

    /// The split this dataset holds.
    pub fn split(&self) -> GravitySplit {
        self.split
    }

    /// Objects (nodes) per graph.
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// The graphs, in f64.
    pub fn graphs(&self) -> &GraphSet {
        &self.graphs
    }
}

impl Dataset for GravityDataset {
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
