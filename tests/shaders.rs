//! Every WGSL file parses and validates with naga, is known to the kernel table, and stays
//! inside WebGPU's default limits (so it runs on every adapter and in browsers).

use remul::kernels::SHADERS;

/// WebGPU's `maxComputeInvocationsPerWorkgroup`.
const MAX_INVOCATIONS: u32 = 256;
/// WebGPU's `maxComputeWorkgroupStorageSize`, bytes.
const MAX_WORKGROUP_BYTES: u32 = 16 * 1024;
/// WebGPU's `maxStorageBuffersPerShaderStage`.
const MAX_STORAGE_BUFFERS: usize = 8;

fn validate(file: &str, source: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{file} does not parse:\n{}", e.emit_to_string(source)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{file} does not validate:\n{}", e.emit_to_string(source)));
    (module, info)
}

#[test]
fn every_shader_validates_with_naga() {
    for (file, source) in SHADERS {
        validate(file, source);
    }
}

#[test]
fn every_shader_file_is_in_the_kernel_table() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".wgsl") {
            assert!(
                SHADERS.iter().any(|(f, _)| *f == name),
                "shaders/{name} has no entry in remul::kernels::SHADERS"
            );
        }
    }
}

#[test]
fn every_shader_stays_inside_webgpu_default_limits() {
    for (file, source) in SHADERS {
        let (module, _) = validate(file, source);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();

        let mut workgroup_bytes = 0;
        let mut storage_buffers = 0;
        for (_, var) in module.global_variables.iter() {
            match var.space {
                naga::AddressSpace::WorkGroup => workgroup_bytes += layouter[var.ty].size,
                naga::AddressSpace::Storage { .. } => storage_buffers += 1,
                _ => {}
            }
        }
        assert!(
            workgroup_bytes <= MAX_WORKGROUP_BYTES,
            "{file}: {workgroup_bytes} bytes of workgroup memory"
        );
        assert!(
            storage_buffers <= MAX_STORAGE_BUFFERS,
            "{file}: {storage_buffers} storage buffers"
        );
        for ep in &module.entry_points {
            let n: u32 = ep.workgroup_size.iter().product();
            assert!(n <= MAX_INVOCATIONS, "{file}::{}: {n} invocations", ep.name);
        }
    }
}

#[test]
fn no_shader_uses_float_atomics() {
    for (file, source) in SHADERS {
        assert!(
            !source.contains("atomic<f32>"),
            "{file} uses float atomics, which DX12 and WebGPU lack"
        );
    }
}
