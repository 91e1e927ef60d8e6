//! The kinds of layer a sequential network is built from, one module each: its settings, its
//! output shape and parameter count, its initialisation, how it records onto the tape, its link
//! token and its title ([`LayerKind`]). [`LayerConfig`] and the built [`Layer`] are generated
//! from the one list at the bottom of this file, so a new kind of layer is one new module and one
//! line in that list: every menu, link and summary follows.

mod batch_norm;
mod cell;
mod conv2d;
mod dense;
mod dropout;
mod flatten;
mod gru;
mod lstm;
mod pool;
mod recurrent;
mod rnn;
mod seq2seq;

pub use batch_norm::BatchNormLayer;
pub use cell::{Cell, Previous};
pub use conv2d::Conv2d;
pub use dense::DenseLayer;
pub use dropout::Dropout;
pub use flatten::Flatten;
pub use gru::Gru;
pub use lstm::Lstm;
pub use pool::{AvgPool2d, MaxPool2d, Pooling};
pub use recurrent::{Columns, GateNodes, RecurrentNodes, RecurrentWeights, StepNodes};
pub use rnn::{Rnn, RnnWeights};
pub use seq2seq::{
    AdditiveWeights, Attention, DecoderStep, MAX_OUTPUT_STEPS, MAX_TOKENS, Seq2Seq, Seq2SeqNodes,
    Seq2SeqWeights,
};

use serde::{Deserialize, Serialize};

use super::activation::Activation;
use super::description::Described;
use super::error::EngineError;
use super::init::Initializer;
use super::model_tape::{LayerNodes, Mode};
use super::ops::Op;
use super::params::{ParamId, Params};
use super::rng::SeededRng;
use super::tape::{NodeId, Tape};

/// Where layers create their parameters, from which random numbers, and the initialisation
/// the network asks for (each layer's own choice when it asks for none).
pub struct Initialising<'a> {
    pub params: &'a mut Params,
    pub rng: &'a mut SeededRng,
    /// One initialisation for every layer (the playground's setting); `None`: He-uniform before
    /// ReLU-like activations, Xavier-uniform otherwise.
    pub chosen: Option<Initializer>,
}

impl Initialising<'_> {
    /// The initialisation of a layer followed by `activation`.
    pub fn initializer_for(&self, activation: Activation) -> Initializer {
        self.chosen.unwrap_or_else(|| initializer_for(activation))
    }
}

/// A value of a layer's setting, as the model builder edits it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SettingValue {
    /// A whole number: channels, neurons, a kernel's side, a stride, a padding.
    Count(usize),
    /// A probability in `[0, 1)`: dropout's rate.
    Rate(f32),
    Activation(Activation),
    /// On or off: whether a recurrent layer gives every step's state.
    Switch(bool),
}

/// One setting of a layer: its key (the builder's label and field name) and value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    pub key: &'static str,
    pub value: SettingValue,
}

impl Setting {
    pub fn count(key: &'static str, value: usize) -> Setting {
        Setting {
            key,
            value: SettingValue::Count(value),
        }
    }

    pub fn activation(value: Activation) -> Setting {
        Setting {
            key: "activation",
            value: SettingValue::Activation(value),
        }
    }
}

/// How one layer records: the mode, whether it is the last layer under a loss that works on
/// logits (it then stops before its activation), and how far back in time gradients flow.
#[derive(Clone, Copy, Debug)]
pub struct RecordingFor {
    pub mode: Mode,
    pub logits_only: bool,
    /// Truncated backpropagation through time: a recurrent layer's state is cut from its past
    /// every this many steps, counted back from the last (`None`: never).
    pub truncation: Option<usize>,
    /// In a padded network (see [`SequentialConfig::padded`]), `[rows, steps, 1]`: 1 where a
    /// time step is part of its sequence, 0 where it is padding after the sequence's end.
    /// Recurrent layers carry their state over padding unchanged; other layers ignore it.
    ///
    /// [`SequentialConfig::padded`]: crate::engine::SequentialConfig::padded
    pub present: Option<NodeId>,
}

/// One kind of layer.
pub trait LayerKind: Copy + Sized {
    /// The layer once built: ids of its parameters and its settings.
    type Built: Copy + std::fmt::Debug + PartialEq;
    /// Names the kind in the builder's menu and in messages: "conv2d".
    const KEY: &'static str;
    /// What the builder calls it: "Convolution".
    const TITLE: &'static str;
    /// Whether it reads sequences `[time, features]` step by step (the Sequences page offers
    /// it; the Images page does not).
    const RECURRENT: bool = false;
    /// Whether the model builders offer it (a sequence-to-sequence layer is set up by its
    /// page's own controls instead).
    const IN_BUILDER: bool = true;

