//! `ModelTape`: a model's forward pass (and optionally its loss) recorded on a tape, with the
//! node of every layer at hand. One recording rule serves the inference grid, the training batch
//! and the backprop stepper.

use super::dense::{Dense, DenseNodes};
use super::error::EngineError;
use super::loss::{Loss, OutputTransform};
use super::params::Params;
use super::tape::{NodeId, Tape};

/// A recorded model.
#[derive(Clone, Debug)]
pub struct ModelTape {
    pub tape: Tape,
    /// The input batch `[rows, inputs]`.
    pub input: NodeId,
    /// The nodes of each dense layer, first to last (an image network lists only its dense
    /// layers). Under a cross-entropy loss the last layer stops at
    /// its logits (`output == pre_activation`).
    pub layers: Vec<DenseNodes>,
    /// What the user sees for the last layer: the output layer's activation, or the sigmoid /
    /// softmax of the logits when the loss works on logits.
    pub prediction: NodeId,
    /// The targets `[rows, outputs]`, when a loss was recorded.
    pub target: Option<NodeId>,
    /// The scalar loss node, when a loss was recorded.
    pub loss: Option<NodeId>,
    /// The output of every layer of an image network, first to last, for the feature-map
    /// views (empty for the dense model, whose `layers` say more).
    pub layer_outputs: Vec<NodeId>,
}

impl ModelTape {
    /// Records `layers` for batches of `rows` examples. With a loss, the loss is recorded on the
    /// last layer's output (its logits for the cross-entropies); `transform` says how the shown
    /// prediction is obtained from the last layer.
    pub(crate) fn record(
        layers: &[Dense],
        params: &Params,
        rows: usize,
        transform: OutputTransform,
        loss: Option<Loss>,
    ) -> Result<ModelTape, EngineError> {
        let first = layers.first().ok_or_else(|| {
            EngineError::InvalidConfig("a model needs at least one layer".to_string())
        })?;
        let last = layers.len() - 1;
        let mut tape = Tape::new();
        let input = tape.input(&[rows, first.inputs()]);
        let mut x = input;
        let mut nodes = Vec::with_capacity(layers.len());
        for (index, layer) in layers.iter().enumerate() {
            let logits_only = index == last && transform != OutputTransform::None;
            let activation = if logits_only {
                None
            } else {
                Some(layer.activation())
            };
            let layer_nodes = layer.record(&mut tape, params, x, activation)?;
            x = layer_nodes.output;
            nodes.push(layer_nodes);
        }
        ModelTape::finish(tape, input, nodes, x, transform, loss)
    }

    /// Records the loss (when given) and the shown prediction after the last layer's output `x`,
    /// which must be logits when `transform` is not `None`. Shared by every kind of model.
    pub(crate) fn finish(
        mut tape: Tape,
        input: NodeId,
        layers: Vec<DenseNodes>,
        x: NodeId,
        transform: OutputTransform,
        loss: Option<Loss>,
    ) -> Result<ModelTape, EngineError> {
        let (target, loss_node) = match loss {
            Some(loss) => {
                let shape = tape.recorded_shape(x).to_vec();
                let target = tape.input(&shape);
                (Some(target), Some(tape.loss(x, target, loss)?))
            }
            None => (None, None),
        };
        // Recorded after the loss so that backward (which stops at the loss node) skips it.
        let prediction = match transform {
            OutputTransform::None => x,
            OutputTransform::Sigmoid => {
                tape.activation(x, super::activation::Activation::Sigmoid)?
            }
            OutputTransform::Softmax => tape.softmax(x)?,
        };
        Ok(ModelTape {
            tape,
            input,
            layers,
            prediction,
            target,
            loss: loss_node,
            layer_outputs: Vec::new(),
        })
    }

    /// The loss value of the last forward pass (0 when no loss was recorded).
    pub fn loss_value(&self) -> f32 {
        self.loss.map_or(0.0, |id| self.tape.value(id).data()[0])
    }
}
