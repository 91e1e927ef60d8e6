//! `TrainingEngine`: whatever trains a network batch by batch, on whichever device. The CPU
//! [`Trainer`] implements it here; the GPU's `gpu::GpuTrainer` implements it in
//! `src/gpu/`. A training run holds one as `Box<dyn TrainingEngine<M>>`, moves from one to the
//! other mid-run through the model's parameters, and never asks which one it holds: an engine
//! that computes at once answers at once (`Some` loss, `Some` model), one that only queues work
//! answers later through the futures.

use std::future::Future;
use std::pin::Pin;

use super::error::EngineError;
use super::params::Params;
use super::tensor::Tensor;
use super::trainable::Trainable;
use super::trainer::{TrainConfig, Trainer, TrainerState};

/// An answer that may need the device first (a readback): ready at once on the CPU.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + 'a>>;

/// One network's training on one device.
pub trait TrainingEngine<M> {
    /// The settings the engine was built with (the learning rate as last set).
    fn config(&self) -> &TrainConfig;

    /// The learning rate of the next steps (a decay schedule changes it step by step).
    fn set_learning_rate(&mut self, rate: f32);

    /// One gradient step on exactly these examples. `Some(loss)` (the loss before the step)
    /// when the engine computed it at once, `None` when the step was only queued: its loss
    /// then comes with [`TrainingEngine::take_mean_loss`]. Data of the wrong shape is refused
    /// in the CPU trainer's words; a failing device gives [`EngineError::DeviceFailed`].
    fn train_step(&mut self, inputs: &Tensor, targets: &Tensor)
    -> Result<Option<f32>, EngineError>;

    /// The mean loss of the queued steps since the last call (NaN or infinite when training
    /// diverged); an error when no step was queued.
    fn take_mean_loss(&mut self) -> Pending<'_, f32>;

    /// The network as trained so far, when the engine holds it in memory (the CPU).
    fn model(&self) -> Option<&M>;

    /// The network as trained so far, read back from the device where it lives.
    fn read_model(&self) -> Pending<'_, M>;

    /// Puts these parameters (of this same network) in, e.g. a checkpoint after a diverging
    /// step.
    fn load_params(&mut self, params: &Params) -> Result<(), EngineError>;

    /// Forgets the optimiser's state (momentum, moments, sums of squares).
    fn reset_optimizer(&mut self);

    /// The norm of all gradients together at the last step, before clipping, where the engine
    /// knows it without waiting (the CPU engine while clipping).
    fn gradient_norm(&self) -> Option<f32> {
        None
    }

    /// What the engine keeps besides the weights (the optimiser's moments, the dropout
    /// generator), for a checkpoint, where it holds it in memory (the CPU engine); `None` where
    /// it lives on a device ([`TrainingEngine::read_trainer_state`] reads it from there).
    fn trainer_state(&self) -> Option<TrainerState> {
        None
    }

    /// [`TrainingEngine::trainer_state`], read back from the device where it lives; `None`
    /// where the engine keeps none.
    fn read_trainer_state(&self) -> Pending<'_, Option<TrainerState>> {
        Box::pin(std::future::ready(Ok(self.trainer_state())))
    }

    /// Takes up a [`TrainingEngine::trainer_state`] of this same network, so that the next
    /// step is the one the saved run would have taken; refused where the engine cannot.
    fn resume(&mut self, _state: TrainerState) -> Result<(), EngineError> {
        Err(EngineError::InvalidState(
            "this engine cannot take up a saved optimiser state".to_string(),
        ))
    }
}

