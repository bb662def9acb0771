//! [`Engine`]: one device and queue, chosen by remul or handed over by an application.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};

use bytemuck::Pod;

use super::{BufferPool, Counters, DType, Tensor};
use crate::{Error, Result};

/// How to install a software adapter, for the "no adapter" error.
const NO_ADAPTER_HINT: &str = "Install a Vulkan driver for your GPU, or Mesa's software one \
(lavapipe): on Debian/Ubuntu `apt-get install mesa-vulkan-drivers` (Debian 12: from \
bookworm-backports for Mesa 25, which is ~8x faster). On a machine with only OpenGL, try \
WGPU_BACKEND=gl. `remul info` lists what wgpu can see.";

/// How [`Engine::new`] chooses its adapter.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Backends to consider; `None` reads `WGPU_BACKEND` (e.g. `vulkan`, `gl`), else all.
    pub backends: Option<wgpu::Backends>,
    /// Keep only adapters whose name contains this (case-insensitive); `None` reads
    /// `REMUL_ADAPTER`.
    pub adapter_name: Option<String>,
    /// Let kernels with several tile shapes time them on first use and keep the fastest
    /// (matmul); off, they use their default shape. Results are identical either way.
    pub autotune: bool,
}

/// What `remul info` prints about one adapter.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterSummary {
    /// Adapter name, e.g. `llvmpipe (LLVM 19.1.7, 256 bits)`.
    pub name: String,
    /// Backend: Vulkan, Metal, Dx12, Gl.
    pub backend: String,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: String,
    /// Driver name.
    pub driver: String,
    /// Driver version or details.
    pub driver_info: String,
    /// Largest storage buffer binding in bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Storage buffers one shader stage may bind.
    pub max_storage_buffers_per_shader_stage: u32,
    /// Invocations one workgroup may have.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroup memory in bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
    /// Whether GPU timestamps can time passes (`remul bench` uses them).
    pub timestamp_query: bool,
    /// Whether subgroup operations are available.
    pub subgroups: bool,
    /// Whether remul's required limits (WebGPU defaults) are met.
    pub meets_default_limits: bool,
}

impl AdapterSummary {
    fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features();
        Self {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: info.driver,
            driver_info: info.driver_info,
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            timestamp_query: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            meets_default_limits: wgpu::Limits::default().check_limits(&limits),
        }
    }
}

/// Preference order when several adapters match: real GPUs before software ones.
fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Errors wgpu reported outside any error scope, waiting for the next check.
type ErrorSink = Arc<Mutex<Vec<String>>>;

/// The GPU context every kernel, layer and model runs on.
///
/// Cloning is cheap: clones share the device, queue, buffer pool, pipelines and counters.
#[derive(Debug, Clone)]
pub struct Engine {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    pool: BufferPool,
    counters: Arc<Counters>,
    uncaptured: ErrorSink,
    pipelines: Arc<Mutex<HashMap<(&'static str, &'static str), wgpu::ComputePipeline>>>,
    autotune: bool,
    tuned: Arc<Mutex<HashMap<&'static str, usize>>>,
}

impl Engine {
    /// Every adapter wgpu can see with the given options' backends, best first.
    pub fn adapters(options: &EngineOptions) -> Vec<AdapterSummary> {
        let (_, adapters) = Self::candidates(options);
        adapters.iter().map(AdapterSummary::of).collect()
    }

    fn candidates(options: &EngineOptions) -> (wgpu::Instance, Vec<wgpu::Adapter>) {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if let Some(backends) = options.backends {
            desc.backends = backends;
        }
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        let filter = options
            .adapter_name
            .clone()
            .or_else(|| std::env::var("REMUL_ADAPTER").ok())
            .map(|f| f.to_lowercase());
        if let Some(filter) = filter {
            adapters.retain(|a| a.get_info().name.to_lowercase().contains(&filter));
        }
        adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
        (instance, adapters)
    }

