//! `Trainer`: mini-batch training of a `Model` with a loss, an optimizer and a regularizer, all
//! driven by one seeded RNG so that the same settings always give the same loss curve.

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use super::error::EngineError;
use super::loss::Loss;
use super::model::Model;
use super::model_tape::ModelTape;
use super::optimizer::{Optimizer, OptimizerConfig, OptimizerState};
use super::packed_weights::PackedWeights;
use super::params::Params;
use super::regularization::Regularization;
use super::rng::SeededRng;
use super::tensor::Tensor;
use super::trainable::Trainable;

/// Rows per forward pass in [`Trainer::evaluate`], bounding its memory on large data sets.
const EVALUATION_CHUNK: usize = 1024;

/// How to train.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub loss: Loss,
    pub optimizer: OptimizerConfig,
    /// Examples per gradient step (the last batch of an epoch may be smaller).
    pub batch_size: usize,
    pub regularization: Regularization,
    pub regularization_rate: f32,
    /// Seed of the batch shuffling and of the dropout masks.
    pub seed: u64,
    /// Gradient clipping by global norm: before each update, every gradient is scaled by
    /// `min(1, clip / (‖g‖ + 10⁻⁶))`, where `‖g‖` is the norm of all of them together (as
    /// PyTorch's `clip_grad_norm_`). `None`: no clipping.
    #[serde(default)]
    pub clip_norm: Option<f32>,
    /// Truncated backpropagation through time: recurrent layers pass gradients back at most
    /// this many steps from the last (see [`RecordingFor::truncation`]). `None`: all the way.
    ///
    /// [`RecordingFor::truncation`]: super::layers::RecordingFor::truncation
    #[serde(default)]
    pub truncation: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            loss: Loss::BinaryCrossEntropy,
            optimizer: OptimizerConfig::default(),
            batch_size: 10,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            seed: 1,
            clip_norm: None,
            truncation: None,
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), EngineError> {
        self.optimizer.validate()?;
        if self.batch_size == 0 {
            return Err(EngineError::InvalidConfig(
                "the batch size must be at least 1".to_string(),
            ));
        }
        if let Some(clip) = self.clip_norm
            && !(clip.is_finite() && clip > 0.0)
        {
            return Err(EngineError::InvalidConfig(format!(
                "the gradient clipping norm must be a positive number, got {clip}"
            )));
        }
        if self.truncation == Some(0) {
            return Err(EngineError::InvalidConfig(
                "backpropagation through time must reach at least one step back".to_string(),
            ));
        }
        if !self.regularization_rate.is_finite() || self.regularization_rate < 0.0 {
            return Err(EngineError::InvalidConfig(format!(
                "the regularization rate must be zero or positive, got {}",
                self.regularization_rate
            )));
        }
        Ok(())
    }
}

/// Loss and accuracy of a model on a data set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean loss, plus the regularization penalty (same convention as the training loss).
    pub loss: f32,
    /// Fraction of examples classified correctly, in `[0, 1]`: with one output, prediction and
    /// target on the same side of 0.5 (of 0 when the targets use -1/1 labels); with several
    /// outputs, the largest prediction at the target's largest entry.
    pub accuracy: f32,
}

/// Everything a trainer keeps besides the weights, so that a run saved and opened again goes on
/// with the very steps it would have taken ([`Trainer::state`], [`Trainer::resume`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerState {
    /// Completed epochs.
    pub epoch: usize,
    /// Gradient steps taken.
    pub steps: u64,
    /// The shuffling and dropout generator.
    pub rng: SeededRng,
    /// The example order of the last epoch, which the next epoch shuffles again.
    pub order: Vec<usize>,
    pub optimizer: OptimizerState,
}

