//! The charged N-body simulator and its generated files.

mod common;

use std::path::PathBuf;

use common::scratch;
use remul::data::charged::ChargedInit;
use remul::data::npy::read_npy;
use remul::data::{
    generate_charged, inspect, ChargedConfig, ChargedDataset, ChargedSim, Dataset, LoaderConfig,
    Rng, Split,
};

/// Tolerance for hand-computed trajectories: a few float64 roundings of values near 1.
const HAND_TOL: f64 = 1e-14;

#[test]
fn two_like_charges_follow_the_hand_computed_leapfrog() {
    // Two +1 charges one unit apart on the x axis, at rest; dt = 0.1, three steps,
    // every step recorded (frames after steps 1 and 2).
    let sim = ChargedSim {
        particles: 2,
        dt: 0.1,
        steps: 3,
        record_every: 1,
        ..ChargedSim::default()
    };
    let init = ChargedInit {
        positions: vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        velocities: vec![0.0; 6],
        charges: vec![1.0, 1.0],
    };
    let traj = sim.simulate(&init).unwrap();
    assert_eq!(sim.frames(), 2);
    assert_eq!(traj.loc.len(), 2 * 3 * 2);

    // Kick: F_0 = (x_0 - x_1) / 1^3 = (-1, 0, 0), so v_0 = -0.1 and v_1 = +0.1.
    // Step 1: x_0 = -0.01, x_1 = 1.01, recorded with v before the next kick.
    // Kick: |r| = 1.02, F = 1 / 1.02^2, v_0 = -0.1 - 0.1 / 1.02^2.
    // Step 2: x_0 = -0.01 + 0.1 v_0.
    let v0_after = -0.1 - 0.1 / (1.02f64 * 1.02);
    let expected_x = [
        [-0.01, 1.01],
        [-0.01 + 0.1 * v0_after, 1.01 - 0.1 * v0_after],
    ];
    let expected_v = [[-0.1, 0.1], [v0_after, -v0_after]];
    for frame in 0..2 {
        for p in 0..2 {
            // Layout [frames, 3, particles]; axis 0 is x.
            let k = frame * 6 + p;
            assert!(
                (traj.loc[k] - expected_x[frame][p]).abs() < HAND_TOL,
                "{traj:?}"
            );
            assert!(
                (traj.vel[k] - expected_v[frame][p]).abs() < HAND_TOL,
                "{traj:?}"
            );
            // Nothing moves off the x axis.
            assert_eq!(traj.loc[k + 2], 0.0);
            assert_eq!(traj.loc[k + 4], 0.0);
        }
    }
}

#[test]
fn opposite_charges_close_together_feel_the_clipped_force() {
    // Distance 0.01: the attraction 1 / 0.01^2 = 10000 is clipped to 100 per component.
    let sim = ChargedSim {
        particles: 2,
        steps: 2,
        record_every: 1,
        ..ChargedSim::default()
    };
    let init = ChargedInit {
        positions: vec![0.0, 0.0, 0.0, 0.01, 0.0, 0.0],
        velocities: vec![0.0; 6],
        charges: vec![1.0, -1.0],
    };
    let traj = sim.simulate(&init).unwrap();
    // The recorded velocity (after step 1) is the initial kick dt * 100 = 0.1.
    assert!((traj.vel[0] - 0.1).abs() < HAND_TOL, "{:?}", traj.vel);
    assert!((traj.vel[1] + 0.1).abs() < HAND_TOL, "{:?}", traj.vel);
}

#[test]
fn default_simulation_records_49_frames() {
    assert_eq!(ChargedSim::default().frames(), 49);
}

#[test]
fn initial_conditions_have_speed_half_and_balanced_charges() {
    let sim = ChargedSim::default();
    let mut rng = Rng::new(5);
    let (mut positive, mut sum, mut sum_sq, mut count) = (0, 0.0, 0.0, 0.0);
    for _ in 0..2000 {
        let init = sim.sample_init(&mut rng);
        for v in init.velocities.chunks(3) {
            let speed = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            assert!((speed - 0.5).abs() < 1e-15);
        }
        positive += init.charges.iter().filter(|&&q| q == 1.0).count();
        assert!(init.charges.iter().all(|&q| q == 1.0 || q == -1.0));
        for &x in &init.positions {
            sum += x;
            sum_sq += x * x;
            count += 1.0;
        }
    }
    // 10000 charges: the standard deviation of the positive count is 50, so 300 is 6 sigma.
    assert!((positive as i64 - 5000).abs() < 300, "{positive}");
    // 30000 positions ~ N(0, 1): standard errors ~0.006 (mean) and ~0.008 (variance).
    let mean = sum / count;
    assert!(mean.abs() < 0.05, "{mean}");
    assert!((sum_sq / count - 1.0).abs() < 0.05);
}

