//! Every WGSL kernel against its f64 CPU twin, over several shapes including odd ones.
//!
//! Tolerances: inputs are in [-1, 1], so a sum of k products has magnitude <= k and f32
//! rounding error of about k * 6e-8 per element; `1e-5 * k` absolute covers that with room.

mod common;

use common::{assert_close, engine, f32s, random, rounded};
use remul::kernels::adam::{self, Adam, AdamConfig};
use remul::kernels::bias_act::{self, Activation};
use remul::kernels::matmul::{self, Layout};
use remul::kernels::{mse, reduce};

/// Shapes (m, n, k) mixing 1, odd sizes, tile multiples and tile overhangs.
const MATMUL_SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 7, 3),
    (7, 1, 65),
    (7, 7, 7),
    (65, 3, 17),
    (64, 64, 64),
    (257, 65, 9),
    (33, 257, 1),
];

#[test]
fn matmul_matches_cpu_in_every_layout() {
    let e = engine();
    for &(m, n, k) in MATMUL_SHAPES {
        for layout in [Layout::NN, Layout::TN, Layout::NT] {
            let a_shape = if layout == Layout::TN { [k, m] } else { [m, k] };
            let b_shape = if layout == Layout::NT { [n, k] } else { [k, n] };
            let a = rounded(&random(1, m * k));
            let b = rounded(&random(2, k * n));
            let ta = e.tensor(&f32s(&a), &a_shape).unwrap();
            let tb = e.tensor(&f32s(&b), &b_shape).unwrap();
            let tc = e.empty(&[m, n]);
            let d = matmul::plan(e, &ta, &tb, &tc, layout, false).unwrap();
            e.run(&[&d]).unwrap();
            let want = matmul::cpu(&a, a_shape, &b, b_shape, layout);
            let what = format!("matmul {layout:?} m={m} n={n} k={k}");
            assert_close(&what, &e.read(&tc).unwrap(), &want, 1e-5 * k as f64, 1e-5);
        }
    }
}

#[test]
fn matmul_accumulates_into_its_output() {
    let e = engine();
    let (m, n, k) = (7, 65, 3);
    let a = rounded(&random(3, m * k));
    let b = rounded(&random(4, k * n));
    let c0 = rounded(&random(5, m * n));
    let ta = e.tensor(&f32s(&a), &[m, k]).unwrap();
    let tb = e.tensor(&f32s(&b), &[k, n]).unwrap();
    let tc = e.tensor(&f32s(&c0), &[m, n]).unwrap();
    let d = matmul::plan(e, &ta, &tb, &tc, Layout::NN, true).unwrap();
    e.run(&[&d]).unwrap();
    let prod = matmul::cpu(&a, [m, k], &b, [k, n], Layout::NN);
    let want: Vec<f64> = prod.iter().zip(&c0).map(|(p, c)| p + c).collect();
    assert_close(
        "matmul accumulate",
        &e.read(&tc).unwrap(),
        &want,
        1e-5,
        1e-5,
    );
}

#[test]
fn matmul_rejects_disagreeing_inner_dimensions() {
    let e = engine();
    let a = e.empty(&[4, 3]);
    let b = e.empty(&[5, 2]);
    let c = e.empty(&[4, 2]);
    let err = matmul::plan(e, &a, &b, &c, Layout::NN, false).unwrap_err();
    assert!(err.to_string().contains("inner dimensions"), "{err}");
}

const ROWS_COLS: &[(usize, usize)] = &[(1, 1), (1, 7), (7, 1), (65, 3), (257, 17), (33, 65)];

#[test]
fn bias_act_forward_matches_cpu() {
    let e = engine();
    for &(rows, cols) in ROWS_COLS {
        for act in [Activation::Identity, Activation::Relu, Activation::Silu] {
            let x = rounded(&random(10, rows * cols));
            let b = rounded(&random(11, cols));
            let tx = e.tensor(&f32s(&x), &[rows, cols]).unwrap();
            let tb = e.tensor(&f32s(&b), &[cols]).unwrap();
            let ty = e.empty(&[rows, cols]);
            let d = bias_act::plan_forward(e, &tx, &tb, Some(&ty), act).unwrap();
            e.run(&[&d]).unwrap();
            let (z, y) = bias_act::cpu_forward(&x, &b, act);
            let what = format!("bias_act {act:?} {rows}x{cols}");
            assert_close(&format!("{what} z"), &e.read(&tx).unwrap(), &z, 1e-6, 1e-6);
            assert_close(&format!("{what} y"), &e.read(&ty).unwrap(), &y, 1e-6, 1e-5);
        }
    }
}

