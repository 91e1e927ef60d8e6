//! `GpuTrainer`: mini-batch training of the playground's dense [`Model`] on the GPU, step for
//! step what the CPU [`Trainer`](crate::engine::Trainer) does with the same [`TrainConfig`].
//!
//! The weights, the optimiser state and the whole training set stay on the GPU. Each epoch
//! shuffles the row order on the CPU with the trainer's seeded RNG exactly as the CPU trainer
//! does (one small upload), gathers every batch on the GPU, and keeps the epoch's mean loss on
//! the GPU. Nothing is read back until asked: [`GpuTrainer::read_losses`] and
//! [`GpuTrainer::read_model`] (for the CPU to continue from, or to draw the network).

use std::fmt;
use std::rc::Rc;

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dense_model::GpuDenseModel;
use super::error::GpuError;
use super::kernels::{Commands, Kernels};
use super::optimizer::GpuOptimizer;
use super::step_losses::StepLosses;
use super::training_kernels::{GpuIndices, TrainingCommands, TrainingKernels};
use crate::engine::trainer::{check_data, check_loss_fits};
use crate::engine::training_engine::check_same_network;
use crate::engine::{
    EngineError, Model, Params, Pending, SeededRng, Tensor, TrainConfig, TrainingEngine,
};

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

/// The training set on the GPU, with room for one epoch's row order.
#[derive(Debug)]
struct TrainingSet {
    inputs: GpuTensor,
    targets: GpuTensor,
    order: GpuIndices,
    rows: usize,
}

/// The loss bookkeeping kept on the GPU: the current batch's loss and penalty, the epoch's
/// running sum, and the mean of every epoch not yet read back.
#[derive(Debug)]
struct LossLog {
    batch_loss: GpuTensor,
    penalty: GpuTensor,
    running_total: GpuTensor,
    epochs: GpuTensor,
    /// Epochs finished since the last read: the first `unread` entries of `epochs`.
    unread: usize,
    /// The losses of single steps ([`GpuTrainer::train_step`]) not yet read.
    steps: StepLosses,
}

#[derive(Debug)]
pub struct GpuTrainer {
    context: Rc<GpuContext>,
    kernels: Rc<Kernels>,
    training_kernels: Rc<TrainingKernels>,
    model: GpuDenseModel,
    config: TrainConfig,
    optimizer: GpuOptimizer,
    rng: SeededRng,
    /// The row order, reshuffled in place every epoch like the CPU trainer's.
    order: Vec<usize>,
    data: Option<TrainingSet>,
    losses: LossLog,
    epoch: usize,
    steps: u64,
}

impl GpuTrainer {
    /// Starts training from `model`'s current weights (the CPU → GPU switch), with a fresh
    /// optimiser and a shuffle seeded by `config.seed`, as [`Trainer::new`] does.
    ///
    /// [`Trainer::new`]: crate::engine::Trainer::new
    pub async fn from_model(
        context: Rc<GpuContext>,
        kernels: Rc<Kernels>,
        model: &Model,
        config: TrainConfig,
    ) -> Result<GpuTrainer, GpuTrainingError> {
        config.validate()?;
        check_loss_fits(model, config.loss)?;
        context.forget_dispatches();
        let training_kernels = Rc::new(TrainingKernels::new(&context).await?);
        let gpu_model = GpuDenseModel::upload(&context, model, config.loss.output_activation());
        let scalar = || GpuTensor::zeros(&context, &[1]);
        let losses = LossLog {
            batch_loss: scalar(),
            penalty: scalar(),
            running_total: scalar(),
            epochs: GpuTensor::zeros(&context, &[16]),
            unread: 0,
            steps: StepLosses::new(&context),
        };
        Ok(GpuTrainer {
            training_kernels,
            model: gpu_model,
            optimizer: GpuOptimizer::new(config.optimizer),
            rng: SeededRng::new(config.seed),
            config,
            order: Vec::new(),
            data: None,
            losses,
            epoch: 0,
            steps: 0,
            context,
            kernels,
        })
    }

