//! `ModelTape`: a model's forward pass (and optionally its loss) recorded on a tape, with the
//! node of every layer at hand. One recording rule serves the inference grid, the training batch
//! and the backprop stepper.
//!
//! A tape is recorded once for a [`Mode`] and replayed: a training tape normalises with each
//! batch's statistics and drops values (the trainer draws new dropout masks before every step and
//! folds the batch statistics into the running ones after its forward pass); an evaluation tape
//! normalises with the running statistics and has no dropout at all.

use serde::{Deserialize, Serialize};

use super::batch_norm::BatchNormNodes;
use super::dense::DenseNodes;
use super::dropout::DropoutNodes;
use super::error::EngineError;
use super::layers::{RecurrentNodes, Seq2SeqNodes};
use super::loss::{Loss, OutputTransform};
use super::params::Params;
use super::rng::SeededRng;
use super::tape::{NodeId, Tape};
use super::tensor::Tensor;

/// What a tape is recorded for. Only batch normalisation and dropout behave differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Gradient steps: batch statistics, values dropped at random.
    Training,
    /// Evaluation and prediction: running statistics, nothing dropped.
    Evaluation,
}

/// The nodes one layer left on a tape.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerNodes {
    /// A dense layer: its parameters, weighted sums and output.
    Dense(DenseNodes),
    /// A dropout layer of a training tape: its mask (drawn before each step) and output.
    Dropout(DropoutNodes),
    /// A batch normalisation (on a training tape,
    /// [`ModelTape::update_running_statistics`] folds its batch statistics in).
    BatchNorm(BatchNormNodes),
    /// A recurrent layer: every time step's input, state and gates.
    Recurrent(RecurrentNodes),
    /// An encoder and a decoder: every step of each, the attention's weights.
    Seq2Seq(Seq2SeqNodes),
    /// Any other layer (a convolution, a pooling, flatten, dropout at evaluation): its output.
    Output(NodeId),
}

impl LayerNodes {
    /// The layer's output node.
    pub fn output(&self) -> NodeId {
        match self {
            LayerNodes::Dense(nodes) => nodes.output,
            LayerNodes::Dropout(nodes) => nodes.output,
            LayerNodes::BatchNorm(nodes) => nodes.output,
            LayerNodes::Recurrent(nodes) => nodes.output,
            LayerNodes::Seq2Seq(nodes) => nodes.output,
            LayerNodes::Output(output) => *output,
        }
    }
}

/// A recorded model.
#[derive(Clone, Debug)]
pub struct ModelTape {
    pub tape: Tape,
    /// The input batch `[rows, inputs]`.
    pub input: NodeId,
    /// What each layer left on the tape, first to last. Under a cross-entropy loss the last
    /// layer stops at its logits (a dense layer's `output == pre_activation`).
    pub layers: Vec<LayerNodes>,
    /// What the user sees for the last layer: the output layer's activation, or the sigmoid /
    /// softmax of the logits when the loss works on logits.
    pub prediction: NodeId,
    /// The targets `[rows, outputs]`, when a loss was recorded.
    pub target: Option<NodeId>,
    /// The scalar loss node, when a loss was recorded.
    pub loss: Option<NodeId>,
    /// Reused to draw each dropout mask before it is copied into its input node.
    mask_buffer: Tensor,
}

