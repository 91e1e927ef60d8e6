//! `Sequential`: the one network definition: a list of layers (each kind in its own module of
//! [`layers`](super::layers): convolutions, poolings, flatten, dense layers, batch normalisation,
//! dropout) built for one input shape of any rank (`[features]` for the playground's points,
//! `[channels, height, width]` for images): config, then `init`. It records onto the tape with
//! the existing ops, for training or for evaluation ([`Mode`]); the [`Trainer`](super::Trainer)
//! and the GPU's trainer train it, and the playground's [`Model`](super::Model) is one of them
//! seen through its dense layers' weights.
//!
//! [`SequentialConfig::summary`] gives every layer's output shape and parameter count without
//! building anything (for the model builder), and refuses shapes that cannot work with the ops'
//! own messages (`n_out = (n_in + 2p - k)/s + 1` written out).

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::error::EngineError;
use super::init::Initializer;
use super::layers::{Conv2d, Initialising, Layer, LayerConfig, Pooling, RecordingFor};
use super::loss::{Loss, OutputTransform};
use super::model_tape::{Mode, ModelTape};
use super::params::{ParamId, Params};
use super::rng::SeededRng;
use super::tape::Tape;
use super::tensor::Tensor;

/// What one layer produces, for the model builder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The kind's key ("conv2d"; "batch_norm1d" or "batch_norm2d").
    pub name: &'static str,
    /// What the builder calls it ("Convolution").
    pub title: &'static str,
    /// The output of one example: `[c, h, w]` for feature maps, `[features]` for vectors.
    pub output_shape: Vec<usize>,
    /// Scalars the layer learns (weights, biases, batch normalisation's γ and β).
    pub parameters: usize,
    /// Scalars the layer keeps without learning them (batch normalisation's running mean and
    /// variance).
    pub running_statistics: usize,
}

/// How to build a sequential network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialConfig {
    /// The shape of one input example: `[features]`, or `[channels, height, width]`.
    pub input: Vec<usize>,
    /// First to last; the last layer gives the logits under a cross-entropy loss.
    pub layers: Vec<LayerConfig>,
    /// Seed of the weight initialisation.
    pub seed: u64,
    /// One initialisation for every layer; `None` (the default): He-uniform before ReLU-like
    /// activations, Xavier-uniform otherwise.
    #[serde(default)]
    pub initializer: Option<Initializer>,
    /// Whether its sequences may end before the last time step: the last feature of every step
    /// of the input (`[time, features + 1]`) is then 1 where the step is part of its sequence
    /// and 0 where it is padding after the sequence's end. The layers read the other features;
    /// the recurrent layers carry their state over padding unchanged, so that a padded
    /// sequence gives what the same sequence unpadded gives.
    #[serde(default)]
    pub padded: bool,
}

/// The input of the MNIST-sized presets: one 28x28 grey channel.
pub const MNIST_INPUT: [usize; 3] = [1, 28, 28];

impl SequentialConfig {
    /// `layers` on examples of shape `input`, seed 1, each layer initialised as suits its
    /// activation.
    pub fn new(input: &[usize], layers: Vec<LayerConfig>) -> SequentialConfig {
        SequentialConfig {
            input: input.to_vec(),
            layers,
            seed: 1,
            initializer: None,
            padded: false,
        }
    }

    /// The shape of one example as the first layer reads it: the input's, less a padded
    /// network's last feature (which says where each sequence ends); or why it cannot be.
    pub fn layer_input(&self) -> Result<Vec<usize>, EngineError> {
        match (self.padded, self.input.as_slice()) {
            (false, _) => Ok(self.input.clone()),
            (true, &[steps, features]) if features >= 2 => Ok(vec![steps, features - 1]),
            (true, shape) => Err(EngineError::InvalidConfig(format!(
                "a network on sequences of varying length reads [time, features + 1], the last \
                 feature of each step saying whether it is part of the sequence (1) or padding \
                 (0), not {shape:?}"
            ))),
        }
    }

