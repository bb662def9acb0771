//! The roto-translation kernel: its draws against the f64 CPU twin, the group properties of
//! what it draws, the distribution of rotation angles, and its action on node rows.
//!
//! Tolerances: transforms are computed in f32 from 24-bit uniforms, with sin, cos, log and sqrt
//! good to a few ulp (~1e-7 relative); rotation entries are at most 1 and translations a few
//! standard deviations, so `1e-5` absolute plus `1e-5` relative leaves two orders of margin.

mod common;

use common::{assert_close, engine, f32s, random, rounded};
use remul::kernels::rotate::{
    self, cpu_apply, cpu_sample, plan_apply, rotation_angle_deg, Apply, Mode, RotationKind, Rows,
    TransformConfig, Transforms,
};

/// Graph counts: one, below a workgroup, a workgroup overhang, several workgroups.
const GRAPH_COUNTS: &[usize] = &[1, 7, 65, 257];

fn config(rotation: RotationKind, min: f32, max: f32) -> TransformConfig {
    TransformConfig {
        rotation,
        axis: [1.0, 2.0, -2.0],
        min_angle_deg: min,
        max_angle_deg: max,
        ..TransformConfig::default()
    }
}

/// Every kind over the full range, and the restricted Haar draws of both Haar kinds.
fn configs() -> Vec<TransformConfig> {
    vec![
        config(RotationKind::So3, 0.0, 180.0),
        config(RotationKind::O3, 0.0, 180.0),
        config(RotationKind::Axis, 0.0, 180.0),
        config(RotationKind::So3, 20.0, 70.0),
        config(RotationKind::O3, 100.0, 180.0),
        config(RotationKind::Axis, 30.0, 90.0),
    ]
}

/// The GPU's transforms `[graphs * 12]` for `step`.
fn sample(config: &TransformConfig, graphs: usize, seed: u64, step: u64) -> Vec<f64> {
    let e = engine();
    let t = Transforms::new(e, graphs, config.clone(), seed).unwrap();
    t.prepare_step(e, step);
    e.run(&[t.sample_dispatch()]).unwrap();
    e.read(t.transforms())
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// The rotation of transform `g` (row-major).
fn rotation(transforms: &[f64], g: usize) -> &[f64] {
    &transforms[g * 12..g * 12 + 9]
}

fn det(r: &[f64]) -> f64 {
    r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6])
        + r[2] * (r[3] * r[7] - r[4] * r[6])
}