#[test]
fn add_bias_in_place_matches_cpu() {
    let e = engine();
    let (rows, cols) = (65, 7);
    let x = rounded(&random(12, rows * cols));
    let b = rounded(&random(13, cols));
    let tx = e.tensor(&f32s(&x), &[rows, cols]).unwrap();
    let tb = e.tensor(&f32s(&b), &[cols]).unwrap();
    let d = bias_act::plan_forward(e, &tx, &tb, None, Activation::Identity).unwrap();
    e.run(&[&d]).unwrap();
    let (z, _) = bias_act::cpu_forward(&x, &b, Activation::Identity);
    assert_close("add_bias", &e.read(&tx).unwrap(), &z, 1e-6, 1e-6);
}

#[test]
fn bias_act_backward_matches_cpu() {
    let e = engine();
    for &(rows, cols) in ROWS_COLS {
        for act in [Activation::Identity, Activation::Relu, Activation::Silu] {
            for accumulate in [false, true] {
                let z = rounded(&random(20, rows * cols));
                let dy = rounded(&random(21, rows * cols));
                let db0 = rounded(&random(22, cols));
                let tz = e.tensor(&f32s(&z), &[rows, cols]).unwrap();
                let tdy = e.tensor(&f32s(&dy), &[rows, cols]).unwrap();
                let tdz = e.empty(&[rows, cols]);
                let tdb = e.tensor(&f32s(&db0), &[cols]).unwrap();
                let d = bias_act::plan_backward(e, &tz, &tdy, &tdz, &tdb, act, accumulate).unwrap();
                e.run(&[&d]).unwrap();
                let (dz, mut db) = bias_act::cpu_backward(&z, &dy, cols, act);
                if accumulate {
                    db.iter_mut().zip(&db0).for_each(|(d, d0)| *d += d0);
                }
                let what = format!("bias_act_backward {act:?} {rows}x{cols} acc={accumulate}");
                assert_close(
                    &format!("{what} dz"),
                    &e.read(&tdz).unwrap(),
                    &dz,
                    1e-6,
                    1e-5,
                );
                let tol = 1e-6 * rows as f64;
                assert_close(
                    &format!("{what} db"),
                    &e.read(&tdb).unwrap(),
                    &db,
                    tol,
                    1e-5,
                );
            }
        }
    }
}

#[test]
fn sums_over_rows_and_columns_match_cpu() {
    let e = engine();
    for &(rows, cols) in ROWS_COLS {
        for axis in [reduce::Axis::Rows, reduce::Axis::Cols] {
            let x = rounded(&random(30, rows * cols));
            let tx = e.tensor(&f32s(&x), &[rows, cols]).unwrap();
            let len = if axis == reduce::Axis::Rows {
                cols
            } else {
                rows
            };
            let out = e.empty(&[len]);
            let d = reduce::plan_sum(e, &tx, &out, axis, false).unwrap();
            e.run(&[&d]).unwrap();
            let want = reduce::cpu_sum(&x, rows, cols, axis);
            let tol = 1e-6 * rows.max(cols) as f64;
            let what = format!("sum {axis:?} {rows}x{cols}");
            assert_close(&what, &e.read(&out).unwrap(), &want, tol, 1e-6);
        }
    }
}

#[test]
fn mse_forward_and_backward_match_cpu() {
    let e = engine();
    for n in [1, 7, 65, 257, 3001] {
        let p = rounded(&random(40, n));
        let t = rounded(&random(41, n));
        let tp = e.tensor(&f32s(&p), &[n]).unwrap();
        let tt = e.tensor(&f32s(&t), &[n]).unwrap();
        let loss = e.empty(&[1]);
        let grad = e.empty(&[n]);
        let scale = 0.5;
        let f = mse::plan_forward(e, &tp, &tt, &loss, scale).unwrap();
        let b = mse::plan_backward(e, &tp, &tt, &grad, scale, false).unwrap();
        e.run(&[&f, &b]).unwrap();
        let want = mse::cpu_forward(&p, &t, scale as f64);
        assert_close(
            &format!("mse n={n}"),
            &e.read(&loss).unwrap(),
            &[want],
            1e-6,
            1e-5,
        );
        let want = mse::cpu_backward(&p, &t, scale as f64);
        assert_close(
            &format!("mse grad n={n}"),
            &e.read(&grad).unwrap(),
            &want,
            1e-7,
            1e-5,
        );
    }
}