    /// The course's multi-layer perceptron 784-512-512-10 (ReLU) on flattened 28x28 images.
    pub fn mlp() -> SequentialConfig {
        SequentialConfig::new(
            &MNIST_INPUT,
            vec![
                LayerConfig::FLATTEN,
                LayerConfig::dense(512, Activation::Relu),
                LayerConfig::dense(512, Activation::Relu),
                LayerConfig::dense(10, Activation::Linear),
            ],
        )
    }

    /// LeNet-5 on 28x28 digits: C1 6@5x5 padding 2, S2 pool 2, C3 16@5x5, S4 pool 2, C5 120
    /// (a dense layer on the 16·5·5 features), F6 84, output 10.
    pub fn lenet5(activation: Activation, pooling: Pooling) -> SequentialConfig {
        SequentialConfig::new(
            &MNIST_INPUT,
            vec![
                LayerConfig::Conv2d(Conv2d {
                    out_channels: 6,
                    kernel: 5,
                    stride: 1,
                    padding: 2,
                    activation,
                }),
                LayerConfig::pool(pooling, 2),
                LayerConfig::conv(16, 5, activation),
                LayerConfig::pool(pooling, 2),
                LayerConfig::FLATTEN,
                LayerConfig::dense(120, activation),
                LayerConfig::dense(84, activation),
                LayerConfig::dense(10, Activation::Linear),
            ],
        )
    }

    /// A small modern CNN: two blocks of two 3x3 ReLU convolutions (padding 1) and a max pool,
    /// then a dense layer of 128.
    pub fn small_cnn() -> SequentialConfig {
        let conv = |out_channels| {
            LayerConfig::Conv2d(Conv2d {
                out_channels,
                kernel: 3,
                stride: 1,
                padding: 1,
                activation: Activation::Relu,
            })
        };
        SequentialConfig::new(
            &MNIST_INPUT,
            vec![
                conv(16),
                conv(16),
                LayerConfig::pool(Pooling::Max, 2),
                conv(32),
                conv(32),
                LayerConfig::pool(Pooling::Max, 2),
                LayerConfig::FLATTEN,
                LayerConfig::dense(128, Activation::Relu),
                LayerConfig::dense(10, Activation::Linear),
            ],
        )
    }

    /// The output shape and parameter count of every layer up to the first that cannot follow
    /// the one before it, and why that one cannot or why the whole network cannot work (for a
    /// model builder that shows what fits).
    pub fn summary_until_error(&self) -> (Vec<LayerSummary>, Option<EngineError>) {
        let (summaries, error) = self.walk();
        match error {
            Some(error) => (summaries, Some(error)),
            None => match self.summary() {
                Ok(_) => (summaries, None),
                Err(error) => (summaries, Some(error)),
            },
        }
    }

    /// Every layer's output shape and parameter count, or why a layer cannot follow the one
    /// before it ("layer 3 (conv2d): ...").
    pub fn summary(&self) -> Result<Vec<LayerSummary>, EngineError> {
        let (summaries, error) = self.walk();
        if let Some(error) = error {
            return Err(error);
        }
        let shape = summaries
            .last()
            .map_or(&[][..], |last| &last.output_shape[..]);
        // One output vector per example, or one per time step of a sequence.
        if !(1..=2).contains(&shape.len()) {
            return Err(EngineError::InvalidConfig(format!(
                "the last layer gives {}: end with Flatten and a dense layer (one output per class)",
                describe(shape)
            )));
        }
        Ok(summaries)
    }

