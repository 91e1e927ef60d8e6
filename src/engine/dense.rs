//! `Dense`: a fully connected layer `y = f(X · W + b)`, built from a `DenseConfig` (config, then
//! `init`). Weight `(i -> j)` is `W[i][j]`: `W` is row-major `[inputs, outputs]`.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::error::EngineError;
use super::init::Initializer;
use super::params::{ParamId, ParamRole, Params};
use super::rng::SeededRng;
use super::tape::{NodeId, Tape};
use super::tensor::Tensor;

/// How to build a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseConfig {
    /// Number of values each example feeds into the layer.
    pub inputs: usize,
    /// Number of neurons, i.e. values the layer produces per example.
    pub outputs: usize,
    /// Non-linearity applied to each neuron's weighted sum.
    pub activation: Activation,
    /// How the weights (and biases, for `Constant`) start.
    pub initializer: Initializer,
}

impl DenseConfig {
    /// A linear layer with Xavier-uniform weights; adjust with the `with_` methods.
    pub fn new(inputs: usize, outputs: usize) -> DenseConfig {
        DenseConfig {
            inputs,
            outputs,
            activation: Activation::Linear,
            initializer: Initializer::XavierUniform,
        }
    }

    pub fn with_activation(self, activation: Activation) -> DenseConfig {
        DenseConfig { activation, ..self }
    }

    pub fn with_initializer(self, initializer: Initializer) -> DenseConfig {
        DenseConfig {
            initializer,
            ..self
        }
    }

    /// Creates the layer's weights and bias in `params`.
    pub fn init(&self, params: &mut Params, rng: &mut SeededRng) -> Result<Dense, EngineError> {
        if self.inputs == 0 || self.outputs == 0 {
            return Err(EngineError::InvalidConfig(format!(
                "a dense layer needs at least one input and one neuron, got {} inputs and {} neurons",
                self.inputs, self.outputs
            )));
        }
        let mut weights = Tensor::zeros(&[self.inputs, self.outputs]);
        self.initializer
            .fill_weights(&mut weights, self.inputs, self.outputs, rng);
        let mut bias = Tensor::zeros(&[self.outputs]);
        self.initializer.fill_bias(&mut bias);
        Ok(Dense {
            weights: params.add(weights, ParamRole::Weight),
            bias: params.add(bias, ParamRole::Bias),
            activation: self.activation,
            inputs: self.inputs,
            outputs: self.outputs,
        })
    }
}

/// A dense layer: ids of its parameters in a [`Params`] store and its activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dense {
    weights: ParamId,
    bias: ParamId,
    activation: Activation,
    inputs: usize,
    outputs: usize,
}

/// The tape nodes of one dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseNodes {
    pub weights: NodeId,
    pub bias: NodeId,
    /// `X · W + b`, the weighted sums (logits for an output layer under a cross-entropy loss).
    pub pre_activation: NodeId,
    /// `f(X · W + b)`; the same node as `pre_activation` when no activation was recorded.
    pub output: NodeId,
}

impl Dense {
    /// Weights `[inputs, outputs]`.
    pub fn weights(&self) -> ParamId {
        self.weights
    }

    /// Bias `[outputs]`.
    pub fn bias(&self) -> ParamId {
        self.bias
    }

    pub fn activation(&self) -> Activation {
        self.activation
    }

    pub fn inputs(&self) -> usize {
        self.inputs
    }

    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Records `f(x · W + b)` on `tape`, where `f` is `activation` (pass `None` to stop at the
    /// weighted sums, e.g. to hand logits to a cross-entropy loss).
    pub fn record(
        &self,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        activation: Option<Activation>,
    ) -> Result<DenseNodes, EngineError> {
        let weights = tape.parameter(params, self.weights)?;
        let bias = tape.parameter(params, self.bias)?;
        let pre_activation = tape.dense(x, weights, bias)?;
        let output = match activation {
            Some(f) => tape.activation(pre_activation, f)?,
            None => pre_activation,
        };
        Ok(DenseNodes {
            weights,
            bias,
            pre_activation,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_neurons_is_refused() {
        let mut params = Params::new();
        let error = DenseConfig::new(3, 0)
            .init(&mut params, &mut SeededRng::new(1))
            .unwrap_err();
        assert!(error.to_string().contains("at least one"), "{error}");
    }

    #[test]
    fn computes_x_w_plus_b() {
        let mut params = Params::new();
        let layer = DenseConfig::new(2, 1).with_initializer(Initializer::Constant(1.0));
        let layer = layer.init(&mut params, &mut SeededRng::new(1)).unwrap();
        let mut tape = Tape::new();
        let x = tape.input(&[1, 2]);
        let nodes = layer
            .record(&mut tape, &params, x, Some(Activation::Relu))
            .unwrap();
        tape.set_input(x, &Tensor::from_vec(&[1, 2], vec![2.0, -5.0]).unwrap())
            .unwrap();
        tape.forward(&params).unwrap();
        assert_eq!(tape.value(nodes.pre_activation).data(), &[-2.0]);
        assert_eq!(tape.value(nodes.output).data(), &[0.0]);
    }
}
