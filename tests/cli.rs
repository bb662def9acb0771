//! The `remul` binary as a user meets it: bad input fails with one line naming the problem,
//! and a small training run writes its run folder, resumes, and evaluates.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::scratch;
use remul::data::{generate_charged, ChargedConfig};

fn remul(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remul"))
        .args(args)
        .env("RUST_LOG", "remul=warn")
        .output()
        .expect("the remul binary runs")
}

/// Asserts the command failed with exactly one line on stderr that contains `needle`.
fn fails_naming(args: &[&str], needle: &str) {
    let out = remul(args);
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!out.status.success(), "{args:?} should fail");
    assert_eq!(
        lines.len(),
        1,
        "{args:?}: one error line expected, got:\n{err}"
    );
    assert!(
        lines[0].contains(needle),
        "{args:?}: {:?} lacks {needle:?}",
        lines[0]
    );
}

#[test]
fn bad_training_input_fails_with_one_line_naming_it() {
    let dir = scratch("cli-bad");
    fails_naming(&["train", "--set", "remul.bta=1"], "remul.bta");
    fails_naming(&["train", "--beta", "-1"], "remul.beta");
    fails_naming(&["train", "--data", "/no/such/folder"], "/no/such/folder");
    let config = dir.join("typo.json");
    std::fs::write(&config, r#"{"epochs": 3, "modle": {"hidden": 8}}"#).unwrap();
    fails_naming(&["train", "--config", config.to_str().unwrap()], "modle");
    std::fs::write(&config, r#"{"remul": {"beta": -2}}"#).unwrap();
    fails_naming(
        &["train", "--config", config.to_str().unwrap()],
        "remul.beta",
    );
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    fails_naming(&["train", "--data", empty.to_str().unwrap()], "loc_train");
}

fn small_dataset(dir: &Path) {
    let config = ChargedConfig {
        seed: 9,
        train: 40,
        valid: 20,
        test: 20,
        ..ChargedConfig::default()
    };
    generate_charged(dir, &config, &mut |_, _| {}).unwrap();
}

#[test]
fn a_training_run_writes_its_folder_resumes_and_evaluates() {
    let dir = scratch("cli-run");
    let data = dir.join("data");
    small_dataset(&data);
    let run = dir.join("run");
    let (data_s, run_s) = (data.to_str().unwrap(), run.to_str().unwrap());
    let common = [
        "--data",
        data_s,
        "--batch-size",
        "20",
        "--hidden",
        "8",
        "--layers",
        "2",
        "--valid-every",
        "1",
        "--set",
        "data.loader.max_train=null",
        "--set",
        "eval.rotations=2",
    ];
    let mut args = vec!["train", "--epochs", "2", "--out", run_s];
    args.extend(common);
    let out = remul(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("epoch   2/2"), "{stdout}");
    for file in [
        "config.json",
        "metrics.jsonl",
        "last.safetensors",
        "best.safetensors",
        "losses.svg",
        "equivariance_by_angle.svg",
    ] {
        assert!(run.join(file).is_file(), "run folder lacks {file}");
    }

    // A second run into the same folder is refused; --resume continues it to epoch 3.
    let again = remul(&args);
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    let out = remul(&["train", "--resume", run_s, "--epochs", "3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("resuming") && stdout.contains("epoch   3/3"),
        "{stdout}"
    );
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 3, "{metrics}");

    // A run stopped after epoch 2 (as a kill mid-epoch 3 leaves it: the last checkpoint is
    // epoch 2's) and resumed ends with the losses of a run that never stopped.
    let straight = dir.join("straight");
    let mut args = vec![
        "train",
        "--epochs",
        "3",
        "--out",
        straight.to_str().unwrap(),
    ];
    args.extend(common);
    assert!(remul(&args).status.success());
    assert_eq!(run_losses(&run), run_losses(&straight));

    let best = run.join("best.safetensors");
    let out = remul(&["eval", "--checkpoint", best.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["samples"], 20);
    assert!(report["mse"].as_f64().unwrap().is_finite());
    assert!(report["equi_error"].as_f64().unwrap() > 0.0);

    // `eval --set` changes the probe: with identity transforms (no angle, no shift) even this
    // non-equivariant GNN has no equivariance error, up to float rounding.
    let ckpt = best.to_str().unwrap();
    let out = remul(&[
        "eval",
        "--checkpoint",
        ckpt,
        "--json",
        "--set",
        "remul.transform.max_angle_deg=0",
        "--set",
        "remul.transform.translation_std=0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(identity["mse"], report["mse"]);
    let err = identity["equi_error"].as_f64().unwrap();
    assert!(
        err < 1e-5,
        "identity transforms gave equivariance error {err}"
    );
    fails_naming(
        &["eval", "--checkpoint", ckpt, "--set", "model.hidden=4"],
        "model.hidden",
    );
    fails_naming(
        &[
            "eval",
            "--checkpoint",
            ckpt,
            "--set",
            "remul.transform.max_angle_deg=200",
        ],
        "remul.transform.max_angle_deg",
    );
}

/// The training losses and validation MSEs of a run folder's metrics, as printed JSON.
fn run_losses(run: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["train_task"].to_string(), v["valid"]["mse"].to_string())
        })
        .collect()
}

#[test]
fn a_killed_run_resumes_to_the_losses_of_a_straight_run() {
    let dir = scratch("cli-kill");
    let data = dir.join("data");
    small_dataset(&data);
    let (killed, straight) = (dir.join("killed"), dir.join("straight"));
    let args = |out: &Path| -> Vec<String> {
        let data = data.to_str().unwrap();
        let out = out.to_str().unwrap();
        "train --epochs 8 --batch-size 20 --hidden 8 --layers 2 --valid-every 1 \
         --form consistency --set data.loader.max_train=null --set eval.rotations=2"
            .split_whitespace()
            .chain(["--data", data, "--out", out])
            .map(String::from)
            .collect()
    };

    // Kill the process (SIGKILL on Unix: no chance to tidy up) as soon as two epochs are
    // on record, which lands somewhere in epoch 3's steps, validation or checkpoint.
    let mut child = Command::new(env!("CARGO_BIN_EXE_remul"))
        .args(args(&killed))
        .env("RUST_LOG", "remul=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the remul binary runs");
    let metrics = killed.join("metrics.jsonl");
    let lines = || std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count());
    while lines() < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run finished before the kill");
    assert!(lines() < 8, "the run finished before the kill");

    let out = remul(&["train", "--resume", killed.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let argv = args(&straight);
    let out = remul(&argv.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success());
    assert_eq!(run_losses(&killed).len(), 8);
    assert_eq!(run_losses(&killed), run_losses(&straight));
}

#[test]
fn every_preset_is_a_valid_config() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/presets");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let config = remul::train::TrainConfig::from_json(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        config
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        count += 1;
    }
    assert!(count >= 12, "expected the presets in {}", dir.display());
}

#[test]
fn bench_quick_writes_a_report_that_compare_reads() {
    let dir = scratch("cli-bench");
    let json = dir.join("bench.json");
    let out = remul(&["bench", "--quick", "--json", json.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ceilings: FMA") && stdout.contains("matmul_nn_64"),
        "{stdout}"
    );
    let report = remul::bench::read_report(&json).unwrap();
    assert!(report.ceilings.unwrap().fma_gflops > 0.0);
    let families: std::collections::BTreeSet<&str> =
        report.kernels.iter().map(|k| k.family.as_str()).collect();
    for family in [
        "matmul",
        "bias_act",
        "bias_act_backward",
        "reduce",
        "mse",
        "adam",
        "gather",
        "segment_sum",
        "edge_geometry",
        "edge_geometry_backward",
        "coord_update",
        "coord_update_backward",
        "rotate",
        "remul_loss",
        "gradnorm",
    ] {
        assert!(families.contains(family), "no {family} in {families:?}");
    }
    let names: std::collections::BTreeSet<&str> =
        report.kernels.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names.len(),
        report.kernels.len(),
        "kernel names must be unique"
    );
    assert_eq!(report.models.len(), 4);
    assert!(report.models.iter().all(|m| m.train_graphs_per_s > 0.0));

    let out = remul(&[
        "bench",
        "--compare",
        json.to_str().unwrap(),
        json.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("B/A"), "{stdout}");
    fails_naming(
        &["bench", "--compare", "/no/such.json", "/no/such.json"],
        "/no/such.json",
    );
}
