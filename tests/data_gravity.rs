//! The gravity N-body simulator, its files and its graphs.

mod common;

use std::path::PathBuf;

use common::scratch;
use remul::data::gravity::gravity_file;
use remul::data::npy::read_npy;
use remul::data::{
    generate_gravity, Dataset, GravityConfig, GravityDataset, GravitySim, GravitySplit, Rng,
};

#[test]
fn one_euler_step_of_two_bodies_matches_the_hand_computation() {
    let sim = GravitySim {
        steps: 1,
        total_time: 0.1,
        ..GravitySim::default()
    };
    // Masses 2 and 3 one unit apart: a_0 = 3 (x_1 - x_0) = (3, 0, 0), a_1 = (-2, 0, 0);
    // v = dt a, then x += dt v.
    let x1 = sim.integrate(&[2.0, 3.0], &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0], &[0.0; 6]);
    let expected = [0.03, 0.0, 0.0, 0.98, 0.0, 0.0];
    for (a, b) in x1.iter().zip(expected) {
        // A few roundings of values near 1.
        assert!((a - b).abs() < 1e-15, "{x1:?}");
    }
}

#[test]
fn coincident_objects_exert_no_force() {
    let sim = GravitySim::default();
    let x1 = sim.integrate(&[1.0, 1.0], &[0.5; 6], &[0.0; 6]);
    assert_eq!(x1, vec![0.5; 6]);
}

#[test]
fn unshifted_systems_are_coplanar_circular_orbits_around_the_star() {
    let sim = GravitySim {
        shift_std: 0.0,
        ..GravitySim::default()
    };
    let mut rng = Rng::new(3);
    for _ in 0..200 {
        let s = sim.sample_init(&mut rng);
        assert_eq!(s.masses.len(), 4);
        let star = (0..4)
            .max_by(|&a, &b| s.masses[a].total_cmp(&s.masses[b]))
            .unwrap();
        let m_star = s.masses[star];
        assert!((1.0..=10.0).contains(&m_star));
        // Rotation about the origin keeps the star there, at rest.
        let at = |v: &[f64], k: usize| [v[3 * k], v[3 * k + 1], v[3 * k + 2]];
        let norm = |a: [f64; 3]| (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
        assert!(norm(at(&s.x0, star)) < 1e-12);
        assert_eq!(at(&s.v0, star), [0.0; 3]);
        let planets: Vec<usize> = (0..4).filter(|&k| k != star).collect();
        for &p in &planets {
            assert!((0.01..=0.1).contains(&s.masses[p]));
            let r = norm(at(&s.x0, p));
            assert!((0.1 - 1e-12..=1.0 + 1e-12).contains(&r), "r = {r}");
            // Circular speed sqrt(M / r), perturbed by N(0, 0.01²) per component: 0.1 is
            // beyond 5 sigma of the perturbation's norm.
            let speed = norm(at(&s.v0, p));
            assert!((speed - (m_star / r).sqrt()).abs() < 0.1, "{speed}");
        }
        // The three planets and the star lie in one plane through the origin.
        let [a, b, c] = [0, 1, 2].map(|k| at(&s.x0, planets[k]));
        let det = a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
            + a[2] * (b[0] * c[1] - b[1] * c[0]);
        assert!(det.abs() < 1e-12, "{det}");
    }
}

fn small_config(threads: usize) -> GravityConfig {
    GravityConfig {
        seed: 11,
        train: 40,
        val: 5,
        eval: 5,
        e3_generalization: 30,
        object_generalization: 6,
        threads,
        ..GravityConfig::default()
    }
}

#[test]
fn generated_splits_have_the_documented_shapes_and_bounded_motion() {
    let dir = scratch("gravity-gen");
    let mut last = (0, 0);
    generate_gravity(&dir, &small_config(2), &mut |d, t| last = (d, t)).unwrap();
    assert_eq!(last, (86, 86));

    let x0 = read_npy(&gravity_file(&dir, "x0", GravitySplit::Train)).unwrap();
    let x1 = read_npy(&gravity_file(&dir, "x1", GravitySplit::Train)).unwrap();
    assert_eq!(x0.shape, vec![40, 4, 3]);
    for (a, b) in x0.data.chunks(3).zip(x1.data.chunks(3)) {
        let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
        assert!(d <= 2.0);
    }
    let masses = read_npy(&gravity_file(
        &dir,
        "masses",
        GravitySplit::ObjectGeneralization,
    ))
    .unwrap();
    assert_eq!(masses.shape, vec![6, 6]);

    // The E(3) split sits around x = 200: 30 systems shifted by N(0, 20²) have a mean
    // within 20 / sqrt(30) * 5 ≈ 18 of 200 with overwhelming probability.
    let e3 = GravityDataset::load(&dir, GravitySplit::E3Generalization).unwrap();
    let mean_x: f64 = (0..30)
        .map(|i| e3.graph(i).unwrap().positions[0])
        .sum::<f64>()
        / 30.0;
    assert!((mean_x - 200.0).abs() < 18.0, "{mean_x}");

    let train = GravityDataset::load(&dir, GravitySplit::Train).unwrap();
    assert_eq!(train.len(), 40);
    let g = train.graph(0).unwrap();
    assert_eq!((g.num_nodes(), g.num_edges()), (4, 12));
    assert_eq!(g.node_scalars.len(), 8);
    assert_eq!(g.targets, &x1.data[..12]);
}

#[test]
fn gravity_files_are_identical_for_one_and_two_threads() {
    let a = scratch("gravity-t1");
    let b = scratch("gravity-t2");
    generate_gravity(&a, &small_config(1), &mut |_, _| {}).unwrap();
    generate_gravity(&b, &small_config(2), &mut |_, _| {}).unwrap();
    for split in GravitySplit::ALL {
        for field in ["masses", "x0", "v0", "x1"] {
            let fa = std::fs::read(gravity_file(&a, field, split)).unwrap();
            let fb = std::fs::read(gravity_file(&b, field, split)).unwrap();
            assert!(fa == fb, "{field} of {split} differs");
        }
    }
}

#[test]
fn gravity_files_with_disagreeing_shapes_are_rejected() {
    let dir = scratch("gravity-bad");
    let config = GravityConfig {
        train: 3,
        ..small_config(1)
    };
    generate_gravity(&dir, &config, &mut |_, _| {}).unwrap();
    std::fs::copy(
        gravity_file(&dir, "x1", GravitySplit::Val),
        gravity_file(&dir, "x1", GravitySplit::Train),
    )
    .unwrap();
    let msg = GravityDataset::load(&dir, GravitySplit::Train)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("x1_train.npy"), "{msg}");
    assert!(msg.contains("[3, 4, 3]"), "{msg}");
}

