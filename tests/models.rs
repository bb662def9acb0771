//! GNN and EGNN on the GPU: forward against the f64 CPU twin, every parameter's gradient
//! against finite differences, EGNN's equivariance and the GNN's lack of it.
//!
//! Batches mix graphs of 1 (isolated node), 3 (a chain, one node receives nothing) and 5
//! nodes (fully connected) so that the CSR paths with empty segments are exercised.

mod common;

use common::{assert_close, engine, f32s, host_params, param_differences, random};
use remul::data::{GraphBatch, GraphSet, GraphView};
use remul::kernels::bias_act::Activation;
use remul::models::{self, GraphDims, GraphInputs, Model, ModelConfig, ModelKind};
use remul::Engine;

const H: f64 = 1e-6;

/// Graphs of 1, 3 and 5 nodes with positions, velocities, `|v|` and `q_i q_j`.
fn batch(seed: u64) -> GraphBatch {
    batch_of(seed, &[1, 3, 5])
}

/// Graphs of the given sizes; size 3 is a chain, every other size fully connected.
fn batch_of(seed: u64, sizes: &[usize]) -> GraphBatch {
    let mut set = GraphSet::new(1, 1);
    for (g, &n) in sizes.iter().enumerate() {
        let x = random(seed + 10 * g as u64, 3 * n);
        let v: Vec<f64> = random(seed + 10 * g as u64 + 1, 3 * n)
            .iter()
            .map(|a| 0.5 * a)
            .collect();
        let speed: Vec<f64> = v
            .chunks(3)
            .map(|c| c.iter().map(|a| a * a).sum::<f64>().sqrt())
            .collect();
        let q: Vec<f64> = random(seed + 10 * g as u64 + 2, n)
            .iter()
            .map(|a| if *a < 0.0 { -1.0 } else { 1.0 })
            .collect();
        let (mut src, mut dst, mut qq) = (Vec::new(), Vec::new(), Vec::new());
        if n == 3 {
            for (s, d) in [(0u32, 1u32), (1, 2)] {
                src.push(s);
                dst.push(d);
                qq.push(q[s as usize] * q[d as usize]);
            }
        } else {
            for d in 0..n as u32 {
                for s in 0..n as u32 {
                    if s != d {
                        src.push(s);
                        dst.push(d);
                        qq.push(q[s as usize] * q[d as usize]);
                    }
                }
            }
        }
        let y = random(seed + 10 * g as u64 + 3, 3 * n);
        set.push(&GraphView {
            positions: &x,
            velocities: &v,
            node_scalars: &speed,
            targets: &y,
            src: &src,
            dst: &dst,
            edge_scalars: &qq,
        })
        .unwrap();
    }
    let mut b = GraphBatch::default();
    b.clear(1, 1);
    for i in 0..set.len() {
        b.push(i, &set.get(i).unwrap()).unwrap();
    }
    b
}

fn config(kind: ModelKind, hidden: usize, layers: usize) -> ModelConfig {
    ModelConfig {
        kind,
        hidden,
        layers,
        activation: Activation::Silu,
    }
}

/// The GPU forward (and, with `d_output`, the backward) on `batch`; returns the output.
fn run(e: &Engine, model: &dyn Model, batch: &GraphBatch, d_output: Option<&[f64]>) -> Vec<f32> {
    let inputs = GraphInputs::new(e, batch, 1).unwrap();
    let plan = model.plan(e, &inputs).unwrap();
    let mut dispatches: Vec<_> = plan.forward.iter().collect();
    if let Some(d) = d_output {
        e.write(&plan.d_output, &f32s(d)).unwrap();
        dispatches.extend(&plan.backward);
    }
    e.run(&dispatches).unwrap();
    e.read(&plan.output).unwrap()
}

/// Makes EGNN's coordinate weights large enough that the position path carries gradient
/// (their initial gain of 0.001 would hide an error in it).
fn wake_phi_x(e: &Engine, model: &dyn Model) {
    let params = model.params();
    for id in params.ids().collect::<Vec<_>>() {
        if params.name(id).contains("phi_x.1") {
            let n = params.value(id).len();
            let w: Vec<f32> = random(99 + id.index() as u64, n)
                .iter()
                .map(|&a| a as f32)
                .collect();
            params.write(e, id, &w).unwrap();
        }
    }
}