    /// Every layer's summary until one cannot follow the one before it, with the reason.
    fn walk(&self) -> (Vec<LayerSummary>, Option<EngineError>) {
        if self.input.is_empty() || self.input.contains(&0) {
            return (
                Vec::new(),
                Some(EngineError::InvalidConfig(format!(
                    "the input shape {:?} has a zero side: every side of an example must be at least 1",
                    self.input
                ))),
            );
        }
        if self.layers.is_empty() {
            return (
                Vec::new(),
                Some(EngineError::InvalidConfig(
                    "a network needs at least one layer".to_string(),
                )),
            );
        }
        if !within_value_limit(&self.input) {
            return (
                Vec::new(),
                Some(EngineError::InvalidConfig(format!(
                    "an example shaped {:?} has more than {MAX_EXAMPLE_VALUES} values",
                    self.input
                ))),
            );
        }
        let input = match self.layer_input() {
            Ok(input) => input,
            Err(error) => return (Vec::new(), Some(error)),
        };
        // Shapes carry a batch of one in front, as the ops expect.
        let mut shape = batch_of(1, &input);
        let mut summaries = Vec::with_capacity(self.layers.len());
        for (index, layer) in self.layers.iter().enumerate() {
            let in_shape = shape.clone();
            let output =
                layer.output(&shape).and_then(|(next, parameters)| {
                    match within_value_limit(&next[1..]) {
                        true => Ok((next, parameters)),
                        false => Err(EngineError::InvalidConfig(format!(
                            "it gives {} values per example, more than {MAX_EXAMPLE_VALUES}",
                            describe(&next[1..])
                        ))),
                    }
                });
            match output {
                Ok((next, parameters)) => {
                    shape = next;
                    summaries.push(LayerSummary {
                        name: layer.summary_name(&in_shape),
                        title: layer.summary_title(&in_shape),
                        output_shape: shape[1..].to_vec(),
                        parameters,
                        running_statistics: layer.running_statistics(parameters),
                    });
                }
                Err(error) => {
                    let error = EngineError::InvalidConfig(format!(
                        "layer {} ({}) on {}: {error}",
                        index + 1,
                        layer.name(),
                        describe(&in_shape[1..])
                    ));
                    return (summaries, Some(error));
                }
            }
        }
        (summaries, None)
    }

    /// Number of scalars learned (running statistics left out), or why the layers do not fit.
    pub fn parameter_count(&self) -> Result<usize, EngineError> {
        Ok(self.summary()?.iter().map(|layer| layer.parameters).sum())
    }

    /// Creates the network's parameters, seeded.
    pub fn init(&self) -> Result<Sequential, EngineError> {
        let summaries = self.summary()?;
        let mut rng = SeededRng::new(self.seed);
        let mut params = Params::new();
        let mut init = Initialising {
            params: &mut params,
            rng: &mut rng,
            chosen: self.initializer,
        };
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut layer_params = Vec::with_capacity(self.layers.len());
        let input = self.layer_input()?;
        let mut in_shape: &[usize] = &input;
        for (config, summary) in self.layers.iter().zip(&summaries) {
            let first = init.params.len();
            layers.push(config.init(in_shape, &mut init)?);
            layer_params.push(first..init.params.len());
            in_shape = &summary.output_shape;
        }
        let outputs = summaries
            .last()
            .and_then(|last| last.output_shape.last())
            .copied()
            .unwrap_or(0);
        Ok(Sequential {
            config: self.clone(),
            summaries,
            params,
            layers,
            layer_params,
            outputs,
            output_transform: OutputTransform::None,
        })
    }
}

/// The most values one example, or one layer's output for it, may have: far above any
/// network the pages build, low enough that no size computed from shapes overflows.
pub const MAX_EXAMPLE_VALUES: usize = 1 << 24;

/// Whether a shape's values number at most [`MAX_EXAMPLE_VALUES`] (checked, so that a shape of
/// absurd sides is refused instead of overflowing).
fn within_value_limit(shape: &[usize]) -> bool {
    shape
        .iter()
        .try_fold(1usize, |values, &side| values.checked_mul(side))
        .is_some_and(|values| values <= MAX_EXAMPLE_VALUES)
}

/// `[rows, ...example]`.
fn batch_of(rows: usize, example: &[usize]) -> Vec<usize> {
    std::iter::once(rows)
        .chain(example.iter().copied())
        .collect()
}

