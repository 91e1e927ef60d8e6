//! `GpuEpochTrainer`: the playground's whole-epoch loop on the GPU, a driver on top of the one
//! GPU trainer ([`GpuTrainer`]): the training set stays on the GPU, each epoch what
//! [`Trainer::train_epoch`](crate::engine::Trainer::train_epoch) does with the same
//! [`TrainConfig`].
//!
//! Each epoch shuffles the row order on the CPU with the trainer's seeded RNG exactly as the CPU
//! trainer does (one small upload), gathers every batch on the GPU into the training pass's own
//! input, and keeps the epoch's mean loss on the GPU. Nothing is read back until asked:
//! [`GpuEpochTrainer::read_losses`], [`GpuEpochTrainer::read_model`] (for the CPU to continue
//! from, or to draw the network) and [`GpuEpochTrainer::layer_outputs`] (the decision-boundary
//! grid).

use std::rc::Rc;

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::recording::{KernelFamilies, Recording};
use super::trainer::{GpuTrainer, GpuTrainingError, LossSink};
use super::training_kernels::GpuIndices;
use crate::engine::trainer::{TrainerState, check_data};
use crate::engine::{EngineError, Mode, Tensor, TrainConfig, Trainable};

/// The training set on the GPU, with room for one epoch's row order.
#[derive(Debug)]
struct TrainingSet {
    inputs: GpuTensor,
    targets: GpuTensor,
    order: GpuIndices,
    rows: usize,
}

/// The epochs' losses kept on the GPU: the running sum of the epoch being trained, and the mean
/// of every epoch not yet read back.
#[derive(Debug)]
struct EpochLosses {
    running_total: GpuTensor,
    epochs: GpuTensor,
    /// Epochs finished since the last read: the first `unread` entries of `epochs`.
    unread: usize,
}

#[derive(Debug)]
pub struct GpuEpochTrainer<M> {
    trainer: GpuTrainer<M>,
    /// The row order, reshuffled in place every epoch like the CPU trainer's.
    order: Vec<usize>,
    data: Option<TrainingSet>,
    losses: EpochLosses,
    epoch: usize,
}

impl<M: Trainable + Clone> GpuEpochTrainer<M> {
    /// Starts training from `model`'s current weights (the CPU → GPU switch), with a fresh
    /// optimiser and a shuffle seeded by `config.seed`, as
    /// [`Trainer::new`](crate::engine::Trainer::new) does.
    pub fn new(
        context: Rc<GpuContext>,
        kernels: Rc<KernelFamilies>,
        model: &M,
        config: TrainConfig,
    ) -> Result<GpuEpochTrainer<M>, GpuTrainingError> {
        let trainer = GpuTrainer::with_kernels(context, kernels, model, config)?;
        let context = &trainer.context;
        let losses = EpochLosses {
            running_total: GpuTensor::zeros(context, &[1]),
            epochs: GpuTensor::zeros(context, &[16]),
            unread: 0,
        };
        Ok(GpuEpochTrainer {
            trainer,
            order: Vec::new(),
            data: None,
            losses,
            epoch: 0,
        })
    }

    /// The trainer underneath, for single steps ([`GpuTrainer::train_step`]) and everything a
    /// [`TrainingEngine`](crate::engine::TrainingEngine) does.
    pub fn trainer(&mut self) -> &mut GpuTrainer<M> {
        &mut self.trainer
    }

    pub fn config(&self) -> &TrainConfig {
        self.trainer.config()
    }

    /// Number of completed epochs.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Number of gradient steps taken.
    pub fn steps(&self) -> u64 {
        self.trainer.steps()
    }

    /// The device this trainer runs on.
    pub fn context(&self) -> &GpuContext {
        self.trainer.context()
    }

    /// Replaces the weights with `model`'s (same layers), keeping the optimiser state.
    pub fn load_model(&mut self, model: &M) -> Result<(), GpuTrainingError> {
        self.trainer.load_model(model)
    }

    /// What the trainer keeps besides the weights, read back: the optimiser's moments, the step
    /// count, the generator, the last epoch's row order and the epochs completed here, as the
    /// CPU [`Trainer::state`](crate::engine::Trainer::state) gives them.
    pub async fn read_state(&self) -> Result<TrainerState, GpuTrainingError> {
        let mut state = self.trainer.read_state().await?;
        state.epoch = self.epoch;
        state.order = self.order.clone();
        Ok(state)
    }

