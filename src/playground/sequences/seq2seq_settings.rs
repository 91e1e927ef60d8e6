//! The Seq2seq page's set-up: the translation task and its input lengths, the encoder-decoder
//! (cell, state, embedding, attention, teacher forcing) and how it trains. It becomes the
//! [`RunSettings`] of the one training run and travels in the URL hash (`s2sTask=sort&...`):
//! only fields that differ from the defaults are written; a bad field keeps its default and is
//! reported by name.

use serde::{Deserialize, Serialize};

use super::link_fields::{off_or, positive, set, switch, within};
use crate::data::translation::{MAX_LENGTH, TranslationTask};
use crate::engine::{
    Attention, Cell, Described, LayerConfig, OptimizerKind, Seq2Seq, SequentialConfig,
};
use crate::playground::backend::Backend;
use crate::playground::images::training::{RunData, RunSettings};

/// Longest input the page trains on.
pub const MAX_PAGE_LENGTH: usize = 24;
/// Most values of state (and of each embedding).
pub const MAX_HIDDEN: usize = 256;
/// Fewest and most examples made for a run.
pub const COUNTS: (usize, usize) = (20, 50_000);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2SeqSettings {
    pub task: TranslationTask,
    /// Inputs are `shortest` to `longest` tokens long.
    pub shortest: usize,
    pub longest: usize,
    /// The encoder's and decoder's cell.
    pub cell: Cell,
    /// Values of state of the encoder and of the decoder.
    pub hidden: usize,
    /// Values of each token's embedding.
    pub embedding: usize,
    pub attention: Attention,
    /// Whether training feeds the decoder the right previous token.
    pub teacher_forcing: bool,
    /// Examples made for the run (a tenth held out for testing).
    pub count: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub learning_rate: f32,
    pub cosine_decay: bool,
    pub seed: u64,
    pub backend: Backend,
    /// Gradient clipping by global norm; `None`: off.
    pub clip_norm: Option<f32>,
}

impl Default for Seq2SeqSettings {
    /// Reversing 1 to 8 digits with an LSTM of 64 and dot-product attention: over 99% of the
    /// held-out answers right within two epochs natively (tests/engine_seq2seq.rs).
    fn default() -> Self {
        Seq2SeqSettings {
            task: TranslationTask::Reverse,
            shortest: 1,
            longest: 8,
            cell: Cell::Lstm,
            hidden: 64,
            embedding: 16,
            attention: Attention::Dot,
            teacher_forcing: true,
            count: 4000,
            epochs: 6,
            batch_size: 64,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            cosine_decay: true,
            seed: 1,
            backend: Backend::Cpu,
            clip_norm: Some(5.0),
        }
    }
}

impl Seq2SeqSettings {
    /// The encoder-decoder layer.
    pub fn layer(&self) -> Seq2Seq {
        Seq2Seq {
            cell: self.cell,
            hidden: self.hidden,
            embedding: self.embedding,
            source_tokens: self.task.input_tokens(),
            target_tokens: self.task.output_vocabulary().size(),
            output_steps: self.task.output_steps(self.longest),
            attention: self.attention,
            teacher_forcing: self.teacher_forcing,
        }
    }

    /// The network: one encoder-decoder layer reading the input's tokens, each flagged as
    /// there or padding, then the tokens its decoder reads.
    pub fn model(&self) -> SequentialConfig {
        let layer = self.layer();
        SequentialConfig {
            seed: self.seed,
            padded: true,
            ..SequentialConfig::new(
                &[self.longest + layer.output_steps, 2],
                vec![LayerConfig::Seq2Seq(layer)],
            )
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
            data: RunData::Translations {
                task: self.task,
                shortest: self.shortest,
                longest: self.longest,
                count: self.count,
            },
            clip_norm: self.clip_norm,
            truncation: None,
        }
    }

