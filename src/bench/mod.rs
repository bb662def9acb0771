//! Timing suites behind `remul bench`: the adapter's ceilings (peak FMA rate, copy
//! bandwidth), every kernel family on the shapes the models use, and whole models (training
//! throughput, inference latency). Results are plain data ([`BenchReport`]) that the command
//! line prints and writes as JSON; nothing here prints.
//!
//! Figures are medians of repeated measurements after a warm-up, timed with GPU timestamp
//! queries where the device has them ([`timer`]).

pub mod timer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::data::{generate_charged, ChargedConfig, ChargedDataset, Dataset, LoaderConfig, Split};
use crate::gpu::{Dispatch, Engine};
use crate::kernels::adam::{Adam, AdamConfig};
use crate::kernels::bias_act::{self, Activation};
use crate::kernels::edge_geometry::{self, Adjacency};
use crate::kernels::gradnorm::{GradNorm, GradNormConfig};
use crate::kernels::matmul::{self, Layout};
use crate::kernels::reduce::{self, Axis};
use crate::kernels::remul_loss::{self, Form, LossInputs};
use crate::kernels::rotate::{self, Apply, Mode, Rows, TransformConfig, Transforms};
use crate::kernels::segment_sum::{self, source_csr};
use crate::kernels::{coord_update, gather, mse, peak_copy, peak_fma, Cols};
use crate::models::{GraphInputs, ModelKind};
use crate::rng::Rng;
use crate::train::{NbodyTrainer, TrainConfig};
use crate::{Error, Result, Tensor};
pub use timer::{Budget, Method, Timer};

/// The adapter a report was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterInfo {
    /// Adapter name.
    pub name: String,
    /// Backend (Vulkan, Metal, Dx12, Gl; `cpu`/`cuda` for PyTorch).
    pub backend: String,
    /// Device type.
    pub device_type: String,
    /// Driver and version.
    pub driver: String,
}

/// The host a report was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    /// Logical CPUs.
    pub cpus: usize,
    /// Operating system.
    pub os: String,
}

/// What the adapter can do at best.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ceilings {
    /// f32 rate of an FMA-bound kernel, GFLOP/s (an FMA counts as 2 flops).
    pub fma_gflops: f64,
    /// Bandwidth of a copy kernel, GB/s (bytes read plus bytes written).
    pub copy_gbps: f64,
}

/// One kernel on one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelResult {
    /// Unique name, e.g. `matmul_nn_1024`.
    pub name: String,
    /// Kernel family (the shader's stem).
    pub family: String,
    /// The shape in words.
    pub shape: String,
    /// Median milliseconds per call.
    pub ms: f64,
    /// Useful GFLOP/s, for kernels that compute.
    pub gflops: Option<f64>,
    /// GB/s moved (the kernel's minimum traffic), for kernels bound by memory.
    pub gbps: Option<f64>,
    /// The larger of the two as a percentage of the matching ceiling.
    pub percent_of_ceiling: Option<f64>,
}

/// One model's speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResult {
    /// `mlp`, `gnn`, `egnn`.
    pub model: String,
    /// `plain` (task loss only) or `remul` (doubled batch with the equivariance loss).
    pub objective: String,
    /// Graphs per step.
    pub batch: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Message-passing layers.
    pub layers: usize,
    /// Training graphs per second over whole steps (data, uploads, forward, loss, backward,
    /// optimizer); the doubled REMUL batch counts its original graphs only.
    pub train_graphs_per_s: f64,
    /// Median milliseconds of one forward over `batch` graphs, submit to completion.
    pub inference_ms: f64,
}

/// Everything one `remul bench` run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// `remul <version>` (or `pytorch <version>` for the comparison script).
    pub engine: String,
    /// The adapter.
    pub adapter: AdapterInfo,
    /// The host.
    pub machine: MachineInfo,
    /// How kernel times were taken.
    #[serde(default)]
    pub method: Option<Method>,
    /// Peak rates, when measured.
    pub ceilings: Option<Ceilings>,
    /// Kernel suite.
    pub kernels: Vec<KernelResult>,
    /// Model suite.
    pub models: Vec<ModelResult>,
}

