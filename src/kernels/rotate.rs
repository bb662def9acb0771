//! Wrapper for `shaders/rotate.wgsl`: a random roto-translation per graph of a batch, drawn on
//! the GPU, and its action on node rows (`x' = R x + t` for points, `v' = R v` for vectors).
//!
//! The draws come from a counter-based hash of `(seed, step, graph, draw)`, so they are
//! reproducible, need no state buffer and no host round trip, and [`cpu_sample`] repeats them
//! (the same integer hash, hence the same uniforms; the float math in f64). This module draws
//! and applies transforms; the losses that compare rotated outputs live with training.

use bytemuck::{Pod, Zeroable};
use serde::{Deserialize, Serialize};

use super::as_u32;
use crate::gpu::{grid_1d, groups_for, DType, Dispatch, Engine};
use crate::{Error, Result, Tensor};

/// Shader file name.
pub const FILE: &str = "rotate.wgsl";
/// Shader source.
pub const SOURCE: &str = include_str!("../../shaders/rotate.wgsl");

/// Floats per transform: `R` row-major (9), then `t` (3).
pub const TRANSFORM_LEN: usize = 12;

/// Hash counters per graph: draw `d` of graph `g` uses counter `g * DRAWS + d`.
const DRAWS: u32 = 16;
/// Invocations per workgroup of the `sample` entry point.
const SAMPLE_GROUP: usize = 64;
/// Invocations per workgroup of the `apply` entry point.
const APPLY_GROUP: usize = 256;
/// Bisection steps of the restricted Haar angle, as in the shader.
const BISECTIONS: u32 = 32;

/// Which group rotations are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RotationKind {
    /// Haar measure on SO(3): proper rotations.
    #[default]
    So3,
    /// Haar measure on O(3): a Haar SO(3) rotation times `-I` with probability 1/2.
    O3,
    /// Rotations about [`TransformConfig::axis`] only, by an angle uniform in
    /// `[min_angle_deg, max_angle_deg]` with a random sign (the full range is Haar on SO(2)).
    Axis,
}

/// How transforms are drawn: the `transform` section of a JSON config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformConfig {
    /// The group rotations are drawn from.
    pub rotation: RotationKind,
    /// The fixed axis of [`RotationKind::Axis`]; any non-zero length (it is normalised).
    pub axis: [f32; 3],
    /// Smallest rotation angle in degrees; above 0 restricts the Haar draw to a range.
    pub min_angle_deg: f32,
    /// Largest rotation angle in degrees; below 180 restricts the Haar draw to a range.
    pub max_angle_deg: f32,
    /// Standard deviation of each translation coordinate, `t ~ N(0, std^2)`; 0 turns it off.
    pub translation_std: f32,
}

impl Default for TransformConfig {
    fn default() -> Self {
        Self {
            rotation: RotationKind::So3,
            axis: [0.0, 0.0, 1.0],
            min_angle_deg: 0.0,
            max_angle_deg: 180.0,
            translation_std: 1.0,
        }
    }
}

impl TransformConfig {
    /// Errors naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, detail: String| {
            Err(Error::InvalidValue {
                what: format!("remul.transform.{field}"),
                detail,
            })
        };
        let norm2: f64 = self.axis.iter().map(|&a| a as f64 * a as f64).sum();
        if !(norm2.is_finite() && norm2 > 0.0) {
            return bad(
                "axis",
                format!("{:?} (expected finite and non-zero)", self.axis),
            );
        }
        for (field, a) in [
            ("min_angle_deg", self.min_angle_deg),
            ("max_angle_deg", self.max_angle_deg),
        ] {
            if !(0.0..=180.0).contains(&a) {
                return bad(field, format!("{a} (expected 0 <= angle <= 180)"));
            }
        }
        if self.min_angle_deg > self.max_angle_deg {
            return bad(
                "min_angle_deg",
                format!(
                    "{} (expected <= max_angle_deg, {})",
                    self.min_angle_deg, self.max_angle_deg
                ),
            );
        }
        if !(self.translation_std.is_finite() && self.translation_std >= 0.0) {
            return bad(
                "translation_std",
                format!("{} (expected finite and >= 0)", self.translation_std),
            );
        }
        Ok(())
    }

    /// Whether the angle range is narrower than `[0, 180]` degrees.
    pub fn restricted(&self) -> bool {
        self.min_angle_deg > 0.0 || self.max_angle_deg < 180.0
    }
}

/// Derived sampling constants, in f64; the kernel gets them rounded to f32.
struct Resolved {
    kind: RotationKind,
    restricted: bool,
    axis: [f64; 3],
    angle_lo: f64,
    angle_hi: f64,
    h_lo: f64,
    h_hi: f64,
    std: f64,
}

