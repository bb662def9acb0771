//! Embedding remul in an application that already owns a wgpu device.
//!
//! The application creates the instance, adapter, device and queue; remul borrows clones of
//! the device and queue through `Engine::from_device`. The model's forward dispatches are
//! recorded into the application's own command encoder, next to the application's own copy
//! of the prediction into its own staging buffer, and go to the GPU in one submit on the
//! application's queue. The prediction is then checked against the model's f64 CPU twin.
//!
//! ```text
//! cargo run --release --example embed [CHECKPOINT]
//! ```
//!
//! With `CHECKPOINT` (a `.safetensors` file written by `remul train`) the example loads that
//! model; without, it first trains a small GNN for a few epochs on a freshly simulated
//! charged N-body dataset (a few seconds, even on a software adapter). Either way it predicts
//! the positions of systems the model has never seen, prints those of the first one, and
//! exits non-zero when the GPU and the CPU twin differ by more than 1e-3.
//! `RUST_LOG=remul=info` also shows what remul logs along the way.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use anyhow::{bail, Context};
use remul::data::{generate_charged, ChargedConfig, ChargedDataset, Dataset, LoaderConfig, Split};
use remul::gpu::Dispatch;
use remul::models::{GraphDims, GraphInputs};
use remul::train::{load_model, Checkpoint, NbodyTrainer, TrainConfig};
use remul::Engine;

/// Unseen graphs the model predicts in one forward pass.
const GRAPHS: usize = 4;

/// Largest |GPU - CPU| accepted: both compute in f32-rounded inputs, the GPU in f32 through
/// a few dozen operations a path, so real agreement is ~1e-6 and a wrong kernel is ~1e-1.
const TOLERANCE: f64 = 1e-3;

/// Epochs of the built-in training run when no checkpoint is given.
const EPOCHS: usize = 15;

/// Simulated training systems for the built-in run: 15 epochs of 20 steps take about three
/// seconds on a two-core software adapter and beat "every node stays where it is".
const TRAIN_SYSTEMS: usize = 500;

/// A folder under the system temp folder, removed again when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("remul-embed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Simulates a small charged N-body dataset (500 / 10 / 10 systems) into `dir`.
fn simulate(dir: &Path, suffix: &str) -> anyhow::Result<()> {
    let config = ChargedConfig {
        seed: 2024,
        train: TRAIN_SYSTEMS,
        valid: 10,
        test: 10,
        suffix: suffix.to_string(),
        ..ChargedConfig::default()
    };
    generate_charged(dir, &config, &mut |_, _| {})?;
    Ok(())
}

/// Trains a small REMUL-GNN on the engine for a few epochs and returns its checkpoint.
fn train_briefly(engine: &Engine, data: &Path) -> anyhow::Result<Checkpoint> {
    let mut config = TrainConfig::default();
    config.data.dir = Some(data.to_path_buf());
    config.data.loader = LoaderConfig {
        max_train: None,
        ..LoaderConfig::default()
    };
    config.model.hidden = 16;
    config.model.layers = 2;
    config.batch_size = 25;
    config.epochs = EPOCHS;
    config.valid_every = EPOCHS;
    config.eval.rotations = 1;
    config.optimizer.lr = 1e-2;
    println!(
        "no checkpoint given: training a {:?} (hidden {}, {} layers) for {EPOCHS} epochs on \
         {TRAIN_SYSTEMS} simulated charged 5-body systems",
        config.model.kind, config.model.hidden, config.model.layers
    );

    simulate(data, &config.data.loader.suffix)?;
    let load = |split| ChargedDataset::load(data, split, &config.data.loader).map(Arc::new);
    let (train, valid, test) = (load(Split::Train)?, load(Split::Valid)?, load(Split::Test)?);
    let mut trainer = NbodyTrainer::new(engine, config, train, valid, test)?;
    for _ in 0..EPOCHS {
        let m = trainer.epoch(&mut ())?;
        if m.epoch == 1 || m.epoch % 5 == 0 {
            println!(
                "  epoch {:2}: task loss {:.4}, equivariance loss {:.4}",
                m.epoch, m.train_task, m.train_equi
            );
        }
        if let Some(v) = &m.valid {
            println!(
                "  validation: MSE {:.4}, equivariance error {:.4} per node",
                v.mse, v.equi_error
            );
        }
    }
    Ok(trainer.checkpoint()?)
}

fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("remul=warn"))
        .init();
    let checkpoint = std::env::args_os().nth(1).map(PathBuf::from);
    let scratch = Scratch::new()?;
    let data = scratch.0.join("charged");

    // The application's own wgpu instance, adapter, device and queue, at WebGPU's limits.
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
        .context("no wgpu adapter (without a GPU, install Mesa's lavapipe)")?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("embedding application"),
        required_limits: wgpu::Limits::default(),
        ..Default::default()
    }))?;
    let info = adapter.get_info();
    println!(
        "adapter: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );

    // remul shares the application's device and queue and creates none of its own.
    let engine = Engine::from_device(device.clone(), queue.clone());

    // A trained model's checkpoint: the one given, else one trained here for a few seconds.
    let (ckpt, source) = match checkpoint {
        Some(path) => (Checkpoint::load(&path)?, path),
        None => (
            train_briefly(&engine, &data)?,
            PathBuf::from("(trained above)"),
        ),
    };
    let config = TrainConfig::from_json(ckpt.meta(&source, "config")?)?;

    // Systems the model has never seen (the test split), made into graphs as in training.
    if !data.is_dir() {
        simulate(&data, &config.data.loader.suffix)?;
    }
    let loader = LoaderConfig {
        max_test: None,
        ..config.data.loader.clone()
    };
    let unseen = ChargedDataset::load(&data, Split::Test, &loader)?;

    // The network the checkpoint describes, with its weights, sized for these graphs.
    let (_, model) = load_model(&engine, &ckpt, &source, GraphDims::of(&unseen))?;
    let params = model.params();
    println!(
        "model: {} with {} parameters from {}",
        model.name(),
        params.count(),
        source.display()
    );

    // One graph batch on the GPU, and the model's dispatches and buffers planned for it.
    let indices: Vec<usize> = (0..GRAPHS.min(unseen.len())).collect();
    let batch = unseen.batch(&indices)?;
    let inputs = GraphInputs::new(&engine, &batch, 1)?;
    let plan = model.plan(&engine, &inputs)?;

    // The application's staging buffer, which it can map to read the prediction.
    let bytes = plan.output.byte_len();
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("prediction staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });

    // The forward pass and the copy out of it, in the application's own command encoder.
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("application frame"),
    });
    let forward: Vec<&Dispatch> = plan.forward.iter().collect();
    engine.record(&mut encoder, &forward);
    let output = &plan.output;
    encoder.copy_buffer_to_buffer(output.buffer(), output.offset(), &staging, 0, bytes);

    // One submit on the application's queue (it also flushes remul's pending uploads).
    queue.submit([encoder.finish()]);
    println!(
        "forward pass over {} graphs ({} nodes, {} edges): {} dispatches in the application's \
         encoder, one submit",
        batch.num_graphs(),
        batch.num_nodes(),
        batch.num_edges(),
        forward.len()
    );

    // Map the staging buffer; the poll sleeps (no spinning) until the GPU is done.
    let (tx, rx) = mpsc::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    device.poll(wgpu::PollType::wait_indefinitely())?;
    rx.recv().context("the map callback never ran")??;
    let predicted: Vec<f32> = bytemuck::cast_slice(&staging.get_mapped_range(..)?).to_vec();
    staging.unmap();

    // The first graph's nodes: input positions, where they really end up, and the prediction.
    let first = batch.graph_offsets[0] as usize..batch.graph_offsets[1] as usize;
    println!(
        "graph 0: positions at frame {} (input), at frame {} (target), and predicted",
        config.data.loader.input_frame, config.data.loader.target_frame
    );
    let xyz =
        |v: &[f32], i: usize| format!("{:7.3} {:7.3} {:7.3}", v[3 * i], v[3 * i + 1], v[3 * i + 2]);
    println!(" node |          input          |         target          |        predicted");
    for i in first {
        println!(
            " {i:4} | {} | {} | {}",
            xyz(&batch.positions, i),
            xyz(&batch.targets, i),
            xyz(&predicted, i)
        );
    }
    let mse = |v: &[f32]| {
        let sq: f64 = v
            .iter()
            .zip(&batch.targets)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        sq / v.len() as f64
    };
    println!(
        "mean squared error over {} graphs: {:.4} predicted, {:.4} if every node stayed put",
        batch.num_graphs(),
        mse(&predicted),
        mse(&batch.positions)
    );

    // The f64 CPU twin on the same batch, with the GPU's weights at their `ParamId::index`.
    let mut host = vec![Vec::new(); params.ids().count()];
    for (id, p) in params.ids().zip(params.read_values(&engine)?) {
        host[id.index()] = p.data.into_iter().map(f64::from).collect();
    }
    let want = model.cpu_forward(&host, &batch);
    // A NaN anywhere makes the maximum NaN, so that it fails the check below.
    let max_diff = predicted
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (f64::from(g) - w).abs())
        .fold(0.0, |m: f64, d| if d.is_nan() || d > m { d } else { m });
    println!(
        "CPU twin check: max |GPU - CPU| = {max_diff:.2e} over {} values \
         (tolerance {TOLERANCE:.0e})",
        want.len()
    );
    if max_diff.is_nan() || max_diff > TOLERANCE {
        bail!("the GPU prediction differs from the CPU twin by {max_diff:e}");
    }
    Ok(())
}