impl BenchReport {
    /// An empty report for `engine`'s adapter.
    pub fn new(engine: &Engine) -> Self {
        let info = engine.adapter_info();
        Self {
            engine: format!("remul {}", env!("CARGO_PKG_VERSION")),
            adapter: AdapterInfo {
                name: info.name.clone(),
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info)
                    .trim()
                    .to_string(),
            },
            machine: MachineInfo {
                cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
                os: std::env::consts::OS.to_string(),
            },
            method: None,
            ceilings: None,
            kernels: Vec::new(),
            models: Vec::new(),
        }
    }
}

/// How big and how long the suites run.
#[derive(Debug, Clone, Copy)]
pub struct SuiteOptions {
    /// Small shapes and short measurements (a smoke test, not a benchmark).
    pub quick: bool,
    /// Measurement budget per kernel.
    pub budget: Budget,
}

impl SuiteOptions {
    /// Full shapes, standard budget.
    pub fn standard() -> Self {
        Self {
            quick: false,
            budget: Budget::standard(),
        }
    }

    /// Tiny shapes, quick budget.
    pub fn quick() -> Self {
        Self {
            quick: true,
            budget: Budget::quick(),
        }
    }
}

/// Measures the peak FMA rate and copy bandwidth.
pub fn ceilings(engine: &Engine, options: SuiteOptions) -> Result<Ceilings> {
    let timer = Timer::new(engine);
    // Enough invocations to fill any GPU (256k), enough rounds to hide launch cost.
    let (invocations, iters) = if options.quick {
        (4096, 64)
    } else {
        (1 << 18, 512)
    };
    let out = engine.empty(&[invocations]);
    let fma = peak_fma::plan(engine, &out, iters)?;
    let t = timer.seconds(&[&fma], options.budget)?;
    let flops = (invocations as u64 * iters as u64 * peak_fma::FLOPS_PER_ROUND) as f64;

    // 64 MiB each way: far past every cache.
    let floats = if options.quick { 1 << 16 } else { 1 << 24 };
    let src = engine.zeros(&[floats]);
    let dst = engine.empty(&[floats]);
    let copy = peak_copy::plan(engine, &src, &dst)?;
    let tc = timer.seconds(&[&copy], options.budget)?;
    Ok(Ceilings {
        fma_gflops: flops / t * 1e-9,
        copy_gbps: (floats * 8) as f64 / tc * 1e-9,
    })
}

/// A kernel case: dispatches to time, useful flops and minimum bytes moved per call.
struct Case {
    name: String,
    family: &'static str,
    shape: String,
    dispatches: Vec<Dispatch>,
    flops: f64,
    bytes: f64,
}

/// The graph layout of `graphs` fully connected 5-particle systems, on the GPU.
struct BenchGraph {
    nodes: usize,
    edges: usize,
    src: Tensor,
    dst: Tensor,
    dst_offsets: Tensor,
    src_offsets: Tensor,
    src_perm: Tensor,
}

impl BenchGraph {
    fn new(engine: &Engine, graphs: usize) -> Result<Self> {
        let (mut src, mut dst, mut offsets) = (Vec::new(), Vec::new(), vec![0u32]);
        for g in 0..graphs as u32 {
            for i in 0..5 {
                for j in 0..5 {
                    if i != j {
                        src.push(5 * g + j);
                        dst.push(5 * g + i);
                    }
                }
                offsets.push(src.len() as u32);
            }
        }
        let nodes = 5 * graphs;
        let (src_offsets, src_perm) = source_csr(&src, nodes);
        let t = |v: &[u32]| engine.tensor_u32(v, &[v.len()]);
        Ok(Self {
            nodes,
            edges: src.len(),
            src: t(&src)?,
            dst: t(&dst)?,
            dst_offsets: t(&offsets)?,
            src_offsets: t(&src_offsets)?,
            src_perm: t(&src_perm)?,
        })
    }
}

fn random(engine: &Engine, rng: &mut Rng, shape: &[usize]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.uniform_in(-1.0, 1.0) as f32).collect();
    engine.tensor(&v, shape)
}

fn matmul_case(
    engine: &Engine,
    rng: &mut Rng,
    name: String,
    (m, n, k): (usize, usize, usize),
    layout: Layout,
    variant: Option<usize>,
) -> Result<Case> {
    let a_shape = if layout == Layout::TN { [k, m] } else { [m, k] };
    let b_shape = if layout == Layout::NT { [n, k] } else { [k, n] };
    let a = random(engine, rng, &a_shape)?;
    let b = random(engine, rng, &b_shape)?;
    let c = engine.empty(&[m, n]);
    Ok(Case {
        name,
        family: "matmul",
        shape: format!("{layout:?} m={m} n={n} k={k}"),
        dispatches: vec![match variant {
            Some(i) => matmul::plan_variant(engine, &a, &b, &c, layout, false, i)?,
            None => matmul::plan(engine, &a, &b, &c, layout, false)?,
        }],
        flops: 2.0 * (m * n * k) as f64,
        bytes: 4.0 * (m * k + k * n + m * n) as f64,
    })
}