    /// A new layer of this kind with first settings that usually fit.
    fn first() -> Self;

    /// The output shape (a batch first) and the number of scalars learned on `shape`, checked by
    /// the op the layer records; or why it does not fit.
    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError>;

    /// Its name in a summary on `shape` (batch normalisation says which kind it is).
    fn summary_name(&self, _shape: &[usize]) -> &'static str {
        Self::KEY
    }

    /// Its title in a summary on `shape`.
    fn summary_title(&self, _shape: &[usize]) -> &'static str {
        Self::TITLE
    }

    /// Scalars kept without learning them (batch normalisation's running statistics).
    fn running_statistics(&self, _parameters: usize) -> usize {
        0
    }

    /// Creates the layer's parameters for examples of `in_shape` (no batch).
    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<Self::Built, EngineError>;

    /// Records the layer onto `tape` after `x`; returns the nodes it left (its output among
    /// them).
    fn record(
        built: &Self::Built,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError>;

    /// The weights the views show (a convolution's kernels, a dense layer's matrix).
    fn weights(_built: &Self::Built) -> Option<ParamId> {
        None
    }

    /// The window `(kernel, stride, padding)` of a convolution or pooling, for its size formula.
    fn window(&self) -> Option<(usize, usize, usize)> {
        None
    }

    /// Its settings, in the builder's order (none for flatten).
    fn settings(&self) -> Vec<Setting> {
        Vec::new()
    }

    /// This layer with `setting` changed; `None` when it has no such setting (the builder's
    /// fields come from [`LayerKind::settings`], so this does not happen there).
    fn with_setting(&self, _setting: Setting) -> Option<Self> {
        None
    }

    /// What the builder says of a kind with nothing to set (batch normalisation's γ and β).
    fn note(&self) -> Option<&'static str> {
        None
    }

    /// Its token in a link: "conv8k3p1-relu", "max2", "flat".
    fn token(&self) -> String;

    /// The layer a token stands for, if it is this kind's and valid.
    fn from_token(token: &str) -> Option<Self>;
}

/// Generates [`LayerConfig`] (one variant per kind, its settings inside) and [`Layer`] (the
/// built kinds), and sends every question about a layer to its kind's module.
macro_rules! layer_kinds {
    ($($variant:ident($kind:ty)),* $(,)?) => {
        /// One layer of a sequential network, by kind.
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        pub enum LayerConfig {
            $($variant($kind)),*
        }

        /// A built layer.
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub enum Layer {
            $($variant(<$kind as LayerKind>::Built)),*
        }

        impl LayerConfig {
            /// Every kind's key, in the builder's menu order.
            pub const KEYS: &'static [&'static str] = &[$(<$kind as LayerKind>::KEY),*];

            /// The key of this layer's kind.
            pub fn name(&self) -> &'static str {
                match self {
                    $(LayerConfig::$variant(_) => <$kind as LayerKind>::KEY),*
                }
            }

            /// Every kind's key the builders offer whose layers read sequences step by step
            /// (`recurrent`) or not, in menu order.
            pub fn keys(recurrent: bool) -> Vec<&'static str> {
                let mut keys = Vec::new();
                $(if <$kind as LayerKind>::RECURRENT == recurrent
                    && <$kind as LayerKind>::IN_BUILDER
                {
                    keys.push(<$kind as LayerKind>::KEY);
                })*
                keys
            }

            /// The title of this layer's kind.
            pub fn title(&self) -> &'static str {
                match self {
                    $(LayerConfig::$variant(_) => <$kind as LayerKind>::TITLE),*
                }
            }

            /// A new layer of the kind `key` with its first settings.
            pub fn first_of_kind(key: &str) -> Option<LayerConfig> {
                $(if key == <$kind as LayerKind>::KEY {
                    return Some(LayerConfig::$variant(<$kind as LayerKind>::first()));
                })*
                None
            }

            /// The title of the kind `key`.
            pub fn title_of_kind(key: &str) -> Option<&'static str> {
                $(if key == <$kind as LayerKind>::KEY {
                    return Some(<$kind as LayerKind>::TITLE);
                })*
                None
            }

            pub(crate) fn output(
                &self,
                shape: &[usize],
            ) -> Result<(Vec<usize>, usize), EngineError> {
                match self {
                    $(LayerConfig::$variant(kind) => kind.output(shape)),*
                }
            }

            pub(crate) fn summary_name(&self, shape: &[usize]) -> &'static str {
                match self {
                    $(LayerConfig::$variant(kind) => kind.summary_name(shape)),*
                }
            }

            pub(crate) fn summary_title(&self, shape: &[usize]) -> &'static str {
                match self {
                    $(LayerConfig::$variant(kind) => kind.summary_title(shape)),*
                }
            }

            pub(crate) fn running_statistics(&self, parameters: usize) -> usize {
                match self {
                    $(LayerConfig::$variant(kind) => kind.running_statistics(parameters)),*
                }
            }

            pub(crate) fn init(
                &self,
                in_shape: &[usize],
                init: &mut Initialising<'_>,
            ) -> Result<Layer, EngineError> {
                match self {
                    $(LayerConfig::$variant(kind) => {
                        kind.init(in_shape, init).map(Layer::$variant)
                    }),*
                }
            }

            /// The window `(kernel, stride, padding)` of a convolution or pooling.
            pub fn window(&self) -> Option<(usize, usize, usize)> {
                match self {
                    $(LayerConfig::$variant(kind) => kind.window()),*
                }
            }

            /// Its settings, in the builder's order.
            pub fn settings(&self) -> Vec<Setting> {
                match self {
                    $(LayerConfig::$variant(kind) => kind.settings()),*
                }
            }

            /// This layer with `setting` changed, if it has that setting.
            pub fn with_setting(&self, setting: Setting) -> Option<LayerConfig> {
                match self {
                    $(LayerConfig::$variant(kind) => {
                        kind.with_setting(setting).map(LayerConfig::$variant)
                    }),*
                }
            }

            /// What the builder says of it when it has nothing to set.
            pub fn note(&self) -> Option<&'static str> {
                match self {
                    $(LayerConfig::$variant(kind) => kind.note()),*
                }
            }

            /// Its token in a link.
            pub fn token(&self) -> String {
                match self {
                    $(LayerConfig::$variant(kind) => kind.token()),*
                }
            }

            /// The layer a link token stands for, if any kind reads it.
            pub fn from_token(token: &str) -> Option<LayerConfig> {
                $(if let Some(kind) = <$kind as LayerKind>::from_token(token) {
                    return Some(LayerConfig::$variant(kind));
                })*
                None
            }
        }

        impl Layer {
            pub(crate) fn record(
                &self,
                tape: &mut Tape,
                params: &Params,
                x: NodeId,
                recording: RecordingFor,
            ) -> Result<LayerNodes, EngineError> {
                match self {
                    $(Layer::$variant(built) => {
                        <$kind as LayerKind>::record(built, tape, params, x, recording)
                    }),*
                }
            }

            pub(crate) fn weights(&self) -> Option<ParamId> {
                match self {
                    $(Layer::$variant(built) => <$kind as LayerKind>::weights(built)),*
                }
            }
        }
    };
}

