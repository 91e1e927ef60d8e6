//! `GpuTrainer`: gradient steps of any network (a [`Trainable`]: an image network, the
//! playground's dense model) on the GPU, each step what
//! [`Trainer::train_step`](crate::engine::Trainer::train_step) does with the same
//! [`TrainConfig`]: same loss, gradients, running statistics, dropout masks and optimiser update.
//! It is the one GPU trainer; the playground's whole-epoch loop
//! ([`GpuEpochTrainer`](super::GpuEpochTrainer)) drives it.
//!
//! A step uploads the batch and the dropout masks (drawn on the CPU with the trainer's seeded RNG
//! in the CPU trainer's order), then records forward, loss, backward and update into one
//! submission ([`GpuNetwork`] replays the CPU's own tape). The batch's loss is added to a running
//! sum on the GPU; nothing is read back until [`GpuTrainer::take_mean_loss`],
//! [`GpuTrainer::predict`] or [`GpuTrainer::read_model`] are awaited.

use std::fmt;
use std::rc::Rc;

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::network::GpuNetwork;
use super::optimizer::GpuOptimizer;
use super::recording::{KernelFamilies, Recording};
use super::step_losses::StepLosses;
use crate::engine::trainer::TrainerState;
use crate::engine::trainer::{check_data, check_loss_fits};
use crate::engine::training_engine::check_same_network;
use crate::engine::{
    EngineError, Mode, Params, Pending, SeededRng, Tensor, TrainConfig, Trainable, TrainingEngine,
};

/// Examples per evaluation pass of [`GpuTrainer::predict`], bounding its buffers.
const PREDICT_CHUNK: usize = 256;

/// Why GPU training could not go on: a setting or data set the engine rejects (the same checks
/// and messages as the CPU trainer), or the GPU itself.
#[derive(Clone, Debug, PartialEq)]
pub enum GpuTrainingError {
    Engine(EngineError),
    Gpu(GpuError),
}