#[test]
fn adam_and_adamw_steps_match_cpu() {
    let e = engine();
    for decoupled in [false, true] {
        for n in [1, 7, 65, 257] {
            let config = AdamConfig {
                lr: 1e-2,
                weight_decay: 0.1,
                decoupled,
                ..AdamConfig::default()
            };
            let mut p = rounded(&random(50, n));
            let tp = e.tensor(&f32s(&p), &[n]).unwrap();
            let tg = e.empty(&[n]);
            let mut opt = Adam::new(e, &tp, &tg, config).unwrap();
            let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
            for step in 1..=3u32 {
                let g = rounded(&random(60 + step as u64, n));
                e.write(&tg, &f32s(&g)).unwrap();
                opt.prepare_step(e, config.lr);
                e.run(&[opt.dispatch()]).unwrap();
                adam::cpu_step(&mut p, &g, &mut m, &mut v, &config, step);
            }
            let what = format!("adam decoupled={decoupled} n={n}");
            assert_close(&what, &e.read(&tp).unwrap(), &p, 1e-5, 1e-4);
        }
    }
}

#[test]
fn adam_rejects_a_negative_learning_rate() {
    let e = engine();
    let p = e.zeros(&[4]);
    let g = e.zeros(&[4]);
    let config = AdamConfig {
        lr: -1.0,
        ..AdamConfig::default()
    };
    let err = Adam::new(e, &p, &g, config).unwrap_err();
    assert!(err.to_string().contains("optimizer.lr"), "{err}");
}

#[test]
fn peak_kernels_match_their_cpu_twins() {
    // The FMA chain stays in [0, 1] and converges towards 1; 8 * 4 sums of values <= 1 in
    // f32 after 100 rounds carry ~1e-5 rounding, well inside 1e-4.
    let e = engine();
    for &n in &[1usize, 7, 257] {
        let out = e.empty(&[n]);
        let d = remul::kernels::peak_fma::plan(e, &out, 100).unwrap();
        e.run(&[&d]).unwrap();
        let want: Vec<f64> = (0..n as u32)
            .map(|i| remul::kernels::peak_fma::cpu(i, 100))
            .collect();
        assert_close("peak fma", &e.read(&out).unwrap(), &want, 1e-4, 1e-5);

        let src = rounded(&random(40, 4 * n));
        let ts = e.tensor(&f32s(&src), &[4 * n]).unwrap();
        let td = e.empty(&[4 * n]);
        let d = remul::kernels::peak_copy::plan(e, &ts, &td).unwrap();
        e.run(&[&d]).unwrap();
        let want = remul::kernels::peak_copy::cpu(&src);
        assert_close("peak copy", &e.read(&td).unwrap(), &want, 0.0, 0.0);
    }
    let odd = e.empty(&[6]);
    assert!(remul::kernels::peak_copy::plan(e, &odd, &odd).is_err());
}

#[test]
fn every_matmul_tile_shape_gives_the_same_bits_as_the_cpu_checks() {
    // Each variant sums every element over k in the same order, so their outputs agree bit
    // for bit, and each matches the CPU twin as the default shape does.
    let e = engine();
    for &(m, n, k) in &[(1, 1, 1), (7, 65, 3), (65, 7, 17), (257, 33, 9)] {
        for layout in [Layout::NN, Layout::TN, Layout::NT] {
            let a_shape = if layout == Layout::TN { [k, m] } else { [m, k] };
            let b_shape = if layout == Layout::NT { [n, k] } else { [k, n] };
            let a = rounded(&random(31, m * k));
            let b = rounded(&random(32, k * n));
            let ta = e.tensor(&f32s(&a), &a_shape).unwrap();
            let tb = e.tensor(&f32s(&b), &b_shape).unwrap();
            let want = matmul::cpu(&a, a_shape, &b, b_shape, layout);
            let mut first: Option<Vec<f32>> = None;
            for (i, v) in matmul::VARIANTS.iter().enumerate() {
                let tc = e.empty(&[m, n]);
                let d = matmul::plan_variant(e, &ta, &tb, &tc, layout, false, i).unwrap();
                e.run(&[&d]).unwrap();
                let got = e.read(&tc).unwrap();
                let what = format!("matmul {layout:?} {m}x{n}x{k} with {v}");
                assert_close(&what, &got, &want, 1e-5 * k as f64, 1e-5);
                match &first {
                    None => first = Some(got),
                    Some(f) => assert_eq!(f, &got, "{what} differs from the default shape"),
                }
            }
        }
    }
}

#[test]
fn the_matmul_autotuner_times_every_shape_and_keeps_the_fastest() {
    let e = engine();
    let times = matmul::autotune(e).unwrap();
    assert_eq!(times.len(), matmul::VARIANTS.len());
    assert!(times.iter().all(|(_, t)| *t > 0.0));
    let fastest = times
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(v, _)| *v)
        .unwrap();
    assert_eq!(matmul::variant(e), fastest);
}
