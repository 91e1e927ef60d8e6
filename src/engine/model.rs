//! `Model`: the playground's multi-layer perceptron: a [`Sequential`] network of dense layers on
//! `[features]`, built from a `ModelConfig`, seen through its dense layers for the network
//! diagram (per-weight access) and with a reusable inference tape for drawing every neuron's
//! heatmap. It trains as the network it is, on every device.

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::dense::{Dense, DenseNodes};
use super::error::EngineError;
use super::init::Initializer;
use super::layers::{Layer, LayerConfig};
use super::loss::{Loss, OutputTransform};
use super::model_tape::{Mode, ModelTape};
use super::params::Params;
use super::sequential::{Sequential, SequentialConfig};
use super::tensor::Tensor;

/// Largest accepted number of neurons in one layer (and of inputs).
pub const MAX_LAYER_WIDTH: usize = 8192;
/// Largest accepted number of layers.
pub const MAX_LAYERS: usize = 64;
/// Largest accepted number of scalar parameters, to keep the page responsive.
pub const MAX_PARAMETERS: usize = 20_000_000;

/// One layer of a model: its width and non-linearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LayerSpec {
    pub neurons: usize,
    pub activation: Activation,
}

impl LayerSpec {
    pub fn new(neurons: usize, activation: Activation) -> LayerSpec {
        LayerSpec {
            neurons,
            activation,
        }
    }
}

/// How to build a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Number of input features.
    pub inputs: usize,
    /// The hidden layers, then the output layer.
    pub layers: Vec<LayerSpec>,
    pub initializer: Initializer,
    /// Seed of the weight initialisation.
    pub seed: u64,
}

impl Default for ModelConfig {
    /// Two inputs, hidden layers of 4 and 2 tanh neurons, one sigmoid output (like the
    /// TensorFlow Playground's starting network).
    fn default() -> Self {
        ModelConfig {
            inputs: 2,
            layers: vec![
                LayerSpec::new(4, Activation::Tanh),
                LayerSpec::new(2, Activation::Tanh),
                LayerSpec::new(1, Activation::Sigmoid),
            ],
            initializer: Initializer::XavierUniform,
            seed: 1,
        }
    }
}

impl ModelConfig {
    /// Checks the sizes, explaining what is wrong.
    pub fn validate(&self) -> Result<(), EngineError> {
        let invalid = |message: String| Err(EngineError::InvalidConfig(message));
        if self.inputs == 0 {
            return invalid("a model needs at least one input feature".to_string());
        }
        if self.inputs > MAX_LAYER_WIDTH {
            return invalid(format!(
                "{} inputs is more than the {MAX_LAYER_WIDTH} supported",
                self.inputs
            ));
        }
        if self.layers.is_empty() {
            return invalid("a model needs at least one layer (the output layer)".to_string());
        }
        if self.layers.len() > MAX_LAYERS {
            return invalid(format!(
                "{} layers is more than the {MAX_LAYERS} supported",
                self.layers.len()
            ));
        }
        for (index, layer) in self.layers.iter().enumerate() {
            let name = layer_name(index, self.layers.len());
            if layer.neurons == 0 {
                return invalid(format!(
                    "{name} has 0 neurons: every layer needs at least one"
                ));
            }
            if layer.neurons > MAX_LAYER_WIDTH {
                return invalid(format!(
                    "{name} has {} neurons, more than the {MAX_LAYER_WIDTH} supported",
                    layer.neurons
                ));
            }
        }
        let count = self.parameter_count();
        if count > MAX_PARAMETERS {
            return invalid(format!(
                "this model would have {count} parameters, more than the {MAX_PARAMETERS} a browser tab can train"
            ));
        }
        let spread = match self.initializer {
            Initializer::Uniform { limit } => limit,
            Initializer::Normal { std } => std,
            Initializer::Constant(c) => c.abs(),
            _ => 0.0,
        };
        if !spread.is_finite() || spread < 0.0 {
            return invalid(format!(
                "the initialisation setting must be a finite, non-negative number, got {spread}"
            ));
        }
        Ok(())
    }

    /// The network this describes: dense layers on `[inputs]`, every one initialised as chosen.
    pub fn network(&self) -> SequentialConfig {
        let layers = self
            .layers
            .iter()
            .map(|layer| LayerConfig::dense(layer.neurons, layer.activation))
            .collect();
        SequentialConfig {
            seed: self.seed,
            initializer: Some(self.initializer),
            ..SequentialConfig::new(&[self.inputs], layers)
        }
    }