/// Angles in degrees of the rotations of `steps` draws of `graphs` each.
fn angles(config: &TransformConfig, graphs: usize, steps: u64) -> Vec<f64> {
    (0..steps)
        .flat_map(|step| {
            let t = sample(config, graphs, 11, step);
            (0..graphs)
                .map(|g| rotation_angle_deg(rotation(&t, g)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Pearson's statistic of `angles` against the Haar angle density `(1 - cos a) / pi`
/// restricted to `[lo, hi]` degrees, over `bins` equal bins.
fn haar_chi_square(angles: &[f64], lo: f64, hi: f64, bins: usize) -> f64 {
    let cdf = |deg: f64| {
        let a = deg.to_radians();
        a - a.sin()
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &a in angles {
        let k = (((a - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let total = cdf(hi) - cdf(lo);
    counts
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let (a, b) = (lo + k as f64 * width, lo + (k + 1) as f64 * width);
            let expected = angles.len() as f64 * (cdf(b) - cdf(a)) / total;
            (n as f64 - expected).powi(2) / expected
        })
        .sum()
}

#[test]
fn gpu_sample_matches_cpu_sample_for_every_kind_and_graph_count() {
    for c in configs() {
        for &graphs in GRAPH_COUNTS {
            for (seed, step) in [(3, 0), (u64::MAX - 5, (1 << 40) + 9)] {
                let got = f32s(&sample(&c, graphs, seed, step));
                let want = cpu_sample(&c, seed, step, graphs);
                let what = format!("{c:?} graphs={graphs} seed={seed} step={step}");
                assert_close(&what, &got, &want, 1e-5, 1e-5);
            }
        }
    }
}

#[test]
fn each_step_draws_fresh_transforms_and_a_repeated_step_the_same() {
    let e = engine();
    let graphs = 65;
    let t = Transforms::new(e, graphs, TransformConfig::default(), 7).unwrap();
    let draw = |step| {
        t.prepare_step(e, step);
        e.run(&[t.sample_dispatch()]).unwrap();
        e.read(t.transforms()).unwrap()
    };
    let (a, b, again) = (draw(1), draw(2), draw(1));
    assert_eq!(a, again, "step 1 drawn twice");
    for g in 0..graphs {
        assert_ne!(a[g * 12..g * 12 + 12], b[g * 12..g * 12 + 12], "graph {g}");
    }
    let other_seed = sample(&TransformConfig::default(), graphs, 8, 1);
    assert_ne!(f32s(&other_seed), a, "seeds 7 and 8 at step 1");
}

#[test]
fn sampled_rotations_are_orthogonal_with_the_kinds_determinant() {
    // Sums of three products of f32 entries: 1e-5 is ~80 ulp of 1.
    for c in configs() {
        let t = sample(&c, 257, 5, 3);
        let mut signs = [0usize; 2];
        for g in 0..257 {
            let r = rotation(&t, g);
            for i in 0..3 {
                for j in 0..3 {
                    let dot: f64 = (0..3).map(|k| r[i * 3 + k] * r[j * 3 + k]).sum();
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!(
                        (dot - want).abs() < 1e-5,
                        "{c:?} graph {g}: (R R^T)[{i}][{j}] = {dot}"
                    );
                }
            }
            let d = det(r);
            assert!((d.abs() - 1.0).abs() < 1e-5, "{c:?} graph {g}: det {d}");
            signs[(d < 0.0) as usize] += 1;
        }
        if c.rotation == RotationKind::O3 {
            assert!(signs[0] > 0 && signs[1] > 0, "{c:?}: det signs {signs:?}");
        } else {
            assert_eq!(signs[1], 0, "{c:?}: negative determinants");
        }
    }
}

/// Pearson's statistic with 17 degrees of freedom exceeds 40.79 with probability 0.001.
const CHI2_17_AT_0_001: f64 = 40.79;
/// ... and with 11 degrees of freedom exceeds 31.26 with probability 0.001.
const CHI2_11_AT_0_001: f64 = 31.26;

#[test]
fn haar_angles_pass_a_chi_square_test_that_uniform_angles_fail() {
    // 36000 angles in 18 bins of 10 degrees: the emptiest bin, [0, 10), expects ~10 counts.
    for kind in [RotationKind::So3, RotationKind::O3] {
        let haar = angles(&config(kind, 0.0, 180.0), 4000, 9);
        let stat = haar_chi_square(&haar, 0.0, 180.0, 18);
        assert!(stat < CHI2_17_AT_0_001, "{kind:?}: chi-square {stat}");
    }

    // The fixed-axis kind draws angles uniform in [0, 180]: the same statistic must reject it.
    let uniform = angles(&config(RotationKind::Axis, 0.0, 180.0), 4000, 9);
    let stat = haar_chi_square(&uniform, 0.0, 180.0, 18);
    assert!(stat > CHI2_17_AT_0_001, "uniform angles: chi-square {stat}");
}

#[test]
fn restricted_haar_angles_follow_the_truncated_density() {
    let haar = angles(&config(RotationKind::So3, 30.0, 150.0), 4000, 5);
    let stat = haar_chi_square(&haar, 30.0, 150.0, 12);
    assert!(stat < CHI2_11_AT_0_001, "chi-square {stat}");

    let uniform = angles(&config(RotationKind::Axis, 30.0, 150.0), 4000, 5);
    let stat = haar_chi_square(&uniform, 30.0, 150.0, 12);
    assert!(stat > CHI2_11_AT_0_001, "uniform angles: chi-square {stat}");
}

#[test]
fn restricted_ranges_keep_every_angle_within_min_and_max() {
    // Angles from f32 traces: away from 0 and 180 degrees the error is ~1e-4 degrees.
    for kind in [RotationKind::So3, RotationKind::O3, RotationKind::Axis] {
        for (min, max) in [(20.0, 60.0), (100.0, 170.0), (45.0, 45.0)] {
            let a = angles(&config(kind, min, max), 2000, 1);
            let lo = a.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let what = format!("{kind:?} [{min}, {max}]");
            assert!(lo > min as f64 - 1e-2, "{what}: angle {lo}");
            assert!(hi < max as f64 + 1e-2, "{what}: angle {hi}");
            // The range is covered, not just respected: each end's last degree holds at least
            // 0.5% of the mass, so 2000 draws all miss it with probability below e^-10.
            assert!(
                lo < min as f64 + 1.0 && hi > max as f64 - 1.0,
                "{what}: {lo}..{hi}"
            );
        }
    }
}

#[test]
fn axis_mode_fixes_the_normalised_axis_and_turns_both_ways() {
    let c = config(RotationKind::Axis, 0.0, 180.0);
    let n = [1.0 / 3.0, 2.0 / 3.0, -2.0 / 3.0];
    let t = sample(&c, 257, 9, 0);
    let mut turns = [0usize; 2];
    for g in 0..257 {
        let r = rotation(&t, g);
        for i in 0..3 {
            let rn: f64 = (0..3).map(|j| r[i * 3 + j] * n[j]).sum();
            assert!((rn - n[i]).abs() < 1e-5, "graph {g}: (R n)[{i}] = {rn}");
        }
        // The skew part of R is sin(angle) [n]_x, so its axis component has the turn's sign.
        let skew = [r[7] - r[5], r[2] - r[6], r[3] - r[1]];
        let s: f64 = (0..3).map(|i| skew[i] * n[i]).sum();
        turns[(s < 0.0) as usize] += 1;
    }
    assert!(turns[0] > 0 && turns[1] > 0, "turns {turns:?}");
}

#[test]
fn zero_translation_std_gives_zero_translations() {
    let c = TransformConfig {
        translation_std: 0.0,
        ..TransformConfig::default()
    };
    let t = sample(&c, 65, 1, 1);
    for g in 0..65 {
        assert_eq!(t[g * 12 + 9..g * 12 + 12], [0.0; 3], "graph {g}");
    }
}

#[test]
fn translations_have_the_configured_standard_deviation() {
    // 60000 coordinates: the standard error of the mean is 2.5 / 245 = 0.010 and of the
    // standard deviation 2.5 / 346 = 0.007, so 0.05 is five standard errors or more.
    let c = TransformConfig {
        translation_std: 2.5,
        ..TransformConfig::default()
    };
    let graphs = 20_000;
    let t = sample(&c, graphs, 2, 4);
    let coords: Vec<f64> = (0..graphs)
        .flat_map(|g| t[g * 12 + 9..g * 12 + 12].to_vec())
        .collect();
    let n = coords.len() as f64;
    let mean = coords.iter().sum::<f64>() / n;
    let std = (coords.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!((std - 2.5).abs() < 0.05, "standard deviation {std}");
}

/// Transforms of `graphs` graphs on the GPU and the same values in f64.
fn gpu_transforms(graphs: usize) -> (Transforms, Vec<f64>) {
    let e = engine();
    let t = Transforms::new(e, graphs, TransformConfig::default(), 4).unwrap();
    t.prepare_step(e, 2);
    e.run(&[t.sample_dispatch()]).unwrap();
    let values = e.read(t.transforms()).unwrap();
    (t, values.into_iter().map(f64::from).collect())
}

#[test]
fn plan_apply_matches_cpu_apply_for_points_and_vectors_at_offsets() {
    let e = engine();
    let graphs = 5;
    let (tf, transforms) = gpu_transforms(graphs);
    let node_graph: Vec<u32> = (0..20).map(|i| (i * 7 % graphs) as u32).collect();
    let tg = e.tensor_u32(&node_graph, &[20]).unwrap();
    let input = rounded(&random(30, 30 * 3));
    let ti = e.tensor(&f32s(&input), &[30, 3]).unwrap();
    let rows = Rows {
        count: 11,
        graph_first: 4,
        in_first: 9,
        out_first: 7,
    };
    for mode in [Mode::Point, Mode::Vector] {
        // Rows outside the written range must keep their sentinel value.
        let mut want = vec![-7.0; 25 * 3];
        let to = e.tensor(&f32s(&want), &[25, 3]).unwrap();
        let d = plan_apply(e, tf.transforms(), &tg, &ti, &to, rows, Apply::new(mode)).unwrap();
        e.run(&[&d]).unwrap();
        cpu_apply(&transforms, &node_graph, &input, rows, mode, &mut want);
        let what = format!("apply {mode:?}");
        // Three products of |R| <= 1 and |x| <= 1 plus t: f32 error ~1e-7.
        assert_close(&what, &e.read(&to).unwrap(), &want, 1e-5, 1e-5);
    }
}

#[test]
fn plan_apply_writes_the_second_half_of_a_doubled_batch_in_place() {
    let e = engine();
    let (graphs, nodes) = (3, 40);
    let (tf, transforms) = gpu_transforms(graphs);
    let node_graph: Vec<u32> = (0..nodes).map(|i| (i * graphs / nodes) as u32).collect();
    let tg = e.tensor_u32(&node_graph, &[nodes]).unwrap();
    let mut want = rounded(&random(31, 2 * nodes * 3));
    let positions = e.tensor(&f32s(&want), &[2 * nodes, 3]).unwrap();
    let rows = Rows {
        count: nodes,
        graph_first: 0,
        in_first: 0,
        out_first: nodes,
    };
    let apply = Apply::new(Mode::Point);
    let d = plan_apply(e, tf.transforms(), &tg, &positions, &positions, rows, apply).unwrap();
    e.run(&[&d]).unwrap();
    let input = want.clone();
    cpu_apply(
        &transforms,
        &node_graph,
        &input,
        rows,
        Mode::Point,
        &mut want,
    );
    assert_close(
        "doubled batch",
        &e.read(&positions).unwrap(),
        &want,
        1e-5,
        1e-5,
    );
}

#[test]
fn plan_apply_writes_nan_for_a_graph_index_out_of_range() {
    let e = engine();
    let (tf, _) = gpu_transforms(2);
    let tg = e.tensor_u32(&[0, 2, 1], &[3]).unwrap();
    let ti = e.tensor(&[0.5; 9], &[3, 3]).unwrap();
    let to = e.zeros(&[3, 3]);
    let rows = Rows {
        count: 3,
        graph_first: 0,
        in_first: 0,
        out_first: 0,
    };
    let d = plan_apply(
        e,
        tf.transforms(),
        &tg,
        &ti,
        &to,
        rows,
        Apply::new(Mode::Vector),
    )
    .unwrap();
    e.run(&[&d]).unwrap();
    let out = e.read(&to).unwrap();
    assert!(out[3..6].iter().all(|x| x.is_nan()), "{out:?}");
    assert!(
        out[..3].iter().chain(&out[6..]).all(|x| x.is_finite()),
        "{out:?}"
    );
}

#[test]
fn plan_apply_rejects_bad_shapes_and_aliasing() {
    let e = engine();
    let (tf, _) = gpu_transforms(2);
    let t = tf.transforms();
    let tg = e.tensor_u32(&[0; 10], &[10]).unwrap();
    let x = e.zeros(&[10, 3]);
    let y = e.zeros(&[10, 3]);
    let rows = Rows {
        count: 10,
        graph_first: 0,
        in_first: 0,
        out_first: 0,
    };
    let at = |graph_first, in_first, out_first| Rows {
        count: 4,
        graph_first,
        in_first,
        out_first,
    };
    let f32_graphs = e.zeros(&[10]);
    let flat = e.zeros(&[30]);
    let wide = e.zeros(&[10, 4]);
    let bad_transforms = e.zeros(&[2, 9]);
    let cases: Vec<(
        &str,
        &remul::Tensor,
        &remul::Tensor,
        &remul::Tensor,
        &remul::Tensor,
        Rows,
    )> = vec![
        ("plan_apply transforms", &bad_transforms, &tg, &x, &y, rows),
        ("plan_apply node_graph", t, &f32_graphs, &x, &y, rows),
        ("plan_apply input", t, &tg, &flat, &y, rows),
        ("plan_apply output", t, &tg, &x, &wide, rows),
        ("node_graph rows", t, &tg, &x, &y, at(7, 0, 0)),
        ("input rows", t, &tg, &x, &y, at(0, 7, 0)),
        ("output rows", t, &tg, &x, &y, at(0, 0, 7)),
        ("disjoint", t, &tg, &x, &x, at(0, 0, 2)),
    ];
    for (want, transforms, node_graph, input, output, rows) in cases {
        let apply = Apply::new(Mode::Point);
        let err = plan_apply(e, transforms, node_graph, input, output, rows, apply).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "expected '{want}' in: {err}"
        );
    }

    // The output may not be the transforms' buffer: they are read while it is written.
    let as_rows = t.reshape(&[8, 3]);
    let err = plan_apply(
        e,
        t,
        &tg,
        &x,
        &as_rows,
        at(0, 0, 0),
        Apply::new(Mode::Point),
    );
    assert!(err
        .unwrap_err()
        .to_string()
        .contains("transforms and node_graph"));
}

#[test]
fn validate_rejects_each_bad_field_by_name() {
    assert!(TransformConfig::default().validate().is_ok());
    let base = TransformConfig::default();
    let cases = [
        (
            "axis",
            TransformConfig {
                axis: [0.0; 3],
                ..base.clone()
            },
        ),
        (
            "axis",
            TransformConfig {
                axis: [f32::NAN, 0.0, 1.0],
                ..base.clone()
            },
        ),
        (
            "min_angle_deg",
            TransformConfig {
                min_angle_deg: -1.0,
                ..base.clone()
            },
        ),
        (
            "min_angle_deg",
            TransformConfig {
                min_angle_deg: f32::NAN,
                ..base.clone()
            },
        ),
        (
            "max_angle_deg",
            TransformConfig {
                max_angle_deg: 181.0,
                ..base.clone()
            },
        ),
        (
            "max_angle_deg",
            TransformConfig {
                max_angle_deg: f32::NAN,
                ..base.clone()
            },
        ),
        (
            "min_angle_deg",
            TransformConfig {
                min_angle_deg: 90.0,
                max_angle_deg: 30.0,
                ..base.clone()
            },
        ),
        (
            "translation_std",
            TransformConfig {
                translation_std: -0.5,
                ..base.clone()
            },
        ),
        (
            "translation_std",
            TransformConfig {
                translation_std: f32::NAN,
                ..base.clone()
            },
        ),
        (
            "translation_std",
            TransformConfig {
                translation_std: f32::INFINITY,
                ..base.clone()
            },
        ),
    ];
    for (field, c) in cases {
        let err = c.validate().unwrap_err().to_string();
        let name = format!("transform.{field}");
        assert!(err.contains(&name), "{c:?}: expected '{name}' in: {err}");
        let err = Transforms::new(engine(), 1, c, 0).unwrap_err().to_string();
        assert!(err.contains(&name), "Transforms::new: {err}");
    }
}

#[test]
fn config_reads_lowercase_kinds_with_defaults_and_rejects_unknown_fields() {
    let c: TransformConfig =
        serde_json::from_str(r#"{"rotation": "o3", "max_angle_deg": 90}"#).unwrap();
    assert_eq!(c.rotation, RotationKind::O3);
    assert_eq!(c.max_angle_deg, 90.0);
    assert_eq!(c.axis, [0.0, 0.0, 1.0]);
    assert_eq!(c.translation_std, 1.0);
    assert!(serde_json::from_str::<TransformConfig>(r#"{"angle": 3}"#).is_err());
    assert!(serde_json::from_str::<TransformConfig>(r#"{"rotation": "so2"}"#).is_err());
}

#[test]
fn rotation_angle_of_a_known_rotation_and_its_negative() {
    // 90 degrees about z, and -1 times it (det -1): both report 90.
    let r = [0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    assert!((rotation_angle_deg(&r) - 90.0).abs() < 1e-12);
    let minus: Vec<f64> = r.iter().map(|x| -x).collect();
    assert!((rotation_angle_deg(&minus) - 90.0).abs() < 1e-12);
    assert_eq!(rotate::TRANSFORM_LEN, 12);
}
