//! Writing a traced iteration out as steps: each one's formula in symbols and with the
//! engine's numbers substituted.

use super::{Focus, Phase, Step, StepKind, Trace};
use crate::engine::{Described, Loss, Model};

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
pub(super) struct StepWriter<'a> {
    pub(super) model: &'a Model,
    pub(super) loss: Loss,
    pub(super) trace: &'a Trace,
    pub(super) names: super::NeuronNames<'a>,
}

impl StepWriter<'_> {
    pub(super) fn all_steps(&self) -> Vec<Step> {
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
            kind: StepKind::WeightedSum,
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
                crate::engine::OutputTransform::Sigmoid | crate::engine::OutputTransform::None => (
                    "p = σ(a) = 1 / (1 + e^−a)".to_string(),
                    format!("p = σ({a}) = {}", number(neuron.output)),
                ),
            }
        } else {
            let words = self.model.layers()[l].activation().describe();
            (
                format!("h = {}(a), with {}", words.short, words.formula),
                format!("h = {}({a}) = {}", words.short, number(neuron.output)),
            )
        };
        Step {
            phase: Phase::Forward,
            kind: StepKind::Activation,
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
        // Each output's term, written with `term`, joined into the sum.
        let terms = |term: &dyn Fn(String, String) -> String, separator: &str| -> String {
            pairs
                .iter()
                .map(|(p, y)| term(number(*p), number(*y)))
                .collect::<Vec<_>>()
                .join(separator)
        };
        let substituted = match self.loss {
            Loss::MeanSquaredError => {
                terms(&|p, y| format!("({p} − {y})²"), " + ") + &format!(" / {count}")
            }
            Loss::HalfSquaredError => {
                terms(&|p, y| format!("½ ({p} − {y})²"), " + ") + &format!(" / {count}")
            }
            Loss::MeanAbsoluteError => {
                terms(&|p, y| format!("|{p} − {y}|"), " + ") + &format!(" / {count}")
            }
            Loss::BinaryCrossEntropy => terms(
                &|p, y| format!("−[{y} ln {p} + (1 − {y}) ln(1 − {p})]"),
                " + ",
            ),
            Loss::SoftmaxCrossEntropy => pairs
                .iter()
                .filter(|(_, y)| *y != 0.0)
                .map(|(p, y)| format!("−{} ln {}", number(*y), number(*p)))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let formula = self.loss.describe().formula;
        Step {
            phase: Phase::Loss,
            kind: StepKind::Loss,
            focus: Focus::Loss,
            title: "The loss".into(),
            formula: formula.into(),
            substituted: vec![format!("L = {substituted} = {}", number(self.trace.loss))],
            value: self.trace.loss,
        }
    }

    /// For one neuron: ∂L/∂h, the local derivative, δ, then the gradients of its weights.
    fn backward(&self, l: usize, j: usize) -> Vec<Step> {
        let neuron = self.trace.neurons[l][j];
        let name = self.name(l, j);
        let mut steps = Vec::new();
        let at_neuron = |kind, title: String, formula: String, line: String, value| Step {
            phase: Phase::Backward,
            kind,
            focus: Focus::Neuron {
                layer: l + 1,
                neuron: j,
            },
            title,
            formula,
            substituted: vec![line],
            value,
        };
        if self.is_fused_output(l) {
            let y = self.trace.targets[j];
            let count = if self.loss == Loss::SoftmaxCrossEntropy {
                1
            } else {
                self.trace.targets.len()
            };
            steps.push(at_neuron(
                StepKind::Delta,
                format!("Gradient of the loss at {name}'s weighted sum"),
                "δ = ∂L/∂a = (p − y) / n  (sigmoid or softmax with cross-entropy)".into(),
                format!(
                    "δ = ({} − {}) / {count} = {}",
                    number(neuron.output),
                    number(y),
                    number(neuron.delta)
                ),
                neuron.delta,
            ));
        } else {
            steps.push(self.output_gradient(l, j));
            let activation = self.model.layers()[l].activation();
            let local = activation.derivative(neuron.weighted_sum, neuron.output);
            steps.push(at_neuron(
                StepKind::LocalDerivative,
                format!("Local derivative of {name}'s activation"),
                format!(
                    "g′(a) = {}′(a), with {}",
                    activation.describe().short,
                    activation.derivative_formula()
                ),
                format!("g′({}) = {}", number(neuron.weighted_sum), number(local)),
                local,
            ));
            steps.push(at_neuron(
                StepKind::Delta,
                format!("δ of {name}"),
                "δ = ∂L/∂a = ∂L/∂h · g′(a)".into(),
                format!(
                    "δ = {}·{} = {}",
                    factor(neuron.output_gradient),
                    factor(local),
                    number(neuron.delta)
                ),
                neuron.delta,
            ));
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
            kind: StepKind::OutputGradient,
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
            kind: StepKind::ParameterGradients,
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
            kind: StepKind::Update,
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