fn build(e: &Engine, kind: ModelKind, hidden: usize, layers: usize) -> Box<dyn Model> {
    let dims = GraphDims {
        node_scalars: 1,
        edge_scalars: 1,
        fixed_size: None,
    };
    let m = models::build(e, &config(kind, hidden, layers), dims, 3).unwrap();
    if kind == ModelKind::Egnn {
        wake_phi_x(e, m.as_ref());
    }
    m
}

#[test]
fn gnn_and_egnn_forward_match_their_cpu_twins() {
    let e = engine();
    let b = batch(1);
    for kind in [ModelKind::Gnn, ModelKind::Egnn] {
        let model = build(e, kind, 16, 3);
        let got = run(e, model.as_ref(), &b, None);
        let want = model.cpu_forward(&host_params(e, model.params()), &b);
        assert_close(&format!("{kind:?} forward"), &got, &want, 1e-4, 1e-4);
    }
}

#[test]
fn gnn_and_egnn_gradients_match_finite_differences() {
    // L = sum(c * f(batch)); every parameter entry of a small model, central differences in
    // f64 around the CPU twin. The GPU runs in f32 through ~20 operations a path, so
    // 2e-4 + 2e-3 |g| separates right from wrong gradients by orders of magnitude.
    let e = engine();
    let b = batch(2);
    let c = random(5, b.num_nodes() * 3);
    for kind in [ModelKind::Gnn, ModelKind::Egnn] {
        let model = build(e, kind, 5, 2);
        run(e, model.as_ref(), &b, Some(&c));
        let theta = host_params(e, model.params());
        let objective = |theta: &[Vec<f64>]| -> f64 {
            let y = model.cpu_forward(theta, &b);
            y.iter().zip(&c).map(|(y, c)| y * c).sum()
        };
        let grads = model.params().read_grads(e).unwrap();
        let mut nonzero = 0;
        for (p, grad) in grads.iter().enumerate() {
            let want = param_differences(&theta, p, H, objective);
            nonzero += want.iter().filter(|w| w.abs() > 1e-6).count();
            let what = format!("{kind:?} gradient of {}", grad.name);
            assert_close(&what, &grad.data, &want, 2e-4, 2e-3);
        }
        assert!(
            nonzero > 100,
            "{kind:?}: only {nonzero} gradient entries are non-zero"
        );
    }
}

/// A rotation (times -1 for a reflection) from a seed: the Q of a QR of a random matrix.
fn orthogonal(seed: u64, reflect: bool) -> [[f64; 3]; 3] {
    let a = random(seed, 9);
    // Gram-Schmidt on the columns of a, kept as rows of `cols`.
    let mut cols: Vec<[f64; 3]> = Vec::new();
    for c in 0..3 {
        let mut v = [a[c], a[3 + c], a[6 + c]];
        for u in &cols {
            let d: f64 = (0..3).map(|r| v[r] * u[r]).sum();
            (0..3).for_each(|r| v[r] -= d * u[r]);
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        cols.push(v.map(|x| x / n));
    }
    let q: [[f64; 3]; 3] = std::array::from_fn(|r| std::array::from_fn(|c| cols[c][r]));
    let det = q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1])
        - q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0])
        + q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
    let sign = if (det < 0.0) != reflect { -1.0 } else { 1.0 };
    q.map(|row| row.map(|x| sign * x))
}

fn transform(v: &[f32], r: &[[f64; 3]; 3], t: [f64; 3]) -> Vec<f32> {
    v.chunks(3)
        .flat_map(|p| {
            (0..3).map(move |i| {
                let rp: f64 = (0..3).map(|j| r[i][j] * f64::from(p[j])).sum();
                (rp + t[i]) as f32
            })
        })
        .collect()
}