impl<M: Trainable + Clone + 'static> TrainingEngine<M> for Trainer<M> {
    fn config(&self) -> &TrainConfig {
        Trainer::config(self)
    }

    fn set_learning_rate(&mut self, rate: f32) {
        let mut config = *Trainer::config(self);
        config.optimizer.learning_rate = rate;
        // Only the rate changes, so the settings stay as valid as they were.
        if let Err(error) = self.set_config(config) {
            debug_assert!(false, "a valid configuration with another rate: {error}");
        }
    }

    fn train_step(
        &mut self,
        inputs: &Tensor,
        targets: &Tensor,
    ) -> Result<Option<f32>, EngineError> {
        Trainer::train_step(self, inputs, targets).map(Some)
    }

    fn take_mean_loss(&mut self) -> Pending<'_, f32> {
        Box::pin(std::future::ready(Err(EngineError::InvalidState(
            "the CPU engine returns each step's loss from the step itself".to_string(),
        ))))
    }

    fn model(&self) -> Option<&M> {
        Some(Trainer::model(self))
    }

    fn read_model(&self) -> Pending<'_, M> {
        Box::pin(std::future::ready(Ok(Trainer::model(self).clone())))
    }

    fn load_params(&mut self, params: &Params) -> Result<(), EngineError> {
        let current = self.model_mut().params_mut();
        check_same_network(current, params)?;
        *current = params.clone();
        Ok(())
    }

    fn reset_optimizer(&mut self) {
        Trainer::reset_optimizer(self);
    }

    fn gradient_norm(&self) -> Option<f32> {
        Trainer::gradient_norm(self)
    }

    fn trainer_state(&self) -> Option<TrainerState> {
        Some(Trainer::state(self))
    }

    fn resume(&mut self, state: TrainerState) -> Result<(), EngineError> {
        Trainer::resume(self, state)
    }
}

/// Refuses `params` unless they have exactly `current`'s tensors and shapes (those of one
/// network), in the words every engine uses.
pub fn check_same_network(current: &Params, params: &Params) -> Result<(), EngineError> {
    let same_shapes = current.len() == params.len()
        && current
            .ids()
            .all(|id| params.get(id).map(Tensor::shape) == Some(current.value(id).shape()));
    if same_shapes {
        Ok(())
    } else {
        Err(EngineError::InvalidState(
            "these parameters belong to another network".to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Activation, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig};

    fn engine() -> Box<dyn TrainingEngine<Model>> {
        let model = Model::new(&ModelConfig {
            inputs: 2,
            layers: vec![
                LayerSpec::new(3, Activation::Tanh),
                LayerSpec::new(1, Activation::Sigmoid),
            ],
            initializer: crate::engine::Initializer::XavierUniform,
            seed: 4,
        })
        .unwrap();
        let config = TrainConfig {
            loss: Loss::BinaryCrossEntropy,
            optimizer: OptimizerConfig::new(crate::engine::OptimizerKind::Adam, 0.1),
            ..TrainConfig::default()
        };
        Box::new(Trainer::new(model, config).unwrap())
    }

    fn ready<T>(pending: Pending<'_, T>) -> Result<T, EngineError> {
        pollster::block_on(pending)
    }

    #[test]
    fn the_cpu_engine_answers_at_once() {
        let mut engine = engine();
        let inputs = Tensor::from_vec(&[2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        let targets = Tensor::from_vec(&[2, 1], vec![1.0, 0.0]).unwrap();
        let first = engine.train_step(&inputs, &targets).unwrap();
        assert!(first.is_some_and(f32::is_finite));
        // Nothing is ever queued on the CPU.
        assert!(ready(engine.take_mean_loss()).is_err());
        let read = ready(engine.read_model()).unwrap();
        assert_eq!(read.params(), engine.model().unwrap().params());

        // A learning rate set through the engine is the one the next step uses.
        engine.set_learning_rate(0.01);
        assert_eq!(engine.config().optimizer.learning_rate, 0.01);

        // Parameters put back are the ones the model then has; another network's are refused.
        let before = read.params().clone();
        engine.train_step(&inputs, &targets).unwrap();
        assert_ne!(engine.model().unwrap().params(), &before);
        engine.load_params(&before).unwrap();
        assert_eq!(engine.model().unwrap().params(), &before);
        let error = engine.load_params(&Params::new()).unwrap_err();
        assert!(error.to_string().contains("another network"), "{error}");
    }
}
