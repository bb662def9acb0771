//! The engine's step discipline, counted: one submit a training step, no blocking readback
//! and no allocation at steady state. One test in its own binary, so that no other test
//! shares the engine's counters while it counts.

mod common;

use common::{engine, scratch, small_config, small_dataset, trainer};
use remul::kernels::remul_loss::Form;
use remul::models::ModelKind;
use remul::train::Weighting;

#[test]
fn a_steady_state_training_step_is_one_submit_without_waiting_or_allocating() {
    // Counts, not times: after a warm-up epoch (which plans the batch layout and compiles
    // the pipelines), an epoch of `steps` steps submits once a step, allocates no buffer,
    // and waits for the GPU once, when it reads the epoch's loss history at the end (one
    // more submit, for that copy).
    let dir = scratch("train-discipline");
    small_dataset(&dir);
    for (form, weighting, augment) in [
        (Form::Label, Weighting::Fixed, false),
        (Form::Consistency, Weighting::Gradnorm, false),
        (Form::None, Weighting::Fixed, true),
    ] {
        let mut config = small_config(&dir, ModelKind::Gnn, form);
        config.remul.weighting = weighting;
        config.remul.augment = augment;
        config.valid_every = 1000;
        let mut t = trainer(&config);
        t.epoch(&mut ()).unwrap();
        let before = engine().counters().snapshot();
        t.epoch(&mut ()).unwrap();
        let d = engine().counters().snapshot() - before;
        let steps = t.steps_per_epoch() as u64;
        let what = format!("{form:?} {weighting:?} augment {augment}");
        assert_eq!(d.submits, steps + 1, "{what}: submits");
        assert_eq!(d.blocking_readbacks, 1, "{what}: blocking readbacks");
        assert_eq!(d.buffer_allocations, 0, "{what}: buffer allocations");
        assert!(
            d.dispatches >= 10 * steps,
            "{what}: {} dispatches",
            d.dispatches
        );
    }
}