/// `[16, 5, 5]` as "feature maps 16x5x5", `[20, 3]` as "sequences of 20 steps of 3 features",
/// `[400]` as "400 features".
fn describe(shape: &[usize]) -> String {
    match shape {
        [features] => format!("{features} features"),
        [steps, features] => format!("sequences of {steps} steps of {features} features"),
        _ => {
            let sides: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("feature maps {}", sides.join("x"))
        }
    }
}

/// A sequential network with its parameters.
#[derive(Clone, Debug)]
pub struct Sequential {
    config: SequentialConfig,
    summaries: Vec<LayerSummary>,
    params: Params,
    layers: Vec<Layer>,
    /// The ids of each layer's parameters, in the order the layer created them.
    layer_params: Vec<std::ops::Range<usize>>,
    outputs: usize,
    output_transform: OutputTransform,
}

impl Sequential {
    pub fn config(&self) -> &SequentialConfig {
        &self.config
    }

    /// Every layer's output shape and parameter count.
    pub fn summary(&self) -> &[LayerSummary] {
        &self.summaries
    }

    /// Number of scalars learned (running statistics left out).
    pub fn parameter_count(&self) -> usize {
        self.params.trainable_scalar_count()
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// How the prediction is obtained from the last layer (set by the trainer from its loss).
    pub fn output_transform(&self) -> OutputTransform {
        self.output_transform
    }

    pub fn set_output_transform(&mut self, transform: OutputTransform) {
        self.output_transform = transform;
    }

    /// The same layers and parameters on examples of another shape: a recurrent network
    /// trained on sequences of one length, run on another (its weights do not depend on the
    /// length). Refused where a parameter's shape would change (a dense layer reading a
    /// flattened input of another size).
    pub fn with_input(&self, input: &[usize]) -> Result<Sequential, EngineError> {
        let config = SequentialConfig {
            input: input.to_vec(),
            ..self.config.clone()
        };
        let mut network = config.init()?;
        let same_shapes = network.params.len() == self.params.len()
            && network
                .params
                .ids()
                .all(|id| network.params.value(id).shape() == self.params.value(id).shape());
        if !same_shapes {
            return Err(EngineError::InvalidConfig(format!(
                "this network's parameters do not fit examples shaped {input:?}: it was built \
                 for {:?}",
                self.config.input
            )));
        }
        network.params = self.params.clone();
        network.output_transform = self.output_transform;
        Ok(network)
    }

    /// Number of values the network gives per example, or per time step of a network that
    /// predicts at every step (one per class for a classifier).
    pub fn output_count(&self) -> usize {
        self.outputs
    }

    /// What the network gives for one example: `[outputs]`, or `[steps, outputs]` when it
    /// predicts at every time step of a sequence.
    pub fn output_shape(&self) -> &[usize] {
        self.summaries
            .last()
            .map_or(&[][..], |last| &last.output_shape[..])
    }

    /// The built layers, first to last.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The parameters of layer `index`, in the order the layer created them (a dense layer's
    /// weights then bias; batch normalisation's γ, β, running mean and variance).
    pub fn layer_params(&self, index: usize) -> Vec<ParamId> {
        self.layer_params
            .get(index)
            .map_or_else(Vec::new, |ids| ids.clone().map(ParamId).collect())
    }

    /// Records the forward pass for evaluation and prediction ([`Mode::Evaluation`]); see
    /// [`Sequential::record_for`].
    pub fn record(
        &self,
        rows: usize,
        transform: OutputTransform,
        loss: Option<Loss>,
    ) -> Result<ModelTape, EngineError> {
        self.record_for(Mode::Evaluation, rows, transform, loss)
    }

    /// Records the forward pass for `mode` for batches of `rows` examples `[rows, ...input]`, then
    /// `loss` when given. With a `transform`, the last layer stops at its weighted sums (logits)
    /// and the prediction is that function of them.
    pub fn record_for(
        &self,
        mode: Mode,
        rows: usize,
        transform: OutputTransform,
        loss: Option<Loss>,
    ) -> Result<ModelTape, EngineError> {
        self.record_truncated(mode, rows, transform, loss, None)
    }

    /// [`Sequential::record_for`] with the recurrent layers' backpropagation through time cut
    /// every `truncation` steps, counted back from the last (see [`RecordingFor::truncation`]).
    pub fn record_truncated(
        &self,
        mode: Mode,
        rows: usize,
        transform: OutputTransform,
        loss: Option<Loss>,
        truncation: Option<usize>,
    ) -> Result<ModelTape, EngineError> {
        if truncation == Some(0) {
            return Err(EngineError::InvalidConfig(
                "backpropagation through time must reach at least one step back".to_string(),
            ));
        }
        let mut tape = Tape::new();
        let input = tape.input(&batch_of(rows, &self.config.input));
        let (mut x, present) = match self.config.padded {
            false => (input, None),
            true => {
                let features = self.config.input[1] - 1;
                let present = tape.slice(input, 2, features, 1)?;
                (tape.slice(input, 2, 0, features)?, Some(present))
            }
        };
        let mut layers = Vec::with_capacity(self.layers.len());
        let last = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            let recording = RecordingFor {
                mode,
                logits_only: index == last && transform != OutputTransform::None,
                truncation,
                present,
            };
            let nodes = layer.record(&mut tape, &self.params, x, recording)?;
            x = nodes.output();
            layers.push(nodes);
        }
        let recorded = ModelTape::finish(tape, input, layers, x, transform, loss)?;
        Ok(recorded)
    }

