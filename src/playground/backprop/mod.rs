//! The backprop stepper: one training iteration of a network on one example, cut into steps
//! (each weighted sum and activation, the loss, each chain-rule factor, each gradient, the
//! update), every step with its formula and the engine's own numbers substituted.
//!
//! The numbers all come from the engine's autograd tape: the stepper only reads it and writes
//! it out, so what the learner sees is what training computes.

mod by_layer;
mod step_writer;
pub mod through_time;
pub mod time_steps;

pub use by_layer::by_layer;
pub use step_writer::number;

use crate::engine::{EngineError, Loss, Model, ModelTape, Params, Tensor};
use step_writer::StepWriter;

/// The four parts of a training iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Forward,
    Loss,
    Backward,
    Update,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Forward, Phase::Loss, Phase::Backward, Phase::Update];

    pub fn title(self) -> &'static str {
        match self {
            Phase::Forward => "Forward",
            Phase::Loss => "Loss",
            Phase::Backward => "Backward",
            Phase::Update => "Update",
        }
    }
}

/// What a step lights up on the diagram. Layers count the inputs as layer 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// A neuron, and the edges coming into it (a weighted sum, a gradient, an update).
    Incoming { layer: usize, neuron: usize },
    /// A neuron alone (an activation, a local derivative).
    Neuron { layer: usize, neuron: usize },
    /// A neuron and the edges leaving it (the gradient flowing back along its paths).
    Outgoing { layer: usize, neuron: usize },
    /// A whole layer and the edges coming into it (the stepper's layer-by-layer mode).
    Layer { layer: usize },
    /// The loss, after the output layer.
    Loss,
}

/// What a step computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    WeightedSum,
    Activation,
    Loss,
    /// `∂L/∂h` of a neuron's output.
    OutputGradient,
    /// `g′(a)`.
    LocalDerivative,
    /// `δ = ∂L/∂a`.
    Delta,
    /// `∂L/∂w = δ·h` for the weights into a neuron, and `∂L/∂b`.
    ParameterGradients,
    Update,
}

impl Focus {
    /// The single neuron a step is about, if it is about one.
    pub fn neuron(self) -> Option<(usize, usize)> {
        match self {
            Focus::Incoming { layer, neuron }
            | Focus::Neuron { layer, neuron }
            | Focus::Outgoing { layer, neuron } => Some((layer, neuron)),
            Focus::Layer { .. } | Focus::Loss => None,
        }
    }
}

/// One step of the iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub phase: Phase,
    pub kind: StepKind,
    pub focus: Focus,
    pub title: String,
    /// The rule in symbols, e.g. `a = Σᵢ wᵢ·hᵢ + b`.
    pub formula: String,
    /// The rule with this step's numbers, one equation per line.
    pub substituted: Vec<String>,
    /// The value the step computes (the first one when it computes several).
    pub value: f32,
}

/// Everything the forward and backward passes computed for one neuron.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NeuronTrace {
    /// The weighted sum `a = Σ w h + b`.
    pub weighted_sum: f32,
    /// The neuron's output `h = g(a)` (for an output under a cross-entropy loss: the probability).
    pub output: f32,
    /// `∂L/∂h`.
    pub output_gradient: f32,
    /// `δ = ∂L/∂a`.
    pub delta: f32,
}

/// One training iteration on one example, step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub steps: Vec<Step>,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    /// `neurons[l][j]`, for layers 1.. (the inputs are `inputs`).
    pub neurons: Vec<Vec<NeuronTrace>>,
    /// `weight_gradients[l][i * outputs + j]` = ∂L/∂w from neuron i of layer l to j of layer l + 1.
    pub weight_gradients: Vec<Vec<f32>>,
    pub bias_gradients: Vec<Vec<f32>>,
    /// The parameters before the update, laid out as the gradients.
    pub weights: Vec<Vec<f32>>,
    pub biases: Vec<Vec<f32>>,
    /// The parameters after the plain gradient-descent update, laid out as the gradients.
    pub new_weights: Vec<Vec<f32>>,
    pub new_biases: Vec<Vec<f32>>,
    pub loss: f32,
    pub learning_rate: f32,
}

impl Trace {
    /// The index of the first step of a phase.
    pub fn first_step_of(&self, phase: Phase) -> Option<usize> {
        self.steps.iter().position(|step| step.phase == phase)
    }
}

/// How the stepper names neuron `neuron` of layer `layer` (inputs are layer 0).
pub type NeuronNames<'a> = &'a dyn Fn(usize, usize) -> String;

