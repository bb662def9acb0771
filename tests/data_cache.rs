//! The dataset cache: generate once, reuse afterwards, never leave a half dataset.

mod common;

use std::path::PathBuf;

use common::scratch;
use remul::data::cache::{charged_dir_name, ensure_charged};
use remul::data::{default_cache_dir, ChargedConfig};

fn tiny() -> ChargedConfig {
    ChargedConfig {
        train: 2,
        valid: 1,
        test: 1,
        ..ChargedConfig::default()
    }
}

#[test]
fn dataset_is_generated_once_then_reused() {
    let cache = scratch("cache-reuse");
    let mut calls = 0;
    let first = ensure_charged(&cache, &tiny(), &mut |_, _| calls += 1).unwrap();
    assert!(calls > 0);
    let generated = calls;
    let second = ensure_charged(&cache, &tiny(), &mut |_, _| calls += 1).unwrap();
    assert_eq!(first, second);
    assert_eq!(calls, generated, "the second call generated again");

    // Only the finished folder is left: no temporary folder, no `.tmp` file.
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(entries.len(), 1);
    assert!(std::fs::read_dir(&first).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}

#[test]
fn a_changed_configuration_gets_its_own_folder_but_thread_count_does_not() {
    let a = tiny();
    let b = ChargedConfig { seed: 1, ..tiny() };
    let c = ChargedConfig {
        threads: 7,
        ..tiny()
    };
    assert_ne!(charged_dir_name(&a), charged_dir_name(&b));
    assert_eq!(charged_dir_name(&a), charged_dir_name(&c));
}

#[test]
fn a_cached_folder_with_a_missing_file_is_reported() {
    let cache = scratch("cache-missing");
    let dir = ensure_charged(&cache, &tiny(), &mut |_, _| {}).unwrap();
    std::fs::remove_file(dir.join("vel_valid_charged5_initvel1small.npy")).unwrap();
    let msg = ensure_charged(&cache, &tiny(), &mut |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("vel_valid_charged5_initvel1small.npy"),
        "{msg}"
    );
}

#[test]
fn cache_dir_prefers_remul_cache_dir() {
    // The only test in this binary that touches the environment.
    std::env::set_var("REMUL_CACHE_DIR", "/some/where");
    assert_eq!(default_cache_dir(), Some(PathBuf::from("/some/where")));
    std::env::remove_var("REMUL_CACHE_DIR");
    std::env::set_var("XDG_CACHE_HOME", "/xdg");
    assert_eq!(default_cache_dir(), Some(PathBuf::from("/xdg/remul")));
}