    /// Goes on from a CPU trainer's state (or [`GpuEpochTrainer::read_state`]) of the same
    /// network: the same optimiser, generator and row order, so that the next epochs are the
    /// ones that trainer would have run. The epoch count here stays its own. A state that does
    /// not fit is refused and this trainer's own kept.
    pub fn resume(&mut self, state: TrainerState) -> Result<(), GpuTrainingError> {
        let mut seen = vec![false; state.order.len()];
        for &index in &state.order {
            match seen.get_mut(index) {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    return Err(EngineError::InvalidState(
                        "the saved row order is not an order of the training set".to_string(),
                    )
                    .into());
                }
            }
        }
        let order = state.order.clone();
        self.trainer.resume(state)?;
        self.order = order;
        Ok(())
    }

    /// Uploads the training set: inputs `[n, ...example]`, targets `[n, outputs]`. The row order
    /// restarts (from `0..n`) only when `n` changes, as in the CPU trainer.
    pub fn set_data(&mut self, inputs: &Tensor, targets: &Tensor) -> Result<(), GpuTrainingError> {
        let rows = check_data(self.trainer.template(), inputs, targets)?;
        let context = &self.trainer.context;
        self.data = Some(TrainingSet {
            inputs: GpuTensor::upload(context, inputs),
            targets: GpuTensor::upload(context, targets),
            order: GpuIndices::new(context, rows),
            rows,
        });
        Ok(())
    }

    /// Records and submits `epochs` passes over the training set in shuffled mini-batches,
    /// without waiting for them or reading anything back. A loss that turned NaN or infinite
    /// shows in [`GpuEpochTrainer::read_losses`]; the weights are then unusable.
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
            self.trainer.rng.shuffle(&mut self.order);
            self.train_epoch()?;
        }
        Ok(())
    }

    /// One epoch in the order `self.order`, one submission per batch: the batch gathered into
    /// the training pass's input, the step, its loss added to the epoch's sum (weighted by the
    /// batch's size), and after the last batch the epoch's mean.
    fn train_epoch(&mut self) -> Result<(), GpuTrainingError> {
        let context = Rc::clone(&self.trainer.context);
        let kernels = Rc::clone(&self.trainer.kernels);
        let data = self.data.as_ref().expect("checked by train_epochs");
        data.order.write(&context, &self.order)?;
        let (total_rows, batch_size) = (data.rows, self.trainer.config().batch_size);
        for start in (0..total_rows).step_by(batch_size) {
            let rows = batch_size.min(total_rows - start);
            let index = self
                .trainer
                .network
                .pass_index(&context, Mode::Training, rows)?;
            let mut recording = Recording::new(&context, &kernels);
            let pass = self.trainer.network.pass(index);
            let target = pass.target().expect("a training pass has targets");
            let gather = recording.training();
            gather.gather_rows(&data.inputs, &data.order, start, pass.input())?;
            gather.gather_rows(&data.targets, &data.order, start, target)?;
            let log = &self.losses;
            let sink = LossSink::Weighted {
                total: &log.running_total,
                weight: rows,
            };
            self.trainer.record_step(&mut recording, index, sink)?;
            if start + rows == total_rows {
                recording.training().finish_epoch(
                    &log.running_total,
                    total_rows,
                    &log.epochs,
                    log.unread,
                )?;
            }
            recording.submit();
        }
        self.losses.unread += 1;
        self.epoch += 1;
        Ok(self.trainer.release_finished()?)
    }

    /// Makes room on the GPU for `more` unread epoch losses, keeping the unread ones.
    fn reserve_epoch_slots(&mut self, more: usize) -> Result<(), GpuError> {
        let needed = self.losses.unread + more;
        if needed <= self.losses.epochs.len() {
            return Ok(());
        }
        let context = &self.trainer.context;
        let larger = GpuTensor::zeros(context, &[needed.next_power_of_two()]);
        let mut commands = self.trainer.kernels.training.begin(context);
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
        let all = self.losses.epochs.read(&self.trainer.context).await?;
        self.losses.unread = 0;
        Ok(all.data()[..unread].to_vec())
    }

    /// [`GpuEpochTrainer::read_losses`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_losses_blocking(&mut self) -> Result<Vec<f32>, GpuError> {
        pollster::block_on(self.read_losses())
    }

    /// The model with the GPU's current weights, its output transform set from the loss (as the
    /// CPU trainer's model has it): hand it to a CPU [`Trainer`](crate::engine::Trainer) to go on
    /// training there, or draw it.
    pub async fn read_model(&self) -> Result<M, GpuTrainingError> {
        self.trainer.read_model().await
    }

    /// [`GpuEpochTrainer::read_model`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_model_blocking(&self) -> Result<M, GpuTrainingError> {
        pollster::block_on(self.read_model())
    }

    /// The prediction shown to the user for `inputs` (probabilities under a cross-entropy
    /// loss), as the CPU model's evaluation tape computes it.
    pub async fn predict(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        self.trainer.predict(inputs).await
    }

    /// [`GpuEpochTrainer::predict`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_blocking(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        pollster::block_on(self.predict(inputs))
    }

    /// Every layer's output for `inputs` `[points, ...example]`, as
    /// [`Model::layer_output`](crate::engine::Model::layer_output) gives it after a forward pass
    /// (the decision-boundary grid and the neuron thumbnails): one evaluation pass over every
    /// point, read back in one transfer.
    pub async fn layer_outputs(
        &mut self,
        inputs: &Tensor,
    ) -> Result<Vec<Tensor>, GpuTrainingError> {
        self.trainer.check_examples("layer outputs", inputs)?;
        let context = Rc::clone(&self.trainer.context);
        let kernels = Rc::clone(&self.trainer.kernels);
        let network = &mut self.trainer.network;
        let index = network.pass_index(&context, Mode::Evaluation, inputs.shape()[0])?;
        let pass = network.pass(index);
        pass.write_batch(&context, inputs, None)?;
        let total = pass.layer_outputs().map(GpuTensor::len).sum();
        let packed = GpuTensor::zeros(&context, &[total]);
        let mut recording = Recording::new(&context, &kernels);
        network.record_forward(&mut recording, index)?;
        let mut offset = 0;
        for output in pass.layer_outputs() {
            recording.training().copy(output, &packed, offset)?;
            offset += output.len();
        }
        recording.submit();
        let flat = packed.read(&context).await?;
        let mut rest = flat.data();
        let mut outputs = Vec::new();
        for output in pass.layer_outputs() {
            let (mine, after) = rest.split_at(output.len());
            outputs.push(Tensor::from_vec(output.shape(), mine.to_vec())?);
            rest = after;
        }
        Ok(outputs)
    }

    /// [`GpuEpochTrainer::layer_outputs`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn layer_outputs_blocking(
        &mut self,
        inputs: &Tensor,
    ) -> Result<Vec<Tensor>, GpuTrainingError> {
        pollster::block_on(self.layer_outputs(inputs))
    }
}