/// Runs one iteration of `model` on one example and writes it out step by step.
pub fn trace(
    model: &Model,
    loss: Loss,
    inputs: &[f32],
    targets: &[f32],
    learning_rate: f32,
    names: NeuronNames,
) -> Result<Trace, EngineError> {
    let sizes = model.layer_sizes();
    let mut recorded = model.record_training_tape(1, loss)?;
    let mut params = model.params().clone();
    let target_node = recorded.target.ok_or(EngineError::InvalidState(
        "the training tape has no target".into(),
    ))?;
    let loss_node = recorded.loss.ok_or(EngineError::InvalidState(
        "the training tape has no loss".into(),
    ))?;
    let input_tensor = Tensor::from_vec(&[1, sizes[0]], inputs.to_vec())?;
    let target_tensor = Tensor::from_vec(&[1, sizes[sizes.len() - 1]], targets.to_vec())?;
    recorded.tape.set_input(recorded.input, &input_tensor)?;
    recorded.tape.set_input(target_node, &target_tensor)?;
    recorded.tape.forward(&params)?;
    recorded.tape.backward(loss_node, &mut params)?;

    let reader = Reader {
        model,
        recorded: &recorded,
        params: &params,
    };
    let neurons = reader.neurons();
    let (weight_gradients, bias_gradients) = reader.gradients();
    let (weights, biases) = (reader.weights(), reader.biases());
    let mut trace = Trace {
        steps: Vec::new(),
        inputs: inputs.to_vec(),
        targets: targets.to_vec(),
        new_weights: updated(&weights, &weight_gradients, learning_rate),
        new_biases: updated(&biases, &bias_gradients, learning_rate),
        weights,
        biases,
        neurons,
        weight_gradients,
        bias_gradients,
        loss: recorded.loss_value(),
        learning_rate,
    };
    let writer = StepWriter {
        model,
        loss,
        trace: &trace,
        names,
    };
    trace.steps = writer.all_steps();
    Ok(trace)
}

/// Reads the tape after the forward and backward passes.
struct Reader<'a> {
    model: &'a Model,
    recorded: &'a ModelTape,
    params: &'a Params,
}

impl Reader<'_> {
    fn neurons(&self) -> Vec<Vec<NeuronTrace>> {
        let tape = &self.recorded.tape;
        let last = self.recorded.dense_layers().count() - 1;
        let first_row = |tensor: &Tensor, count: usize| -> Vec<f32> {
            (0..count)
                .map(|j| {
                    if tensor.is_empty() {
                        0.0
                    } else {
                        tensor.get(0, j)
                    }
                })
                .collect()
        };
        let mut neurons = Vec::new();
        for (l, nodes) in self.recorded.dense_layers().enumerate() {
            let count = self.model.layer_sizes()[l + 1];
            let sums = first_row(tape.value(nodes.pre_activation), count);
            let output_node = if l == last {
                self.recorded.prediction
            } else {
                nodes.output
            };
            let outputs = first_row(tape.value(output_node), count);
            let output_grads = first_row(tape.grad(nodes.output), count);
            let deltas = first_row(tape.grad(nodes.pre_activation), count);
            neurons.push(
                (0..count)
                    .map(|j| NeuronTrace {
                        weighted_sum: sums[j],
                        output: outputs[j],
                        output_gradient: output_grads[j],
                        delta: deltas[j],
                    })
                    .collect(),
            );
        }
        neurons
    }

    fn gradients(&self) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
        let layers = self.model.layers();
        let weights = layers
            .iter()
            .map(|d| self.params.grad(d.weights()).data().to_vec());
        let biases = layers
            .iter()
            .map(|d| self.params.grad(d.bias()).data().to_vec());
        (weights.collect(), biases.collect())
    }

    fn weights(&self) -> Vec<Vec<f32>> {
        let layers = self.model.layers();
        layers
            .iter()
            .map(|d| self.params.value(d.weights()).data().to_vec())
            .collect()
    }

    fn biases(&self) -> Vec<Vec<f32>> {
        let layers = self.model.layers();
        layers
            .iter()
            .map(|d| self.params.value(d.bias()).data().to_vec())
            .collect()
    }
}

/// `value - rate * gradient`, element by element.
fn updated(values: &[Vec<f32>], gradients: &[Vec<f32>], rate: f32) -> Vec<Vec<f32>> {
    values
        .iter()
        .zip(gradients)
        .map(|(v, g)| v.iter().zip(g).map(|(v, g)| v - rate * g).collect())
        .collect()
}

/// The mean of several examples' weight and bias gradients: the gradient of the mean loss over
/// that mini-batch, which is what one training step on the batch follows.
pub fn mean_gradients(traces: &[Trace]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mean = |pick: fn(&Trace) -> &Vec<Vec<f32>>| -> Vec<Vec<f32>> {
        let Some(first) = traces.first() else {
            return Vec::new();
        };
        let count = traces.len() as f32;
        (0..pick(first).len())
            .map(|layer| {
                (0..pick(first)[layer].len())
                    .map(|k| traces.iter().map(|t| pick(t)[layer][k]).sum::<f32>() / count)
                    .collect()
            })
            .collect()
    };
    (mean(|t| &t.weight_gradients), mean(|t| &t.bias_gradients))
}
