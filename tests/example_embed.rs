//! The embedding example (`examples/embed.rs`), run the way a user runs it: it trains a small
//! model on the application's own device, predicts through the application's own encoder and
//! staging buffer, and agrees with the CPU twin.

use std::process::Command;

#[test]
fn embed_example_predicts_on_the_applications_device_and_matches_the_cpu_twin() {
    // A plain `cargo test` has built the example already; `--test example_embed` does not, so
    // then this builds it first (dev profile, after the build lock is free).
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--example", "embed"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        out.status.success(),
        "the example failed ({}):\n{all}",
        out.status
    );

    // The prediction table: a header, then one row per node of the first graph (5 bodies).
    assert!(stdout.contains("and predicted"), "{all}");
    let rows = stdout
        .lines()
        .filter(|l| l.split('|').count() == 4 && l.trim_start().starts_with(char::is_numeric))
        .count();
    assert_eq!(
        rows, 5,
        "expected a row per node of the first graph:\n{all}"
    );
    assert!(
        stdout.contains("dispatches in the application's encoder, one submit"),
        "{all}"
    );

    // The CPU check ran and passed, with a reported difference within its tolerance.
    let check = stdout
        .lines()
        .find(|l| l.starts_with("CPU twin check: max |GPU - CPU| = "))
        .unwrap_or_else(|| panic!("no CPU twin check in the output:\n{all}"));
    let diff: f64 = check
        .trim_start_matches("CPU twin check: max |GPU - CPU| = ")
        .split(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("unreadable difference in {check:?}"));
    assert!(diff <= 1e-3, "{check}");
}