impl Resolved {
    fn of(c: &TransformConfig) -> Self {
        let axis = c.axis.map(f64::from);
        let norm = axis.iter().map(|a| a * a).sum::<f64>().sqrt();
        let angle_lo = (c.min_angle_deg as f64).to_radians();
        let angle_hi = (c.max_angle_deg as f64).to_radians();
        Self {
            kind: c.rotation,
            restricted: c.restricted(),
            axis: axis.map(|a| a / norm),
            angle_lo,
            angle_hi,
            h_lo: theta_minus_sin(angle_lo),
            h_hi: theta_minus_sin(angle_hi),
            std: c.translation_std as f64,
        }
    }
}

/// Mirrors `Params` in rotate.wgsl; `sample` and `apply` each fill the fields they read.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    seed_lo: u32,
    seed_hi: u32,
    step_lo: u32,
    step_hi: u32,
    graphs: u32,
    kind: u32,
    restricted: u32,
    nan_bits: u32,
    axis: [f32; 3],
    translation_std: f32,
    angle_lo: f32,
    angle_hi: f32,
    h_lo: f32,
    h_hi: f32,
    count: u32,
    graph_first: u32,
    in_first: u32,
    out_first: u32,
    mode: u32,
    _pad: [u32; 3],
}

impl Params {
    fn sample(config: &TransformConfig, seed: u64, graphs: u32) -> Self {
        let r = Resolved::of(config);
        Self {
            seed_lo: seed as u32,
            seed_hi: (seed >> 32) as u32,
            graphs,
            kind: match r.kind {
                RotationKind::So3 => 0,
                RotationKind::O3 => 1,
                RotationKind::Axis => 2,
            },
            restricted: r.restricted as u32,
            axis: r.axis.map(|a| a as f32),
            translation_std: r.std as f32,
            angle_lo: r.angle_lo as f32,
            angle_hi: r.angle_hi as f32,
            h_lo: r.h_lo as f32,
            h_hi: r.h_hi as f32,
            ..Self::zeroed()
        }
    }

    fn at_step(mut self, step: u64) -> Self {
        self.step_lo = step as u32;
        self.step_hi = (step >> 32) as u32;
        self
    }
}

/// A batch's transforms on the GPU: `[graphs, 12]` = `R` row-major (9), then `t` (3).
#[derive(Debug)]
pub struct Transforms {
    config: TransformConfig,
    seed: u64,
    params: Params,
    uniform: wgpu::Buffer,
    transforms: Tensor,
    dispatch: Dispatch,
}

impl Transforms {
    /// Validates `config`, allocates `[graphs, 12]` and plans the draw (at step 0 until
    /// [`Transforms::prepare_step`] says otherwise).
    pub fn new(engine: &Engine, graphs: usize, config: TransformConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let g32 = as_u32("rotate::Transforms", graphs)?;
        if g32.checked_mul(DRAWS).is_none() {
            return Err(Error::Shape {
                op: "rotate::Transforms",
                expected: format!(
                    "at most {} graphs (hash counters are u32)",
                    u32::MAX / DRAWS
                ),
                got: graphs.to_string(),
            });
        }
        let params = Params::sample(&config, seed, g32);
        let uniform = engine.uniform("rotate sample params", &params);
        let transforms = engine.empty(&[graphs, TRANSFORM_LEN]);
        let pipeline = engine.pipeline(FILE, SOURCE, "sample")?;
        let dispatch = Dispatch::new(
            engine,
            "rotate sample",
            pipeline,
            &uniform,
            &[&transforms],
            grid_1d(groups_for(graphs, SAMPLE_GROUP)),
        );
        Ok(Self {
            config,
            seed,
            params,
            uniform,
            transforms,
            dispatch,
        })
    }

    /// The dispatch that writes [`Transforms::transforms`] for the current step.
    pub fn sample_dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// The drawn transforms, `[graphs, 12]`.
    pub fn transforms(&self) -> &Tensor {
        &self.transforms
    }

    /// Writes `step` into the uniform (a queue write, no allocation), so that the next recorded
    /// [`Transforms::sample_dispatch`] draws that step's transforms.
    ///
    /// The write lands at the next submit: every sample dispatch of one submit sees the step
    /// of the last call before it, so one command buffer draws one step.
    pub fn prepare_step(&self, engine: &Engine, step: u64) {
        engine.update_uniform(&self.uniform, &self.params.at_step(step));
    }

    /// Graphs in the batch.
    pub fn graphs(&self) -> usize {
        self.transforms.shape()[0]
    }

