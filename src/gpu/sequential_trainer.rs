//! `GpuSequentialTrainer`: gradient steps of an image network ([`Sequential`]) on the GPU, fed
//! one batch at a time (the app shuffles and augments its digits on the CPU), each step what
//! [`Trainer::train_step`](crate::engine::Trainer::train_step) does with the same
//! [`TrainConfig`]: same loss, gradients, running statistics, dropout masks and optimiser update.
//!
//! A step uploads the batch and the dropout masks (drawn on the CPU with the trainer's seeded RNG
//! in the CPU trainer's order), then records forward, loss, backward and update into one
//! submission. The batch's loss is added to a running sum on the GPU; nothing is read back until
//! [`GpuSequentialTrainer::take_mean_loss`], [`GpuSequentialTrainer::predict`] or
//! [`GpuSequentialTrainer::read_model`] are awaited.

use std::rc::Rc;

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::optimizer::GpuOptimizer;
use super::recording::{KernelFamilies, Recording};
use super::sequential_model::GpuSequential;
use super::step_losses::StepLosses;
use super::trainer::GpuTrainingError;
use crate::engine::trainer::{check_data, check_loss_fits};
use crate::engine::training_engine::check_same_network;
use crate::engine::{
    EngineError, Mode, Params, Pending, SeededRng, Sequential, Tensor, TrainConfig, Trainable,
    TrainingEngine,
};

/// Images per evaluation pass of [`GpuSequentialTrainer::predict`], bounding its buffers.
const PREDICT_CHUNK: usize = 256;

/// The loss bookkeeping kept on the GPU.
#[derive(Debug)]
struct LossLog {
    /// The current step's penalty of the weights before the update (0 without one).
    penalty: GpuTensor,
    /// Σ (batch loss + penalty) of the steps not yet taken.
    steps: StepLosses,
}

#[derive(Debug)]
pub struct GpuSequentialTrainer {
    context: Rc<GpuContext>,
    kernels: KernelFamilies,
    model: GpuSequential,
    config: TrainConfig,
    optimizer: GpuOptimizer,
    rng: SeededRng,
    losses: LossLog,
    steps: u64,
}

impl GpuSequentialTrainer {
    /// Starts training from `model`'s parameters with a fresh optimiser and the dropout RNG
    /// seeded by `config.seed`, as [`Trainer::new`](crate::engine::Trainer::new) does; refuses
    /// what it refuses. Compiles every kernel family.
    pub async fn new(
        context: Rc<GpuContext>,
        model: &Sequential,
        config: TrainConfig,
    ) -> Result<GpuSequentialTrainer, GpuTrainingError> {
        config.validate()?;
        check_loss_fits(model, config.loss)?;
        context.forget_dispatches();
        let kernels = KernelFamilies::new(&context).await?;
        let losses = LossLog {
            penalty: GpuTensor::zeros(&context, &[1]),
            steps: StepLosses::new(&context),
        };
        Ok(GpuSequentialTrainer {
            model: GpuSequential::upload(&context, model, config.loss),
            kernels,
            optimizer: GpuOptimizer::new(config.optimizer),
            rng: SeededRng::new(config.seed),
            config,
            losses,
            steps: 0,
            context,
        })
    }

