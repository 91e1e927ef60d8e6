//! The messages between the Images page and its training worker. Each travels as JSON, with
//! the bulky numbers beside it as typed arrays (the digits' bytes, the model's weights).

use serde::{Deserialize, Serialize};

use super::training::{Progress, RunSettings, TestReport};

/// From the page to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// The digits to train on; their pixels and labels come as byte arrays beside it.
    UseDigits {
        name: String,
    },
    /// A new run with these settings, which starts training at once: from `weights` (the
    /// network's parameters, flat, as a model file brought them) where given, else from the
    /// settings' seeded initialisation.
    Start {
        settings: RunSettings,
        #[serde(default)]
        weights: Option<Vec<f32>>,
    },
    Play,
    Pause,
    /// Forget the run.
    Reset,
    /// Save the run as it stands, with the page's JSON `page` (its curves) beside it: the
    /// answer is [`Report::Saved`].
    Save {
        page: String,
    },
    /// Go on from a saved run (its bytes come beside the command), paused: the answer is
    /// [`Report::Resumed`], then the reports of a new run.
    Resume,
}

/// From the worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Report {
    /// The worker has loaded the engine and waits for digits.
    Ready,
    /// The worker's search for a GPU ended: the adapter's description if it passed the
    /// self-test, otherwise why the CPU engine has to train.
    Gpu { found: Result<String, String> },
    /// A run was created: how the digits were split.
    Started {
        train_count: usize,
        test_count: usize,
    },
    /// Sent a few times a second while training.
    Progress {
        progress: Progress,
        examples_per_second: f32,
    },
    /// An evaluation on the test digits; the weights it was measured with come beside it.
    Tested { report: TestReport },
    /// Training stopped before the end: the learner paused, or the loss diverged (`reason`).
    Paused { reason: Option<String> },
    /// Every epoch is done.
    Finished,
    /// A command could not be carried out.
    Failed { message: String },
    /// Something the learner should know that does not stop training (e.g. the GPU failed and
    /// the CPU took over).
    Notice { message: String },
    /// The run as saved comes beside this; nothing does when there was no run to save, or it
    /// was out on the GPU (the page asks again later).
    Saved,
    /// A saved run was taken up: the page's JSON it was saved with. `Started`, `Tested` and
    /// `Paused` follow.
    Resumed { page: String },
}

impl Command {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("commands serialise")
    }

    pub fn from_json(text: &str) -> Result<Command, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable command: {e}"))
    }
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("reports serialise")
    }

    pub fn from_json(text: &str) -> Result<Report, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable report: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let command = Command::Start {
            settings: RunSettings::default(),
            weights: Some(vec![0.5, -0.0]),
        };
        assert_eq!(Command::from_json(&command.to_json()).unwrap(), command);
        let report = Report::Paused {
            reason: Some("loss became NaN".to_string()),
        };
        assert_eq!(Report::from_json(&report.to_json()).unwrap(), report);
        assert!(Command::from_json("{\"Launch\":1}").is_err());
    }
}
