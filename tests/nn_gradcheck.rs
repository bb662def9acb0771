//! Finite-difference gradient checks of the layers: the GPU backward against central
//! differences of an f64 CPU objective `L = sum(c * f(x))` with fixed random weights `c`.
//!
//! Tolerance: the GPU computes in f32 (relative error ~1e-6 per operation over a few dozen
//! operations), the differences in f64 with h = 1e-6 (truncation ~h^2, rounding ~1e-10), so
//! `2e-4 + 1e-3 * |g|` separates a correct gradient from a wrong one by orders of magnitude.

mod common;

use common::{assert_close, engine, f32s, host_params, param_differences, random};
use remul::kernels::bias_act::Activation;
use remul::nn::{Init, Linear, Mlp, ParamBuilder, ParamId, ParamStore};
use remul::rng::Rng;
use remul::Engine;

const H: f64 = 1e-6;

/// `L(parameters by index, input)` in f64.
type Objective<'a> = dyn Fn(&[Vec<f64>], &[f64]) -> f64 + 'a;

fn param_index(store: &ParamStore, id: ParamId) -> usize {
    store.ids().position(|i| i == id).unwrap()
}

/// Checks every parameter's gradient and the input's against finite differences of
/// `objective(params, x)`.
fn check(e: &Engine, store: &ParamStore, x: &[f64], gpu_dx: &[f32], objective: &Objective) {
    let theta = host_params(e, store);
    let grads = store.read_grads(e).unwrap();
    for (p, grad) in grads.iter().enumerate() {
        let (name, g) = (&grad.name, &grad.data);
        let want = param_differences(&theta, p, H, |t| objective(t, x));
        assert_close(&format!("gradient of {name}"), g, &want, 2e-4, 1e-3);
    }
    let want: Vec<f64> = (0..x.len())
        .map(|i| {
            let mut plus = x.to_vec();
            plus[i] += H;
            let mut minus = x.to_vec();
            minus[i] -= H;
            (objective(&theta, &plus) - objective(&theta, &minus)) / (2.0 * H)
        })
        .collect();
    assert_close("gradient of the input", gpu_dx, &want, 2e-4, 1e-3);
}

#[test]
fn linear_gradients_match_finite_differences() {
    let e = engine();
    let rows = 7;
    for act in [Activation::Identity, Activation::Relu, Activation::Silu] {
        for bias in [true, false] {
            let mut rng = Rng::new(1);
            let mut b = ParamBuilder::default();
            let layer = Linear::new(&mut b, "l", (3, 5), act, bias, Init::Default, &mut rng);
            let store = b.build(e).unwrap();
            let x: Vec<f64> = random(2, rows * 3)
                .iter()
                .map(|&v| v as f32 as f64)
                .collect();
            let c = random(3, rows * 5);
            let tx = e.tensor(&f32s(&x), &[rows, 3]).unwrap();
            let dx = e.zeros(&[rows, 3]);
            let plan = layer.plan(e, &store, &tx, Some((&dx, false))).unwrap();
            e.write(&plan.dy, &f32s(&c)).unwrap();
            let dispatches: Vec<_> = plan.forward().chain(plan.backward()).collect();
            e.run(&dispatches).unwrap();

            let wi = param_index(&store, layer.weight);
            let bi = layer.bias.map(|id| param_index(&store, id));
            let objective = |theta: &[Vec<f64>], x: &[f64]| -> f64 {
                let y = layer.cpu_forward(&theta[wi], bi.map(|i| theta[i].as_slice()), x);
                y.iter().zip(&c).map(|(y, c)| y * c).sum()
            };
            check(e, &store, &x, &e.read(&dx).unwrap(), &objective);
        }
    }
}

#[test]
fn mlp_gradients_match_finite_differences() {
    let e = engine();
    let rows = 9;
    for (act, final_act) in [
        (Activation::Silu, Activation::Identity),
        (Activation::Relu, Activation::Silu),
    ] {
        let mut rng = Rng::new(7);
        let mut b = ParamBuilder::default();
        let mlp = Mlp::new(&mut b, "mlp", &[3, 6, 5, 2], act, final_act, &mut rng);
        let store = b.build(e).unwrap();
        let x: Vec<f64> = random(8, rows * 3)
            .iter()
            .map(|&v| v as f32 as f64)
            .collect();
        let c = random(9, rows * 2);
        let tx = e.tensor(&f32s(&x), &[rows, 3]).unwrap();
        let dx = e.zeros(&[rows, 3]);
        let plan = mlp.plan(e, &store, &tx, Some((&dx, false))).unwrap();
        e.write(plan.dy(), &f32s(&c)).unwrap();
        let mut dispatches = plan.forward();
        dispatches.extend(plan.backward());
        e.run(&dispatches).unwrap();

        let ids: Vec<ParamId> = store.ids().collect();
        let objective = |theta: &[Vec<f64>], x: &[f64]| -> f64 {
            let host = |id: ParamId| theta[ids.iter().position(|&i| i == id).unwrap()].clone();
            let y = mlp.cpu_forward(&host, x);
            y.iter().zip(&c).map(|(y, c)| y * c).sum()
        };
        check(e, &store, &x, &e.read(&dx).unwrap(), &objective);
    }
}

#[test]
fn mlp_forward_matches_its_cpu_twin() {
    let e = engine();
    let rows = 65;
    let mut rng = Rng::new(11);
    let mut b = ParamBuilder::default();
    let mlp = Mlp::new(
        &mut b,
        "mlp",
        &[3, 64, 64, 3],
        Activation::Silu,
        Activation::Identity,
        &mut rng,
    );
    let store = b.build(e).unwrap();
    let x: Vec<f64> = random(12, rows * 3)
        .iter()
        .map(|&v| v as f32 as f64)
        .collect();
    let tx = e.tensor(&f32s(&x), &[rows, 3]).unwrap();
    let plan = mlp.plan(e, &store, &tx, None).unwrap();
    e.run(&plan.forward()).unwrap();
    let theta = host_params(e, &store);
    let ids: Vec<ParamId> = store.ids().collect();
    let host = |id: ParamId| theta[ids.iter().position(|&i| i == id).unwrap()].clone();
    let want = mlp.cpu_forward(&host, &x);
    assert_close("mlp forward", &e.read(plan.y()).unwrap(), &want, 1e-5, 1e-4);
}
