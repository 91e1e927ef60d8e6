//! The training loop of the Images page, wherever it runs: in a Web Worker (`worker.rs`), or on
//! the page itself when the browser cannot start one. It takes commands, trains in slices of a
//! few milliseconds (tens in a worker, a dozen on the page) so that commands are answered between
//! slices, and reports progress a few times a second and test results every couple of seconds.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::callback::Timeout;

use super::envelope::Envelope;
use crate::data::digits::DigitSet;
use crate::playground::images::protocol::{Command, Report};
use crate::playground::images::training::TrainingRun;

/// Training time per slice in a worker, before it looks at its messages again.
pub const WORKER_SLICE_MS: f64 = 40.0;
/// Training time per slice on the page itself: short, so that frames are still drawn.
pub const IN_PAGE_SLICE_MS: f64 = 12.0;
/// Time between progress reports.
const PROGRESS_EVERY_MS: f64 = 250.0;
/// Shortest time between test evaluations (longer when an evaluation is slow, so that testing
/// never takes more than a tenth of the time).
const TEST_EVERY_MS: f64 = 2000.0;

/// Where reports go: `postMessage` in a worker, the page's callback in the page.
pub type Outbox = Rc<dyn Fn(&Report, Option<Vec<f32>>)>;

/// The state of the loop; share it as [`SharedLoop`].
pub struct TrainingLoop {
    outbox: Outbox,
    slice_ms: f64,
    digits: Option<DigitSet>,
    run: Option<TrainingRun>,
    playing: bool,
    slice_scheduled: bool,
    last_progress_ms: f64,
    last_test_ms: f64,
    test_cost_ms: f64,
    examples_at_last_progress: u64,
    epoch_at_last_test: usize,
}

pub type SharedLoop = Rc<RefCell<TrainingLoop>>;

impl TrainingLoop {
    /// A loop that trains `slice_ms` at a time and says it is ready.
    pub fn start(outbox: Outbox, slice_ms: f64) -> SharedLoop {
        outbox(&Report::Ready, None);
        Rc::new(RefCell::new(TrainingLoop {
            outbox,
            slice_ms,
            digits: None,
            run: None,
            playing: false,
            slice_scheduled: false,
            last_progress_ms: 0.0,
            last_test_ms: 0.0,
            test_cost_ms: 0.0,
            examples_at_last_progress: 0,
            epoch_at_last_test: 0,
        }))
    }

    fn post(&self, report: &Report, weights: Option<Vec<f32>>) {
        (self.outbox)(report, weights);
    }
}

/// Takes one command with the bulky data that came beside it; a command that cannot be carried
/// out is answered with [`Report::Failed`].
pub fn receive(state: &SharedLoop, command: Command, envelope: Envelope) {
    if let Err(message) = handle(state, command, envelope) {
        state.borrow().post(&Report::Failed { message }, None);
    }
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn handle(state: &SharedLoop, command: Command, envelope: Envelope) -> Result<(), String> {
    let mut guard = state.borrow_mut();
    match command {
        Command::UseDigits { name } => {
            let (Some(pixels), Some(labels)) = (envelope.pixels, envelope.labels) else {
                return Err("the digits came without their pixels or labels".to_string());
            };
            guard.digits = Some(DigitSet {
                name,
                pixels,
                labels,
            });
            guard.run = None;
            guard.playing = false;
        }
        Command::Start { settings } => {
            let digits = guard
                .digits
                .clone()
                .ok_or("no digits yet: wait until they are loaded")?;
            guard.playing = false;
            guard.run = None;
            let mut run = TrainingRun::new(digits, settings).map_err(|e| e.to_string())?;
            let split = run.split();
            guard.post(
                &Report::Started {
                    train_count: split.train.len(),
                    test_count: split.test.len(),
                },
                None,
            );
            // The untrained model's test result: the curves start at chance.
            let report = run.evaluate().map_err(|e| e.to_string())?;
            guard.post(
                &Report::Tested { report },
                Some(run.model().params().to_flat()),
            );
            guard.run = Some(run);
            guard.last_test_ms = now();
            guard.last_progress_ms = now();
            guard.examples_at_last_progress = 0;
            guard.epoch_at_last_test = 0;
            guard.playing = true;
        }
        Command::Play => {
            if guard.run.as_ref().is_some_and(|run| !run.is_finished()) {
                guard.playing = true;
                guard.last_progress_ms = now();
                guard.examples_at_last_progress = guard
                    .run
                    .as_mut()
                    .map_or(0, |run| run.take_progress().examples_seen);
            }
        }
        Command::Pause => {
            guard.playing = false;
            guard.post(&Report::Paused { reason: None }, None);
        }
        Command::Reset => {
            guard.playing = false;
            guard.run = None;
        }
    }
    let schedule = guard.playing && !guard.slice_scheduled;
    drop(guard);
    if schedule {
        schedule_slice(state);
    }
    Ok(())
}

fn schedule_slice(state: &SharedLoop) {
    state.borrow_mut().slice_scheduled = true;
    let state = Rc::clone(state);
    // A zero timeout lets the commands that arrived during the slice run first.
    Timeout::new(0, move || {
        state.borrow_mut().slice_scheduled = false;
        let again = train_slice(&mut state.borrow_mut());
        if again {
            schedule_slice(&state);
        }
    })
    .forget();
}

/// Trains for one slice and reports; returns whether to go on.
fn train_slice(state: &mut TrainingLoop) -> bool {
    if !state.playing {
        return false;
    }
    let post = Rc::clone(&state.outbox);
    let Some(run) = state.run.as_mut() else {
        return false;
    };
    let start = now();
    while now() - start < state.slice_ms && !run.is_finished() {
        if let Err(error) = run.step() {
            state.playing = false;
            post(
                &Report::Paused {
                    reason: Some(format!(
                        "{error}. The weights of the last test are back; lower the learning rate and press Train."
                    )),
                },
                None,
            );
            return false;
        }
    }
    let time = now();
    let finished = run.is_finished();
    let epoch_done = run.epoch() != state.epoch_at_last_test;
    if time - state.last_progress_ms >= PROGRESS_EVERY_MS || finished || epoch_done {
        let progress = run.take_progress();
        let seconds = ((time - state.last_progress_ms) / 1000.0).max(1e-3);
        let examples = progress.examples_seen - state.examples_at_last_progress;
        post(
            &Report::Progress {
                progress,
                examples_per_second: (examples as f64 / seconds) as f32,
            },
            None,
        );
        state.last_progress_ms = time;
        state.examples_at_last_progress = progress.examples_seen;
    }
    let test_due = time - state.last_test_ms >= TEST_EVERY_MS.max(10.0 * state.test_cost_ms);
    if test_due || finished || epoch_done {
        let test_start = now();
        match run.evaluate() {
            Ok(report) => post(
                &Report::Tested { report },
                Some(run.model().params().to_flat()),
            ),
            Err(error) => post(
                &Report::Failed {
                    message: error.to_string(),
                },
                None,
            ),
        }
        state.test_cost_ms = now() - test_start;
        state.last_test_ms = now();
        state.epoch_at_last_test = run.epoch();
    }
    if finished {
        state.playing = false;
        post(&Report::Finished, None);
        return false;
    }
    true
}