    /// [`GpuSequentialTrainer::new`], waiting for the shaders to compile (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(
        context: Rc<GpuContext>,
        model: &Sequential,
        config: TrainConfig,
    ) -> Result<GpuSequentialTrainer, GpuTrainingError> {
        pollster::block_on(GpuSequentialTrainer::new(context, model, config))
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The device this trainer runs on.
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Number of gradient steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
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

    /// Replaces the parameters and running statistics with `model`'s (same layers), keeping the
    /// optimiser state: e.g. a checkpoint after training diverged.
    pub fn load_model(&mut self, model: &Sequential) -> Result<(), GpuTrainingError> {
        Ok(self.model.write(&self.context, model)?)
    }

    /// One gradient step on exactly these examples, inputs `[n, c, h, w]` and targets
    /// `[n, outputs]`, submitted without waiting. Its loss (with the penalty) joins the running
    /// sum that [`GpuSequentialTrainer::take_mean_loss`] reads. Unlike the CPU trainer, a loss
    /// that turned NaN or infinite is not noticed here (that would need a readback): it shows in
    /// the mean loss, and the parameters are then unusable (load a checkpoint).
    pub fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<(), GpuTrainingError> {
        let rows = check_data(self.model.template(), inputs, targets)?;
        let context = Rc::clone(&self.context);
        let index = self.model.pass_index(&context, Mode::Training, rows)?;
        let pass = self.model.pass_mut(index);
        pass.write_batch(&context, inputs, Some(targets))?;
        pass.draw_dropout_masks(&context, &mut self.rng)?;

        let mut recording = Recording::new(&context, &self.kernels);
        let (regularization, rate) = (self.config.regularization, self.config.regularization_rate);
        if rate != 0.0 {
            let penalty = &self.losses.penalty;
            recording.training().clear(penalty);
            for weights in self.model.weights() {
                recording.training().weight_penalty(
                    regularization,
                    rate,
                    weights,
                    penalty,
                    true,
                )?;
            }
        }
        self.model.record_gradients(&mut recording, index)?;
        let batch_loss = self
            .model
            .pass(index)
            .loss_value()
            .expect("a training pass");
        let log = &self.losses;
        recording
            .training()
            .accumulate_loss(batch_loss, &log.penalty, 1, log.steps.total())?;
        let params = self.model.params();
        self.optimizer
            .step(&context, recording.dense(), &params, regularization, rate)?;
        recording.submit();
        self.losses.steps.count_step();
        self.steps += 1;
        // Natively, lets wgpu free finished steps' uniform buffers and bind groups without
        // waiting (in the browser this does nothing; the browser frees them).
        context
            .device
            .poll(wgpu::PollType::Poll)
            .map_err(|error| GpuError::Dispatch(error.to_string()))?;
        Ok(())
    }

    /// The mean loss (with the penalty) of the steps since the last call, as the CPU trainer's
    /// `train_step` returns each: NaN or infinite when training diverged. One small readback.
    pub async fn take_mean_loss(&mut self) -> Result<f32, GpuTrainingError> {
        self.losses.steps.take_mean(&self.context).await
    }

    /// [`GpuSequentialTrainer::take_mean_loss`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn take_mean_loss_blocking(&mut self) -> Result<f32, GpuTrainingError> {
        pollster::block_on(self.take_mean_loss())
    }

    /// What the network shows for `inputs` `[n, c, h, w]` (any n) in evaluation mode (running
    /// statistics, no dropout): probabilities `[n, classes]` under a cross-entropy loss, as the
    /// CPU model's evaluation tape computes them. Runs in chunks, reads back once.
    pub async fn predict(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        let template = self.model.template();
        let (example, outputs) = (template.example_shape(), template.output_count());
        if inputs.shape().get(1..) != Some(example) {
            return Err(EngineError::shape(
                "predict",
                format!("images shaped [n, {}]", join(example)),
                format!("inputs of shape {:?}", inputs.shape()),
            )
            .into());
        }
        let rows = inputs.shape()[0];
        if rows == 0 {
            return Ok(Tensor::zeros(&[0, outputs]));
        }
        let context = Rc::clone(&self.context);
        let predictions = GpuTensor::zeros(&context, &[rows, outputs]);
        let pixels: usize = example.iter().product();
        for start in (0..rows).step_by(PREDICT_CHUNK) {
            let end = (start + PREDICT_CHUNK).min(rows);
            let mut shape = inputs.shape().to_vec();
            shape[0] = end - start;
            let chunk = inputs.data()[start * pixels..end * pixels].to_vec();
            let chunk = Tensor::from_vec(&shape, chunk)?;
            let index = self
                .model
                .pass_index(&context, Mode::Evaluation, end - start)?;
            let pass = self.model.pass(index);
            pass.write_batch(&context, &chunk, None)?;
            // One submission per chunk: the next chunk's upload must land after this one ran.
            let mut recording = Recording::new(&context, &self.kernels);
            self.model.record_forward(&mut recording, index)?;
            let prediction = self.model.pass(index).prediction();
            recording
                .training()
                .copy(prediction, &predictions, start * outputs)?;
            recording.submit();
        }
        Ok(predictions.read(&context).await?)
    }

    /// [`GpuSequentialTrainer::predict`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_blocking(&mut self, inputs: &Tensor) -> Result<Tensor, GpuTrainingError> {
        pollster::block_on(self.predict(inputs))
    }

    /// A CPU copy of the network with the GPU's parameters and running statistics (its output
    /// transform set from the loss, as the CPU trainer's model has it).
    pub async fn read_model(&self) -> Result<Sequential, GpuTrainingError> {
        let training = &self.kernels.training;
        Ok(self.model.to_sequential(&self.context, training).await?)
    }

    /// [`GpuSequentialTrainer::read_model`], waiting for the GPU (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_model_blocking(&self) -> Result<Sequential, GpuTrainingError> {
        pollster::block_on(self.read_model())
    }
}

/// The GPU as a [`TrainingEngine`]: steps are queued (their losses come with
/// `take_mean_loss`), the network is read back from the GPU.
impl TrainingEngine<Sequential> for GpuSequentialTrainer {
    fn config(&self) -> &TrainConfig {
        GpuSequentialTrainer::config(self)
    }

    fn set_learning_rate(&mut self, rate: f32) {
        GpuSequentialTrainer::set_learning_rate(self, rate);
    }

    fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<Option<f32>, EngineError> {
        GpuSequentialTrainer::train_step(self, inputs, targets)?;
        Ok(None)
    }

    fn take_mean_loss(&mut self) -> Pending<'_, f32> {
        Box::pin(async move { Ok(GpuSequentialTrainer::take_mean_loss(self).await?) })
    }

    fn model(&self) -> Option<&Sequential> {
        None
    }

    fn read_model(&self) -> Pending<'_, Sequential> {
        Box::pin(async move { Ok(GpuSequentialTrainer::read_model(self).await?) })
    }

    fn load_params(&mut self, params: &Params) -> Result<(), EngineError> {
        let mut model = self.model.template().clone();
        check_same_network(model.params(), params)?;
        *model.params_mut() = params.clone();
        Ok(self.load_model(&model)?)
    }

    fn reset_optimizer(&mut self) {
        GpuSequentialTrainer::reset_optimizer(self);
    }
}

fn join(sides: &[usize]) -> String {
    let sides: Vec<String> = sides.iter().map(usize::to_string).collect();
    sides.join(", ")
}
