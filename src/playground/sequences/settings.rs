//! The Sequences page's set-up: the task, the sequence length, the recurrent cell and its size,
//! and how it trains; it becomes the [`RunSettings`] of the one training run, and travels in the
//! URL hash (`seqTask=parity&seqCell=gru...`). Only fields that differ from the defaults are
//! written; a bad field keeps its default and is reported by name.

use serde::{Deserialize, Serialize};

use super::link_fields::{off_or, positive, set, switch, within};
use crate::data::sequences::{MAX_LENGTH, SequenceTask};
use crate::engine::{
    Activation, Described, LayerConfig, OptimizerKind, SequentialConfig, Setting, SettingValue,
};
use crate::playground::backend::Backend;
use crate::playground::images::training::{RunData, RunSettings};

/// Longest sequence the page trains on.
pub const MAX_PAGE_LENGTH: usize = 64;
/// Most recurrent layers stacked.
pub const MAX_LAYERS: usize = 3;
/// Most values of state per layer.
pub const MAX_HIDDEN: usize = 256;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceSettings {
    pub task: SequenceTask,
    /// Steps per sequence.
    pub length: usize,
    /// The recurrent cell's key: "rnn", "lstm" or "gru".
    pub cell: String,
    /// Values of state per layer.
    pub hidden: usize,
    /// Recurrent layers stacked (the lower ones give every step to the next).
    pub layers: usize,
    /// Sequences made for the run (a tenth held out for testing).
    pub count: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub learning_rate: f32,
    pub cosine_decay: bool,
    pub seed: u64,
    pub backend: Backend,
    /// Gradient clipping by global norm; `None`: off.
    #[serde(default)]
    pub clip_norm: Option<f32>,
    /// Backpropagation through at most this many steps; `None`: all of them.
    #[serde(default)]
    pub truncation: Option<usize>,
    /// Sequences of this many to `length` steps, padded, and a network that carries its state
    /// over the padding; `None`: every sequence `length` steps long.
    #[serde(default)]
    pub shortest: Option<usize>,
}

impl Default for SequenceSettings {
    /// The course's bit counting on 8 bits with an LSTM of 16: over 99% test accuracy (of 400
    /// held-out sequences) in under a second natively.
    fn default() -> Self {
        SequenceSettings {
            task: SequenceTask::BitCount,
            length: 8,
            cell: "lstm".to_string(),
            hidden: 16,
            layers: 1,
            count: 4000,
            epochs: 8,
            batch_size: 32,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.02,
            cosine_decay: true,
            seed: 1,
            backend: Backend::Cpu,
            clip_norm: None,
            truncation: None,
            shortest: None,
        }
    }
}

impl SequenceSettings {
    /// The network: `layers` cells of `hidden` (every step passed up, the top one's last state
    /// out, or every step's for a task answered at every step), then a dense layer to the
    /// task's outputs (at every step, for such a task).
    pub fn model(&self) -> SequentialConfig {
        let cell = |every_step: bool| {
            LayerConfig::first_of_kind(&self.cell)
                .and_then(|cell| cell.with_setting(Setting::count("hidden", self.hidden)))
                .and_then(|cell| {
                    cell.with_setting(Setting {
                        key: "every_step",
                        value: SettingValue::Switch(every_step),
                    })
                })
        };
        let every_step = self.task.every_step();
        let mut layers: Vec<LayerConfig> = (0..self.layers)
            .filter_map(|index| cell(every_step || index + 1 < self.layers))
            .collect();
        layers.push(LayerConfig::dense(
            self.task.outputs(self.length),
            Activation::Linear,
        ));
        // Sequences of varying length carry a second feature: whether each step is there.
        let padded = self.shortest.is_some();
        let features = 1 + usize::from(padded);
        SequentialConfig {
            seed: self.seed,
            padded,
            ..SequentialConfig::new(&[self.length, features], layers)
        }
    }

    /// The training run these settings make.
    pub fn run_settings(&self) -> RunSettings {
        RunSettings {
            model: self.model(),
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            cosine_decay: self.cosine_decay,
            augment: false,
            seed: self.seed,
            backend: self.backend,
            data: RunData::Sequences {
                task: self.task,
                length: self.length,
                count: self.count,
                shortest: self.shortest,
            },
            clip_norm: self.clip_norm,
            truncation: self.truncation,
        }
    }

    /// Takes the training settings (the shared training card edits a [`RunSettings`]).
    pub fn with_training(&self, run: &RunSettings) -> SequenceSettings {
        SequenceSettings {
            epochs: run.epochs,
            batch_size: run.batch_size,
            optimizer: run.optimizer,
            learning_rate: run.learning_rate,
            cosine_decay: run.cosine_decay,
            backend: run.backend,
            ..self.clone()
        }
    }

