//! The backprop stepper: one training iteration of a network on one example, cut into steps
//! (each weighted sum and activation, the loss, each chain-rule factor, each gradient, the
//! update), every step with its formula and the engine's own numbers substituted.
//!
//! The numbers all come from the engine's autograd tape: the stepper only reads it and writes
//! it out, so what the learner sees is what training computes.

use crate::engine::{Activation, EngineError, Loss, Model, ModelTape, Params, Tensor};

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
    /// The loss, after the output layer.
    Loss,
}

/// One step of the iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub phase: Phase,
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
        let last = self.recorded.layers.len() - 1;
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
        for (l, nodes) in self.recorded.layers.iter().enumerate() {
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

/// A number as the stepper writes it: four decimals, negative numbers in parentheses when
/// they stand inside a product.
pub fn number(value: f32) -> String {
    format!("{value:.4}")
}

fn factor(value: f32) -> String {
    if value < 0.0 {
        format!("({value:.4})")
    } else {
        number(value)
    }
}

/// Turns the traced numbers into steps.
struct StepWriter<'a> {
    model: &'a Model,
    loss: Loss,
    trace: &'a Trace,
    names: NeuronNames<'a>,
}

impl StepWriter<'_> {
    fn all_steps(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        let layer_count = self.trace.neurons.len();
        for l in 0..layer_count {
            for j in 0..self.trace.neurons[l].len() {
                steps.push(self.weighted_sum(l, j));
                steps.push(self.activation(l, j));
            }
        }
        steps.push(self.loss_step());
        for l in (0..layer_count).rev() {
            for j in 0..self.trace.neurons[l].len() {
                steps.extend(self.backward(l, j));
            }
        }
        for l in 0..layer_count {
            for j in 0..self.trace.neurons[l].len() {
                steps.push(self.update(l, j));
            }
        }
        steps
    }

    fn name(&self, model_layer: usize, neuron: usize) -> String {
        (self.names)(model_layer + 1, neuron)
    }

    /// The outputs of the layer feeding model layer `l` (the inputs for the first layer).
    fn layer_inputs(&self, l: usize) -> Vec<f32> {
        if l == 0 {
            self.trace.inputs.clone()
        } else {
            self.trace.neurons[l - 1].iter().map(|n| n.output).collect()
        }
    }

    fn is_fused_output(&self, l: usize) -> bool {
        l + 1 == self.trace.neurons.len() && self.loss.takes_logits()
    }

    fn weighted_sum(&self, l: usize, j: usize) -> Step {
        let outputs = self.trace.neurons[l].len();
        let inputs = self.layer_inputs(l);
        let weights = &self.model_weights(l);
        let bias = self.model.bias(l, j);
        let terms: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, &h)| format!("{}·{}", factor(weights[i * outputs + j]), factor(h)))
            .collect();
        let sum = self.trace.neurons[l][j].weighted_sum;
        Step {
            phase: Phase::Forward,
            focus: Focus::Incoming {
                layer: l + 1,
                neuron: j,
            },
            title: format!("Weighted sum of {}", self.name(l, j)),
            formula: "a = Σᵢ wᵢ·hᵢ + b".into(),
            substituted: vec![format!(
                "a = {} + {} = {}",
                terms.join(" + "),
                factor(bias),
                number(sum)
            )],
            value: sum,
        }
    }

    fn model_weights(&self, l: usize) -> Vec<f32> {
        let outputs = self.trace.neurons[l].len();
        let inputs = if l == 0 {
            self.trace.inputs.len()
        } else {
            self.trace.neurons[l - 1].len()
        };
        (0..inputs * outputs)
            .map(|k| self.model.weight(l, k / outputs, k % outputs))
            .collect()
    }

    fn activation(&self, l: usize, j: usize) -> Step {
        let neuron = self.trace.neurons[l][j];
        let a = number(neuron.weighted_sum);
        let (formula, substituted) = if self.is_fused_output(l) {
            match self.loss.output_activation() {
                crate::engine::OutputTransform::Softmax => (
                    "p = softmax(a)ⱼ = e^aⱼ / Σₖ e^aₖ".to_string(),
                    format!("p = e^{a} / Σₖ e^aₖ = {}", number(neuron.output)),
                ),
                _ => (
                    "p = σ(a) = 1 / (1 + e^−a)".to_string(),
                    format!("p = σ({a}) = {}", number(neuron.output)),
                ),
            }
        } else {
            let activation = self.model.layers()[l].activation();
            (
                format!("h = {}", activation_formula(activation)),
                format!("h = {}({a}) = {}", activation.name(), number(neuron.output)),
            )
        };
        Step {
            phase: Phase::Forward,
            focus: Focus::Neuron {
                layer: l + 1,
                neuron: j,
            },
            title: format!("Activation of {}", self.name(l, j)),
            formula,
            substituted: vec![substituted],
            value: neuron.output,
        }
    }

    fn loss_step(&self) -> Step {
        let last = self
            .trace
            .neurons
            .last()
            .expect("a model has an output layer");
        let pairs: Vec<(f32, f32)> = last
            .iter()
            .map(|n| n.output)
            .zip(self.trace.targets.iter().copied())
            .collect();
        let count = pairs.len();
        let (formula, substituted) = match self.loss {
            Loss::MeanSquaredError => (
                "L = (1/n) Σⱼ (pⱼ − yⱼ)²".to_string(),
                pairs
                    .iter()
                    .map(|(p, y)| format!("({} − {})²", number(*p), number(*y)))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + &format!(" / {count}"),
            ),
            Loss::HalfSquaredError => (
                "L = ½ (p − y)²  (mean over the outputs)".to_string(),
                pairs
                    .iter()
                    .map(|(p, y)| format!("½ ({} − {})²", number(*p), number(*y)))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + &format!(" / {count}"),
            ),
            Loss::MeanAbsoluteError => (
                "L = (1/n) Σⱼ |pⱼ − yⱼ|".to_string(),
                pairs
                    .iter()
                    .map(|(p, y)| format!("|{} − {}|", number(*p), number(*y)))
                    .collect::<Vec<_>>()
                    .join(" + ")
                    + &format!(" / {count}"),
            ),
            Loss::BinaryCrossEntropy => (
                "L = −[y ln p + (1 − y) ln(1 − p)]".to_string(),
                pairs
                    .iter()
                    .map(|(p, y)| {
                        format!(
                            "−[{} ln {} + (1 − {}) ln(1 − {})]",
                            number(*y),
                            number(*p),
                            number(*y),
                            number(*p)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" + "),
            ),
            Loss::SoftmaxCrossEntropy => (
                "L = −Σⱼ yⱼ ln pⱼ".to_string(),
                pairs
                    .iter()
                    .filter(|(_, y)| *y != 0.0)
                    .map(|(p, y)| format!("−{} ln {}", number(*y), number(*p)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        Step {
            phase: Phase::Loss,
            focus: Focus::Loss,
            title: "The loss".into(),
            formula,
            substituted: vec![format!("L = {substituted} = {}", number(self.trace.loss))],
            value: self.trace.loss,
        }
    }

    /// For one neuron: ∂L/∂h, the local derivative, δ, then the gradients of its weights.
    fn backward(&self, l: usize, j: usize) -> Vec<Step> {
        let neuron = self.trace.neurons[l][j];
        let name = self.name(l, j);
        let mut steps = Vec::new();
        if self.is_fused_output(l) {
            let y = self.trace.targets[j];
            let count = if self.loss == Loss::SoftmaxCrossEntropy {
                1
            } else {
                self.trace.targets.len()
            };
            steps.push(Step {
                phase: Phase::Backward,
                focus: Focus::Neuron {
                    layer: l + 1,
                    neuron: j,
                },
                title: format!("Gradient of the loss at {name}'s weighted sum"),
                formula: "δ = ∂L/∂a = (p − y) / n  (sigmoid or softmax with cross-entropy)".into(),
                substituted: vec![format!(
                    "δ = ({} − {}) / {count} = {}",
                    number(neuron.output),
                    number(y),
                    number(neuron.delta)
                )],
                value: neuron.delta,
            });
        } else {
            steps.push(self.output_gradient(l, j));
            let activation = self.model.layers()[l].activation();
            let local = activation.derivative(neuron.weighted_sum, neuron.output);
            steps.push(Step {
                phase: Phase::Backward,
                focus: Focus::Neuron {
                    layer: l + 1,
                    neuron: j,
                },
                title: format!("Local derivative of {name}'s activation"),
                formula: format!("g′(a) = {}", derivative_formula(activation)),
                substituted: vec![format!(
                    "g′({}) = {}",
                    number(neuron.weighted_sum),
                    number(local)
                )],
                value: local,
            });
            steps.push(Step {
                phase: Phase::Backward,
                focus: Focus::Neuron {
                    layer: l + 1,
                    neuron: j,
                },
                title: format!("δ of {name}"),
                formula: "δ = ∂L/∂a = ∂L/∂h · g′(a)".into(),
                substituted: vec![format!(
                    "δ = {}·{} = {}",
                    factor(neuron.output_gradient),
                    factor(local),
                    number(neuron.delta)
                )],
                value: neuron.delta,
            });
        }
        steps.push(self.parameter_gradients(l, j));
        steps
    }

    fn output_gradient(&self, l: usize, j: usize) -> Step {
        let neuron = self.trace.neurons[l][j];
        let name = self.name(l, j);
        let is_output = l + 1 == self.trace.neurons.len();
        let (formula, substituted) = if is_output {
            let (p, y) = (number(neuron.output), number(self.trace.targets[j]));
            let n = self.trace.targets.len();
            match self.loss {
                Loss::HalfSquaredError => (
                    "∂L/∂p = (p − y) / n".to_string(),
                    format!("({p} − {y}) / {n}"),
                ),
                Loss::MeanAbsoluteError => (
                    "∂L/∂p = sign(p − y) / n".to_string(),
                    format!("sign({p} − {y}) / {n}"),
                ),
                _ => (
                    "∂L/∂p = 2 (p − y) / n".to_string(),
                    format!("2 ({p} − {y}) / {n}"),
                ),
            }
        } else {
            let next = &self.trace.neurons[l + 1];
            let outputs = next.len();
            let weights = self.model_weights(l + 1);
            let terms: Vec<String> = next
                .iter()
                .enumerate()
                .map(|(k, n)| format!("{}·{}", factor(weights[j * outputs + k]), factor(n.delta)))
                .collect();
            (
                "∂L/∂h = Σₖ wₖ·δₖ  (summed over the paths to the next layer)".to_string(),
                terms.join(" + "),
            )
        };
        Step {
            phase: Phase::Backward,
            focus: if is_output {
                Focus::Neuron {
                    layer: l + 1,
                    neuron: j,
                }
            } else {
                Focus::Outgoing {
                    layer: l + 1,
                    neuron: j,
                }
            },
            title: format!("Gradient of the loss at {name}'s output"),
            formula,
            substituted: vec![format!(
                "∂L/∂h = {substituted} = {}",
                number(neuron.output_gradient)
            )],
            value: neuron.output_gradient,
        }
    }

    fn parameter_gradients(&self, l: usize, j: usize) -> Step {
        let outputs = self.trace.neurons[l].len();
        let delta = self.trace.neurons[l][j].delta;
        let inputs = self.layer_inputs(l);
        let mut lines: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, &h)| {
                let gradient = self.trace.weight_gradients[l][i * outputs + j];
                format!(
                    "∂L/∂w({} → {}) = {}·{} = {}",
                    self.name_any(l, i),
                    self.name(l, j),
                    factor(delta),
                    factor(h),
                    number(gradient)
                )
            })
            .collect();
        lines.push(format!(
            "∂L/∂b = δ = {}",
            number(self.trace.bias_gradients[l][j])
        ));
        Step {
            phase: Phase::Backward,
            focus: Focus::Incoming {
                layer: l + 1,
                neuron: j,
            },
            title: format!("Gradients of the weights into {}", self.name(l, j)),
            formula: "∂L/∂wᵢ = δ · hᵢ,   ∂L/∂b = δ".into(),
            substituted: lines,
            value: self.trace.weight_gradients[l][j],
        }
    }

    /// The name of neuron `i` of the layer feeding model layer `l`.
    fn name_any(&self, l: usize, i: usize) -> String {
        (self.names)(l, i)
    }

    fn update(&self, l: usize, j: usize) -> Step {
        let outputs = self.trace.neurons[l].len();
        let inputs = self.layer_inputs(l).len();
        let rate = self.trace.learning_rate;
        let mut lines: Vec<String> = (0..inputs)
            .map(|i| {
                let k = i * outputs + j;
                format!(
                    "w({} → {}) ← {} − {}·{} = {}",
                    self.name_any(l, i),
                    self.name(l, j),
                    number(self.model.weight(l, i, j)),
                    number(rate),
                    factor(self.trace.weight_gradients[l][k]),
                    number(self.trace.new_weights[l][k])
                )
            })
            .collect();
        lines.push(format!(
            "b ← {} − {}·{} = {}",
            number(self.model.bias(l, j)),
            number(rate),
            factor(self.trace.bias_gradients[l][j]),
            number(self.trace.new_biases[l][j])
        ));
        Step {
            phase: Phase::Update,
            focus: Focus::Incoming {
                layer: l + 1,
                neuron: j,
            },
            title: format!("Update the weights into {}", self.name(l, j)),
            formula: "w ← w − η · ∂L/∂w   (η = learning rate)".into(),
            substituted: lines,
            value: self.trace.new_weights[l][j],
        }
    }
}

fn activation_formula(activation: Activation) -> &'static str {
    match activation {
        Activation::Linear => "a",
        Activation::Sigmoid => "σ(a) = 1 / (1 + e^−a)",
        Activation::Tanh => "tanh(a)",
        Activation::Relu => "max(0, a)",
        Activation::LeakyRelu => "max(0.01·a, a)",
        Activation::Gelu => "a · Φ(a)",
    }
}

fn derivative_formula(activation: Activation) -> &'static str {
    match activation {
        Activation::Linear => "1",
        Activation::Sigmoid => "σ(a)(1 − σ(a)) = h (1 − h)",
        Activation::Tanh => "1 − tanh²(a) = 1 − h²",
        Activation::Relu => "1 if a > 0, else 0",
        Activation::LeakyRelu => "1 if a > 0, else 0.01",
        Activation::Gelu => "Φ(a) + a·φ(a)",
    }
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
