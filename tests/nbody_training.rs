//! N-body training end to end on a small generated dataset: losses fall, runs are
//! reproducible bit for bit, a resumed run continues exactly, and checkpoints round-trip.

mod common;

use common::{scratch, small_config, small_dataset, trainer};
use remul::kernels::remul_loss::Form;
use remul::models::ModelKind;
use remul::train::{Checkpoint, EpochMetrics, NbodyTrainer, Weighting};

fn run(t: &mut NbodyTrainer, epochs: usize) -> Vec<EpochMetrics> {
    (0..epochs).map(|_| t.epoch(&mut ()).unwrap()).collect()
}

/// The numbers that must agree between two runs (throughput and time never do).
fn losses(m: &[EpochMetrics]) -> Vec<(u64, u64, Option<u64>)> {
    m.iter()
        .map(|m| {
            (
                m.train_task.to_bits(),
                m.train_equi.to_bits(),
                m.valid.as_ref().map(|v| v.mse.to_bits()),
            )
        })
        .collect()
}

#[test]
fn remul_training_lowers_the_task_and_equivariance_losses() {
    let dir = scratch("train-falls");
    small_dataset(&dir);
    for kind in [ModelKind::Gnn, ModelKind::Egnn] {
        let mut config = small_config(&dir, kind, Form::Label);
        (config.epochs, config.batch_size) = (8, 10);
        let mut t = trainer(&config);
        let m = run(&mut t, 8);
        let (first, last) = (&m[0], &m[7]);
        assert!(
            last.train_task < 0.7 * first.train_task,
            "{kind:?}: task loss {} -> {}",
            first.train_task,
            last.train_task
        );
        assert!(
            last.train_equi < 0.7 * first.train_equi,
            "{kind:?}: equivariance loss {} -> {}",
            first.train_equi,
            last.train_equi
        );
        let valid = last.valid.as_ref().expect("the last epoch validates");
        assert!(valid.mse.is_finite() && valid.equi_error.is_finite());
        assert_eq!(
            valid
                .equi_by_angle
                .iter()
                .map(|b| b.transforms)
                .sum::<usize>(),
            20 * 2
        );
    }
}

#[test]
fn same_seed_same_adapter_gives_bit_identical_losses() {
    let dir = scratch("train-repeat");
    small_dataset(&dir);
    for (form, weighting) in [
        (Form::Label, Weighting::Fixed),
        (Form::Consistency, Weighting::Gradnorm),
    ] {
        let mut config = small_config(&dir, ModelKind::Gnn, form);
        config.remul.weighting = weighting;
        let a = losses(&run(&mut trainer(&config), 2));
        let b = losses(&run(&mut trainer(&config), 2));
        assert_eq!(a, b, "{form:?} with {weighting:?}");
        config.seed += 1;
        let c = losses(&run(&mut trainer(&config), 2));
        assert_ne!(a, c, "another seed must train differently");
    }
}

#[test]
fn a_resumed_run_matches_a_straight_run() {
    let dir = scratch("train-resume");
    small_dataset(&dir);
    let mut config = small_config(&dir, ModelKind::Gnn, Form::Consistency);
    config.remul.weighting = Weighting::Gradnorm;
    let mut uninterrupted = trainer(&config);
    let straight = losses(&run(&mut uninterrupted, 4));

    let mut first = trainer(&config);
    let mut resumed = run(&mut first, 2);
    let path = dir.join("last.safetensors");
    first.checkpoint().unwrap().save(&path).unwrap();
    drop(first);
    let mut second = trainer(&config);
    second
        .restore(&Checkpoint::load(&path).unwrap(), &path)
        .unwrap();
    assert_eq!(second.epochs_done(), 2);
    resumed.extend(run(&mut second, 2));
    assert_eq!(straight, losses(&resumed));
    let bits = |b: Option<(usize, f64, f64)>| b.map(|(e, v, t)| (e, v.to_bits(), t.to_bits()));
    assert_eq!(bits(second.best()), bits(uninterrupted.best()));
}

#[test]
fn a_checkpoint_of_another_model_is_refused_by_name() {
    let dir = scratch("train-wrong-ckpt");
    small_dataset(&dir);
    let gnn = trainer(&small_config(&dir, ModelKind::Gnn, Form::Label));
    let path = dir.join("gnn.safetensors");
    gnn.checkpoint().unwrap().save(&path).unwrap();
    let mut egnn = trainer(&small_config(&dir, ModelKind::Egnn, Form::Label));
    let err = egnn
        .restore(&Checkpoint::load(&path).unwrap(), &path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("gnn") && err.contains("egnn"), "{err}");

    std::fs::write(&path, b"not a checkpoint").unwrap();
    let err = Checkpoint::load(&path).unwrap_err().to_string();
    assert!(err.contains("gnn.safetensors"), "{err}");
}