/// The kernel cases at one model size: `graphs` N-body graphs, `hidden` features.
fn model_cases(engine: &Engine, rng: &mut Rng, graphs: usize, hidden: usize) -> Result<Vec<Case>> {
    let g = BenchGraph::new(engine, graphs)?;
    let (n, e, h) = (g.nodes, g.edges, hidden);
    let tag = format!("b{graphs}_h{h}");
    let mut cases = Vec::new();
    // The first layer of phi_e ([h_i, h_j, a_ij] -> h) and its two backward products.
    let k = 2 * h + 1;
    for (layout, what) in [(Layout::NN, "nn"), (Layout::TN, "tn"), (Layout::NT, "nt")] {
        let dims = match layout {
            Layout::NN => (e, h, k),
            Layout::TN => (k, h, e),
            Layout::NT => (e, k, h),
        };
        let name = format!("matmul_{what}_edges_{tag}");
        cases.push(matmul_case(engine, rng, name, dims, layout, None)?);
    }

    let z = random(engine, rng, &[e, h])?;
    let bias = random(engine, rng, &[h])?;
    let y = engine.empty(&[e, h]);
    let (dz, db) = (engine.empty(&[e, h]), engine.empty(&[h]));
    let elems = (e * h) as f64;
    cases.push(Case {
        name: format!("bias_act_silu_{tag}"),
        family: "bias_act",
        shape: format!("[{e}, {h}]"),
        dispatches: vec![bias_act::plan_forward(
            engine,
            &z,
            &bias,
            Some(&y),
            Activation::Silu,
        )?],
        flops: 0.0,
        bytes: 8.0 * elems,
    });
    cases.push(Case {
        name: format!("bias_act_backward_silu_{tag}"),
        family: "bias_act_backward",
        shape: format!("[{e}, {h}]"),
        dispatches: vec![bias_act::plan_backward(
            engine,
            &z,
            &y,
            &dz,
            &db,
            Activation::Silu,
            false,
        )?],
        flops: 0.0,
        bytes: 12.0 * elems,
    });

    let hn = random(engine, rng, &[n, h])?;
    let he = engine.empty(&[e, h]);
    cases.push(Case {
        name: format!("gather_{tag}"),
        family: "gather",
        shape: format!("[{n}, {h}] -> [{e}, {h}]"),
        dispatches: vec![gather::plan(
            engine,
            Cols::all(&hn),
            Some(&g.src),
            Cols::all(&he),
            false,
        )?],
        flops: 0.0,
        bytes: 4.0 * (2 * e * h + e) as f64,
    });
    let agg = engine.empty(&[n, h]);
    cases.push(Case {
        name: format!("segment_sum_{tag}"),
        family: "segment_sum",
        shape: format!("[{e}, {h}] -> [{n}, {h}]"),
        dispatches: vec![segment_sum::plan(
            engine,
            Cols::all(&z),
            &g.dst_offsets,
            None,
            Cols::all(&agg),
            false,
            false,
        )?],
        flops: elems,
        bytes: 4.0 * (e * h + n * h) as f64,
    });

    let db_rows = engine.empty(&[h]);
    cases.push(Case {
        name: format!("reduce_sum_rows_{tag}"),
        family: "reduce",
        shape: format!("[{e}, {h}] -> [{h}]"),
        dispatches: vec![reduce::plan_sum(engine, &z, &db_rows, Axis::Rows, false)?],
        flops: elems,
        bytes: 4.0 * elems,
    });

    // The REMUL step around the model: transforms, the doubled batch's copy, the losses.
    let node_graph: Vec<u32> = (0..2 * n as u32).map(|i| i / 5).collect();
    let node_graph = engine.tensor_u32(&node_graph, &[2 * n])?;
    let transforms = Transforms::new(engine, graphs, TransformConfig::default(), 1)?;
    cases.push(Case {
        name: format!("rotate_sample_b{graphs}"),
        family: "rotate",
        shape: format!("{graphs} graphs"),
        dispatches: vec![transforms.sample_dispatch().clone()],
        flops: 0.0,
        bytes: 48.0 * graphs as f64,
    });
    let doubled = random(engine, rng, &[2 * n, 3])?;
    let rows = Rows {
        count: n,
        graph_first: 0,
        in_first: 0,
        out_first: n,
    };
    cases.push(Case {
        name: format!("rotate_apply_b{graphs}"),
        family: "rotate",
        shape: format!("{n} rows"),
        dispatches: vec![rotate::plan_apply(
            engine,
            transforms.transforms(),
            &node_graph,
            &doubled,
            &doubled,
            rows,
            Apply::new(Mode::Point),
        )?],
        flops: 18.0 * n as f64,
        bytes: 4.0 * (6 * n + n) as f64,
    });
    let targets = random(engine, rng, &[2 * n, 3])?;
    let weights = engine.tensor(&[1.0, 1.0], &[2])?;
    let loss_inputs = LossInputs {
        output: &doubled,
        targets: &targets,
        transforms: transforms.transforms(),
        node_graph: &node_graph,
        nodes: n,
        form: Form::Consistency,
    };
    let losses = engine.empty(&[2]);
    cases.push(Case {
        name: format!("remul_losses_b{graphs}"),
        family: "remul_loss",
        shape: format!("2 x {n} nodes, consistency form"),
        dispatches: vec![remul_loss::plan_losses(engine, loss_inputs, &losses)?],
        flops: 0.0,
        bytes: 4.0 * (12 * n) as f64,
    });
    let (d_out, d_task, d_equi) = (
        engine.empty(&[2 * n, 3]),
        engine.empty(&[2 * n, 3]),
        engine.empty(&[2 * n, 3]),
    );
    cases.push(Case {
        name: format!("remul_grads_b{graphs}"),
        family: "remul_loss",
        shape: format!("2 x {n} nodes, consistency form"),
        dispatches: vec![remul_loss::plan_grads(
            engine,
            loss_inputs,
            &weights,
            &d_out,
            &d_task,
            &d_equi,
        )?],
        flops: 0.0,
        bytes: 4.0 * (21 * n) as f64,
    });
    let gn = GradNorm::new(engine, 3 * h, GradNormConfig::default())?;
    let (g_task, g_equi) = (
        random(engine, rng, &[3 * h])?,
        random(engine, rng, &[3 * h])?,
    );
    cases.push(Case {
        name: format!("gradnorm_h{h}"),
        family: "gradnorm",
        shape: format!("{} output-layer weights", 3 * h),
        dispatches: vec![gn.plan(engine, &g_task, &g_equi, &losses)?],
        flops: 0.0,
        bytes: 8.0 * (3 * h) as f64,
    });
    let mse_value = engine.empty(&[1]);
    cases.push(Case {
        name: format!("mse_b{graphs}"),
        family: "mse",
        shape: format!("[{}, 3]", 2 * n),
        dispatches: vec![mse::plan_forward(
            engine, &doubled, &targets, &mse_value, 1.0,
        )?],
        flops: 0.0,
        bytes: 4.0 * (12 * n) as f64,
    });

    let x = random(engine, rng, &[n, 3])?;
    let v = random(engine, rng, &[n, 3])?;
    let diff = engine.empty(&[e, 3]);
    let sq = engine.empty(&[e, 1]);
    cases.push(Case {
        name: format!("edge_geometry_b{graphs}"),
        family: "edge_geometry",
        shape: format!("{n} nodes, {e} edges"),
        dispatches: vec![edge_geometry::plan(
            engine,
            &x,
            &g.src,
            &g.dst,
            &diff,
            Cols::all(&sq),
        )?],
        flops: 8.0 * e as f64,
        bytes: 4.0 * (6 * e + 2 * e + e) as f64,
    });
    let adj = Adjacency {
        dst_offsets: &g.dst_offsets,
        src_offsets: &g.src_offsets,
        src_perm: &g.src_perm,
    };
    let dx = engine.empty(&[n, 3]);
    cases.push(Case {
        name: format!("edge_geometry_backward_b{graphs}"),
        family: "edge_geometry_backward",
        shape: format!("{n} nodes, {e} edges"),
        dispatches: vec![edge_geometry::plan_backward(
            engine,
            &diff,
            Some(&diff),
            Cols::all(&sq),
            adj,
            &dx,
            false,
        )?],
        flops: 16.0 * e as f64,
        bytes: 4.0 * (2 * 2 * 7 * e + 3 * n) as f64,
    });
    let phi_x = random(engine, rng, &[e, 1])?;
    let phi_v = random(engine, rng, &[n, 1])?;
    let x_out = engine.empty(&[n, 3]);
    cases.push(Case {
        name: format!("coord_update_b{graphs}"),
        family: "coord_update",
        shape: format!("{n} nodes, {e} edges"),
        dispatches: vec![coord_update::plan(
            engine,
            &x,
            &diff,
            Cols::all(&phi_x),
            &g.dst_offsets,
            &v,
            Cols::all(&phi_v),
            &x_out,
        )?],
        flops: 9.0 * e as f64,
        bytes: 4.0 * (4 * e + 10 * n) as f64,
    });
    let (d_diff, d_phx, d_phv) = (
        engine.empty(&[e, 3]),
        engine.empty(&[e, 1]),
        engine.empty(&[n, 1]),
    );
    cases.push(Case {
        name: format!("coord_update_backward_b{graphs}"),
        family: "coord_update_backward",
        shape: format!("{n} nodes, {e} edges"),
        dispatches: vec![coord_update::plan_backward(
            engine,
            &x_out,
            &diff,
            Cols::all(&phi_x),
            &g.dst_offsets,
            &v,
            &d_diff,
            Cols::all(&d_phx),
            Cols::all(&d_phv),
        )?],
        flops: 15.0 * e as f64,
        bytes: 4.0 * (8 * e + 7 * n) as f64,
    });
    Ok(cases)
}

