//! Shared test setup: one engine per test process, seeded random data, tolerant comparisons.
#![allow(dead_code)]

use std::sync::OnceLock;

use remul::data::{generate_charged, ChargedConfig, ChargedDataset, LoaderConfig, Split};
use remul::kernels::remul_loss::Form;
use remul::models::ModelKind;
use remul::nn::ParamStore;
use remul::train::{NbodyTrainer, TrainConfig};
use remul::{Engine, EngineOptions};

/// The engine every test in this binary shares; fails loudly when no adapter exists.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let _ = env_logger::builder().is_test(true).try_init();
        match Engine::new(EngineOptions::default()) {
            Ok(e) => e,
            Err(e) => panic!(
                "these tests need a wgpu adapter and found none: {e}\n\
                 On a machine without a GPU install Mesa's lavapipe (see README.md, \
                 'Running without a GPU')."
            ),
        }
    })
}

/// Deterministic uniform values in [-1, 1) from a seed (SplitMix64).
pub fn random(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// `v` as f32, for upload.
pub fn f32s(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// The same values rounded through f32, so CPU twins see exactly what the GPU saw.
pub fn rounded(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}

/// Asserts `got` matches `want` elementwise within `atol + rtol * |want|`, naming the first miss.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}: element {i} is {g}, expected {w} (error {err:e})"
        );
    }
}

/// A fresh, empty folder under the system temp folder, removed again when dropped.
pub struct Scratch(pub std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new scratch folder named after `name` and this process.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("remul-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Writes a small charged dataset (60 / 20 / 20 trajectories) into `dir`.
pub fn small_dataset(dir: &std::path::Path) {
    let config = ChargedConfig {
        seed: 5,
        train: 60,
        valid: 20,
        test: 20,
        ..ChargedConfig::default()
    };
    generate_charged(dir, &config, &mut |_, _| {}).unwrap();
}

pub fn small_config(dir: &std::path::Path, kind: ModelKind, form: Form) -> TrainConfig {
    let mut c = TrainConfig::default();
    c.data.dir = Some(dir.to_path_buf());
    c.data.loader = LoaderConfig {
        max_train: None,
        ..LoaderConfig::default()
    };
    c.model.kind = kind;
    c.model.hidden = 8;
    c.model.layers = 2;
    c.batch_size = 20;
    c.epochs = 4;
    c.valid_every = 2;
    c.eval.rotations = 2;
    c.remul.form = form;
    c.optimizer.lr = 3e-3;
    c
}

pub fn trainer(config: &TrainConfig) -> NbodyTrainer {
    let dir = config.data.dir.as_ref().unwrap();
    let load = |s| std::sync::Arc::new(ChargedDataset::load(dir, s, &config.data.loader).unwrap());
    NbodyTrainer::new(
        engine(),
        config.clone(),
        load(Split::Train),
        load(Split::Valid),
        load(Split::Test),
    )
    .unwrap()
}

/// The values of every parameter tensor in `store`, as f64, in the store's order.
pub fn host_params(e: &Engine, store: &ParamStore) -> Vec<Vec<f64>> {
    store
        .read_values(e)
        .unwrap()
        .into_iter()
        .map(|p| p.data.into_iter().map(f64::from).collect())
        .collect()
}

/// Central differences, step `h`, of `objective` in each entry of parameter tensor `p` of `theta`.
pub fn param_differences(
    theta: &[Vec<f64>],
    p: usize,
    h: f64,
    objective: impl Fn(&[Vec<f64>]) -> f64,
) -> Vec<f64> {
    let mut moved = theta.to_vec();
    (0..theta[p].len())
        .map(|i| {
            moved[p][i] = theta[p][i] + h;
            let plus = objective(&moved);
            moved[p][i] = theta[p][i] - h;
            let minus = objective(&moved);
            moved[p][i] = theta[p][i];
            (plus - minus) / (2.0 * h)
        })
        .collect()
}