    /// The configuration.
    pub fn config(&self) -> &TransformConfig {
        &self.config
    }

    /// The seed of every draw.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// How a transform acts on a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A position: `R x + t`.
    Point,
    /// A direction, velocity or force: `R v`.
    Vector,
}

/// Which rows a transform is applied to: for `r < count`, with
/// `g = node_graph[graph_first + r]`, `out[out_first + r] = R_g input[in_first + r] (+ t_g)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    /// Rows to transform.
    pub count: usize,
    /// First entry of `node_graph` read.
    pub graph_first: usize,
    /// First input row read.
    pub in_first: usize,
    /// First output row written.
    pub out_first: usize,
}

/// Options of [`plan_apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apply {
    mode: Mode,
}

impl Apply {
    /// Applies transforms as `mode` says.
    pub fn new(mode: Mode) -> Self {
        Self { mode }
    }

    /// Point or vector.
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// The rows of a `[rows, 3]` f32 tensor, or a shape error naming `op`.
fn vec3_rows(op: &'static str, t: &Tensor) -> Result<usize> {
    match (t.dtype(), t.shape()) {
        (DType::F32, &[rows, 3]) => Ok(rows),
        _ => Err(Error::Shape {
            op,
            expected: "an F32 tensor [rows, 3]".into(),
            got: format!("{:?} {:?}", t.dtype(), t.shape()),
        }),
    }
}

/// Errors unless rows `first..first + count` lie within `len`.
fn rows_within(op: &'static str, first: usize, count: usize, len: usize) -> Result<()> {
    match first.checked_add(count) {
        Some(end) if end <= len => Ok(()),
        _ => Err(Error::Shape {
            op,
            expected: format!("at least {first} + {count} rows (first row + count)"),
            got: format!("{len} rows"),
        }),
    }
}

/// Whether the byte ranges `[a, a + len)` and `[b, b + len)` overlap.
fn overlaps(a: u64, b: u64, len: u64) -> bool {
    len > 0 && a < b + len && b < a + len
}

/// Plans the transform of `rows` of `input [_, 3]` into `output [_, 3]` by `transforms
/// [graphs, 12]`, picking each row's graph from `node_graph` (u32 `[nodes]`).
///
/// `output` may share a buffer with `input` (e.g. the two halves of a doubled batch) when the
/// rows read and written do not overlap; it may not share one with `transforms` or
/// `node_graph`. A row whose graph index is `>= graphs` is written as NaN.
pub fn plan_apply(
    engine: &Engine,
    transforms: &Tensor,
    node_graph: &Tensor,
    input: &Tensor,
    output: &Tensor,
    rows: Rows,
    apply: Apply,
) -> Result<Dispatch> {
    let graphs = match (transforms.dtype(), transforms.shape()) {
        (DType::F32, &[g, TRANSFORM_LEN]) => g,
        _ => {
            return Err(Error::Shape {
                op: "rotate::plan_apply transforms",
                expected: "an F32 tensor [graphs, 12]".into(),
                got: format!("{:?} {:?}", transforms.dtype(), transforms.shape()),
            })
        }
    };
    let nodes = match (node_graph.dtype(), node_graph.shape()) {
        (DType::U32, &[n]) => n,
        _ => {
            return Err(Error::Shape {
                op: "rotate::plan_apply node_graph",
                expected: "a U32 tensor [nodes]".into(),
                got: format!("{:?} {:?}", node_graph.dtype(), node_graph.shape()),
            })
        }
    };
    let in_rows = vec3_rows("rotate::plan_apply input", input)?;
    let out_rows = vec3_rows("rotate::plan_apply output", output)?;
    rows_within(
        "rotate::plan_apply node_graph rows",
        rows.graph_first,
        rows.count,
        nodes,
    )?;
    rows_within(
        "rotate::plan_apply input rows",
        rows.in_first,
        rows.count,
        in_rows,
    )?;
    rows_within(
        "rotate::plan_apply output rows",
        rows.out_first,
        rows.count,
        out_rows,
    )?;

    // wgpu forbids a buffer bound read-only and writable in one dispatch; input is declared
    // writable for exactly this sharing, so only the rows themselves must be disjoint.
    let shares = |t: &Tensor| t.buffer() == output.buffer();
    if shares(transforms) || shares(node_graph) {
        return Err(Error::InvalidValue {
            what: "rotate::plan_apply output".into(),
            detail: "shares a buffer with transforms or node_graph, which the kernel reads \
                     (expected a buffer other than those of transforms and node_graph)"
                .into(),
        });
    }
    let row_bytes = 12u64;
    let read_at = input.offset() + rows.in_first as u64 * row_bytes;
    let write_at = output.offset() + rows.out_first as u64 * row_bytes;
    if shares(input) && overlaps(read_at, write_at, rows.count as u64 * row_bytes) {
        return Err(Error::InvalidValue {
            what: "rotate::plan_apply output".into(),
            detail: format!(
                "{} rows written from byte {write_at} overlap the rows read from byte \
                 {read_at} of the same buffer (expected disjoint rows)",
                rows.count
            ),
        });
    }

    let op = "rotate::plan_apply";
    let p = Params {
        graphs: as_u32(op, graphs)?,
        nan_bits: f32::NAN.to_bits(),
        count: as_u32(op, rows.count)?,
        graph_first: as_u32(op, rows.graph_first)?,
        in_first: as_u32(op, rows.in_first)?,
        out_first: as_u32(op, rows.out_first)?,
        mode: match apply.mode {
            Mode::Point => 0,
            Mode::Vector => 1,
        },
        ..Params::zeroed()
    };
    // The kernel indexes elements in u32.
    for elements in [in_rows, out_rows].map(|n| n.saturating_mul(3)) {
        as_u32(op, elements)?;
    }
    as_u32(op, nodes)?;
    as_u32(op, graphs.saturating_mul(TRANSFORM_LEN))?;
    let uniform = engine.uniform("rotate apply params", &p);
    let pipeline = engine.pipeline(FILE, SOURCE, "apply")?;
    Ok(Dispatch::new(
        engine,
        "rotate apply",
        pipeline,
        &uniform,
        &[transforms, node_graph, input, output],
        grid_1d(groups_for(rows.count, APPLY_GROUP)),
    ))
}

/// The kernel's 32-bit hash (PCG, from "Hash Functions for GPU Rendering", Jarzynski and Olano).
fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// The stream's keys: the first from the seed alone, the second from the seed and the step.
fn stream_key(seed: u64, step: u64) -> [u32; 2] {
    let ks = pcg(pcg(seed as u32) ^ (seed >> 32) as u32);
    let kt = pcg(pcg(ks ^ step as u32) ^ (step >> 32) as u32);
    [ks, kt]
}

/// Uniform in `[0, 1)` with 24 bits for hash counter `c`, the same value as the kernel's.
fn uniform01(key: [u32; 2], c: u32) -> f64 {
    let h = pcg(pcg(pcg(c) ^ key[1]).wrapping_add(key[0]));
    (h >> 8) as f64 / (1u32 << 24) as f64
}

/// Two standard normals (Box-Muller), with the kernel's angle convention.
fn normal_pair(u1: f64, u2: f64) -> [f64; 2] {
    let radius = (-2.0 * (-u1).ln_1p()).sqrt();
    let phi = std::f64::consts::PI * (2.0 * u2 - 1.0);
    [radius * phi.cos(), radius * phi.sin()]
}

/// `a - sin(a)`: pi times the Haar angle CDF on `[0, pi]`; a series below 1/2, where the
/// subtraction would cancel.
fn theta_minus_sin(a: f64) -> f64 {
    if a < 0.5 {
        let a2 = a * a;
        // Terms to a^15: the first left out is below 1e-17 relative for a < 1/2.
        let mut term = a * a2 / 6.0;
        let mut sum = 0.0;
        for k in 1..=7 {
            sum += term;
            term *= -a2 / ((2 * k + 2) * (2 * k + 3)) as f64;
        }
        sum
    } else {
        a - a.sin()
    }
}

/// The angle in `[lo, hi]` at Haar-CDF fraction `u` of that range, by the kernel's bisection.
fn haar_angle(r: &Resolved, u: f64) -> f64 {
    let target = r.h_lo + u * (r.h_hi - r.h_lo);
    let (mut lo, mut hi) = (r.angle_lo, r.angle_hi);
    for _ in 0..BISECTIONS {
        let mid = 0.5 * (lo + hi);
        if theta_minus_sin(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Row-major rotation of the unit quaternion `(w, x, y, z)`.
fn from_quaternion([w, x, y, z]: [f64; 4]) -> [f64; 9] {
    [
        1.0 - 2.0 * (y * y + z * z),
        2.0 * (x * y - w * z),
        2.0 * (x * z + w * y),
        2.0 * (x * y + w * z),
        1.0 - 2.0 * (x * x + z * z),
        2.0 * (y * z - w * x),
        2.0 * (x * z - w * y),
        2.0 * (y * z + w * x),
        1.0 - 2.0 * (x * x + y * y),
    ]
}

/// Row-major rotation by `a` about the unit axis `n` (Rodrigues' formula).
fn from_axis_angle(n: [f64; 3], a: f64) -> [f64; 9] {
    let (s, c) = a.sin_cos();
    let v = 1.0 - c;
    let mut r = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            r[i * 3 + j] = v * n[i] * n[j] + if i == j { c } else { 0.0 };
        }
    }
    r[1] -= s * n[2];
    r[2] += s * n[1];
    r[3] += s * n[2];
    r[5] -= s * n[0];
    r[6] -= s * n[1];
    r[7] += s * n[0];
    r
}

fn draw_rotation(r: &Resolved, key: [u32; 2], base: u32) -> [f64; 9] {
    let u: [f64; 4] = std::array::from_fn(|d| uniform01(key, base + d as u32));
    if r.kind == RotationKind::Axis {
        let a = r.angle_lo + u[2] * (r.angle_hi - r.angle_lo);
        return from_axis_angle(r.axis, if u[3] < 0.5 { -a } else { a });
    }
    if r.restricted {
        let z = 2.0 * u[0] - 1.0;
        let ring = ((1.0 - z) * (1.0 + z)).max(0.0).sqrt();
        let phi = std::f64::consts::PI * (2.0 * u[1] - 1.0);
        let n = [ring * phi.cos(), ring * phi.sin(), z];
        return from_axis_angle(n, haar_angle(r, u[2]));
    }
    let [w, x] = normal_pair(u[0], u[1]);
    let [y, z] = normal_pair(u[2], u[3]);
    let norm = (w * w + x * x + y * y + z * z).sqrt();
    if norm == 0.0 {
        return from_quaternion([1.0, 0.0, 0.0, 0.0]);
    }
    from_quaternion([w / norm, x / norm, y / norm, z / norm])
}

/// CPU twin of the sample kernel: the same draws for `step` (the same integer hash, the float
/// math in f64), `[graphs * 12]`. `config` should be valid and `graphs` below 2^28, as
/// [`Transforms::new`] requires.
pub fn cpu_sample(config: &TransformConfig, seed: u64, step: u64, graphs: usize) -> Vec<f64> {
    let r = Resolved::of(config);
    let key = stream_key(seed, step);
    let mut out = Vec::with_capacity(graphs * TRANSFORM_LEN);
    for g in 0..graphs as u32 {
        let base = g * DRAWS;
        let mut rot = draw_rotation(&r, key, base);
        if r.kind == RotationKind::O3 && uniform01(key, base + 4) < 0.5 {
            rot.iter_mut().for_each(|x| *x = -*x);
        }
        let [t0, t1] = normal_pair(uniform01(key, base + 8), uniform01(key, base + 9));
        let [t2, _] = normal_pair(uniform01(key, base + 10), uniform01(key, base + 11));
        out.extend_from_slice(&rot);
        out.extend([t0, t1, t2].map(|t| r.std * t));
    }
    out
}

/// CPU twin of [`plan_apply`]: writes rows `out_first..out_first + count` of `out [_, 3]`;
/// a row whose graph index is out of range becomes NaN. Panics if a slice is too short.
pub fn cpu_apply(
    transforms: &[f64],
    node_graph: &[u32],
    input: &[f64],
    rows: Rows,
    mode: Mode,
    out: &mut [f64],
) {
    let graphs = transforms.len() / TRANSFORM_LEN;
    for r in 0..rows.count {
        let g = node_graph[rows.graph_first + r] as usize;
        let o = (rows.out_first + r) * 3;
        if g >= graphs {
            out[o..o + 3].fill(f64::NAN);
            continue;
        }
        let tf = &transforms[g * TRANSFORM_LEN..(g + 1) * TRANSFORM_LEN];
        let x = &input[(rows.in_first + r) * 3..(rows.in_first + r) * 3 + 3];
        for i in 0..3 {
            let shift = match mode {
                Mode::Point => tf[9 + i],
                Mode::Vector => 0.0,
            };
            out[o + i] = (0..3).map(|j| tf[i * 3 + j] * x[j]).sum::<f64>() + shift;
        }
    }
}

/// The rotation angle in degrees of row-major `r` (9 entries; of `-r` when `det r < 0`), from
/// its trace. Ill-conditioned near 0 and 180 degrees, where the trace is flat in the angle.
pub fn rotation_angle_deg(r: &[f64]) -> f64 {
    let det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6])
        + r[2] * (r[3] * r[7] - r[4] * r[6]);
    let trace = r[0] + r[4] + r[8];
    let trace = if det < 0.0 { -trace } else { trace };
    ((trace - 1.0) / 2.0).clamp(-1.0, 1.0).acos().to_degrees()
}