impl fmt::Display for GpuTrainingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuTrainingError::Engine(error) => error.fmt(f),
            GpuTrainingError::Gpu(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for GpuTrainingError {}

impl From<EngineError> for GpuTrainingError {
    fn from(error: EngineError) -> Self {
        GpuTrainingError::Engine(error)
    }
}

/// In the engine's terms: the engine's own refusals as they are, anything the GPU did as
/// [`EngineError::DeviceFailed`] (a run then goes on on the CPU).
impl From<GpuTrainingError> for EngineError {
    fn from(error: GpuTrainingError) -> Self {
        match error {
            GpuTrainingError::Engine(error) => error,
            GpuTrainingError::Gpu(error) => EngineError::DeviceFailed(error.to_string()),
        }
    }
}

impl From<GpuError> for GpuTrainingError {
    fn from(error: GpuError) -> Self {
        GpuTrainingError::Gpu(error)
    }
}

/// Where a recorded step adds its loss (with the penalty): the single steps' running sum, or a
/// sum of the caller's, weighted (an epoch's, by batch size).
pub(super) enum LossSink<'a> {
    Steps,
    Weighted { total: &'a GpuTensor, weight: usize },
}

#[derive(Debug)]
pub struct GpuTrainer<M> {
    pub(super) context: Rc<GpuContext>,
    pub(super) kernels: Rc<KernelFamilies>,
    pub(super) network: GpuNetwork<M>,
    config: TrainConfig,
    optimizer: GpuOptimizer,
    /// Draws the dropout masks, and the playground's epoch shuffles, in the CPU trainer's order.
    pub(super) rng: SeededRng,
    /// The current step's penalty of the weights before the update (0 without one).
    penalty: GpuTensor,
    /// Σ (batch loss + penalty) of the single steps not yet read.
    steps_losses: StepLosses,
    steps: u64,
}

impl<M: Trainable + Clone> GpuTrainer<M> {
    /// Starts training from `model`'s parameters with a fresh optimiser and the RNG seeded by
    /// `config.seed`, as [`Trainer::new`](crate::engine::Trainer::new) does; refuses what it
    /// refuses. Compiles every kernel family.
    pub async fn new(
        context: Rc<GpuContext>,
        model: &M,
        config: TrainConfig,
    ) -> Result<GpuTrainer<M>, GpuTrainingError> {
        let kernels = Rc::new(KernelFamilies::new(&context).await?);
        GpuTrainer::with_kernels(context, kernels, model, config)
    }

    /// [`GpuTrainer::new`] with kernels already compiled for this device.
    pub fn with_kernels(
        context: Rc<GpuContext>,
        kernels: Rc<KernelFamilies>,
        model: &M,
        config: TrainConfig,
    ) -> Result<GpuTrainer<M>, GpuTrainingError> {
        config.validate()?;
        check_loss_fits(model, config.loss)?;
        context.forget_dispatches();
        Ok(GpuTrainer {
            network: GpuNetwork::upload(&context, model, config.loss, config.truncation),
            kernels,
            optimizer: GpuOptimizer::new(config.optimizer),
            rng: SeededRng::new(config.seed),
            config,
            penalty: GpuTensor::zeros(&context, &[1]),
            steps_losses: StepLosses::new(&context),
            steps: 0,
            context,
        })
    }

    /// [`GpuTrainer::new`], waiting for the shaders to compile (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(
        context: Rc<GpuContext>,
        model: &M,
        config: TrainConfig,
    ) -> Result<GpuTrainer<M>, GpuTrainingError> {
        pollster::block_on(GpuTrainer::new(context, model, config))
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The device this trainer runs on, e.g. for "Training on WebGPU (…)".
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Number of gradient steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The CPU model this trainer was made from (its layers; its weights are the uploaded ones).
    pub fn template(&self) -> &M {
        self.network.template()
    }

    /// Changes the learning rate from the next step on, keeping the optimiser's state (e.g. a
    /// schedule's decay).
    pub fn set_learning_rate(&mut self, rate: f32) {
        self.config.optimizer.learning_rate = rate;
        self.optimizer.set_config(self.config.optimizer);
    }

    /// Forgets the optimiser's running state (momentum, moments) and its step count.
    pub fn reset_optimizer(&mut self) {
        self.optimizer.reset();
    }

    /// What the trainer keeps besides the weights, read back: the optimiser's moments, the
    /// step count and the dropout generator. The epoch and the example order are the caller's
    /// (left empty here).
    pub async fn read_state(&self) -> Result<TrainerState, GpuTrainingError> {
        let training = &self.kernels.training;
        let optimizer = self.optimizer.read_state(&self.context, training).await?;
        Ok(TrainerState {
            epoch: 0,
            steps: self.steps,
            rng: self.rng.clone(),
            order: Vec::new(),
            optimizer,
        })
    }

    /// Goes on from a [`GpuTrainer::read_state`] or a CPU trainer's state of the same network:
    /// the next step is the one that run would have taken. A state that does not fit is
    /// refused, and this trainer's own kept.
    pub fn resume(&mut self, state: TrainerState) -> Result<(), GpuTrainingError> {
        let params = self.network.params();
        self.optimizer
            .resume(&self.context, &params, &state.optimizer)?;
        self.steps = state.steps;
        self.rng = state.rng;
        Ok(())
    }

    /// Replaces the parameters and running statistics with `model`'s (same layers), keeping the
    /// optimiser state: e.g. a checkpoint after training diverged.
    pub fn load_model(&mut self, model: &M) -> Result<(), GpuTrainingError> {
        Ok(self.network.write(&self.context, model)?)
    }

    /// One gradient step on exactly these examples, inputs `[n, ...example]` and targets
    /// `[n, outputs]`, submitted without waiting. Its loss (with the penalty) joins the running
    /// sum that [`GpuTrainer::take_mean_loss`] reads. Unlike the CPU trainer, a loss that turned
    /// NaN or infinite is not noticed here (that would need a readback): it shows in the mean
    /// loss, and the parameters are then unusable (load a checkpoint).
    pub fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<(), GpuTrainingError> {
        let rows = check_data(self.network.template(), inputs, targets)?;
        let context = Rc::clone(&self.context);
        let index = self.network.pass_index(&context, Mode::Training, rows)?;
        self.network
            .pass(index)
            .write_batch(&context, inputs, Some(targets))?;
        let kernels = Rc::clone(&self.kernels);
        let mut recording = Recording::new(&context, &kernels);
        self.record_step(&mut recording, index, LossSink::Steps)?;
        recording.submit();
        self.release_finished()?;
        Ok(())
    }

    /// Records one gradient step on the batch in training pass `index` (its examples and targets
    /// there or recorded before this): the dropout masks drawn and uploaded, the penalty of the
    /// weights before the update, the gradients, the loss added to `sink`, the update.
    pub(super) fn record_step(
        &mut self,
        recording: &mut Recording<'_>,
        index: usize,
        sink: LossSink<'_>,
    ) -> Result<(), GpuTrainingError> {
        let context = Rc::clone(&self.context);
        self.network
            .pass_mut(index)
            .draw_dropout_masks(&context, &mut self.rng)?;
        let (regularization, rate) = (self.config.regularization, self.config.regularization_rate);
        let penalty = &self.penalty;
        if rate != 0.0 {
            recording.training().clear(penalty);
            for weights in self.network.weights() {
                recording.training().weight_penalty(
                    regularization,
                    rate,
                    weights,
                    penalty,
                    true,
                )?;
            }
        }
        self.network.record_gradients(recording, index)?;
        let batch_loss = self
            .network
            .pass(index)
            .loss_value()
            .expect("a training pass");
        let (total, weight) = match sink {
            LossSink::Steps => (self.steps_losses.total(), 1),
            LossSink::Weighted { total, weight } => (total, weight),
        };
        recording
            .training()
            .accumulate_loss(batch_loss, penalty, weight, total)?;
        if let LossSink::Steps = sink {
            self.steps_losses.count_step();
        }
        let params = self.network.params();
        let penalty = (regularization, rate);
        let clip = self.config.clip_norm;
        self.optimizer
            .step(&context, recording.dense(), &params, penalty, clip)?;
        self.steps += 1;
        Ok(())
    }

    /// Natively, lets wgpu free finished steps' uniform buffers and bind groups without waiting
    /// (in the browser this does nothing; the browser frees them).
    pub(super) fn release_finished(&self) -> Result<(), GpuError> {
        self.context
            .device
            .poll(wgpu::PollType::Poll)
            .map(|_| ())
            .map_err(|error| GpuError::Dispatch(error.to_string()))
    }

    /// The mean loss (with the penalty) of the steps since the last call, as the CPU trainer's
    /// `train_step` returns each: NaN or infinite when training diverged. One small readback.
    pub async fn take_mean_loss(&mut self) -> Result<f32, GpuTrainingError> {
        self.steps_losses.take_mean(&self.context).await
    }

    /// [`GpuTrainer::take_mean_loss`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn take_mean_loss_blocking(&mut self) -> Result<f32, GpuTrainingError> {
        pollster::block_on(self.take_mean_loss())
    }

    /// Refuses inputs that are not a batch of this network's examples, in the words of `what`.
    pub(super) fn check_examples(
        &self,
        what: &'static str,
        inputs: &Tensor,
    ) -> Result<(), EngineError> {
        let example = self.network.template().example_shape();
        if inputs.shape().get(1..) == Some(example) {
            return Ok(());
        }
        let sides: Vec<String> = example.iter().map(usize::to_string).collect();
        Err(EngineError::shape(
            what,
            format!("inputs shaped [n, {}]", sides.join(", ")),
            format!("inputs of shape {:?}", inputs.shape()),
        ))
    }

    /// What the network shows for `inputs` `[n, ...example]` (any n) in evaluation mode (running
    /// statistics, no dropout): probabilities `[n, classes]` under a cross-entropy loss, as the
    /// CPU model's evaluation tape computes them. Runs in chunks, reads back once.
    pub async fn predict(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        self.check_examples("predict", inputs)?;
        // `[n, outputs]`, or `[n, steps, outputs]` for a network that answers at every step.
        let per_example = self.network.template().output_shape().to_vec();
        let outputs: usize = per_example.iter().product();
        let rows = inputs.shape()[0];
        let shape: Vec<usize> = std::iter::once(rows).chain(per_example).collect();
        if rows == 0 {
            return Ok(Tensor::zeros(&shape));
        }
        let context = Rc::clone(&self.context);
        let kernels = Rc::clone(&self.kernels);
        let predictions = GpuTensor::zeros(&context, &shape);
        let example_len = inputs.len() / rows;
        for start in (0..rows).step_by(PREDICT_CHUNK) {
            let end = (start + PREDICT_CHUNK).min(rows);
            let mut shape = inputs.shape().to_vec();
            shape[0] = end - start;
            let chunk = inputs.data()[start * example_len..end * example_len].to_vec();
            let chunk = Tensor::from_vec(&shape, chunk)?;
            let index = self
                .network
                .pass_index(&context, Mode::Evaluation, end - start)?;
            let pass = self.network.pass(index);
            pass.write_batch(&context, &chunk, None)?;
            // One submission per chunk: the next chunk's upload must land after this one ran.
            let mut recording = Recording::new(&context, &kernels);
            self.network.record_forward(&mut recording, index)?;
            recording
                .training()
                .copy(pass.prediction(), &predictions, start * outputs)?;
            recording.submit();
        }
        Ok(predictions.read(&context).await?)
    }

    /// [`GpuTrainer::predict`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_blocking(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        pollster::block_on(self.predict(inputs))
    }

    /// A CPU copy of the network with the GPU's parameters and running statistics (its output
    /// transform set from the loss, as the CPU trainer's model has it).
    pub async fn read_model(&self) -> Result<M, GpuTrainingError> {
        let training = &self.kernels.training;
        Ok(self.network.to_model(&self.context, training).await?)
    }

    /// [`GpuTrainer::read_model`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_model_blocking(&self) -> Result<M, GpuTrainingError> {
        pollster::block_on(self.read_model())
    }
}