layer_kinds! {
    Conv2d(Conv2d),
    MaxPool2d(MaxPool2d),
    AvgPool2d(AvgPool2d),
    BatchNorm(BatchNormLayer),
    Dropout(Dropout),
    Flatten(Flatten),
    Rnn(Rnn),
    Lstm(Lstm),
    Gru(Gru),
    Dense(DenseLayer),
    Seq2Seq(Seq2Seq),
}

impl LayerConfig {
    /// A convolution with stride 1 and no padding.
    pub fn conv(out_channels: usize, kernel: usize, activation: Activation) -> LayerConfig {
        LayerConfig::Conv2d(Conv2d {
            out_channels,
            kernel,
            stride: 1,
            padding: 0,
            activation,
        })
    }

    pub fn dense(outputs: usize, activation: Activation) -> LayerConfig {
        LayerConfig::Dense(DenseLayer {
            outputs,
            activation,
        })
    }

    /// A `size`x`size` pooling moved by `size` (windows side by side).
    pub fn pool(kind: Pooling, size: usize) -> LayerConfig {
        match kind {
            Pooling::Max => LayerConfig::MaxPool2d(MaxPool2d { size, stride: size }),
            Pooling::Average => LayerConfig::AvgPool2d(AvgPool2d { size, stride: size }),
        }
    }

    /// A recurrent layer's cell, values of state, and whether it gives every step's state.
    pub fn recurrent_cell(&self) -> Option<(Cell, usize, bool)> {
        match *self {
            LayerConfig::Rnn(layer) => {
                Some((Cell::Rnn(layer.activation), layer.hidden, layer.every_step))
            }
            LayerConfig::Lstm(layer) => Some((Cell::Lstm, layer.hidden, layer.every_step)),
            LayerConfig::Gru(layer) => Some((Cell::Gru, layer.hidden, layer.every_step)),
            _ => None,
        }
    }

    pub const FLATTEN: LayerConfig = LayerConfig::Flatten(Flatten);
    pub const BATCH_NORM: LayerConfig = LayerConfig::BatchNorm(BatchNormLayer);
}

/// The output shape `op` gives on inputs of `shapes`, checked by the op itself.
fn op_output(op: Op, shapes: &[&[usize]]) -> Result<Vec<usize>, EngineError> {
    Ok(op
        .output_shape(shapes)?
        .resolve(shapes, &mut [0; 8])
        .to_vec())
}

