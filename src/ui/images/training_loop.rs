//! The training loop of the Images page, wherever it runs: in a Web Worker (`worker.rs`), or on
//! the page itself when the browser cannot start one. It takes commands, trains in slices (a few
//! tens of milliseconds in a worker, a dozen on the page) so that commands are answered between
//! slices, and reports as [`Pacing`] says. A run set to train on the GPU does so once the
//! search at start has found one ([`super::gpu_slice`]); otherwise the CPU engine trains it.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::timers::callback::Timeout;
use yew::platform::spawn_local;

use super::envelope::Envelope;
use super::gpu_slice::gpu_slice;
use super::pacing::Pacing;
pub use super::pacing::{Beside, Outbox};
use crate::data::digits::DigitSet;
use crate::engine::EngineError;
use crate::playground::backend::{GpuDevice, find_gpu};
use crate::playground::images::protocol::{Command, Report};
use crate::playground::images::training::TrainingRun;

/// Training time per slice in a worker, before it looks at its messages again.
pub const WORKER_SLICE_MS: f64 = 40.0;
/// Training time per slice on the page itself: short, so that frames are still drawn.
pub const IN_PAGE_SLICE_MS: f64 = 12.0;

/// The state of the loop; share it as [`SharedLoop`].
pub struct TrainingLoop {
    pub(super) outbox: Outbox,
    slice_ms: f64,
    /// The GPU found by the search at start, which passed its self-test.
    gpu: Option<GpuDevice>,
    digits: Option<DigitSet>,
    /// The run; out with a GPU slice while that one awaits the GPU.
    pub(super) run: Option<TrainingRun>,
    pub(super) playing: bool,
    pub(super) slice_scheduled: bool,
    /// Bumped whenever the run is replaced or forgotten, so that a GPU slice that was out
    /// with the old run drops it.
    pub(super) generation: u64,
    pub(super) pacing: Pacing,
    /// Steps a GPU slice submits (adapted to the GPU's speed).
    pub(super) gpu_steps_per_slice: usize,
    /// A save asked for (with the page's JSON) while a GPU slice had the run out: answered
    /// when the slice brings it back.
    pub(super) save_waiting: Option<String>,
}

pub type SharedLoop = Rc<RefCell<TrainingLoop>>;

impl TrainingLoop {
    /// A loop that trains `slice_ms` at a time and says it is ready. Also starts looking for a
    /// GPU, and reports what it finds.
    pub fn start(outbox: Outbox, slice_ms: f64) -> SharedLoop {
        outbox(&Report::Ready, Beside::default());
        let state = Rc::new(RefCell::new(TrainingLoop {
            outbox,
            slice_ms,
            gpu: None,
            digits: None,
            run: None,
            playing: false,
            slice_scheduled: false,
            generation: 0,
            pacing: Pacing::default(),
            gpu_steps_per_slice: 4,
            save_waiting: None,
        }));
        let searching = Rc::clone(&state);
        spawn_local(async move {
            let found = find_gpu().await;
            let mut state = searching.borrow_mut();
            let report = Report::Gpu {
                found: found
                    .as_ref()
                    .map(|device| format!("{}{}", device.description, device.software_note()))
                    .map_err(String::clone),
            };
            state.gpu = found.ok();
            state.post(&report, Beside::default());
        });
        state
    }

    fn post(&self, report: &Report, beside: Beside) {
        (self.outbox)(report, beside);
    }

    /// Makes `run` the loop's run (stopped), after telling the page how its data are split and
    /// how it tests as it is (the curves start there).
    fn take_run(&mut self, mut run: TrainingRun) -> Result<(), String> {
        self.forget_run();
        let split = run.split();
        self.post(
            &Report::Started {
                train_count: split.train.len(),
                test_count: split.test.len(),
            },
            Beside::default(),
        );
        let report = run.evaluate().map_err(|e| e.to_string())?;
        let weights = run.model().params().to_flat();
        self.post(&Report::Tested { report }, Beside::weights(weights));
        let examples_seen = run.take_progress().examples_seen;
        if let Some(message) = run.take_notice() {
            self.post(&Report::Notice { message }, Beside::default());
        }
        self.pacing.restart(now(), examples_seen, run.epoch());
        self.run = Some(run);
        Ok(())
    }