fn small_config(threads: usize) -> ChargedConfig {
    ChargedConfig {
        seed: 7,
        train: 3,
        valid: 2,
        test: 2,
        threads,
        ..ChargedConfig::default()
    }
}

#[test]
fn generated_files_are_identical_for_one_and_two_threads() {
    let a = scratch("gen-threads-1");
    let b = scratch("gen-threads-2");
    let mut calls = Vec::new();
    generate_charged(&a, &small_config(1), &mut |d, t| calls.push((d, t))).unwrap();
    generate_charged(&b, &small_config(2), &mut |_, _| {}).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 12, "{names:?}");
    for name in names {
        let (fa, fb) = (
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
        );
        assert!(fa == fb, "{name:?} differs between thread counts");
    }
    assert_eq!(calls.first(), Some(&(0, 7)));
    assert_eq!(calls.last(), Some(&(7, 7)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn generated_files_have_numpy_headers_and_reference_shapes() {
    let dir = scratch("gen-shapes");
    generate_charged(&dir, &small_config(2), &mut |_, _| {}).unwrap();
    let bytes = std::fs::read(dir.join("loc_train_charged5_initvel1small.npy")).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + header_len) % 64, 0);
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(
        header.starts_with("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 49, 3, 5), }")
    );
    assert_eq!(bytes.len(), 10 + header_len + 3 * 49 * 3 * 5 * 8);

    let charges = read_npy(&dir.join("charges_valid_charged5_initvel1small.npy")).unwrap();
    assert_eq!(charges.shape, vec![2, 5, 1]);
    let edges = read_npy(&dir.join("edges_valid_charged5_initvel1small.npy")).unwrap();
    assert_eq!(edges.shape, vec![2, 5, 5]);
    for s in 0..2 {
        for i in 0..5 {
            for j in 0..5 {
                let q = &charges.data[s * 5..s * 5 + 5];
                assert_eq!(edges.data[s * 25 + i * 5 + j], q[i] * q[j]);
            }
        }
    }
}

#[test]
fn generated_dataset_loads_and_inspects() {
    let dir = scratch("gen-load");
    generate_charged(&dir, &small_config(2), &mut |_, _| {}).unwrap();
    let test = ChargedDataset::load(&dir, Split::Test, &LoaderConfig::default()).unwrap();
    assert_eq!(test.len(), 2);
    let g = test.graph(0).unwrap();
    assert_eq!(g.num_nodes(), 5);
    assert_eq!(g.num_edges(), 20);

    let report = inspect(&dir).unwrap();
    assert_eq!(report.splits.len(), 3);
    assert_eq!(report.splits[0].1.samples, 3);
    assert_eq!(report.test_samples, 2);
    // The baselines recomputed here from the loaded graphs, in f64 (same order of sums
    // would give equality; 1e-12 allows for a different summation order).
    let (mut a, mut b, mut n) = (0.0, 0.0, 0.0);
    for i in 0..2 {
        let g = test.graph(i).unwrap();
        for k in 0..15 {
            a += (g.targets[k] - g.positions[k]).powi(2);
            b += (g.targets[k] - g.positions[k] - g.velocities[k]).powi(2);
            n += 1.0;
        }
    }
    assert!((report.mse_static - a / n).abs() < 1e-12);
    assert!((report.mse_velocity - b / n).abs() < 1e-12);
    let text = report.to_string();
    assert!(text.contains("x40 = x30"), "{text}");
    assert!(text.contains("[3, 49, 3, 5]"), "{text}");
}

#[test]
fn splits_use_separate_random_streams() {
    let dir = scratch("gen-streams");
    generate_charged(&dir, &small_config(1), &mut |_, _| {}).unwrap();
    let train = read_npy(&dir.join("loc_train_charged5_initvel1small.npy")).unwrap();
    let valid = read_npy(&dir.join("loc_valid_charged5_initvel1small.npy")).unwrap();
    assert_ne!(train.data[..735], valid.data[..735]);
}

/// Generates the full default dataset (14000 trajectories) with 2 threads, reports the time
/// and checks the baselines against the reference generator's full test split (0.2715 and
/// 0.1079). Run with `cargo test --release --test data_charged_sim -- --ignored --nocapture`;
/// set `REMUL_GEN_DIR` to keep the files there (for checks with numpy).
#[test]
#[ignore = "generates the full default dataset; run in release mode"]
fn default_dataset_generates_quickly_and_matches_reference_baselines() {
    let keep = std::env::var_os("REMUL_GEN_DIR").map(PathBuf::from);
    let tmp = scratch("gen-default");
    let dir = keep.clone().unwrap_or_else(|| tmp.to_path_buf());
    let config = ChargedConfig {
        threads: 2,
        ..ChargedConfig::default()
    };
    let start = std::time::Instant::now();
    generate_charged(&dir, &config, &mut |_, _| {}).unwrap();
    let elapsed = start.elapsed();
    let report = inspect(&dir).unwrap();
    println!("generated 14000 trajectories with 2 threads in {elapsed:.2?}\n{report}");
    // 2000 test trajectories: the sampling error of each MSE is about 2-3%, so allow 8%.
    assert!((report.mse_static / 0.2715 - 1.0).abs() < 0.08, "{report}");
    assert!(
        (report.mse_velocity / 0.1079 - 1.0).abs() < 0.08,
        "{report}"
    );
}