/// Trains a model (the playground's dense [`Model`] unless said otherwise). Owns it, the
/// optimizer state, the RNG and reusable tapes and batch buffers.
#[derive(Clone, Debug)]
pub struct Trainer<M = Model> {
    /// The model; while `packed` is newer, its large dense weights are behind (see
    /// [`Trainer::model`]).
    model: M,
    /// The large dense weights as trained, in the GEMM's panel order.
    packed: PackedWeights,
    /// The model with the packed weights written in, made when read while they are newer.
    snapshot: OnceCell<M>,
    config: TrainConfig,
    optimizer: Optimizer,
    rng: SeededRng,
    training: Option<ModelTape>,
    evaluation: Option<ModelTape>,
    order: Vec<usize>,
    batch_inputs: Tensor,
    batch_targets: Tensor,
    epoch: usize,
    steps: u64,
    /// The norm of all gradients together at the last step, before clipping (kept only while
    /// clipping: the fused update never has every gradient at once).
    gradient_norm: Option<f32>,
    /// The epoch under way, when one was trained in parts ([`Trainer::train_epoch_part`]).
    partial_epoch: Option<PartialEpoch>,
}

/// How far an epoch trained in parts has come: the rows of the trainer's order trained so far
/// and the sum of their losses.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PartialEpoch {
    rows_done: usize,
    loss_sum: f64,
}

impl<M: Trainable + Clone> Trainer<M> {
    pub fn new(mut model: M, config: TrainConfig) -> Result<Trainer<M>, EngineError> {
        config.validate()?;
        check_loss_fits(&model, config.loss)?;
        model.set_output_transform(config.loss.output_activation());
        Ok(Trainer {
            model,
            packed: PackedWeights::default(),
            snapshot: OnceCell::new(),
            optimizer: Optimizer::new(config.optimizer),
            rng: SeededRng::new(config.seed),
            config,
            training: None,
            evaluation: None,
            order: Vec::new(),
            batch_inputs: Tensor::empty(),
            batch_targets: Tensor::empty(),
            epoch: 0,
            steps: 0,
            gradient_norm: None,
            partial_epoch: None,
        })
    }

    /// The model as trained so far. Right after training steps, its large dense weights are
    /// written into a copy of it on the first read (a model clone, once per batch of steps).
    pub fn model(&self) -> &M {
        if !self.packed.is_newer() {
            return &self.model;
        }
        self.snapshot.get_or_init(|| {
            let mut model = self.model.clone();
            self.packed.write_into(model.params_mut());
            model
        })
    }

    /// The model, to change it: the trainer then packs its weights again before the next step.
    pub fn model_mut(&mut self) -> &mut M {
        self.write_back();
        self.packed.invalidate();
        &mut self.model
    }

    pub fn into_model(mut self) -> M {
        self.write_back();
        self.model
    }

    /// Brings the model's own values up to the packed weights.
    fn write_back(&mut self) {
        self.packed.write_back(self.model.params_mut());
        self.snapshot.take();
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Number of completed epochs.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Number of gradient steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The norm of all gradients together at the last step, before clipping; known only while
    /// clipping is on.
    pub fn gradient_norm(&self) -> Option<f32> {
        self.gradient_norm
    }

    /// The training tape of the last step (every node's value and gradient), if any.
    pub fn training_tape(&self) -> Option<&ModelTape> {
        self.training.as_ref()
    }

    /// Whether an epoch trained in parts is under way (some of its batches trained).
    pub fn in_epoch(&self) -> bool {
        self.partial_epoch.is_some()
    }

    /// What the trainer keeps besides the weights, for a checkpoint. Taken in the middle of an
    /// epoch trained in parts, it resumes at the start of the next epoch (the steps taken so
    /// far are in the weights).
    pub fn state(&self) -> TrainerState {
        TrainerState {
            epoch: self.epoch,
            steps: self.steps,
            rng: self.rng.clone(),
            order: self.order.clone(),
            optimizer: self.optimizer.state(self.model.params()),
        }
    }

    /// Goes on from a [`Trainer::state`] taken of a trainer of the same network (whose weights
    /// the caller puts back through [`Trainer::model_mut`]): the next step is the one that run
    /// would have taken. A state that does not fit is refused, and this trainer's own kept.
    pub fn resume(&mut self, state: TrainerState) -> Result<(), EngineError> {
        let mut seen = vec![false; state.order.len()];
        for &index in &state.order {
            match seen.get_mut(index) {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    return Err(EngineError::InvalidState(format!(
                        "the saved example order is not an order of {} examples",
                        state.order.len()
                    )));
                }
            }
        }
        self.optimizer
            .resume(state.optimizer, self.model.params())?;
        self.epoch = state.epoch;
        self.steps = state.steps;
        self.rng = state.rng;
        self.order = state.order;
        self.partial_epoch = None;
        Ok(())
    }

