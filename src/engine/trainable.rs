//! `Trainable`: what the [`Trainer`](super::Trainer) needs from a model: its parameters, the
//! shape of one example, and a training tape and an evaluation tape for a batch. The dense
//! [`Model`] of the playground and the image network [`Sequential`](super::Sequential) both
//! implement it.

use super::error::EngineError;
use super::loss::{Loss, OutputTransform};
use super::model::Model;
use super::model_tape::ModelTape;
use super::params::Params;

pub trait Trainable {
    /// The shape of one example without the batch dimension: `[features]` for a dense model,
    /// `[channels, height, width]` for an image network.
    fn example_shape(&self) -> &[usize];
    /// Number of values the model outputs per example (one per class for a classifier).
    fn output_count(&self) -> usize;
    fn params(&self) -> &Params;
    fn params_mut(&mut self) -> &mut Params;
    /// Records the forward pass and `loss` for batches of `rows` examples; under a cross-entropy
    /// loss the last layer stops at its logits.
    fn record_training_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError>;
    /// Records the forward pass and `loss` as evaluation sees it ([`Mode::Evaluation`]: running
    /// statistics, no dropout). Models without such layers record their training tape.
    ///
    /// [`Mode::Evaluation`]: super::Mode::Evaluation
    fn record_evaluation_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError> {
        self.record_training_tape(rows, loss)
    }
    /// How the shown prediction is obtained from the last layer (set by the trainer).
    fn set_output_transform(&mut self, transform: OutputTransform);
}

impl Trainable for Model {
    fn example_shape(&self) -> &[usize] {
        std::slice::from_ref(&self.config().inputs)
    }

    fn output_count(&self) -> usize {
        Model::output_count(self)
    }

    fn params(&self) -> &Params {
        Model::params(self)
    }

    fn params_mut(&mut self) -> &mut Params {
        Model::params_mut(self)
    }

    fn record_training_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError> {
        Model::record_training_tape(self, rows, loss)
    }

    fn set_output_transform(&mut self, transform: OutputTransform) {
        Model::set_output_transform(self, transform)
    }
}