/// Times every kernel family; `ceilings` (when measured) gives the percentages.
pub fn kernels(
    engine: &Engine,
    options: SuiteOptions,
    ceilings: Option<Ceilings>,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<KernelResult>> {
    let mut rng = Rng::new(7);
    let mut cases = Vec::new();
    let squares: &[usize] = if options.quick {
        &[64, 128]
    } else {
        &[256, 512, 1024, 2048]
    };
    for &s in squares {
        cases.push(matmul_case(
            engine,
            &mut rng,
            format!("matmul_nn_{s}"),
            (s, s, s),
            Layout::NN,
            None,
        )?);
    }
    // Every tile shape on one square product: the autotuner's choice in context.
    let s = squares[squares.len().saturating_sub(2)];
    for (i, v) in matmul::VARIANTS.iter().enumerate() {
        let (r, c) = v.tile();
        let name = format!("matmul_nn_{s}_tile{r}x{c}_wg{}x{}", v.wg_x, v.wg_y);
        cases.push(matmul_case(
            engine,
            &mut rng,
            name,
            (s, s, s),
            Layout::NN,
            Some(i),
        )?);
    }
    let sizes: &[(usize, usize)] = if options.quick {
        &[(10, 16)]
    } else {
        &[(100, 64), (1000, 128), (1000, 256)]
    };
    for &(graphs, hidden) in sizes {
        // The geometry and loss kernels do not depend on the width: time them once a size.
        for case in model_cases(engine, &mut rng, graphs, hidden)? {
            if !cases.iter().any(|c: &Case| c.name == case.name) {
                cases.push(case);
            }
        }
    }
    let params = if options.quick { 10_000 } else { 1_000_000 };
    let theta = random(engine, &mut rng, &[params])?;
    let grad = random(engine, &mut rng, &[params])?;
    let adam = Adam::new(engine, &theta, &grad, AdamConfig::default())?;
    cases.push(Case {
        name: format!("adam_{params}"),
        family: "adam",
        shape: format!("{params} parameters"),
        dispatches: vec![adam.dispatch().clone()],
        flops: 0.0,
        bytes: 4.0 * 7.0 * params as f64,
    });

    let timer = Timer::new(engine);
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        progress(&case.name);
        let refs: Vec<&Dispatch> = case.dispatches.iter().collect();
        let t = timer.seconds(&refs, options.budget)?;
        let gflops = (case.flops > 0.0).then(|| case.flops / t * 1e-9);
        let gbps = (case.bytes > 0.0).then(|| case.bytes / t * 1e-9);
        let percent = ceilings.map(|c| {
            let compute = gflops.map_or(0.0, |g| 100.0 * g / c.fma_gflops);
            let memory = gbps.map_or(0.0, |b| 100.0 * b / c.copy_gbps);
            compute.max(memory)
        });
        out.push(KernelResult {
            name: case.name,
            family: case.family.to_string(),
            shape: case.shape,
            ms: t * 1e3,
            gflops,
            gbps,
            percent_of_ceiling: percent,
        });
    }
    Ok(out)
}