    /// Number of scalar weights and biases.
    pub fn parameter_count(&self) -> usize {
        let mut fan_in = self.inputs;
        let mut count = 0usize;
        for layer in &self.layers {
            count = count.saturating_add(
                fan_in
                    .saturating_mul(layer.neurons)
                    .saturating_add(layer.neurons),
            );
            fan_in = layer.neurons;
        }
        count
    }
}

fn layer_name(index: usize, count: usize) -> String {
    if index + 1 == count {
        "the output layer".to_string()
    } else {
        format!("hidden layer {}", index + 1)
    }
}

/// A sequential MLP: layer `l` maps `[rows, inputs_l]` to `[rows, neurons_l]`.
#[derive(Clone, Debug)]
pub struct Model {
    config: ModelConfig,
    network: Sequential,
    /// The network's layers, every one dense.
    layers: Vec<Dense>,
    /// Recorded on the first `forward`, replayed after (any number of rows).
    inference: Option<ModelTape>,
}

impl Model {
    pub fn new(config: &ModelConfig) -> Result<Model, EngineError> {
        config.validate()?;
        let network = config.network().init()?;
        let layers = network
            .layers()
            .iter()
            .map(|layer| match layer {
                Layer::Dense(dense) => Ok(*dense),
                other => Err(EngineError::InvalidConfig(format!(
                    "the playground's network has dense layers only, not {other:?}"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Model {
            config: config.clone(),
            network,
            layers,
            inference: None,
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The network this model is.
    pub fn network(&self) -> &Sequential {
        &self.network
    }

    pub fn network_mut(&mut self) -> &mut Sequential {
        &mut self.network
    }

    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    pub fn input_count(&self) -> usize {
        self.config.inputs
    }

    pub fn output_count(&self) -> usize {
        self.layers.last().map_or(0, Dense::outputs)
    }

    /// Widths of the input and of every layer, e.g. `[2, 4, 2, 1]`.
    pub fn layer_sizes(&self) -> Vec<usize> {
        std::iter::once(self.config.inputs)
            .chain(self.layers.iter().map(Dense::outputs))
            .collect()
    }

    pub fn params(&self) -> &Params {
        self.network.params()
    }

    pub fn params_mut(&mut self) -> &mut Params {
        self.network.params_mut()
    }

    pub fn parameter_count(&self) -> usize {
        self.params().scalar_count()
    }

    /// The weight from neuron `from` of the previous layer (or input `from`) to neuron `to` of
    /// `layer`. Panics when out of range, like slice indexing.
    pub fn weight(&self, layer: usize, from: usize, to: usize) -> f32 {
        self.params()
            .value(self.layers[layer].weights())
            .get(from, to)
    }

    pub fn set_weight(
        &mut self,
        layer: usize,
        from: usize,
        to: usize,
        value: f32,
    ) -> Result<(), EngineError> {
        let dense = *self.checked_layer(layer)?;
        if from >= dense.inputs() || to >= dense.outputs() {
            return Err(EngineError::OutOfRange(format!(
                "layer {layer} has weights {}x{}, there is no weight ({from} -> {to})",
                dense.inputs(),
                dense.outputs()
            )));
        }
        check_finite(value)?;
        self.params_mut()
            .value_mut(dense.weights())
            .set(from, to, value);
        Ok(())
    }

    /// The bias of neuron `neuron` of `layer`. Panics when out of range.
    pub fn bias(&self, layer: usize, neuron: usize) -> f32 {
        self.params().value(self.layers[layer].bias()).data()[neuron]
    }

    pub fn set_bias(&mut self, layer: usize, neuron: usize, value: f32) -> Result<(), EngineError> {
        let dense = *self.checked_layer(layer)?;
        if neuron >= dense.outputs() {
            return Err(EngineError::OutOfRange(format!(
                "layer {layer} has {} neurons, there is no neuron {neuron}",
                dense.outputs()
            )));
        }
        check_finite(value)?;
        self.params_mut().value_mut(dense.bias()).data_mut()[neuron] = value;
        Ok(())
    }

    fn checked_layer(&self, layer: usize) -> Result<&Dense, EngineError> {
        self.layers.get(layer).ok_or_else(|| {
            EngineError::OutOfRange(format!(
                "the model has {} layers, there is no layer {layer}",
                self.layers.len()
            ))
        })
    }

    /// How the prediction is obtained from the output layer (set by the trainer from its loss).
    pub fn output_transform(&self) -> OutputTransform {
        self.network.output_transform()
    }

    /// With `Sigmoid`/`Softmax`, the output layer's own activation is replaced by that function
    /// applied to its weighted sums (the logits the cross-entropy losses train on).
    pub fn set_output_transform(&mut self, transform: OutputTransform) {
        if transform != self.network.output_transform() {
            self.network.set_output_transform(transform);
            self.inference = None;
        }
    }

    /// Runs the model on `inputs` `[rows, inputs]`; read the results with [`Model::layer_output`]
    /// and [`Model::output`]. Reuses its tape: after the largest batch has been seen once, this
    /// does not allocate.
    pub fn forward(&mut self, inputs: &Tensor) -> Result<(), EngineError> {
        if self.inference.is_none() {
            let rows = inputs.shape().first().copied().unwrap_or(0);
            self.inference = Some(self.record_inference_tape(rows)?);
        }
        let inference = self.inference.as_mut().expect("recorded above");
        inference.tape.set_input(inference.input, inputs)?;
        inference.tape.forward(self.network.params())
    }

    /// Runs the model and returns what the user sees for the output layer (probabilities under a
    /// cross-entropy loss).
    pub fn predict(&mut self, inputs: &Tensor) -> Result<&Tensor, EngineError> {
        self.forward(inputs)?;
        Ok(self.output())
    }

    /// Every neuron's output of `layer` from the last [`Model::forward`], `[rows, neurons]`
    /// (after its activation; for the output layer, the prediction shown to the user).
    /// Empty before the first forward. Panics when `layer` is out of range.
    pub fn layer_output(&self, layer: usize) -> &Tensor {
        assert!(layer < self.layers.len(), "there is no layer {layer}");
        match &self.inference {
            None => &EMPTY,
            Some(recorded) if layer + 1 == self.layers.len() => {
                recorded.tape.value(recorded.prediction)
            }
            Some(recorded) => recorded.tape.value(dense_nodes(recorded, layer).output),
        }
    }

    /// The weighted sums `X · W + b` of `layer` from the last forward, `[rows, neurons]`.
    pub fn layer_pre_activation(&self, layer: usize) -> &Tensor {
        assert!(layer < self.layers.len(), "there is no layer {layer}");
        match &self.inference {
            None => &EMPTY,
            Some(recorded) => recorded
                .tape
                .value(dense_nodes(recorded, layer).pre_activation),
        }
    }

    /// The prediction of the last forward.
    pub fn output(&self) -> &Tensor {
        self.layer_output(self.layers.len() - 1)
    }

    /// Records the forward pass and `loss` for batches of `rows` (a tape the backprop stepper can
    /// walk node by node, or the trainer can replay). Under a cross-entropy loss, the output
    /// layer's activation is replaced by the loss's own sigmoid/softmax on the logits.
    pub fn record_training_tape(&self, rows: usize, loss: Loss) -> Result<ModelTape, EngineError> {
        let transform = loss.output_activation();
        self.network
            .record_for(Mode::Training, rows, transform, Some(loss))
    }

    /// Records the forward pass only, with this model's output transform.
    pub fn record_inference_tape(&self, rows: usize) -> Result<ModelTape, EngineError> {
        let transform = self.output_transform();
        self.network
            .record_for(Mode::Evaluation, rows, transform, None)
    }
}

static EMPTY: Tensor = Tensor::empty();

fn check_finite(value: f32) -> Result<(), EngineError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(EngineError::NonFinite(format!(
            "{value} is not a valid weight: it must be a finite number"
        )))
    }
}

/// The nodes of dense layer `layer` of the model's own recording (every layer of it is dense).
fn dense_nodes(recorded: &ModelTape, layer: usize) -> &DenseNodes {
    recorded
        .dense_layer(layer)
        .expect("a dense model records every layer as a dense layer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_round_trip_and_feed_forward() {
        let config = ModelConfig {
            inputs: 2,
            layers: vec![LayerSpec::new(1, Activation::Linear)],
            initializer: Initializer::Zeros,
            seed: 0,
        };
        let mut model = Model::new(&config).unwrap();
        model.set_weight(0, 0, 0, 2.0).unwrap();
        model.set_weight(0, 1, 0, -1.0).unwrap();
        model.set_bias(0, 0, 0.5).unwrap();
        assert_eq!(model.weight(0, 1, 0), -1.0);
        let x = Tensor::from_vec(&[2, 2], vec![1.0, 1.0, 3.0, 0.0]).unwrap();
        assert_eq!(model.predict(&x).unwrap().data(), &[1.5, 6.5]);
        assert!(model.set_weight(0, 2, 0, 1.0).is_err());
        assert!(model.set_bias(0, 0, f32::NAN).is_err());
    }

    #[test]
    fn layer_sizes_and_names() {
        let model = Model::new(&ModelConfig::default()).unwrap();
        assert_eq!(model.layer_sizes(), vec![2, 4, 2, 1]);
        assert_eq!(model.parameter_count(), 2 * 4 + 4 + 4 * 2 + 2 + 2 + 1);
    }
}