    /// [`GpuTrainer::from_model`], waiting for the shaders to compile (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_model_blocking(
        context: Rc<GpuContext>,
        kernels: Rc<Kernels>,
        model: &Model,
        config: TrainConfig,
    ) -> Result<GpuTrainer, GpuTrainingError> {
        pollster::block_on(GpuTrainer::from_model(context, kernels, model, config))
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

    /// The device this trainer runs on, e.g. for "Training on WebGPU (…)".
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Changes the settings, keeping the weights, with the CPU trainer's rules: the optimiser
    /// state is reset only when its kind changes, the shuffling restarts only when the seed does.
    pub fn set_config(&mut self, config: TrainConfig) -> Result<(), GpuTrainingError> {
        config.validate()?;
        check_loss_fits(self.model.template(), config.loss)?;
        self.model
            .set_output_transform(config.loss.output_activation());
        if config.seed != self.config.seed {
            self.rng = SeededRng::new(config.seed);
        }
        self.optimizer.set_config(config.optimizer);
        self.config = config;
        Ok(())
    }

    /// Forgets the optimiser's running state (momentum, moments).
    pub fn reset_optimizer(&mut self) {
        self.optimizer.reset();
    }

    /// Replaces the weights with `model`'s (same layers), keeping the optimiser state.
    pub fn load_model(&mut self, model: &Model) -> Result<(), GpuTrainingError> {
        Ok(self.model.write(&self.context, model)?)
    }

    /// Uploads the training set: inputs `[n, inputs]`, targets `[n, outputs]`. The row order
    /// restarts (from `0..n`) only when `n` changes, as in the CPU trainer.
    pub fn set_data(&mut self, inputs: &Tensor, targets: &Tensor) -> Result<(), GpuTrainingError> {
        let rows = check_data(self.model.template(), inputs, targets)?;
        self.data = Some(TrainingSet {
            inputs: GpuTensor::upload(&self.context, inputs),
            targets: GpuTensor::upload(&self.context, targets),
            order: GpuIndices::new(&self.context, rows),
            rows,
        });
        Ok(())
    }

    /// Records and submits `epochs` passes over the training set in shuffled mini-batches,
    /// without waiting for them or reading anything back. A loss that turned NaN or infinite
    /// shows in [`GpuTrainer::read_losses`]; the weights are then unusable.
    pub fn train_epochs(&mut self, epochs: usize) -> Result<(), GpuTrainingError> {
        let rows = match &self.data {
            Some(data) => data.rows,
            None => {
                return Err(EngineError::InvalidState(
                    "there is no training data on the GPU: call set_data first".to_string(),
                )
                .into());
            }
        };
        self.reserve_epoch_slots(epochs)?;
        for _ in 0..epochs {
            if self.order.len() != rows {
                self.order.clear();
                self.order.extend(0..rows);
            }
            self.rng.shuffle(&mut self.order);
            self.train_epoch()?;
        }
        Ok(())
    }

    /// One epoch in the order `self.order`: per batch one submission of the step (forward, loss,
    /// backward, update) and one of the bookkeeping around it (add the loss to the running sum,
    /// penalty of the updated weights, cleared gradients, the next batch gathered).
    fn train_epoch(&mut self) -> Result<(), GpuError> {
        let context = Rc::clone(&self.context);
        let kernels = Rc::clone(&self.kernels);
        let training_kernels = Rc::clone(&self.training_kernels);
        let total_rows = {
            let data = self.data.as_ref().expect("checked by train_epochs");
            data.order.write(&context, &self.order)?;
            data.rows
        };
        let batch_size = self.config.batch_size;
        let batches: Vec<(usize, usize)> = (0..total_rows)
            .step_by(batch_size)
            .map(|start| (start, batch_size.min(total_rows - start)))
            .collect();
        let mut bookkeeping = training_kernels.begin(&context);
        self.prepare_batch(&mut bookkeeping, batches[0])?;
        bookkeeping.submit();
        for (index, &(_, rows)) in batches.iter().enumerate() {
            let workspace_index = self.model.workspace_index(&context, rows);
            let mut commands = kernels.begin(&context);
            self.record_step(&mut commands, workspace_index)?;
            commands.submit();

            let mut bookkeeping = training_kernels.begin(&context);
            let log = &self.losses;
            bookkeeping.accumulate_loss(&log.batch_loss, &log.penalty, rows, &log.running_total)?;
            match batches.get(index + 1) {
                Some(&next) => self.prepare_batch(&mut bookkeeping, next)?,
                None => bookkeeping.finish_epoch(
                    &log.running_total,
                    total_rows,
                    &log.epochs,
                    log.unread,
                )?,
            }
            bookkeeping.submit();
        }
        self.losses.unread += 1;
        self.epoch += 1;
        // Natively, lets wgpu free the finished steps' uniform buffers and bind groups, without
        // waiting (in the browser this does nothing; the browser frees them).
        context
            .device
            .poll(wgpu::PollType::Poll)
            .map_err(|error| GpuError::Dispatch(error.to_string()))?;
        Ok(())
    }

    /// Records, for the batch of `rows` examples starting at `start` in the epoch's order: the
    /// penalty and cleared gradients ([`GpuTrainer::record_penalty_and_clear`]), and the gathered
    /// inputs and targets.
    fn prepare_batch(
        &mut self,
        commands: &mut TrainingCommands<'_>,
        (start, rows): (usize, usize),
    ) -> Result<(), GpuError> {
        let index = self.model.workspace_index(&self.context, rows);
        self.record_penalty_and_clear(commands, index)?;
        let workspace = self.model.workspace(index);
        let data = self.data.as_ref().expect("checked by train_epochs");
        commands.gather_rows(&data.inputs, &data.order, start, &workspace.input)?;
        commands.gather_rows(&data.targets, &data.order, start, &workspace.target)?;
        Ok(())
    }

    /// Records the penalty of the current weights (the CPU adds it to the batch's loss before
    /// the update) and clears the gradients of workspace `index`.
    fn record_penalty_and_clear(
        &self,
        commands: &mut TrainingCommands<'_>,
        index: usize,
    ) -> Result<(), GpuError> {
        let penalty = &self.losses.penalty;
        commands.clear(penalty);
        let (regularization, rate) = (self.config.regularization, self.config.regularization_rate);
        if rate != 0.0 {
            for weights in self.model.weights() {
                commands.weight_penalty(regularization, rate, weights, penalty, true)?;
            }
        }
        self.model
            .clear_gradients(commands, self.model.workspace(index));
        Ok(())
    }

    /// Records one gradient step on the batch in workspace `index`: forward, loss (into the
    /// batch loss), backward and the optimiser's update.
    fn record_step(&mut self, commands: &mut Commands<'_>, index: usize) -> Result<(), GpuError> {
        let workspace = self.model.workspace(index);
        let loss = self.config.loss;
        self.model.forward(commands, workspace)?;
        commands.loss_value(
            loss,
            workspace.loss_input(),
            &workspace.target,
            &self.losses.batch_loss,
        )?;
        self.model.backward(commands, workspace, loss)?;
        let params = self.model.params();
        let (regularization, rate) = (self.config.regularization, self.config.regularization_rate);
        self.optimizer
            .step(&self.context, commands, &params, regularization, rate)?;
        self.steps += 1;
        Ok(())
    }

    /// One gradient step on exactly these examples, inputs `[n, inputs]` and targets
    /// `[n, outputs]`, as [`Trainer::train_step`](crate::engine::Trainer::train_step) takes it,
    /// submitted in one go without waiting. Its loss (before the update, with the penalty) joins
    /// the sum that [`GpuTrainer::take_mean_loss`] reads; the training set of
    /// [`GpuTrainer::set_data`] and the epochs' losses are left alone. A loss that turned NaN or
    /// infinite is not noticed here (that needs a readback): it shows in the mean loss.
    pub fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<(), GpuTrainingError> {
        let rows = check_data(self.model.template(), inputs, targets)?;
        let context = Rc::clone(&self.context);
        let index = self.model.workspace_index(&context, rows);
        let workspace = self.model.workspace(index);
        // Through the queue: lands after the steps submitted before, before this one.
        workspace.input.write(&context, inputs)?;
        workspace.target.write(&context, targets)?;
        let (kernels, training_kernels) =
            (Rc::clone(&self.kernels), Rc::clone(&self.training_kernels));
        let mut bookkeeping = training_kernels.begin(&context);
        self.record_penalty_and_clear(&mut bookkeeping, index)?;
        let mut commands = kernels.resume(&context, bookkeeping.into_encoder());
        self.record_step(&mut commands, index)?;
        let mut bookkeeping = training_kernels.resume(&context, commands.into_encoder());
        let log = &self.losses;
        bookkeeping.accumulate_loss(&log.batch_loss, &log.penalty, 1, log.steps.total())?;
        bookkeeping.submit();
        self.losses.steps.count_step();
        Ok(())
    }

    /// The mean loss of the steps of [`GpuTrainer::train_step`] since the last call (NaN or
    /// infinite when training diverged): one readback. An error when there was no step.
    pub async fn take_mean_loss(&mut self) -> Result<f32, GpuTrainingError> {
        self.losses.steps.take_mean(&self.context).await
    }

    /// [`GpuTrainer::take_mean_loss`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn take_mean_loss_blocking(&mut self) -> Result<f32, GpuTrainingError> {
        pollster::block_on(self.take_mean_loss())
    }

    /// Makes room on the GPU for `more` unread epoch losses, keeping the unread ones.
    fn reserve_epoch_slots(&mut self, more: usize) -> Result<(), GpuError> {
        let needed = self.losses.unread + more;
        if needed <= self.losses.epochs.len() {
            return Ok(());
        }
        let larger = GpuTensor::zeros(&self.context, &[needed.next_power_of_two()]);
        let mut commands = self.training_kernels.begin(&self.context);
        commands.copy(&self.losses.epochs, &larger, 0)?;
        commands.submit();
        self.losses.epochs = larger;
        Ok(())
    }

    /// The mean training loss of every epoch trained since the last read, oldest first, each as
    /// [`Trainer::train_epoch`] returns it (batch losses before their updates, weighted by batch
    /// size, plus the penalty). One readback, whatever the number of epochs.
    ///
    /// [`Trainer::train_epoch`]: crate::engine::Trainer::train_epoch
    pub async fn read_losses(&mut self) -> Result<Vec<f32>, GpuError> {
        let unread = self.losses.unread;
        if unread == 0 {
            return Ok(Vec::new());
        }
        let all = self.losses.epochs.read(&self.context).await?;
        self.losses.unread = 0;
        Ok(all.data()[..unread].to_vec())
    }

    /// [`GpuTrainer::read_losses`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_losses_blocking(&mut self) -> Result<Vec<f32>, GpuError> {
        pollster::block_on(self.read_losses())
    }

    /// The model with the GPU's current weights, its output transform set from the loss (as the
    /// CPU trainer's model has it): hand it to a CPU [`Trainer`](crate::engine::Trainer) to go on
    /// training there, or draw it.
    pub async fn read_model(&self) -> Result<Model, GpuError> {
        self.model
            .to_model(&self.context, &self.training_kernels)
            .await
    }

    /// [`GpuTrainer::read_model`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_model_blocking(&self) -> Result<Model, GpuError> {
        pollster::block_on(self.read_model())
    }

    /// The prediction shown to the user for `inputs` `[rows, inputs]` (probabilities under a
    /// cross-entropy loss), as [`Model::predict`] computes it: e.g. the decision-boundary grid.
    pub async fn predict(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        let index = self.predict_into_workspace(inputs)?;
        let workspace = self.model.workspace(index);
        Ok(workspace.prediction().read(&self.context).await?)
    }

    /// Submits the forward pass over `inputs` into the workspace of its row count, output
    /// transform included; returns that workspace's index.
    fn predict_into_workspace(&mut self, inputs: &Tensor) -> Result<usize, GpuTrainingError> {
        let features = self.model.input_count();
        if inputs.rank() != 2 || inputs.cols() != features {
            return Err(EngineError::shape(
                "predict",
                format!("inputs shaped [points, {features}]"),
                format!("inputs of shape {:?}", inputs.shape()),
            )
            .into());
        }
        let context = Rc::clone(&self.context);
        let index = self.model.workspace_index(&context, inputs.rows());
        let workspace = self.model.workspace(index);
        workspace.input.write(&context, inputs)?;
        let mut commands = self.kernels.begin(&context);
        self.model.forward(&mut commands, workspace)?;
        self.model.transform_sigmoid(&mut commands, workspace)?;
        commands.submit();
        let mut softmax = self.training_kernels.begin(&context);
        self.model.transform_softmax(&mut softmax, workspace)?;
        softmax.submit();
        Ok(index)
    }

    /// Every layer's output for `inputs` `[points, inputs]`, as [`Model::layer_output`] gives
    /// it after [`Model::forward`] (the decision-boundary grid and the neuron thumbnails), read
    /// back in one transfer.
    pub async fn layer_outputs(
        &mut self,
        inputs: &Tensor,
    ) -> Result<Vec<Tensor>, GpuTrainingError> {
        let index = self.predict_into_workspace(inputs)?;
        let context = Rc::clone(&self.context);
        let workspace = self.model.workspace(index);
        let total = workspace.layer_outputs().map(GpuTensor::len).sum();
        let packed = GpuTensor::zeros(&context, &[total]);
        let mut commands = self.training_kernels.begin(&context);
        let mut offset = 0;
        for output in workspace.layer_outputs() {
            commands.copy(output, &packed, offset)?;
            offset += output.len();
        }
        commands.submit();
        let flat = packed.read(&context).await?;
        let mut rest = flat.data();
        let mut outputs = Vec::new();
        for output in workspace.layer_outputs() {
            let (mine, after) = rest.split_at(output.len());
            outputs.push(Tensor::from_vec(output.shape(), mine.to_vec())?);
            rest = after;
        }
        Ok(outputs)
    }

    /// [`GpuTrainer::layer_outputs`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn layer_outputs_blocking(
        &mut self,
        inputs: &Tensor,
    ) -> Result<Vec<Tensor>, GpuTrainingError> {
        pollster::block_on(self.layer_outputs(inputs))
    }

    /// [`GpuTrainer::predict`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_blocking(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        pollster::block_on(self.predict(inputs))
    }
}

/// The playground's dense network trained through the same interface as on the CPU: a batch at
/// a time, the loss read back when asked.
impl TrainingEngine<Model> for GpuTrainer {
    fn config(&self) -> &TrainConfig {
        GpuTrainer::config(self)
    }

    fn set_learning_rate(&mut self, rate: f32) {
        self.config.optimizer.learning_rate = rate;
        self.optimizer.set_config(self.config.optimizer);
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

    fn model(&self) -> Option<&Model> {
        None
    }

    fn read_model(&self) -> Pending<'_, Model> {
        Box::pin(async move {
            Ok(GpuTrainer::read_model(self)
                .await
                .map_err(GpuTrainingError::Gpu)?)
        })
    }

    fn load_params(&mut self, params: &Params) -> Result<(), EngineError> {
        let mut model = self.model.template().clone();
        check_same_network(model.params(), params)?;
        *model.params_mut() = params.clone();
        Ok(self.load_model(&model)?)
    }

    fn reset_optimizer(&mut self) {
        GpuTrainer::reset_optimizer(self);
    }
}