/// A scratch folder for the model suite's generated data, removed when dropped.
struct ScratchData(PathBuf);

impl Drop for ScratchData {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains and runs each model on generated charged N-body data.
pub fn models(
    engine: &Engine,
    options: SuiteOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<ModelResult>> {
    let dir = ScratchData(std::env::temp_dir().join(format!("remul-bench-{}", std::process::id())));
    let (train, eval, batch, hidden, layers) = if options.quick {
        (40, 10, 10, 16, 2)
    } else {
        (1000, 100, 100, 64, 4)
    };
    let _ = std::fs::remove_dir_all(&dir.0);
    let data = ChargedConfig {
        train,
        valid: eval,
        test: eval,
        ..ChargedConfig::default()
    };
    generate_charged(&dir.0, &data, &mut |_, _| {})?;
    let loader = LoaderConfig {
        max_train: None,
        ..LoaderConfig::default()
    };
    let load = |split| -> Result<Arc<ChargedDataset>> {
        Ok(Arc::new(ChargedDataset::load(&dir.0, split, &loader)?))
    };
    let (tr, va, te) = (load(Split::Train)?, load(Split::Valid)?, load(Split::Test)?);

    let mut out = Vec::new();
    for (kind, form, lr) in [
        (ModelKind::Mlp, Form::None, 1e-3),
        (ModelKind::Gnn, Form::None, 1e-3),
        (ModelKind::Egnn, Form::None, 5e-4),
        (ModelKind::Gnn, Form::Label, 1e-3),
    ] {
        let objective = if form == Form::None { "plain" } else { "remul" };
        let name = format!("{kind:?}").to_lowercase();
        progress(&format!("{name} {objective}"));
        let mut config = TrainConfig::default();
        config.model.kind = kind;
        config.model.hidden = hidden;
        config.model.layers = layers;
        config.batch_size = batch;
        config.optimizer.lr = lr;
        config.remul.form = form;
        config.data.dir = Some(dir.0.clone());
        config.data.loader = loader.clone();
        // Never validate: the suite times training steps only.
        config.epochs = usize::MAX;
        config.valid_every = usize::MAX;
        let mut trainer = NbodyTrainer::new(engine, config, tr.clone(), va.clone(), te.clone())?;
        trainer.epoch(&mut ())?;
        let epochs = if options.quick { 1 } else { 3 };
        let mut rates: Vec<f64> = (0..epochs)
            .map(|_| trainer.epoch(&mut ()).map(|m| m.samples_per_sec))
            .collect::<Result<_>>()?;
        let inference_ms = inference_ms(engine, &trainer, &te, batch, options.budget)?;
        out.push(ModelResult {
            model: name,
            objective: objective.to_string(),
            batch,
            hidden,
            layers,
            train_graphs_per_s: timer::median(&mut rates),
            inference_ms,
        });
    }
    Ok(out)
}

/// Median wall-clock milliseconds of one forward over the first `batch` graphs of `split`.
fn inference_ms(
    engine: &Engine,
    trainer: &NbodyTrainer,
    split: &ChargedDataset,
    batch: usize,
    budget: Budget,
) -> Result<f64> {
    let indices: Vec<usize> = (0..batch.min(split.len())).collect();
    let graphs = split.batch(&indices)?;
    let inputs = GraphInputs::new(engine, &graphs, 1)?;
    let plan = trainer.model().plan(engine, &inputs)?;
    let forward: Vec<&Dispatch> = plan.forward.iter().collect();
    engine.run(&forward)?;
    engine.wait()?;
    let mut times = Vec::new();
    for _ in 0..budget.repeats.max(3) {
        let start = std::time::Instant::now();
        engine.run(&forward)?;
        engine.wait()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(timer::median(&mut times))
}

/// Reads a report written by `remul bench --json` (or the PyTorch script).
pub fn read_report(path: &Path) -> Result<BenchReport> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::InvalidValue {
        what: path.display().to_string(),
        detail: format!("not a benchmark report: {e}"),
    })
}