    /// Picks an adapter (discrete, then integrated, then software) and creates a device on it.
    pub fn new(options: EngineOptions) -> Result<Self> {
        let (_instance, adapters) = Self::candidates(&options);
        let Some(adapter) = adapters.into_iter().next() else {
            let mut filter = String::new();
            if let Ok(b) = std::env::var("WGPU_BACKEND") {
                filter += &format!(" for WGPU_BACKEND={b}");
            }
            if let Some(name) = options
                .adapter_name
                .or_else(|| std::env::var("REMUL_ADAPTER").ok())
            {
                filter += &format!(" with a name containing '{name}'");
            }
            return Err(Error::NoAdapter {
                filter,
                hint: NO_ADAPTER_HINT,
            });
        };
        let info = adapter.get_info();
        log::info!(
            "adapter: {} ({:?}, {:?}, driver {} {})",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info
        );
        if info.device_type == wgpu::DeviceType::Cpu {
            log::warn!(
                "'{}' is a software adapter: kernels run on the CPU, ~1000x slower than a GPU",
                info.name
            );
        }

        // Ask for WebGPU's default limits, which every kernel stays inside; an adapter that
        // cannot give them (some GL drivers) gets what it has, and kernels check as they go.
        let adapter_limits = adapter.limits();
        let required_limits = if wgpu::Limits::default().check_limits(&adapter_limits) {
            wgpu::Limits {
                max_buffer_size: adapter_limits.max_buffer_size,
                max_storage_buffer_binding_size: adapter_limits.max_storage_buffer_binding_size,
                ..wgpu::Limits::default()
            }
        } else {
            log::warn!(
                "'{}' is below WebGPU's default limits; using its own",
                info.name
            );
            adapter_limits
        };
        let required_features = adapter.features() & wgpu::Features::TIMESTAMP_QUERY;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("remul"),
            required_features,
            required_limits,
            ..Default::default()
        }))
        .map_err(|source| Error::RequestDevice {
            adapter: info.name.clone(),
            source,
        })?;

        let mut engine = Self::wrap(device, queue);
        engine.autotune = options.autotune;
        let sink = engine.uncaptured.clone();
        engine
            .device
            .on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                log::error!("wgpu: {e}");
                sink.lock()
                    .expect("error sink poisoned")
                    .push(e.to_string());
            }));
        let sink = engine.uncaptured.clone();
        engine
            .device
            .set_device_lost_callback(move |reason, message| {
                if reason != wgpu::DeviceLostReason::Destroyed {
                    log::error!("device lost ({reason:?}): {message}");
                    sink.lock()
                        .expect("error sink poisoned")
                        .push(format!("device lost ({reason:?}): {message}"));
                }
            });
        Ok(engine)
    }

    /// Uses a device and queue that an application already owns; creates no device of its own.
    ///
    /// remul leaves the application's uncaptured-error handler alone and instead wraps its own
    /// work in error scopes, so its errors still come back as [`Error`]s.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let engine = Self::wrap(device, queue);
        log::info!("embedded on the application's device: {}", engine.info.name);
        engine
    }

    fn wrap(device: wgpu::Device, queue: wgpu::Queue) -> Self {
        let counters = Arc::new(Counters::default());
        Self {
            info: device.adapter_info(),
            pool: BufferPool::new(device.clone(), counters.clone()),
            device,
            queue,
            counters,
            uncaptured: Arc::default(),
            pipelines: Arc::default(),
            autotune: false,
            tuned: Arc::default(),
        }
    }

    /// Whether kernels may autotune their tile shapes on this engine.
    pub fn autotune(&self) -> bool {
        self.autotune
    }

    /// The choice an autotuner recorded under `key` (e.g. a variant index), if any.
    pub fn tuned(&self, key: &'static str) -> Option<usize> {
        self.tuned
            .lock()
            .expect("tuning cache poisoned")
            .get(key)
            .copied()
    }

    /// Records an autotuner's choice for the rest of this engine's life.
    pub fn set_tuned(&self, key: &'static str, choice: usize) {
        self.tuned
            .lock()
            .expect("tuning cache poisoned")
            .insert(key, choice);
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// The adapter the device lives on.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Submits, dispatches, uploads, readbacks and allocations so far.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The storage-buffer pool tensors come from.
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// A tensor of `shape` with undefined contents.
    pub fn empty(&self, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        Tensor::new(self.pool.take(len as u64 * 4), shape, DType::F32)
    }

    /// A u32 index tensor of `shape` with undefined contents.
    pub fn empty_u32(&self, shape: &[usize]) -> Tensor {
        let len: usize = shape.iter().product();
        Tensor::new(self.pool.take(len as u64 * 4), shape, DType::U32)
    }

    /// A u32 index tensor of `shape` holding `data`; errors if the lengths differ.
    pub fn tensor_u32(&self, data: &[u32], shape: &[usize]) -> Result<Tensor> {
        let t = self.empty_u32(shape);
        self.write_u32(&t, data)?;
        Ok(t)
    }

    /// Copies indices into a u32 tensor before the next submit.
    pub fn write_u32(&self, tensor: &Tensor, data: &[u32]) -> Result<()> {
        self.write_bytes(tensor, DType::U32, data.len(), bytemuck::cast_slice(data))
    }

    fn write_bytes(&self, tensor: &Tensor, dtype: DType, len: usize, bytes: &[u8]) -> Result<()> {
        if len != tensor.len() || dtype != tensor.dtype() {
            return Err(Error::Shape {
                op: "Engine::write",
                expected: format!(
                    "{} {:?} elements for {:?}",
                    tensor.len(),
                    tensor.dtype(),
                    tensor.shape()
                ),
                got: format!("{len} {dtype:?} elements"),
            });
        }
        if !bytes.is_empty() {
            self.queue
                .write_buffer(tensor.buffer(), tensor.offset(), bytes);
            self.counters.upload();
        }
        Ok(())
    }

    /// A tensor of `shape` filled with zeros.
    pub fn zeros(&self, shape: &[usize]) -> Tensor {
        let t = self.empty(shape);
        let mut enc = self.encoder("zeros");
        enc.clear_buffer(t.buffer(), t.offset(), Some(t.byte_len().max(4)));
        self.queue.submit([enc.finish()]);
        self.counters.submit();
        t
    }

    /// A tensor of `shape` holding `data`; errors if the lengths differ.
    pub fn tensor(&self, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        let t = self.empty(shape);
        self.write(&t, data)?;
        Ok(t)
    }

    /// Copies `data` into `tensor` before the next submit.
    pub fn write(&self, tensor: &Tensor, data: &[f32]) -> Result<()> {
        self.write_bytes(tensor, DType::F32, data.len(), bytemuck::cast_slice(data))
    }

    /// A uniform buffer holding `value`, for kernel parameters fixed at plan time.
    pub fn uniform<T: Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.counters.buffer_allocation();
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: std::mem::size_of::<T>().max(16) as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.queue
            .write_buffer(&buffer, 0, bytemuck::bytes_of(value));
        buffer
    }

    /// Rewrites a uniform made by [`Engine::uniform`] before the next submit.
    pub fn update_uniform<T: Pod>(&self, buffer: &wgpu::Buffer, value: &T) {
        self.queue
            .write_buffer(buffer, 0, bytemuck::bytes_of(value));
        self.counters.upload();
    }

    /// A fresh command encoder.
    pub fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Submits one command buffer and reports any error wgpu raised while it was recorded.
    pub fn submit(&self, encoder: wgpu::CommandEncoder) -> Result<wgpu::SubmissionIndex> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let index = self.queue.submit([encoder.finish()]);
        self.counters.submit();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu {
                context: "submit".into(),
                message: e.to_string(),
            });
        }
        self.check("submit")?;
        Ok(index)
    }

    /// Turns any error wgpu reported outside an error scope into an [`Error`].
    pub fn check(&self, context: &str) -> Result<()> {
        let mut errors = self.uncaptured.lock().expect("error sink poisoned");
        if errors.is_empty() {
            return Ok(());
        }
        let message = errors.join("\n");
        errors.clear();
        if message.starts_with("device lost") {
            return Err(Error::DeviceLost(message));
        }
        Err(Error::Gpu {
            context: context.into(),
            message,
        })
    }

    /// Blocks until the GPU has finished all submitted work.
    pub fn wait(&self) -> Result<()> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu {
                context: "waiting for the GPU".into(),
                message: e.to_string(),
            })?;
        self.check("wait")
    }

    /// Copies a u32 tensor back to the host, waiting for the GPU.
    pub fn read_u32(&self, tensor: &Tensor) -> Result<Vec<u32>> {
        Ok(self
            .read_raw(tensor)?
            .into_iter()
            .map(f32::to_bits)
            .collect())
    }

    /// Copies a tensor back to the host, waiting for the GPU (counted as a blocking readback).
    pub fn read(&self, tensor: &Tensor) -> Result<Vec<f32>> {
        if tensor.dtype() != DType::F32 {
            return Err(Error::Shape {
                op: "Engine::read",
                expected: "an F32 tensor (use read_u32 for indices)".into(),
                got: format!("{:?}", tensor.dtype()),
            });
        }
        self.read_raw(tensor)
    }

    fn read_raw(&self, tensor: &Tensor) -> Result<Vec<f32>> {
        if tensor.is_empty() {
            return Ok(Vec::new());
        }
        let bytes = tensor.byte_len();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("remul readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut enc = self.encoder("readback");
        enc.copy_buffer_to_buffer(tensor.buffer(), tensor.offset(), &staging, 0, bytes);
        self.submit(enc)?;
        self.counters.blocking_readback();
        self.map_and_read(&staging, bytes)
    }

    /// Maps `staging` (already copied into), waits for the mapping, and returns its floats.
    pub(crate) fn map_and_read(&self, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<f32>> {
        let (tx, rx) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, 0..bytes, move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|_| Error::Readback("the map callback never ran".into()))?
            .map_err(|e| Error::Readback(e.to_string()))?;
        let data = {
            let view = staging
                .get_mapped_range(0..bytes)
                .map_err(|e| Error::Readback(e.to_string()))?;
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        staging.unmap();
        Ok(data)
    }

    /// The compute pipeline for `entry` in shader `file`, compiled once and cached.
    ///
    /// Compilation runs inside an error scope: a bad shader comes back as [`Error::Shader`]
    /// naming the file, with naga's message, and its source is logged at `error!`.
    pub fn pipeline(
        &self,
        file: &'static str,
        source: &'static str,
        entry: &'static str,
    ) -> Result<wgpu::ComputePipeline> {
        if let Some(p) = self
            .pipelines
            .lock()
            .expect("pipeline cache poisoned")
            .get(&(file, entry))
        {
            return Ok(p.clone());
        }

        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(file),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            log::error!("{file} failed to compile; its source:\n{source}");
            return Err(Error::Shader {
                file,
                message: e.to_string(),
            });
        }

        self.pipelines
            .lock()
            .expect("pipeline cache poisoned")
            .insert((file, entry), pipeline.clone());
        Ok(pipeline)
    }
}