/// Reads the reference generator's files from `$REMUL_EGNN_SAMPLE_DIR` (200 test
/// trajectories) and checks the baselines its README states (0.2567 and 0.1143).
#[test]
#[ignore = "needs REMUL_EGNN_SAMPLE_DIR pointing at the reference sample"]
fn reference_sample_loads_with_its_stated_baselines() {
    let dir = std::env::var_os("REMUL_EGNN_SAMPLE_DIR")
        .expect("set REMUL_EGNN_SAMPLE_DIR to the nbody-egnn-sample folder");
    let report = inspect(std::path::Path::new(&dir)).unwrap();
    println!("{report}");
    // The README gives four decimals.
    assert!((report.mse_static - 0.2567).abs() < 1e-4, "{report}");
    assert!((report.mse_velocity - 0.1143).abs() < 1e-4, "{report}");
    let train = ChargedDataset::load(
        std::path::Path::new(&dir),
        Split::Train,
        &LoaderConfig::default(),
    )
    .unwrap();
    assert_eq!(train.len(), 300);
}

/// Continues every recorded frame of the reference test split with remul's integrator for
/// 100 steps and compares with the next recorded frame: same physics, same step order.
#[test]
#[ignore = "needs REMUL_EGNN_SAMPLE_DIR pointing at the reference sample"]
fn reference_frames_follow_remuls_integrator() {
    let dir = PathBuf::from(
        std::env::var_os("REMUL_EGNN_SAMPLE_DIR")
            .expect("set REMUL_EGNN_SAMPLE_DIR to the nbody-egnn-sample folder"),
    );
    let loc = read_npy(&dir.join("loc_test_charged5_initvel1small.npy")).unwrap();
    let vel = read_npy(&dir.join("vel_test_charged5_initvel1small.npy")).unwrap();
    let charges = read_npy(&dir.join("charges_test_charged5_initvel1small.npy")).unwrap();
    // simulate() starts with a kick, then moves and records after 100 steps: exactly the
    // continuation of a recorded (x, v) to the next frame.
    let sim = ChargedSim {
        steps: 101,
        ..ChargedSim::default()
    };
    let mut worst = 0.0f64;
    for s in 0..loc.shape[0] {
        for f in 0..48 {
            let at = |a: &[f64], f: usize| {
                let base = (s * 49 + f) * 15;
                (0..5)
                    .flat_map(|p| (0..3).map(move |d| a[base + d * 5 + p]))
                    .collect::<Vec<f64>>()
            };
            let init = ChargedInit {
                positions: at(&loc.data, f),
                velocities: at(&vel.data, f),
                charges: charges.data[s * 5..s * 5 + 5].to_vec(),
            };
            let next = sim.simulate(&init).unwrap();
            let base = (s * 49 + f + 1) * 15;
            for k in 0..15 {
                worst = worst.max((next.loc[k] - loc.data[base + k]).abs());
                worst = worst.max((next.vel[k] - vel.data[base + k]).abs());
            }
        }
    }
    println!("largest difference over 200 x 48 continuations: {worst:e}");
    // Different summation orders differ by ~1e-16 per step; 100 steps of a chaotic system
    // amplify that to about 1e-11 (measured: 8.7e-12); a different physics or step order
    // would differ by 1e-3 or more.
    assert!(worst < 1e-9, "{worst}");
}

#[test]
fn charged_config_reads_from_json_with_defaults_and_rejects_typos() {
    let config: ChargedConfig =
        serde_json::from_str(r#"{"seed": 1, "train": 10, "sim": {"particles": 3}}"#).unwrap();
    assert_eq!((config.seed, config.train, config.valid), (1, 10, 2000));
    assert_eq!(config.sim.particles, 3);
    assert_eq!(config.sim.dt, 0.001);
    let err = serde_json::from_str::<ChargedConfig>(r#"{"sead": 1}"#).unwrap_err();
    assert!(err.to_string().contains("sead"), "{err}");
}

#[test]
fn invalid_simulation_parameters_are_config_errors() {
    let sim = ChargedSim {
        record_every: 0,
        ..ChargedSim::default()
    };
    let err = generate_charged(
        &scratch("gen-bad-sim"),
        &ChargedConfig {
            sim,
            ..small_config(1)
        },
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("record_every"), "{err}");
}