/// The number that starts `text` and the rest, if the number is in `range`.
fn leading_number(text: &str, range: std::ops::RangeInclusive<usize>) -> Option<(usize, &str)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let value: usize = text[..digits].parse().ok()?;
    range.contains(&value).then_some((value, &text[digits..]))
}

/// `{letter}{number}` at the start of `text` if it is there (`default` if not), and the rest.
fn optional_number(text: &str, letter: char, default: usize) -> Option<(usize, &str)> {
    match text.strip_prefix(letter) {
        Some(rest) => leading_number(rest, 0..=MAX_SIDE),
        None => Some((default, text)),
    }
}

/// The activation after a `-` in a token, linear when there is nothing left.
fn activation_suffix(text: &str) -> Option<Activation> {
    match text {
        "" => Some(Activation::Linear),
        _ => Activation::from_key(text.strip_prefix('-')?),
    }
}

/// `text` with `-activation` after it, unless the activation is linear.
fn with_activation(text: String, activation: Activation) -> String {
    match activation {
        Activation::Linear => text,
        other => format!("{text}-{}", other.key()),
    }
}

/// He initialisation keeps ReLU activations' variance across layers; Xavier suits the rest.
fn initializer_for(activation: Activation) -> Initializer {
    match activation {
        Activation::Relu | Activation::LeakyRelu | Activation::Gelu => Initializer::HeUniform,
        Activation::Linear | Activation::Sigmoid | Activation::Tanh => Initializer::XavierUniform,
    }
}

/// Largest channel or neuron count a link may ask for.
const MAX_WIDTH: usize = 4096;
/// Largest kernel, window, stride or padding a link may ask for.
const MAX_SIDE: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_key_and_title_and_its_first_layer_reads_back_from_its_token() {
        for (i, key) in LayerConfig::KEYS.iter().enumerate() {
            assert!(!LayerConfig::KEYS[i + 1..].contains(key), "{key} twice");
            let layer = LayerConfig::first_of_kind(key).unwrap();
            assert_eq!(layer.name(), *key);
            assert_eq!(LayerConfig::title_of_kind(key), Some(layer.title()));
            assert_eq!(LayerConfig::from_token(&layer.token()), Some(layer));
        }
        assert_eq!(LayerConfig::first_of_kind("transformer"), None);
        // The Images page offers the kinds that do not read sequences; every kind is in one list.
        assert_eq!(LayerConfig::keys(true), ["rnn", "lstm", "gru"]);
        let mut both = LayerConfig::keys(false);
        both.extend(LayerConfig::keys(true));
        // Set up by the Sequences page's own controls, not a builder.
        both.push("seq2seq");
        both.sort_unstable();
        let mut every = LayerConfig::KEYS.to_vec();
        every.sort_unstable();
        assert_eq!(both, every);
        // Every setting a kind lists reads back, changed, through `with_setting`.
        for key in LayerConfig::KEYS {
            let layer = LayerConfig::first_of_kind(key).unwrap();
            for setting in layer.settings() {
                let changed = Setting {
                    value: match setting.value {
                        SettingValue::Count(n) => SettingValue::Count(n + 1),
                        SettingValue::Rate(r) => SettingValue::Rate(r / 2.0),
                        SettingValue::Activation(_) => SettingValue::Activation(Activation::Gelu),
                        SettingValue::Switch(on) => SettingValue::Switch(!on),
                    },
                    ..setting
                };
                let edited = layer.with_setting(changed).unwrap();
                assert!(edited.settings().contains(&changed), "{key}: {changed:?}");
            }
            let unknown = Setting::count("nothing", 1);
            assert_eq!(layer.with_setting(unknown), None, "{key}");
        }
        assert_eq!(LayerConfig::from_token("conv0k3"), None);
        assert_eq!(LayerConfig::from_token("drop1.5"), None);
    }

    #[test]
    fn every_kind_refuses_what_cannot_follow_with_the_reason() {
        let maps = [1, 3, 8, 8];
        let vector = [1, 12];
        let dense = LayerConfig::dense(4, Activation::Relu);
        let error = dense.output(&maps).unwrap_err().to_string();
        assert!(error.contains("Flatten"), "{error}");
        assert_eq!(dense.output(&vector).unwrap(), (vec![1, 4], 13 * 4));
        let conv = LayerConfig::conv(2, 9, Activation::Relu);
        assert!(conv.output(&maps).is_err());
        assert!(conv.output(&vector).is_err());
        assert_eq!(
            LayerConfig::FLATTEN.output(&maps).unwrap(),
            (vec![1, 192], 0)
        );
    }
}