#[test]
fn gravity_loader_names_missing_files_and_non_finite_values() {
    let dir = scratch("gravity-bad-values");
    let config = GravityConfig {
        train: 3,
        ..small_config(1)
    };
    generate_gravity(&dir, &config, &mut |_, _| {}).unwrap();

    let path = gravity_file(&dir, "v0", GravitySplit::Eval);
    let mut v0 = read_npy(&path).unwrap();
    // Sample 2, object 1, axis 2 in [5, 4, 3] layout.
    v0.data[2 * 12 + 3 + 2] = f64::INFINITY;
    remul::data::npy::write_npy(&path, &v0.shape, &v0.data).unwrap();
    let msg = GravityDataset::load(&dir, GravitySplit::Eval)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("v0_eval.npy"), "{msg}");
    assert!(msg.contains("inf"), "{msg}");
    assert!(msg.contains("sample 2"), "{msg}");
    assert!(msg.contains("v0[object 1, 2]"), "{msg}");

    std::fs::remove_file(gravity_file(&dir, "masses", GravitySplit::Val)).unwrap();
    let msg = GravityDataset::load(&dir, GravitySplit::Val)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("missing file"), "{msg}");
    assert!(msg.contains("masses_val.npy"), "{msg}");
}

#[test]
fn split_names_parse_back() {
    for split in GravitySplit::ALL {
        assert_eq!(split.name().parse::<GravitySplit>().unwrap(), split);
    }
    let err = "validation".parse::<GravitySplit>().unwrap_err();
    assert!(
        err.to_string().contains("unknown split \"validation\""),
        "{err}"
    );
}

/// Generates the default gravity dataset (14000 systems) and reports the time. Run with
/// `cargo test --release --test data_gravity -- --ignored --nocapture`; set
/// `REMUL_GEN_DIR` to keep the files there (for checks with numpy).
#[test]
#[ignore = "generates the full default dataset; run in release mode"]
fn default_gravity_dataset_generates() {
    let keep = std::env::var_os("REMUL_GEN_DIR").map(PathBuf::from);
    let tmp = scratch("gravity-default");
    let dir = keep.clone().unwrap_or_else(|| tmp.to_path_buf());
    let config = GravityConfig {
        threads: 2,
        ..GravityConfig::default()
    };
    let start = std::time::Instant::now();
    generate_gravity(&dir, &config, &mut |_, _| {}).unwrap();
    println!(
        "generated the default gravity dataset with 2 threads in {:.2?}",
        start.elapsed()
    );
    let e3 = GravityDataset::load(&dir, GravitySplit::E3Generalization).unwrap();
    assert_eq!(e3.len(), 1000);
}