    /// Answers a save with the run as it stands (nothing beside the answer without one). A run
    /// that cannot be written is not stopped for it: the page hears why.
    pub(super) fn save(&self, page: &str) {
        let checkpoint = match self.run.as_ref().map(|run| run.save(page)) {
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(reason)) => {
                let message = format!("This run cannot be kept in the browser: {reason}");
                self.post(&Report::Notice { message }, Beside::default());
                None
            }
            None => None,
        };
        let beside = Beside {
            weights: None,
            checkpoint,
        };
        self.post(&Report::Saved, beside);
    }

    /// Answers the save that waited for a GPU slice to bring the run back, if one did.
    pub(super) fn answer_waiting_save(&mut self) {
        if let Some(page) = self.save_waiting.take() {
            self.save(&page);
        }
    }

    /// Forgets the run (a GPU slice out with it will drop it).
    fn forget_run(&mut self) {
        self.playing = false;
        self.run = None;
        self.generation += 1;
    }
}

/// Takes one command with the bulky data that came beside it; a command that cannot be carried
/// out is answered with [`Report::Failed`].
pub fn receive(state: &SharedLoop, command: Command, envelope: Envelope) {
    if let Err(message) = handle(state, command, envelope) {
        state
            .borrow()
            .post(&Report::Failed { message }, Beside::default());
    }
}

pub(super) fn now() -> f64 {
    js_sys::Date::now()
}

/// What the page is told when a step diverged and the weights of the last test are back.
pub(super) fn pause_reason(error: &EngineError) -> Report {
    Report::Paused {
        reason: Some(format!(
            "{error}. The weights of the last test are back; lower the learning rate and press Train."
        )),
    }
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
            guard.forget_run();
        }
        Command::Start { settings, weights } => {
            let mut run = TrainingRun::from_settings(settings, guard.digits.as_ref())
                .map_err(|e| e.to_string())?;
            if let Some(weights) = weights {
                run.start_from(&weights).map_err(|e| e.to_string())?;
            }
            guard.take_run(run)?;
            guard.playing = true;
        }
        Command::Save { page } => {
            if guard.run.is_none() && guard.slice_scheduled {
                // A GPU slice has the run out; it answers when it brings the run back.
                guard.save_waiting = Some(page);
            } else {
                guard.save(&page);
            }
        }
        Command::Resume => {
            let bytes = envelope
                .checkpoint
                .ok_or("the saved run came without its bytes")?;
            let (run, page) = TrainingRun::open_saved(&bytes, guard.digits.as_ref())?;
            guard.post(&Report::Resumed { page }, Beside::default());
            guard.take_run(run)?;
            guard.post(&Report::Paused { reason: None }, Beside::default());
        }
        Command::Play => {
            if let Some(run) = guard.run.as_mut().filter(|run| !run.is_finished()) {
                let examples_seen = run.take_progress().examples_seen;
                guard.pacing.resume(now(), examples_seen);
                guard.playing = true;
            }
        }
        Command::Pause => {
            guard.playing = false;
            guard.post(&Report::Paused { reason: None }, Beside::default());
        }
        Command::Reset => guard.forget_run(),
    }
    let schedule = guard.playing && !guard.slice_scheduled;
    drop(guard);
    if schedule {
        schedule_slice(state);
    }
    Ok(())
}

/// Runs the next slice from a zero timeout, which lets the commands that arrived during the
/// last one run first: on the GPU when the run wants it and there is one, else on the CPU.
pub(super) fn schedule_slice(state: &SharedLoop) {
    state.borrow_mut().slice_scheduled = true;
    let state = Rc::clone(state);
    Timeout::new(0, move || {
        let gpu = {
            let guard = state.borrow();
            let wants_gpu = guard.run.as_ref().is_some_and(TrainingRun::wants_gpu);
            guard.gpu.clone().filter(|_| wants_gpu)
        };
        if let Some(device) = gpu {
            spawn_local(gpu_slice(state, device));
            return;
        }
        let mut guard = state.borrow_mut();
        guard.slice_scheduled = false;
        guard.answer_waiting_save();
        let again = cpu_slice(&mut guard);
        drop(guard);
        if again {
            schedule_slice(&state);
        }
    })
    .forget();
}

/// Trains on the CPU for one slice and reports; returns whether to go on.
fn cpu_slice(state: &mut TrainingLoop) -> bool {
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
            post(&pause_reason(&error), Beside::default());
            return false;
        }
    }
    state.playing = state.pacing.report(run, true, &post, now);
    state.playing
}
