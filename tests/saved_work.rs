//! Work kept in the browser by an earlier version of the page opens in this one: each version of
//! the saved-work format keeps a file written by it here (`tests/data/playground_work_v*.bin`),
//! and every later version must open it. A new version adds its own file (run the ignored test
//! below once, `cargo test --test saved_work -- --ignored`) and keeps the old ones.

use neural_playground::data::DatasetKind;
use neural_playground::engine::OptimizerKind;
use neural_playground::playground::images::training::TrainingRun;
use neural_playground::playground::sequences::SequenceSettings;
use neural_playground::playground::{PlaygroundConfig, Session};

const VERSION_1: &str = "tests/data/playground_work_v1.bin";
/// A Sequences page's run (the default LSTM on bit counting, 30 steps in), as version 1 kept it.
const RUN_VERSION_1: &str = "tests/data/sequences_run_v1.bin";

/// The work every version's file holds: the spiral with Adam, a point clicked in, four epochs.
fn the_work() -> Session {
    let config = PlaygroundConfig {
        dataset: DatasetKind::Spiral,
        optimizer: OptimizerKind::Adam,
        ..PlaygroundConfig::default()
    };
    let mut session = Session::new(config).expect("builds");
    session.add_point(0.5, -0.25, 1.0).expect("adds");
    for _ in 0..4 {
        session.train_epoch().expect("trains");
    }
    session
}

#[test]
fn work_kept_by_version_1_opens_and_trains_on() {
    let bytes = std::fs::read(VERSION_1).expect("the version 1 file is committed");
    let opened = Session::open_work(&bytes).expect("version 1 opens");
    let mut kept = opened.session;
    let mut fresh = the_work();
    assert_eq!(kept.epoch(), 4);
    assert_eq!(kept.config().dataset, DatasetKind::Spiral);
    assert_eq!(kept.train_points(), fresh.train_points());
    // The same numbers (within what another CPU's kernels may round differently), before
    // and after one more epoch.
    assert_close(&kept.parameters(), &fresh.parameters());
    kept.train_epoch().expect("trains on");
    fresh.train_epoch().expect("trains on");
    assert_close(&kept.parameters(), &fresh.parameters());
}

fn assert_close(got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len());
    for (index, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-4 * (1.0 + e.abs()),
            "parameter {index}: {g} vs {e}"
        );
    }
}

/// The run every version's file holds, and the page's part saved with it.
fn the_run() -> TrainingRun {
    let mut run = TrainingRun::from_settings(SequenceSettings::default().run_settings(), None)
        .expect("builds");
    for _ in 0..30 {
        run.step().expect("steps");
    }
    run
}

#[test]
fn a_run_kept_by_version_1_opens_and_trains_on() {
    let bytes = std::fs::read(RUN_VERSION_1).expect("the version 1 run is committed");
    let (mut kept, page) = TrainingRun::open_saved(&bytes, None).expect("version 1 opens");
    assert_eq!(page, "{\"page\":\"sequences\"}");
    let mut fresh = the_run();
    assert_eq!(kept.take_progress().steps, 30);
    fresh.take_progress();
    for _ in 0..5 {
        kept.step().expect("steps");
        fresh.step().expect("steps");
    }
    let (kept, fresh) = (kept.model().params(), fresh.model().params());
    for id in kept.ids() {
        assert_close(kept.value(id).data(), fresh.value(id).data());
    }
}

#[test]
#[ignore = "writes the current version's files: run once when the format's version changes"]
fn write_this_versions_files() {
    let bytes = the_work().save_work(1.8e12).expect("saves");
    std::fs::write(VERSION_1, bytes).expect("writes");
    let bytes = the_run().save("{\"page\":\"sequences\"}").expect("saves");
    std::fs::write(RUN_VERSION_1, bytes).expect("writes");
}