    /// Refuses what cannot train, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        if !LayerConfig::keys(true).contains(&self.cell.as_str()) {
            return Err(format!("cell: `{}` is not RNN, LSTM or GRU", self.cell));
        }
        if !(2..=MAX_PAGE_LENGTH).contains(&self.length) {
            return Err(format!(
                "length: 2 to {MAX_PAGE_LENGTH} steps, not {}",
                self.length
            ));
        }
        if !(1..=MAX_HIDDEN).contains(&self.hidden) {
            return Err(format!(
                "hidden: 1 to {MAX_HIDDEN} values, not {}",
                self.hidden
            ));
        }
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            return Err(format!("layers: 1 to {MAX_LAYERS}, not {}", self.layers));
        }
        if let Some(steps) = self.truncation
            && !(1..=self.length).contains(&steps)
        {
            return Err(format!(
                "truncation: backpropagate through 1 to {} steps (the sequence length), not {steps}",
                self.length
            ));
        }
        if let Some(shortest) = self.shortest
            && !(1..=self.length).contains(&shortest)
        {
            return Err(format!(
                "shortest: sequences of 1 to {} steps (the length), not {shortest}",
                self.length
            ));
        }
        if let Some(clip) = self.clip_norm
            && !(clip.is_finite() && clip > 0.0)
        {
            return Err(format!("clip: a positive gradient norm, not {clip}"));
        }
        self.run_settings().validate().map_err(|e| e.to_string())
    }
}

/// The tasks the page offers: all of them.
pub fn page_tasks() -> impl Iterator<Item = SequenceTask> {
    SequenceTask::every().iter().copied()
}

/// `(key, value)` for every setting that differs from the defaults.
pub fn fields(settings: &SequenceSettings) -> Vec<(&'static str, String)> {
    let default = SequenceSettings::default();
    let all = [
        (
            "seqTask",
            settings.task != default.task,
            settings.task.key().to_string(),
        ),
        (
            "seqLength",
            settings.length != default.length,
            settings.length.to_string(),
        ),
        (
            "seqCell",
            settings.cell != default.cell,
            settings.cell.clone(),
        ),
        (
            "seqHidden",
            settings.hidden != default.hidden,
            settings.hidden.to_string(),
        ),
        (
            "seqLayers",
            settings.layers != default.layers,
            settings.layers.to_string(),
        ),
        (
            "seqCount",
            settings.count != default.count,
            settings.count.to_string(),
        ),
        (
            "seqEpochs",
            settings.epochs != default.epochs,
            settings.epochs.to_string(),
        ),
        (
            "seqBatch",
            settings.batch_size != default.batch_size,
            settings.batch_size.to_string(),
        ),
        (
            "seqOptimizer",
            settings.optimizer != default.optimizer,
            settings.optimizer.key().to_string(),
        ),
        (
            "seqRate",
            settings.learning_rate != default.learning_rate,
            settings.learning_rate.to_string(),
        ),
        (
            "seqDecay",
            settings.cosine_decay != default.cosine_decay,
            settings.cosine_decay.to_string(),
        ),
        (
            "seqSeed",
            settings.seed != default.seed,
            settings.seed.to_string(),
        ),
        (
            "seqBackend",
            settings.backend != default.backend,
            settings.backend.key().to_string(),
        ),
        (
            "seqClip",
            settings.clip_norm != default.clip_norm,
            settings
                .clip_norm
                .map_or("off".to_string(), |clip| clip.to_string()),
        ),
        (
            "seqShortest",
            settings.shortest != default.shortest,
            settings
                .shortest
                .map_or("off".to_string(), |steps| steps.to_string()),
        ),
        (
            "seqTruncate",
            settings.truncation != default.truncation,
            settings
                .truncation
                .map_or("off".to_string(), |steps| steps.to_string()),
        ),
    ];
    all.into_iter()
        .filter(|(_, changed, _)| *changed)
        .map(|(key, _, value)| (key, value))
        .collect()
}

