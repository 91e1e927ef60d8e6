//! A training page's run kept in this browser (the Images and Sequences pages): saved through
//! the worker as it trains ([`Command::Save`]), read back at start-up, and offered to the worker
//! ([`Command::Resume`]) once it can take it: at once when the page opened on the set-up the run
//! was saved with, on request ("Open my work") when a link opened another one.
//!
//! [`Command::Save`]: crate::playground::images::protocol::Command::Save
//! [`Command::Resume`]: crate::playground::images::protocol::Command::Resume

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use yew::Callback;

use super::curves::TestPoint;
use crate::playground::images::protocol::Report;
use crate::playground::images::training::{Progress, saved_run_settings};
use crate::ui::autosave::{self, Autosave, SaveStatus};
use crate::ui::saved_work_view::WorkNotice;

/// What a page keeps beside its run: its set-up `S` (as its link has it), its curves and where
/// the run stood.
#[derive(Serialize, Deserialize)]
pub struct RunCurves<S> {
    pub setup: S,
    pub train_loss: Vec<(f32, f32)>,
    pub tests: Vec<TestPoint>,
    pub progress: Option<Progress>,
    /// The state gradients of the run's first test (the Sequences page's "before training").
    #[serde(default)]
    pub first_gradients: Vec<f32>,
    /// Milliseconds since 1970.
    pub saved_at: f64,
}

/// The kept run of the page whose store key is `key` and whose set-up is `S`.
pub struct KeptRun<S> {
    key: &'static str,
    autosave: Autosave,
    /// Read at start-up, not offered to the worker yet.
    kept: Option<Vec<u8>>,
    notice: Option<WorkNotice>,
    /// A run saved with another set-up than the link's, waiting for "Open my work".
    waiting: Option<(S, Vec<u8>)>,
}

impl<S: Serialize + DeserializeOwned + PartialEq> KeptRun<S> {
    /// Starts reading the kept run (`read` gets it) and ticks `tick` every
    /// [`autosave::SAVE_RUN_EVERY_MS`].
    pub fn new(
        key: &'static str,
        tick: Callback<()>,
        read: Callback<Result<Option<Vec<u8>>, String>>,
    ) -> KeptRun<S> {
        yew::platform::spawn_local(async move {
            read.emit(autosave::load(key).await);
        });
        KeptRun {
            key,
            autosave: Autosave::new(autosave::SAVE_RUN_EVERY_MS, tick),
            kept: None,
            notice: None,
            waiting: None,
        }
    }

    pub fn status(&self) -> &SaveStatus {
        self.autosave.status()
    }

    pub fn notice(&self) -> Option<WorkNotice> {
        self.notice.clone()
    }

    pub fn dismiss(&mut self) {
        self.notice = None;
    }

    /// The kept run was read (or the store refused).
    pub fn read(&mut self, read: Result<Option<Vec<u8>>, String>) {
        let store = read.map(|kept| self.kept = kept);
        if let Err(reason) = &store {
            self.notice = Some(WorkNotice::NotKept(reason.clone()));
        }
        self.autosave.read(store);
    }

    /// Once the worker can take a run (and none is under way): the kept one's bytes, to resume,
    /// when it was saved with `setup`; otherwise it waits, and the notice says so.
    pub fn offer(&mut self, setup: &S) -> Option<Vec<u8>> {
        let bytes = self.kept.take()?;
        let curves = saved_run_settings(&bytes).and_then(|(_, page)| {
            serde_json::from_str::<RunCurves<S>>(&page)
                .map_err(|error| format!("its curves cannot be read: {error}"))
        });
        match curves {
            Err(reason) => {
                self.notice = Some(WorkNotice::Unreadable(reason));
                None
            }
            Ok(curves) if curves.setup == *setup => Some(bytes),
            Ok(curves) => {
                self.notice = Some(WorkNotice::Waiting {
                    saved_at: curves.saved_at,
                });
                self.waiting = Some((curves.setup, bytes));
                None
            }
        }
    }

    /// "Open my work": the waiting run's set-up (for the page to take) and bytes.
    pub fn open_waiting(&mut self) -> Option<(S, Vec<u8>)> {
        self.notice = None;
        self.waiting.take()
    }

    /// A report from the worker: one that says the run moved on (progress, a test, a pause,
    /// the end) has it saved at a coming tick.
    pub fn heard(&mut self, report: &Report) {
        if matches!(
            report,
            Report::Progress { .. }
                | Report::Tested { .. }
                | Report::Paused { .. }
                | Report::Finished
        ) {
            self.autosave.changed();
        }
    }

    /// At a tick: whether to save now, while a run is `running` (or kept paused or finished);
    /// if so, the page sends [`KeptRun::page`] of its curves with the save.
    pub fn due(&mut self, running: bool) -> bool {
        running && self.autosave.due()
    }

    /// The page's part of a run saved now, as JSON.
    pub fn page(mut curves: RunCurves<S>) -> String {
        curves.saved_at = autosave::now();
        serde_json::to_string(&curves).unwrap_or_default()
    }

    /// The worker's answer to a save: the run's bytes to store (`done` hears how it went), or
    /// none when it had nothing to save.
    pub fn saved(&mut self, checkpoint: Option<Vec<u8>>, done: Callback<Result<f64, String>>) {
        let Some(bytes) = checkpoint else {
            self.autosave.skipped();
            return;
        };
        let (key, saved_at) = (self.key, autosave::now());
        yew::platform::spawn_local(async move {
            let saved = autosave::save(key, &bytes).await;
            done.emit(saved.map(|()| saved_at));
        });
    }

    /// A save ended.
    pub fn done(&mut self, result: Result<f64, String>) {
        if let Err(reason) = &result {
            self.notice = Some(WorkNotice::NotKept(reason.clone()));
        }
        self.autosave.finished(result);
    }

    /// The worker took up the kept run: the page's part, and the notice that it is back.
    pub fn resumed(&mut self, page: &str) -> Option<RunCurves<S>> {
        match serde_json::from_str::<RunCurves<S>>(page) {
            Ok(curves) => {
                self.notice = Some(WorkNotice::Restored {
                    saved_at: curves.saved_at,
                    epoch: curves.progress.map_or(0, |progress| progress.epoch),
                });
                Some(curves)
            }
            Err(error) => {
                self.notice = Some(WorkNotice::Unreadable(format!(
                    "its curves cannot be read: {error}"
                )));
                None
            }
        }
    }

    /// The run was reset: nothing is kept (a reload starts afresh too).
    pub fn forget(&mut self) {
        self.notice = None;
        self.waiting = None;
        let key = self.key;
        yew::platform::spawn_local(async move {
            let _ = autosave::forget(key).await;
        });
    }
}
