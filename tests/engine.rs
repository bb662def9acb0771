//! The GPU context: embedding in an application's device, the buffer pool, typed errors.

mod common;

use common::{assert_close, engine, f32s, random};
use remul::kernels::matmul::{self, Layout};
use remul::{Engine, EngineOptions, Error};

#[test]
fn engine_runs_kernels_on_a_device_the_application_owns() {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        force_fallback_adapter: false,
        ..Default::default()
    }))
    .expect("an adapter (see README.md, 'Running without a GPU')");
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default())).unwrap();

    let e = Engine::from_device(device.clone(), queue.clone());
    let a = random(1, 6);
    let b = random(2, 6);
    let ta = e.tensor(&f32s(&a), &[2, 3]).unwrap();
    let tb = e.tensor(&f32s(&b), &[3, 2]).unwrap();
    let tc = e.empty(&[2, 2]);
    let d = matmul::plan(&e, &ta, &tb, &tc, Layout::NN, false).unwrap();

    // Record into the application's own encoder and submit on its own queue.
    let mut enc = device.create_command_encoder(&Default::default());
    e.record(&mut enc, &[&d]);
    queue.submit([enc.finish()]);

    let want = matmul::cpu(
        &a.iter().map(|&v| v as f32 as f64).collect::<Vec<_>>(),
        [2, 3],
        &b.iter().map(|&v| v as f32 as f64).collect::<Vec<_>>(),
        [3, 2],
        Layout::NN,
    );
    assert_close("embedded matmul", &e.read(&tc).unwrap(), &want, 1e-5, 1e-5);
    assert_eq!(e.adapter_info().name, adapter.get_info().name);
}

#[test]
fn pool_reuses_a_dropped_buffer_of_the_same_size_class() {
    let e = engine();
    drop(e.empty(&[1000]));
    let before = e.counters().snapshot();
    let t = e.empty(&[900]); // 3600 bytes: the same 4096-byte class as 4000 bytes
    let after = e.counters().snapshot();
    assert_eq!((after - before).buffer_allocations, 0);
    assert_eq!(t.len(), 900);
}

#[test]
fn pool_keeps_buffers_bound_by_a_live_dispatch() {
    let e = engine();
    let a = e.zeros(&[3, 3]);
    let b = e.zeros(&[3, 3]);
    let c = e.empty(&[3, 3]);
    let c_buffer = c.buffer().clone();
    let d = matmul::plan(e, &a, &b, &c, Layout::NN, false).unwrap();
    drop(c);
    let other = e.empty(&[3, 3]);
    assert!(
        *other.buffer() != c_buffer,
        "a bound buffer was handed out again"
    );
    drop(d);
}

#[test]
fn a_broken_shader_names_its_file_and_the_compiler_message() {
    let e = engine();
    let err = e
        .pipeline(
            "broken.wgsl",
            "@compute @workgroup_size(1) fn main() { let x = ; }",
            "main",
        )
        .unwrap_err();
    match &err {
        Error::Shader { file, message } => {
            assert_eq!(*file, "broken.wgsl");
            assert!(!message.is_empty());
        }
        other => panic!("expected a shader error, got {other:?}"),
    }
    assert!(err.to_string().contains("broken.wgsl"), "{err}");
}

#[test]
fn writing_the_wrong_number_of_elements_is_a_shape_error() {
    let e = engine();
    let t = e.empty(&[2, 3]);
    let err = e.write(&t, &[1.0; 5]).unwrap_err();
    assert!(err.to_string().contains("expected 6 F32 elements"), "{err}");
}

#[test]
fn asking_for_a_missing_adapter_says_how_to_install_one() {
    let err = Engine::new(EngineOptions {
        adapter_name: Some("no adapter is called this".into()),
        ..Default::default()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("no adapter is called this"), "{msg}");
    assert!(msg.contains("mesa-vulkan-drivers"), "{msg}");
}