/// The GPU as a [`TrainingEngine`], for every network: steps are queued (their losses come with
/// `take_mean_loss`), the network is read back from the GPU.
impl<M: Trainable + Clone> TrainingEngine<M> for GpuTrainer<M> {
    fn config(&self) -> &TrainConfig {
        GpuTrainer::config(self)
    }

    fn set_learning_rate(&mut self, rate: f32) {
        GpuTrainer::set_learning_rate(self, rate);
    }

    fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<Option<f32>, EngineError> {
        GpuTrainer::train_step(self, inputs, targets)?;
        Ok(None)
    }

    fn take_mean_loss(&mut self) -> Pending<'_, f32> {
        Box::pin(async move { Ok(GpuTrainer::take_mean_loss(self).await?) })
    }

    fn model(&self) -> Option<&M> {
        None
    }

    fn read_model(&self) -> Pending<'_, M> {
        Box::pin(async move { Ok(GpuTrainer::read_model(self).await?) })
    }

    fn load_params(&mut self, params: &Params) -> Result<(), EngineError> {
        let mut model = self.network.template().clone();
        check_same_network(model.params(), params)?;
        *model.params_mut() = params.clone();
        Ok(self.load_model(&model)?)
    }

    fn reset_optimizer(&mut self) {
        GpuTrainer::reset_optimizer(self);
    }

    fn read_trainer_state(&self) -> Pending<'_, Option<TrainerState>> {
        Box::pin(async move { Ok(Some(GpuTrainer::read_state(self).await?)) })
    }

    fn resume(&mut self, state: TrainerState) -> Result<(), EngineError> {
        Ok(GpuTrainer::resume(self, state)?)
    }
}