    /// Takes the training settings (the shared training card edits a [`RunSettings`]).
    pub fn with_training(&self, run: &RunSettings) -> Seq2SeqSettings {
        Seq2SeqSettings {
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
        if !(1..=MAX_PAGE_LENGTH).contains(&self.longest) {
            return Err(format!(
                "longest: 1 to {MAX_PAGE_LENGTH} tokens, not {}",
                self.longest
            ));
        }
        if !(1..=self.longest).contains(&self.shortest) {
            return Err(format!(
                "shortest: 1 to {} tokens (the longest), not {}",
                self.longest, self.shortest
            ));
        }
        for (name, value) in [("hidden", self.hidden), ("embedding", self.embedding)] {
            if !(1..=MAX_HIDDEN).contains(&value) {
                return Err(format!("{name}: 1 to {MAX_HIDDEN} values, not {value}"));
            }
        }
        if !(COUNTS.0..=COUNTS.1).contains(&self.count) {
            return Err(format!(
                "examples: {} to {}, not {}",
                COUNTS.0, COUNTS.1, self.count
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

/// `(key, value)` for every setting that differs from the defaults.
pub fn fields(settings: &Seq2SeqSettings) -> Vec<(&'static str, String)> {
    let default = Seq2SeqSettings::default();
    let all = [
        (
            "s2sTask",
            settings.task != default.task,
            settings.task.key().to_string(),
        ),
        (
            "s2sShortest",
            settings.shortest != default.shortest,
            settings.shortest.to_string(),
        ),
        (
            "s2sLongest",
            settings.longest != default.longest,
            settings.longest.to_string(),
        ),
        (
            "s2sCell",
            settings.cell != default.cell,
            settings.cell.key().to_string(),
        ),
        (
            "s2sHidden",
            settings.hidden != default.hidden,
            settings.hidden.to_string(),
        ),
        (
            "s2sEmbedding",
            settings.embedding != default.embedding,
            settings.embedding.to_string(),
        ),
        (
            "s2sAttention",
            settings.attention != default.attention,
            settings.attention.key().to_string(),
        ),
        (
            "s2sForcing",
            settings.teacher_forcing != default.teacher_forcing,
            settings.teacher_forcing.to_string(),
        ),
        (
            "s2sCount",
            settings.count != default.count,
            settings.count.to_string(),
        ),
        (
            "s2sEpochs",
            settings.epochs != default.epochs,
            settings.epochs.to_string(),
        ),
        (
            "s2sBatch",
            settings.batch_size != default.batch_size,
            settings.batch_size.to_string(),
        ),
        (
            "s2sOptimizer",
            settings.optimizer != default.optimizer,
            settings.optimizer.key().to_string(),
        ),
        (
            "s2sRate",
            settings.learning_rate != default.learning_rate,
            settings.learning_rate.to_string(),
        ),
        (
            "s2sDecay",
            settings.cosine_decay != default.cosine_decay,
            settings.cosine_decay.to_string(),
        ),
        (
            "s2sSeed",
            settings.seed != default.seed,
            settings.seed.to_string(),
        ),
        (
            "s2sBackend",
            settings.backend != default.backend,
            settings.backend.key().to_string(),
        ),
        (
            "s2sClip",
            settings.clip_norm != default.clip_norm,
            settings
                .clip_norm
                .map_or("off".to_string(), |clip| clip.to_string()),
        ),
    ];
    all.into_iter()
        .filter(|(_, changed, _)| *changed)
        .map(|(key, _, value)| (key, value))
        .collect()
}

/// Sets the setting `key` from its URL text: `None` if `key` is not a Seq2seq setting,
/// `Some(false)` if the text is not a valid value for it (the setting is left as it was).
pub fn apply_field(settings: &mut Seq2SeqSettings, key: &str, value: &str) -> Option<bool> {
    Some(match key {
        "s2sTask" => set(&mut settings.task, TranslationTask::from_key(value)),
        "s2sShortest" => set(&mut settings.shortest, within(value, 1..=MAX_PAGE_LENGTH)),
        "s2sLongest" => set(&mut settings.longest, within(value, 1..=MAX_PAGE_LENGTH)),
        "s2sCell" => set(&mut settings.cell, Cell::from_key(value)),
        "s2sHidden" => set(&mut settings.hidden, within(value, 1..=MAX_HIDDEN)),
        "s2sEmbedding" => set(&mut settings.embedding, within(value, 1..=MAX_HIDDEN)),
        "s2sAttention" => set(&mut settings.attention, Attention::from_key(value)),
        "s2sForcing" => set(&mut settings.teacher_forcing, switch(value)),
        "s2sCount" => set(&mut settings.count, within(value, COUNTS.0..=COUNTS.1)),
        "s2sEpochs" => set(&mut settings.epochs, within(value, 1..=1000)),
        "s2sBatch" => set(&mut settings.batch_size, within(value, 1..=1024)),
        "s2sOptimizer" => set(&mut settings.optimizer, OptimizerKind::from_key(value)),
        "s2sRate" => set(&mut settings.learning_rate, positive(value)),
        "s2sDecay" => set(&mut settings.cosine_decay, switch(value)),
        "s2sSeed" => set(&mut settings.seed, value.parse().ok()),
        "s2sBackend" => set(&mut settings.backend, Backend::from_key(value)),
        "s2sClip" => set(&mut settings.clip_norm, off_or(value, positive)),
        _ => return None,
    })
}

const _: () = assert!(MAX_PAGE_LENGTH <= MAX_LENGTH);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_write_nothing_and_build_an_encoder_decoder() {
        let settings = Seq2SeqSettings::default();
        assert!(fields(&settings).is_empty());
        settings.validate().unwrap();
        let model = settings.model();
        assert_eq!(model.layers[0].token(), "s2slstm64e16v10x12t9-dot");
        assert_eq!(model.input, vec![17, 2]);
    }

    #[test]
    fn every_setting_survives_the_round_trip_and_bad_ones_are_refused_by_name() {
        let settings = Seq2SeqSettings {
            task: TranslationTask::AddBinary,
            shortest: 2,
            longest: 6,
            cell: Cell::Gru,
            hidden: 32,
            embedding: 8,
            attention: Attention::Additive,
            teacher_forcing: false,
            count: 900,
            epochs: 3,
            batch_size: 16,
            optimizer: OptimizerKind::RmsProp,
            learning_rate: 0.003,
            cosine_decay: false,
            seed: 4,
            backend: Backend::Gpu,
            clip_norm: None,
        };
        let written = fields(&settings);
        assert_eq!(written.len(), 17, "{written:?}");
        let mut read = Seq2SeqSettings::default();
        for (key, value) in &written {
            assert_eq!(
                apply_field(&mut read, key, value),
                Some(true),
                "{key}={value}"
            );
        }
        assert_eq!(read, settings);
        settings.validate().unwrap();

        for (key, value) in [
            ("s2sTask", "translate"),
            ("s2sLongest", "0"),
            ("s2sLongest", "25"),
            ("s2sCell", "transformer"),
            ("s2sHidden", "0"),
            ("s2sAttention", "multihead"),
            ("s2sForcing", "sometimes"),
            ("s2sCount", "5"),
            ("s2sRate", "NaN"),
            ("s2sClip", "-1"),
        ] {
            let mut untouched = Seq2SeqSettings::default();
            assert_eq!(
                apply_field(&mut untouched, key, value),
                Some(false),
                "{key}"
            );
            assert_eq!(untouched, Seq2SeqSettings::default());
        }
        assert_eq!(apply_field(&mut read, "seqTask", "parity"), None);
    }

    #[test]
    fn a_shortest_longer_than_the_longest_is_refused() {
        let settings = Seq2SeqSettings {
            shortest: 9,
            ..Seq2SeqSettings::default()
        };
        let error = settings.validate().unwrap_err();
        assert!(error.starts_with("shortest:"), "{error}");
    }
}
