//! Work kept in the browser by an earlier version of the page opens in this one: each version of
//! the saved-work format keeps a file written by it here (`tests/data/playground_work_v*.bin`),
//! and every later version must open it. A new version adds its own file (run the ignored test
//! below once, `cargo test --test saved_work -- --ignored`) and keeps the old ones.

use neural_playground::data::DatasetKind;
use neural_playground::engine::OptimizerKind;
use neural_playground::playground::{PlaygroundConfig, Session};

const VERSION_1: &str = "tests/data/playground_work_v1.bin";

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

#[test]
#[ignore = "writes the current version's file: run once when the format's version changes"]
fn write_this_versions_file() {
    let bytes = the_work().save_work(1.8e12).expect("saves");
    std::fs::write(VERSION_1, bytes).expect("writes");
}