    /// Forgets the optimizer's running state (momentum, squared-gradient sums), e.g. after the
    /// weights were put back following a diverged epoch.
    pub fn reset_optimizer(&mut self) {
        self.optimizer.reset();
    }

    /// Changes the settings, keeping the weights. The optimizer state is reset only when the
    /// optimizer kind changes; the shuffling restarts only when the seed changes.
    pub fn set_config(&mut self, config: TrainConfig) -> Result<(), EngineError> {
        config.validate()?;
        check_loss_fits(&self.model, config.loss)?;
        if config.loss != self.config.loss {
            self.training = None;
            self.evaluation = None;
            self.snapshot.take();
            self.model
                .set_output_transform(config.loss.output_activation());
        }
        if config.clip_norm.is_some() != self.config.clip_norm.is_some()
            || config.truncation != self.config.truncation
        {
            // Clipping trains nothing packed, and truncation records another tape.
            self.write_back();
            self.packed = PackedWeights::default();
            self.training = None;
            self.gradient_norm = None;
        }
        if config.seed != self.config.seed {
            self.rng = SeededRng::new(config.seed);
        }
        self.optimizer.set_config(config.optimizer);
        self.config = config;
        Ok(())
    }

    /// One pass over the data in shuffled mini-batches; returns the mean training loss (each
    /// batch's loss, taken before its update, weighted by its size, plus the penalty). An
    /// epoch begun by [`Trainer::train_epoch_part`] is finished.
    pub fn train_epoch(&mut self, inputs: &Tensor, targets: &Tensor) -> Result<f32, EngineError> {
        loop {
            if let Some(loss) = self.train_epoch_part(inputs, targets, &mut || true)? {
                return Ok(loss);
            }
        }
    }