/// Mean over nodes of |f(R x + t, R v) - (R f(x, v) + t)|, and the mean |f(x, v)|.
fn equivariance_error(
    e: &Engine,
    model: &dyn Model,
    b: &GraphBatch,
    seed: u64,
    reflect: bool,
) -> (f64, f64) {
    let r = orthogonal(seed, reflect);
    let t = [1.5, -2.0, 0.5];
    let mut moved = b.clone();
    moved.positions = transform(&b.positions, &r, t);
    moved.velocities = transform(&b.velocities, &r, [0.0; 3]);
    let out = run(e, model, b, None);
    let out_moved = run(e, model, &moved, None);
    let want = transform(&out, &r, t);
    let dist = |a: &[f32], b: &[f32]| -> f64 {
        a.chunks(3)
            .zip(b.chunks(3))
            .map(|(p, q)| {
                (0..3)
                    .map(|i| f64::from(p[i] - q[i]).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .sum::<f64>()
            / (a.len() / 3) as f64
    };
    let scale = dist(&out, &vec![0.0; out.len()]);
    (dist(&out_moved, &want), scale)
}

#[test]
fn egnn_output_rotates_with_input() {
    // f32 arithmetic on outputs of size ~1-3 leaves errors of ~1e-6 per node; 1e-4 is far
    // below any real equivariance error (the GNN's is ~1).
    let e = engine();
    let model = build(e, ModelKind::Egnn, 16, 4);
    let b = batch(3);
    for (seed, reflect) in [(20, false), (21, false), (22, true), (23, true)] {
        let (err, scale) = equivariance_error(e, model.as_ref(), &b, seed, reflect);
        assert!(scale > 0.1, "outputs of size {scale} test nothing");
        assert!(
            err < 1e-4,
            "EGNN equivariance error {err} (reflection {reflect})"
        );
    }
}

#[test]
fn gnn_is_far_from_equivariant_before_training() {
    let e = engine();
    let model = build(e, ModelKind::Gnn, 16, 4);
    let b = batch(4);
    let (err, scale) = equivariance_error(e, model.as_ref(), &b, 30, false);
    assert!(
        err > 0.1,
        "an untrained GNN should not be equivariant: error {err}, output size {scale}"
    );
}

#[test]
fn models_reject_inputs_of_the_wrong_width() {
    let e = engine();
    let mut b = batch(5);
    b.node_scalar_dim = 0;
    b.node_scalars.clear();
    let model = build(e, ModelKind::Egnn, 4, 1);
    let inputs = GraphInputs::new(e, &b, 1).unwrap();
    let err = model.plan(e, &inputs).unwrap_err();
    assert!(err.to_string().contains("node scalars"), "{err}");
}

fn mlp_dims(nodes: usize) -> GraphDims {
    GraphDims {
        node_scalars: 1,
        edge_scalars: 1,
        fixed_size: Some((nodes, nodes * (nodes - 1))),
    }
}

#[test]
fn graph_mlp_forward_and_gradients_match_its_cpu_twin() {
    let e = engine();
    let b = batch_of(6, &[4, 4, 4]);
    let model = models::build(e, &config(ModelKind::Mlp, 6, 2), mlp_dims(4), 8).unwrap();
    let got = run(e, model.as_ref(), &b, None);
    let theta = host_params(e, model.params());
    let want = model.cpu_forward(&theta, &b);
    assert_close("mlp forward", &got, &want, 1e-5, 1e-4);

    let c = random(9, b.num_nodes() * 3);
    run(e, model.as_ref(), &b, Some(&c));
    let grads = model.params().read_grads(e).unwrap();
    for (p, grad) in grads.iter().enumerate() {
        let want = param_differences(&theta, p, H, |t| {
            let y = model.cpu_forward(t, &b);
            y.iter().zip(&c).map(|(y, c)| y * c).sum()
        });
        assert_close(
            &format!("mlp gradient of {}", grad.name),
            &grad.data,
            &want,
            2e-4,
            1e-3,
        );
    }
}

#[test]
fn graph_mlp_refuses_graphs_of_another_size() {
    let e = engine();
    let model = models::build(e, &config(ModelKind::Mlp, 6, 1), mlp_dims(4), 8).unwrap();
    let inputs = GraphInputs::new(e, &batch_of(1, &[5, 5]), 1).unwrap();
    let err = model.plan(e, &inputs).unwrap_err().to_string();
    assert!(err.contains("4 nodes and 12 edges"), "{err}");
    let mut varying = mlp_dims(4);
    varying.fixed_size = None;
    let err = models::build(e, &config(ModelKind::Mlp, 6, 1), varying, 8)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("same node and edge counts"),
        "{err}"
    );
}