    /// What every layer outputs for one image (`[c, h, w]` of pixels): feature maps
    /// `[1, c, h, w]` or vectors `[1, n]`, first layer to last (the last as logits).
    pub fn layer_outputs(&self, image: &[f32]) -> Result<Vec<Tensor>, EngineError> {
        let mut recorded = self.record(1, OutputTransform::Softmax, None)?;
        let input = Tensor::from_vec(&batch_of(1, &self.config.input), image.to_vec())?;
        recorded.tape.set_input(recorded.input, &input)?;
        recorded.tape.forward(&self.params)?;
        Ok(recorded
            .layers
            .iter()
            .map(|nodes| recorded.tape.value(nodes.output()).clone())
            .collect())
    }

    /// The weights of layer `index` when it has any: `[out, in, k, k]` kernels of a
    /// convolution, `[inputs, outputs]` of a dense layer.
    pub fn layer_weights(&self, index: usize) -> Option<&Tensor> {
        let weights = self.layers.get(index)?.weights()?;
        Some(self.params.value(weights))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_fit_28x28_digits() {
        for config in [
            SequentialConfig::mlp(),
            SequentialConfig::lenet5(Activation::Relu, Pooling::Max),
            SequentialConfig::small_cnn(),
        ] {
            let summary = config.summary().unwrap();
            assert_eq!(summary.last().unwrap().output_shape, vec![10]);
        }
        assert_eq!(SequentialConfig::mlp().parameter_count().unwrap(), 669_706);
    }

    #[test]
    fn summary_until_error_keeps_the_layers_that_fit() {
        let mut config = SequentialConfig::lenet5(Activation::Relu, Pooling::Max);
        // A 9x9 kernel placed after S4 does not fit its 5x5 maps.
        config
            .layers
            .insert(4, LayerConfig::conv(4, 9, Activation::Relu));
        let (summaries, error) = config.summary_until_error();
        assert_eq!(summaries.len(), 4);
        assert!(error.unwrap().to_string().contains("layer 5"));
        config.layers.truncate(3);
        let (summaries, error) = config.summary_until_error();
        assert_eq!(summaries.len(), 3);
        assert!(error.unwrap().to_string().contains("end with Flatten"));
        let (summaries, error) = SequentialConfig::mlp().summary_until_error();
        assert_eq!((summaries.len(), error), (4, None));
    }

    #[test]
    fn feature_maps_at_the_end_are_refused() {
        let config =
            SequentialConfig::new(&[1, 8, 8], vec![LayerConfig::conv(2, 3, Activation::Relu)]);
        let error = config.summary().unwrap_err().to_string();
        assert!(error.contains("end with Flatten"), "{error}");
    }
}