    /// Trains the next mini-batches of the epoch under way (beginning one, shuffled, if none
    /// is) for as long as `keep_going` says after each batch, and at least one batch. Returns
    /// the epoch's mean training loss (as [`Trainer::train_epoch`]'s) once its last batch is
    /// trained, `None` before. Lets a caller with a time budget (an animation frame) train an
    /// epoch of any size in slices. An error ends the epoch under way; the next call begins
    /// another.
    pub fn train_epoch_part(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<Option<f32>, EngineError> {
        let rows = self.check_data(inputs, targets)?;
        let mut progress = match self.partial_epoch.take() {
            Some(progress) if self.order.len() == rows => progress,
            _ => {
                if self.order.len() != rows {
                    self.order.clear();
                    self.order.extend(0..rows);
                }
                self.rng.shuffle(&mut self.order);
                PartialEpoch::default()
            }
        };
        let order = std::mem::take(&mut self.order);
        let result = self.train_batches(&order[progress.rows_done..], inputs, targets, keep_going);
        self.order = order;
        let (loss_sum, rows_trained) = result?;
        progress.rows_done += rows_trained;
        progress.loss_sum += loss_sum;
        if progress.rows_done < rows {
            self.partial_epoch = Some(progress);
            return Ok(None);
        }
        self.epoch += 1;
        Ok(Some((progress.loss_sum / rows as f64) as f32))
    }

    /// Trains the rows of `order` batch by batch while `keep_going` says so after each; returns
    /// the sum of the batches' losses weighted by their sizes, and the rows trained.
    fn train_batches(
        &mut self,
        order: &[usize],
        inputs: &Tensor,
        targets: &Tensor,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<(f64, usize), EngineError> {
        // The batch buffers are taken out for the loop (so that each step can borrow them
        // beside `self`) and put back after it, whatever the outcome.
        let mut batch_inputs = std::mem::take(&mut self.batch_inputs);
        let mut batch_targets = std::mem::take(&mut self.batch_targets);
        let mut step_all = || {
            let (mut total, mut rows) = (0.0f64, 0);
            for batch in order.chunks(self.config.batch_size) {
                gather_rows(inputs, batch, &mut batch_inputs);
                gather_rows(targets, batch, &mut batch_targets);
                let context = Context::Epoch(self.epoch + 1);
                let loss = self.step_on_batch(&batch_inputs, &batch_targets, context)?;
                total += f64::from(loss) * batch.len() as f64;
                rows += batch.len();
                if !keep_going() {
                    break;
                }
            }
            Ok((total, rows))
        };
        let result = step_all();
        self.batch_inputs = batch_inputs;
        self.batch_targets = batch_targets;
        result
    }

    /// One gradient step on exactly these examples (no shuffling); returns the loss before it.
    pub fn train_step(&mut self, inputs: &Tensor, targets: &Tensor) -> Result<f32, EngineError> {
        self.check_data(inputs, targets)?;
        self.step_on_batch(inputs, targets, Context::Step(self.steps + 1))
    }

    /// One step on a batch whose shapes have been checked.
    fn step_on_batch(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
        context: Context,
    ) -> Result<f32, EngineError> {
        if self.training.is_none() {
            let mut recorded = self.model.record_truncated_training_tape(
                inputs.rows(),
                self.config.loss,
                self.config.truncation,
            )?;
            // Clipping needs every gradient before any update: nothing is updated during the
            // pass, so nothing is packed for it.
            let fusable = match self.config.clip_norm {
                Some(_) => Vec::new(),
                None => recorded.tape.fusable_dense_weights(self.model.params()),
            };
            self.packed.choose(self.model.params_mut(), &fusable);
            self.training = Some(recorded);
        }
        self.packed.refresh(self.model.params());
        let recorded = self.training.as_mut().expect("recorded above");
        let (loss_node, target) = (
            recorded.loss.expect("training tape"),
            recorded.target.expect("training tape"),
        );
        recorded.tape.set_input(recorded.input, inputs)?;
        recorded.tape.set_input(target, targets)?;
        recorded.draw_dropout_masks(&mut self.rng)?;
        recorded
            .tape
            .forward_packed(self.model.params(), &self.packed)?;
        let config = &self.config;
        let penalty = self.packed.penalty(
            self.model.params(),
            config.regularization,
            config.regularization_rate,
        );
        let loss = recorded.loss_value() + penalty;
        if !loss.is_finite() {
            return Err(self.non_finite(loss, context, inputs, targets));
        }
        // After the finiteness check, so that a diverged batch does not poison the statistics.
        recorded.update_running_statistics(self.model.params_mut());
        if let Some(clip) = config.clip_norm {
            recorded.tape.backward(loss_node, self.model.params_mut())?;
            self.gradient_norm = Some(clip_gradients(self.model.params_mut(), clip));
            self.snapshot.take();
            self.optimizer
                .begin_step(
                    self.model.params(),
                    config.regularization,
                    config.regularization_rate,
                )
                .finish(self.model.params_mut());
            self.steps += 1;
            return Ok(loss);
        }
        // The optimizer updates the dense layers' weights during the backward pass, as their
        // gradients are computed (see `FusedUpdate`), and the other parameters after it.
        let mut step = self.optimizer.begin_step_packed(
            self.model.params(),
            &self.packed,
            config.regularization,
            config.regularization_rate,
        );
        self.packed.mark_trained();
        self.snapshot.take();
        recorded.tape.backward_fused_packed(
            loss_node,
            self.model.params_mut(),
            &mut self.packed,
            &mut step,
        )?;
        step.finish(self.model.params_mut());
        self.steps += 1;
        Ok(loss)
    }

    fn non_finite(
        &self,
        loss: f32,
        context: Context,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> EngineError {
        let what = if loss.is_nan() { "NaN" } else { "infinite" };
        let when = match context {
            Context::Epoch(epoch) => format!("epoch {epoch}"),
            Context::Step(step) => format!("step {step}"),
        };
        let cause = if !inputs.is_finite() || !targets.is_finite() {
            "the data contains NaN or infinite values".to_string()
        } else {
            format!(
                "the learning rate {} is probably too large",
                self.config.optimizer.learning_rate
            )
        };
        EngineError::NonFinite(format!("loss became {what} at {when}: {cause}"))
    }

    /// Loss and accuracy on a data set, without changing the model.
    pub fn evaluate(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<Evaluation, EngineError> {
        let rows = self.check_data(inputs, targets)?;
        self.packed.refresh(self.model.params());
        if self.evaluation.is_none() {
            let chunk = rows.min(EVALUATION_CHUNK);
            self.evaluation = Some(self.model.record_evaluation_tape(chunk, self.config.loss)?);
        }
        let recorded = self.evaluation.as_mut().expect("recorded above");
        let target_node = recorded.target.expect("evaluation tape");
        let threshold = if targets.data().iter().any(|&y| y < 0.0) {
            0.0
        } else {
            0.5
        };
        let (mut total_loss, mut correct, mut predictions) = (0.0f64, 0usize, 0usize);
        let mut start = 0;
        while start < rows {
            let end = (start + EVALUATION_CHUNK).min(rows);
            copy_rows(inputs, start, end, &mut self.batch_inputs);
            copy_rows(targets, start, end, &mut self.batch_targets);
            recorded
                .tape
                .set_input(recorded.input, &self.batch_inputs)?;
            recorded.tape.set_input(target_node, &self.batch_targets)?;
            recorded
                .tape
                .forward_packed(self.model.params(), &self.packed)?;
            total_loss += f64::from(recorded.loss_value()) * (end - start) as f64;
            let (right, counted) = count_correct(
                recorded.tape.value(recorded.prediction),
                &self.batch_targets,
                threshold,
            );
            correct += right;
            predictions += counted;
            start = end;
        }
        let config = &self.config;
        let penalty = self.packed.penalty(
            self.model.params(),
            config.regularization,
            config.regularization_rate,
        );
        Ok(Evaluation {
            loss: (total_loss / rows as f64) as f32 + penalty,
            accuracy: correct as f32 / predictions.max(1) as f32,
        })
    }

    /// Checks that inputs `[n, example shape..]` and targets `[n, model outputs]` fit; returns n.
    fn check_data(&self, inputs: &Tensor, targets: &Tensor) -> Result<usize, EngineError> {
        check_data(&self.model, inputs, targets)
    }
}

/// Checks that inputs `[n, example shape..]` and targets `[n, model outputs]` fit `model`; returns
/// n. Shared with the GPU trainers, so that both refuse the same data in the same words.
pub(crate) fn check_data(
    model: &impl Trainable,
    inputs: &Tensor,
    targets: &Tensor,
) -> Result<usize, EngineError> {
    let (example, outputs) = (model.example_shape(), model.output_count());
    if let [features] = *example
        && (inputs.rank() != 2 || inputs.cols() != features)
    {
        return Err(EngineError::shape(
            "training data",
            format!(
                "inputs with {features} columns (one per input feature), shaped [examples, {features}]"
            ),
            format!("inputs of shape {:?}", inputs.shape()),
        ));
    }
    if inputs.shape().get(1..) != Some(example) {
        let dims: Vec<String> = example.iter().map(usize::to_string).collect();
        return Err(EngineError::shape(
            "training data",
            format!("inputs shaped [examples, {}]", dims.join(", ")),
            format!("inputs of shape {:?}", inputs.shape()),
        ));
    }
    let per_example = model.output_shape();
    let fits = targets.shape().first() == Some(&inputs.rows())
        && targets.shape().get(1..) == Some(per_example);
    if !fits {
        let expected = match *per_example {
            [steps, _] => format!(
                "targets of shape [{}, {steps}, {outputs}] (one row per example, one per time \
                 step, one column per output)",
                inputs.rows()
            ),
            _ => format!(
                "targets of shape [{}, {outputs}] (one row per example, one column per output)",
                inputs.rows()
            ),
        };
        return Err(EngineError::shape(
            "training data",
            expected,
            format!("targets of shape {:?}", targets.shape()),
        ));
    }
    if inputs.rows() == 0 {
        return Err(EngineError::InvalidConfig(
            "there are no examples to train on".to_string(),
        ));
    }
    Ok(inputs.rows())
}

/// Where a step happened, for error messages.
#[derive(Clone, Copy, Debug)]
enum Context {
    Epoch(usize),
    Step(u64),
}

/// Shared with the GPU trainers (same check, same words).
pub(crate) fn check_loss_fits(model: &impl Trainable, loss: Loss) -> Result<(), EngineError> {
    if loss == Loss::SoftmaxCrossEntropy && model.output_count() < 2 {
        return Err(EngineError::InvalidConfig(format!(
            "softmax cross-entropy needs at least two output neurons (one per class), the model has {}",
            model.output_count()
        )));
    }
    Ok(())
}

/// Scales every trainable parameter's gradient by `min(1, clip / (norm + 10⁻⁶))`, where `norm`
/// is the Euclidean norm of all of them together, as PyTorch's `clip_grad_norm_` does; returns
/// that norm.
pub fn clip_gradients(params: &mut Params, clip: f32) -> f32 {
    let mut squares = 0.0f64;
    for (_, grad, role) in params.values_and_grads_mut() {
        if role.is_trainable() {
            squares += grad
                .data()
                .iter()
                .map(|&g| f64::from(g) * f64::from(g))
                .sum::<f64>();
        }
    }
    let norm = squares.sqrt() as f32;
    let factor = clip / (norm + 1e-6);
    if factor < 1.0 {
        for (_, grad, role) in params.values_and_grads_mut() {
            if role.is_trainable() {
                grad.data_mut().iter_mut().for_each(|g| *g *= factor);
            }
        }
    }
    norm
}

/// Gives `destination` the shape of `source` with `rows` rows, reusing its buffer.
fn resize_rows(source: &Tensor, rows: usize, destination: &mut Tensor) {
    let mut shape = [0usize; 8];
    let rank = source.rank();
    if (2..=shape.len()).contains(&rank) {
        shape[..rank].copy_from_slice(source.shape());
        shape[0] = rows;
        destination.resize(&shape[..rank]);
    } else {
        destination.resize(&[rows, source.cols()]);
    }
}

/// Copies rows `indices` of `source` into `destination`, reusing its buffer.
fn gather_rows(source: &Tensor, indices: &[usize], destination: &mut Tensor) {
    let cols = source.cols();
    resize_rows(source, indices.len(), destination);
    for (out_row, &index) in destination
        .data_mut()
        .chunks_exact_mut(cols.max(1))
        .zip(indices)
    {
        out_row.copy_from_slice(source.row(index));
    }
}

/// Copies rows `start..end` of `source` into `destination`, reusing its buffer.
fn copy_rows(source: &Tensor, start: usize, end: usize, destination: &mut Tensor) {
    let cols = source.cols();
    resize_rows(source, end - start, destination);
    destination
        .data_mut()
        .copy_from_slice(&source.data()[start * cols..end * cols]);
}

/// Predictions right, and predictions counted: one per example, or one per time step of a
/// network that predicts at every step (each a row of the last dimension). A row of classes
/// whose targets are all 0 has no class (the padding after a sequence's end) and is not counted.
fn count_correct(prediction: &Tensor, targets: &Tensor, threshold: f32) -> (usize, usize) {
    let cols = targets.shape().last().copied().unwrap_or(0);
    if cols == 0 {
        return (0, 0);
    }
    let rows = prediction
        .data()
        .chunks_exact(cols)
        .zip(targets.data().chunks_exact(cols));
    let (mut right, mut counted) = (0, 0);
    for (p, y) in rows {
        let correct = match cols {
            1 => (p[0] > threshold) == (y[0] > threshold),
            _ if y.iter().all(|&t| t == 0.0) => continue,
            _ => argmax(p) == argmax(y),
        };
        right += usize::from(correct);
        counted += 1;
    }
    (right, counted)
}

/// Index of the largest value (the first one on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value > values[best] {
            best = index;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of classes with no class (a padded sequence's steps after its end) are neither right
    /// nor wrong; a single output is scored by its side of the threshold.
    #[test]
    fn steps_without_a_class_are_not_counted() {
        let prediction = Tensor::from_vec(&[3, 2], vec![0.9, 0.1, 0.2, 0.8, 0.7, 0.3]).unwrap();
        let targets = Tensor::from_vec(&[3, 2], vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0]).unwrap();
        assert_eq!(count_correct(&prediction, &targets, 0.5), (1, 2));
        let single = Tensor::from_vec(&[2, 1], vec![0.7, 0.2]).unwrap();
        let truth = Tensor::from_vec(&[2, 1], vec![1.0, 1.0]).unwrap();
        assert_eq!(count_correct(&single, &truth, 0.5), (1, 2));
    }
}