impl ModelTape {
    /// Records the loss (when given) and the shown prediction after the last layer's output `x`,
    /// which must be logits when `transform` is not `None`. Shared by every kind of model.
    pub(crate) fn finish(
        mut tape: Tape,
        input: NodeId,
        layers: Vec<LayerNodes>,
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
            mask_buffer: Tensor::empty(),
        })
    }

    /// Draws a new mask for every dropout layer, sized for the batch in the input node. Call it
    /// after setting the input and before each training forward pass.
    pub fn draw_dropout_masks(&mut self, rng: &mut SeededRng) -> Result<(), EngineError> {
        let rows = self.tape.value(self.input).shape().first().copied();
        // By index: a dropout layer's nodes are copied out (without cloning the others, a
        // recurrent layer's list of steps among them), so the tape can be lent to each mask.
        for index in 0..self.layers.len() {
            let LayerNodes::Dropout(dropout) = &self.layers[index] else {
                continue;
            };
            let dropout = *dropout;
            dropout.draw_mask(
                &mut self.tape,
                rows.unwrap_or(0),
                rng,
                &mut self.mask_buffer,
            )?;
        }
        Ok(())
    }

    /// Folds the statistics of the batch the last forward pass normalised into every batch
    /// normalisation's running statistics (nothing on an evaluation tape, which reads them).
    pub fn update_running_statistics(&self, params: &mut Params) {
        for batch_norm in self.batch_norms() {
            batch_norm.update_running_statistics(&self.tape, params);
        }
    }

    /// The nodes of dense layer `index` (counting dense layers only), if there is one.
    pub fn dense_layer(&self, index: usize) -> Option<&DenseNodes> {
        self.dense_layers().nth(index)
    }

    /// The dense layers' nodes, first to last.
    pub fn dense_layers(&self) -> impl Iterator<Item = &DenseNodes> {
        self.layers.iter().filter_map(|layer| match layer {
            LayerNodes::Dense(nodes) => Some(nodes),
            LayerNodes::Dropout(_)
            | LayerNodes::BatchNorm(_)
            | LayerNodes::Recurrent(_)
            | LayerNodes::Seq2Seq(_)
            | LayerNodes::Output(_) => None,
        })
    }

    /// The dropout layers of a training tape, first to last (none on an evaluation tape).
    pub fn dropouts(&self) -> impl Iterator<Item = &DropoutNodes> {
        self.layers.iter().filter_map(|layer| match layer {
            LayerNodes::Dropout(nodes) => Some(nodes),
            LayerNodes::Dense(_)
            | LayerNodes::BatchNorm(_)
            | LayerNodes::Recurrent(_)
            | LayerNodes::Seq2Seq(_)
            | LayerNodes::Output(_) => None,
        })
    }

    /// The batch normalisations, first to last.
    pub fn batch_norms(&self) -> impl Iterator<Item = &BatchNormNodes> {
        self.layers.iter().filter_map(|layer| match layer {
            LayerNodes::BatchNorm(nodes) => Some(nodes),
            LayerNodes::Dense(_)
            | LayerNodes::Dropout(_)
            | LayerNodes::Recurrent(_)
            | LayerNodes::Seq2Seq(_)
            | LayerNodes::Output(_) => None,
        })
    }

    /// The recurrent layers, first to last, with every time step's nodes.
    pub fn recurrent_layers(&self) -> impl Iterator<Item = &RecurrentNodes> {
        self.layers.iter().filter_map(|layer| match layer {
            LayerNodes::Recurrent(nodes) => Some(nodes),
            LayerNodes::Dense(_)
            | LayerNodes::Dropout(_)
            | LayerNodes::BatchNorm(_)
            | LayerNodes::Seq2Seq(_)
            | LayerNodes::Output(_) => None,
        })
    }

    /// The sequence-to-sequence layers, with every step of their encoders and decoders.
    pub fn seq2seq_layers(&self) -> impl Iterator<Item = &Seq2SeqNodes> {
        self.layers.iter().filter_map(|layer| match layer {
            LayerNodes::Seq2Seq(nodes) => Some(nodes),
            _ => None,
        })
    }

    /// After a backward pass, for each recurrent layer, how large the loss's gradient with
    /// respect to its state is at each time step: `‖∂L/∂h_t‖` over the batch, t = 1..T. Shrinking
    /// towards the first steps is the vanishing gradient.
    pub fn state_gradient_norms(&self) -> Vec<Vec<f32>> {
        self.recurrent_layers()
            .map(|layer| {
                layer
                    .steps
                    .iter()
                    .map(|step| {
                        let grad = self.tape.grad(step.state).data();
                        grad.iter().map(|g| g * g).sum::<f32>().sqrt()
                    })
                    .collect()
            })
            .collect()
    }

    /// The loss value of the last forward pass (0 when no loss was recorded).
    pub fn loss_value(&self) -> f32 {
        self.loss.map_or(0.0, |id| self.tape.value(id).data()[0])
    }
}
