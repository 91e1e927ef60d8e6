//! `Trainable`: what a trainer needs from a model: the [`Sequential`] network it is (its
//! parameters, the shape of one example, its tapes) and where the shown prediction comes from.
//! The image network is one itself; the playground's dense [`Model`] is one seen through its
//! dense layers' weights. Every trainer, on every device, trains through this.

use super::error::EngineError;
use super::loss::{Loss, OutputTransform};
use super::model::Model;
use super::model_tape::{Mode, ModelTape};
use super::params::Params;
use super::sequential::Sequential;

pub trait Trainable {
    /// The network itself: its layers and parameters.
    fn network(&self) -> &Sequential;
    fn network_mut(&mut self) -> &mut Sequential;
    /// How the shown prediction is obtained from the last layer (set by the trainer).
    fn set_output_transform(&mut self, transform: OutputTransform);

    /// The shape of one example without the batch dimension: `[features]` for the playground,
    /// `[channels, height, width]` for an image network.
    fn example_shape(&self) -> &[usize] {
        &self.network().config().input
    }
    /// Number of values the model outputs per example (one per class for a classifier).
    fn output_count(&self) -> usize {
        self.network().output_count()
    }
    /// What the model gives for one example: `[outputs]`, or `[steps, outputs]` (a prediction
    /// at every time step).
    fn output_shape(&self) -> &[usize] {
        self.network().output_shape()
    }
    fn params(&self) -> &Params {
        self.network().params()
    }
    fn params_mut(&mut self) -> &mut Params {
        self.network_mut().params_mut()
    }
    /// Records the forward pass and `loss` for batches of `rows` examples; under a cross-entropy
    /// loss the last layer stops at its logits.
    fn record_training_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError> {
        self.record_truncated_training_tape(rows, loss, None)
    }
    /// [`Trainable::record_training_tape`] with backpropagation through time cut every
    /// `truncation` steps (see [`Sequential::record_truncated`]).
    fn record_truncated_training_tape(
        &self,
        rows: usize,
        loss: Loss,
        truncation: Option<usize>,
    ) -> Result<ModelTape, EngineError> {
        let transform = loss.output_activation();
        self.network()
            .record_truncated(Mode::Training, rows, transform, Some(loss), truncation)
    }
    /// Records the forward pass and `loss` as evaluation sees it ([`Mode::Evaluation`]: running
    /// statistics, no dropout).
    fn record_evaluation_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError> {
        let transform = loss.output_activation();
        self.network()
            .record_for(Mode::Evaluation, rows, transform, Some(loss))
    }
}

impl Trainable for Sequential {
    fn network(&self) -> &Sequential {
        self
    }

    fn network_mut(&mut self) -> &mut Sequential {
        self
    }

    fn set_output_transform(&mut self, transform: OutputTransform) {
        Sequential::set_output_transform(self, transform);
    }
}

impl Trainable for Model {
    fn network(&self) -> &Sequential {
        Model::network(self)
    }

    fn network_mut(&mut self) -> &mut Sequential {
        Model::network_mut(self)
    }

    fn set_output_transform(&mut self, transform: OutputTransform) {
        Model::set_output_transform(self, transform)
    }
}