/// Sets the setting `key` from its URL text: `None` if `key` is not a Sequences setting,
/// `Some(false)` if the text is not a valid value for it (the setting is left as it was).
pub fn apply_field(settings: &mut SequenceSettings, key: &str, value: &str) -> Option<bool> {
    Some(match key {
        "seqTask" => set(&mut settings.task, SequenceTask::from_key(value)),
        "seqLength" => set(&mut settings.length, within(value, 2..=MAX_PAGE_LENGTH)),
        "seqCell" => set(
            &mut settings.cell,
            LayerConfig::keys(true)
                .contains(&value)
                .then(|| value.to_string()),
        ),
        "seqHidden" => set(&mut settings.hidden, within(value, 1..=MAX_HIDDEN)),
        "seqLayers" => set(&mut settings.layers, within(value, 1..=MAX_LAYERS)),
        "seqCount" => set(&mut settings.count, within(value, 20..=20_000)),
        "seqEpochs" => set(&mut settings.epochs, within(value, 1..=1000)),
        "seqBatch" => set(&mut settings.batch_size, within(value, 1..=1024)),
        "seqOptimizer" => set(&mut settings.optimizer, OptimizerKind::from_key(value)),
        "seqRate" => set(&mut settings.learning_rate, positive(value)),
        "seqDecay" => set(&mut settings.cosine_decay, switch(value)),
        "seqSeed" => set(&mut settings.seed, value.parse().ok()),
        "seqBackend" => set(&mut settings.backend, Backend::from_key(value)),
        "seqClip" => set(&mut settings.clip_norm, off_or(value, positive)),
        "seqShortest" => set(
            &mut settings.shortest,
            off_or(value, |text| within(text, 1..=MAX_PAGE_LENGTH)),
        ),
        "seqTruncate" => set(
            &mut settings.truncation,
            off_or(value, |text| within(text, 1..=MAX_PAGE_LENGTH)),
        ),
        _ => return None,
    })
}

const _: () = assert!(MAX_PAGE_LENGTH <= MAX_LENGTH);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_write_nothing_and_validate() {
        let settings = SequenceSettings::default();
        assert!(fields(&settings).is_empty());
        settings.validate().unwrap();
        let summary = settings.model().summary().unwrap();
        assert_eq!(summary.last().unwrap().output_shape, vec![9]);
    }

    #[test]
    fn every_setting_survives_the_round_trip_and_bad_ones_are_refused_by_name() {
        let settings = SequenceSettings {
            task: SequenceTask::Parity,
            length: 12,
            cell: "gru".to_string(),
            hidden: 24,
            layers: 2,
            count: 500,
            epochs: 7,
            batch_size: 16,
            optimizer: OptimizerKind::RmsProp,
            learning_rate: 0.005,
            cosine_decay: false,
            seed: 9,
            backend: Backend::Gpu,
            clip_norm: Some(0.5),
            truncation: Some(4),
            shortest: Some(3),
        };
        let written = fields(&settings);
        assert_eq!(written.len(), 16, "{written:?}");
        let mut read = SequenceSettings::default();
        for (key, value) in &written {
            assert_eq!(
                apply_field(&mut read, key, value),
                Some(true),
                "{key}={value}"
            );
        }
        assert_eq!(read, settings);
        // Two GRU layers: the first gives every step, the second its last state.
        let model = settings.model();
        assert_eq!(model.layers[0].token(), "gru24seq");
        assert_eq!(model.layers[1].token(), "gru24");
        settings.validate().unwrap();

        for (key, value) in [
            ("seqLength", "1"),
            ("seqLength", "65"),
            ("seqCell", "transformer"),
            ("seqHidden", "0"),
            ("seqLayers", "4"),
            ("seqTask", "cosine"),
            ("seqRate", "-1"),
            ("seqClip", "0"),
            ("seqClip", "NaN"),
            ("seqTruncate", "0"),
            ("seqTruncate", "65"),
            ("seqShortest", "0"),
            ("seqShortest", "x"),
        ] {
            let mut untouched = SequenceSettings::default();
            assert_eq!(
                apply_field(&mut untouched, key, value),
                Some(false),
                "{key}"
            );
            assert_eq!(untouched, SequenceSettings::default());
        }
        assert_eq!(apply_field(&mut read, "imageRate", "0.1"), None);
    }

    #[test]
    fn clipping_and_truncation_reach_the_run_and_are_checked_against_the_length() {
        let settings = SequenceSettings {
            clip_norm: Some(1.0),
            truncation: Some(3),
            ..SequenceSettings::default()
        };
        let run = settings.run_settings();
        assert_eq!((run.clip_norm, run.truncation), (Some(1.0), Some(3)));
        settings.validate().unwrap();
        let too_far = SequenceSettings {
            truncation: Some(9),
            ..settings.clone()
        };
        let error = too_far.validate().unwrap_err();
        assert!(error.starts_with("truncation:"), "{error}");
        let too_short = SequenceSettings {
            shortest: Some(9),
            ..settings.clone()
        };
        let error = too_short.validate().unwrap_err();
        assert!(error.starts_with("shortest:"), "{error}");
        // "off" switches either back off.
        let mut read = settings;
        assert_eq!(apply_field(&mut read, "seqClip", "off"), Some(true));
        assert_eq!(apply_field(&mut read, "seqTruncate", "off"), Some(true));
        assert_eq!((read.clip_norm, read.truncation), (None, None));
    }
}
