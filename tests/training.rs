//! The first training loop: an MLP learns the synthetic regression task, steps keep to one
//! submit each, and a seed fixes every loss bit for bit.

mod common;

use common::engine;
use remul::train::{RegressionConfig, RegressionTrainer};

fn small() -> RegressionConfig {
    RegressionConfig {
        train_samples: 2048,
        valid_samples: 256,
        batch_size: 64,
        epochs: 15,
        hidden: 64,
        ..RegressionConfig::default()
    }
}

#[test]
fn mlp_regression_loss_falls_tenfold() {
    let mut trainer = RegressionTrainer::new(engine(), small()).unwrap();
    let history = trainer.run(&mut ()).unwrap();
    let first = history.first().unwrap().train_loss;
    let last = history.last().unwrap();
    assert!(
        last.train_loss * 10.0 < first,
        "training loss went from {first} to {} only",
        last.train_loss
    );
    assert!(last.valid_loss.unwrap() * 10.0 < first, "{last:?}");
}

#[test]
fn a_training_epoch_submits_once_per_step_and_reads_back_only_at_its_end() {
    // An engine of its own: the shared one's counters see the other tests' work too.
    let e = &remul::Engine::new(remul::EngineOptions::default()).unwrap();
    let mut trainer = RegressionTrainer::new(e, small()).unwrap();
    trainer.epoch(&mut ()).unwrap(); // warm-up: pipelines compiled, pool filled
    let before = e.counters().snapshot();
    trainer.epoch(&mut ()).unwrap();
    let used = e.counters().snapshot() - before;
    let steps = trainer.steps_per_epoch() as u64;
    // One submit per step; then the loss history readback and the validation pass with its
    // readback, each a submit of its own.
    assert_eq!(used.submits, steps + 3, "{used:?}");
    assert_eq!(used.blocking_readbacks, 2, "{used:?}");
    // Readback staging buffers are not pooled; no storage buffer is allocated.
    assert_eq!(used.buffer_allocations, 0, "{used:?}");
}

#[test]
fn the_same_seed_gives_identical_losses() {
    let run = || {
        let mut config = small();
        config.epochs = 2;
        let mut t = RegressionTrainer::new(engine(), config).unwrap();
        t.run(&mut ())
            .unwrap()
            .into_iter()
            .map(|s| (s.train_loss.to_bits(), s.valid_loss.unwrap().to_bits()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn a_zero_batch_size_is_rejected_by_name() {
    let config = RegressionConfig {
        batch_size: 0,
        ..small()
    };
    let err = RegressionTrainer::new(engine(), config).unwrap_err();
    assert!(err.to_string().contains("batch_size"), "{err}");
}
