//! How often a training loop reports: progress a few times a second, a test on the held-out
//! digits every couple of seconds (less often when a test is slow, so that testing never takes
//! more than a tenth of the time), and both at the end of every epoch.

use std::rc::Rc;

use crate::playground::images::protocol::Report;
use crate::playground::images::training::TrainingRun;

/// Time between progress reports.
const PROGRESS_EVERY_MS: f64 = 250.0;
/// Shortest time between test evaluations.
const TEST_EVERY_MS: f64 = 2000.0;

/// Where reports go: `postMessage` in a worker, the page's callback in the page.
pub type Outbox = Rc<dyn Fn(&Report, Beside)>;

/// The bulky data that may travel beside a report, as typed arrays: the model's weights (with
/// a test), or a saved run (with [`Report::Saved`]).
#[derive(Default)]
pub struct Beside {
    pub weights: Option<Vec<f32>>,
    pub checkpoint: Option<Vec<u8>>,
}

impl Beside {
    pub fn weights(weights: Vec<f32>) -> Beside {
        Beside {
            weights: Some(weights),
            checkpoint: None,
        }
    }
}

/// When the last reports went out.
#[derive(Default)]
pub struct Pacing {
    last_progress_ms: f64,
    last_test_ms: f64,
    test_cost_ms: f64,
    examples_at_last_progress: u64,
    epoch_at_last_test: usize,
}

impl Pacing {
    /// Counts from now, as if both reports had just gone out (a new or resumed run).
    pub fn restart(&mut self, now_ms: f64, examples_seen: u64, epoch: usize) {
        self.last_progress_ms = now_ms;
        self.last_test_ms = now_ms;
        self.examples_at_last_progress = examples_seen;
        self.epoch_at_last_test = epoch;
    }

    /// Restarts only the progress clock (a resumed run: its examples per second start now).
    pub fn resume(&mut self, now_ms: f64, examples_seen: u64) {
        self.last_progress_ms = now_ms;
        self.examples_at_last_progress = examples_seen;
    }

    fn epoch_done(&self, run: &TrainingRun) -> bool {
        run.epoch() != self.epoch_at_last_test
    }

    /// Whether a test is due at `now_ms`.
    pub fn test_due(&self, run: &TrainingRun, now_ms: f64) -> bool {
        now_ms - self.last_test_ms >= TEST_EVERY_MS.max(10.0 * self.test_cost_ms)
            || run.is_finished()
            || self.epoch_done(run)
    }

    /// Sends what is due after some training: progress, a test (with the weights it used) if
    /// `can_test` (the run's CPU model holds its current weights), and the end of the run.
    /// Returns whether the run goes on.
    pub fn report(
        &mut self,
        run: &mut TrainingRun,
        can_test: bool,
        post: &Outbox,
        now: impl Fn() -> f64,
    ) -> bool {
        let time = now();
        let finished = run.is_finished();
        if let Some(message) = run.take_notice() {
            post(&Report::Notice { message }, Beside::default());
        }
        if time - self.last_progress_ms >= PROGRESS_EVERY_MS || finished || self.epoch_done(run) {
            let progress = run.take_progress();
            let seconds = ((time - self.last_progress_ms) / 1000.0).max(1e-3);
            let examples = progress.examples_seen - self.examples_at_last_progress;
            post(
                &Report::Progress {
                    progress,
                    examples_per_second: (examples as f64 / seconds) as f32,
                },
                Beside::default(),
            );
            self.last_progress_ms = time;
            self.examples_at_last_progress = progress.examples_seen;
        }
        if can_test && self.test_due(run, time) {
            let test_start = now();
            match run.evaluate() {
                Ok(report) => post(
                    &Report::Tested { report },
                    Beside::weights(run.model().params().to_flat()),
                ),
                Err(error) => post(
                    &Report::Failed {
                        message: error.to_string(),
                    },
                    Beside::default(),
                ),
            }
            self.test_cost_ms = now() - test_start;
            self.last_test_ms = now();
            self.epoch_at_last_test = run.epoch();
        }
        if finished {
            post(&Report::Finished, Beside::default());
        }
        !finished
    }
}
