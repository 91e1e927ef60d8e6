//! Export to PyTorch: a plain, commented Python script that rebuilds a [`Sequential`] network
//! with `torch.nn`, loads the weights of its model file (layer `i` is module `i`, its tensors
//! named as [`super::model_file`] names them, so that `load_state_dict(..., strict=True)`
//! takes them), reads the data the page trained on, prints the test loss and accuracy, trains
//! on with the page's loss, optimiser, learning rate, batch size, regularisation and clipping,
//! and saves its weights as a model file that opens back in the page.
//!
//! What the page reads its data from is the page's to say ([`ScriptData`]); everything else is
//! written here, from the network's description and its [`TrainConfig`].

use std::fmt::Write;

use super::activation::Activation;
use super::description::Described;
use super::layers::{LayerConfig, Seq2Seq};
use super::loss::Loss;
use super::model_file::{FORMAT, VERSION};
use super::optimizer::OptimizerKind;
use super::regularization::Regularization;
use super::sequential::SequentialConfig;
use super::trainer::TrainConfig;

mod seq2seq;

/// The file names the script reads and writes, beside it.
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const DATA_FILE: &str = "data.csv";
pub const SCRIPT_FILE: &str = "train.py";
pub const TRAINED_FILE: &str = "trained.safetensors";

/// How the script reads its examples from [`DATA_FILE`]: one row per example, the first column
/// `split` (`train` or `test`).
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptData {
    /// The playground's points (`split,x1,x2,label`), turned into the network's input features
    /// (each a Python expression of `x1` and `x2`) and targets: the label itself for one
    /// output, one-hot over `outputs` classes otherwise (class 1 where the label is above 0.5).
    Points {
        features: Vec<(&'static str, &'static str)>,
        outputs: usize,
    },
    /// Examples as they are fed to the network: `inputs` values (`x0`, `x1`, ...) reshaped to
    /// the network's input, then `targets` values (`y0`, ...) reshaped to its output.
    Table {
        input_shape: Vec<usize>,
        target_shape: Vec<usize>,
    },
    /// 28x28 grey digits in MNIST's own IDX files (`train-images-idx3-ubyte`,
    /// `train-labels-idx1-ubyte`, and `test-...` likewise; see [`DIGIT_FILES`]): intensities
    /// scaled to [0, 1], targets one-hot over the ten classes. With `shift`, each training image
    /// moves by a random whole number of pixels, up to `shift` each way, every time it is used
    /// (the page's augmentation).
    Digits { shift: Option<usize> },
    /// An encoder-decoder's translations (`split,input,answer`, the tokens of each separated
    /// by spaces, the answer without its end), laid out as the page feeds them: inputs of
    /// `source_steps + output_steps` steps, one-hot targets over `tokens` at each output step
    /// (the answer, then `end`; the decoder reads `start` first).
    Translations {
        source_steps: usize,
        output_steps: usize,
        tokens: usize,
        start: usize,
        end: usize,
    },
}

/// The IDX files [`ScriptData::Digits`] reads, beside the script: training images and labels,
/// then test images and labels.
pub const DIGIT_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "test-images-idx3-ubyte",
    "test-labels-idx1-ubyte",
];

/// Everything a script is written from.
#[derive(Clone, Debug)]
pub struct Script<'a> {
    /// What was trained, for the script's first line ("the playground's network on the spiral").
    pub title: &'a str,
    pub network: &'a SequentialConfig,
    pub training: &'a TrainConfig,
    pub data: ScriptData,
    /// Epochs the script trains by default.
    pub epochs: usize,
    /// The page's settings, written into the trained file's metadata so that the page opens it.
    pub settings: Option<&'a str>,
    /// Whether the targets are classes (accuracy is counted) or values (regression).
    pub classification: bool,
    /// Whether the learning rate decays along a cosine from its value to 0 over every step of
    /// the run (step `s` of `n` at `lr · (1 + cos(π (s + ½) / n)) / 2`), as the Images and
    /// Sequences pages can.
    pub cosine_decay: bool,
}

/// The script, or why this network cannot be written as one (a kind of layer `torch.nn` has
/// no module for, yet).
pub fn write_script(script: &Script) -> Result<String, String> {
    let network = script.network;
    let shapes = layer_inputs(network)?;
    let mut modules = Vec::new();
    let translator = seq2seq::layer_of(network)?;
    // An encoder-decoder reads its padding flags itself.
    let mut kinds = Kinds {
        padded: network.padded && translator.is_none(),
        ..Kinds::default()
    };
    for (layer, shape) in network.layers.iter().zip(&shapes) {
        modules.push(module_of(layer, shape, &mut kinds)?);
    }
    let mut out = String::new();
    header(&mut out, script);
    kinds.write_classes(&mut out);
    write_network(&mut out, &modules, &kinds);
    write_data(&mut out, &script.data);
    let scoring = match translator {
        Some(_) => Scoring::Translations,
        None if !script.classification => Scoring::Values,
        None if network.padded && answers_every_step(network)? => Scoring::OwnSteps,
        None => Scoring::Classes,
    };
    write_training(&mut out, script, &regularised(network), scoring);
    write_main(&mut out, script, scoring)?;
    Ok(out)
}

/// Whether the network answers at every time step (its output is `[time, outputs]`).
fn answers_every_step(network: &SequentialConfig) -> Result<bool, String> {
    let summary = network.summary().map_err(|error| error.to_string())?;
    Ok(summary
        .last()
        .is_some_and(|layer| layer.output_shape.len() == 2))
}

/// The shape each layer reads, first to last.
fn layer_inputs(network: &SequentialConfig) -> Result<Vec<Vec<usize>>, String> {
    let summary = network.summary().map_err(|error| error.to_string())?;
    let mut shapes = vec![network.layer_input().map_err(|error| error.to_string())?];
    shapes.extend(summary.iter().map(|layer| layer.output_shape.clone()));
    shapes.pop();
    Ok(shapes)
}

/// The layer classes a script needs, each written once, and whether its recurrent layers run
/// on padded sequences of varying length.
#[derive(Default)]
struct Kinds {
    padded: bool,
    dense: bool,
    convolution: bool,
    rnn: bool,
    lstm: bool,
    gru: bool,
    seq2seq: Option<Seq2Seq>,
}

/// How the script scores the test examples.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scoring {
    /// Values (a regression): the loss only.
    Values,
    /// Classes, one answer per example: the loss and the accuracy.
    Classes,
    /// Classes at every step of padded sequences, whose padding has no class and is not scored.
    OwnSteps,
    /// An encoder-decoder's answers, decoded greedily: the loss, the accuracy over their tokens
    /// and the share of answers right.
    Translations,
}

/// A module's constructor, as written in the `nn.Sequential`.
fn module_of(layer: &LayerConfig, input: &[usize], kinds: &mut Kinds) -> Result<String, String> {
    let last = |shape: &[usize]| shape.last().copied().unwrap_or(1);
    Ok(match layer {
        LayerConfig::Dense(dense) => {
            kinds.dense = true;
            let activation = activation_module(dense.activation);
            format!("Dense({}, {}, {activation})", last(input), dense.outputs)
        }
        LayerConfig::Conv2d(conv) => {
            kinds.convolution = true;
            let activation = activation_module(conv.activation);
            format!(
                "Convolution({}, {}, {}, {}, {}, {activation})",
                input[0], conv.out_channels, conv.kernel, conv.stride, conv.padding
            )
        }
        LayerConfig::MaxPool2d(pool) => format!("nn.MaxPool2d({}, {})", pool.size, pool.stride),
        LayerConfig::AvgPool2d(pool) => format!("nn.AvgPool2d({}, {})", pool.size, pool.stride),
        LayerConfig::BatchNorm(_) => match input.len() {
            3 => format!("nn.BatchNorm2d({})", input[0]),
            _ => format!("nn.BatchNorm1d({})", last(input)),
        },
        LayerConfig::Dropout(dropout) => format!("nn.Dropout({})", float(dropout.rate)),
        LayerConfig::Flatten(_) => "nn.Flatten()".to_string(),
        LayerConfig::Rnn(rnn) => {
            let nonlinearity = match rnn.activation {
                Activation::Tanh => "tanh",
                Activation::Relu => "relu",
                other => {
                    return Err(format!(
                        "torch.nn.RNN squashes its state with tanh or ReLU only, and this RNN \
                         uses {}",
                        other.key()
                    ));
                }
            };
            kinds.rnn = true;
            format!(
                "RNN({}, {}, every_step={}, nonlinearity=\"{nonlinearity}\")",
                last(input),
                rnn.hidden,
                python_bool(rnn.every_step)
            )
        }
        LayerConfig::Lstm(lstm) => {
            kinds.lstm = true;
            format!(
                "LSTM({}, {}, every_step={})",
                last(input),
                lstm.hidden,
                python_bool(lstm.every_step)
            )
        }
        LayerConfig::Gru(gru) => {
            kinds.gru = true;
            format!(
                "CourseGRU({}, {}, every_step={})",
                last(input),
                gru.hidden,
                python_bool(gru.every_step)
            )
        }
        LayerConfig::Seq2Seq(layer) => {
            kinds.seq2seq = Some(*layer);
            seq2seq::module(layer, input)
        }
    })
}

/// The `torch.nn` module of an activation.
fn activation_module(activation: Activation) -> &'static str {
    match activation {
        Activation::Linear => "nn.Identity()",
        Activation::Sigmoid => "nn.Sigmoid()",
        Activation::Tanh => "nn.Tanh()",
        Activation::Relu => "nn.ReLU()",
        Activation::LeakyRelu => "nn.LeakyReLU(0.01)",
        Activation::Gelu => "nn.GELU()",
    }
}

fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// A number as Python reads back the same f32.
fn float(value: f32) -> String {
    let text = format!("{value:?}");
    text.replace("inf", "float(\"inf\")")
}

/// The names of the tensors the regularisation penalises (the weights, not the biases nor
/// batch normalisation's scale and shift), as the model file names them.
fn regularised(network: &SequentialConfig) -> Vec<String> {
    let mut names = Vec::new();
    for (index, layer) in network.layers.iter().enumerate() {
        if let LayerConfig::Seq2Seq(layer) = layer {
            names.extend(seq2seq::regularised(index, layer));
            continue;
        }
        let suffixes: &[&str] = match layer {
            LayerConfig::Dense(_) | LayerConfig::Conv2d(_) => &["weight"],
            LayerConfig::Rnn(_) | LayerConfig::Lstm(_) => &["weight_ih_l0", "weight_hh_l0"],
            LayerConfig::Gru(_) => &["weight_ih", "weight_hh"],
            _ => &[],
        };
        names.extend(suffixes.iter().map(|suffix| format!("{index}.{suffix}")));
    }
    names
}

fn header(out: &mut String, script: &Script) {
    let _ = writeln!(
        out,
        r#""""{title}, exported from Neural Playground.

Rebuilds the network with torch.nn, loads the weights the page trained ({WEIGHTS_FILE}), reads
the same examples ({examples}), prints the test loss and accuracy the page showed, trains on as
the page did and saves the weights to {TRAINED_FILE}, which the page opens ("Open model").

    pip install torch safetensors numpy
    python {SCRIPT_FILE} --epochs {epochs}
"""

import argparse
{imports}from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

HERE = Path(__file__).resolve().parent"#,
        title = capitalised(script.title),
        epochs = script.epochs,
        examples = match script.data {
            ScriptData::Digits { .. } => "MNIST's IDX files",
            _ => DATA_FILE,
        },
        imports = imports(script),
    );
}

/// The standard modules the script imports besides argparse and pathlib, one line each.
fn imports(script: &Script) -> String {
    let mut modules = vec![match script.data {
        ScriptData::Digits { .. } => "struct",
        _ => "csv",
    }];
    if script.cosine_decay {
        modules.push("math");
    }
    modules.sort_unstable();
    modules
        .iter()
        .map(|name| format!("import {name}\n"))
        .collect()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Kinds {
    fn write_classes(&self, out: &mut String) {
        if self.dense {
            out.push_str(DENSE_CLASS);
        }
        if self.convolution {
            out.push_str(CONVOLUTION_CLASS);
        }
        if self.padded && (self.rnn || self.lstm) {
            out.push_str(PACKED_RUN);
        }
        let forward = match self.padded {
            true => PACKED_FORWARD,
            false => PLAIN_FORWARD,
        };
        if self.rnn {
            out.push_str(RNN_CLASS);
            out.push_str(forward);
        }
        if self.lstm {
            out.push_str(LSTM_CLASS);
            out.push_str(forward);
        }
        if self.gru {
            out.push_str(GRU_CLASS);
            out.push_str(match self.padded {
                true => GRU_PADDED_FORWARD,
                false => GRU_FORWARD,
            });
        }
        if let Some(layer) = &self.seq2seq {
            seq2seq::write_classes(out, layer, GRU_CLASS);
        }
        if self.padded {
            let recurrent: Vec<&str> = [
                (self.rnn, "RNN"),
                (self.lstm, "LSTM"),
                (self.gru, "CourseGRU"),
            ]
            .iter()
            .filter(|(used, _)| *used)
            .map(|(_, name)| *name)
            .collect();
            out.push_str(&PADDED_CLASS.replace("{recurrent}", &recurrent.join(", ")));
        }
    }
}

const DENSE_CLASS: &str = r#"

class Dense(nn.Linear):
    """A dense layer as the page has it: the weighted sums, then the activation."""

    def __init__(self, inputs, outputs, activation):
        super().__init__(inputs, outputs)
        self.activation = activation

    def forward(self, x):
        return self.activation(super().forward(x))
"#;

const CONVOLUTION_CLASS: &str = r#"

class Convolution(nn.Conv2d):
    """A convolution and its activation, as one layer of the page's network."""

    def __init__(self, channels, filters, kernel, stride, padding, activation):
        super().__init__(channels, filters, kernel, stride=stride, padding=padding)
        self.activation = activation

    def forward(self, x):
        return self.activation(super().forward(x))
"#;

const RNN_CLASS: &str = r#"

class RNN(nn.RNN):
    """torch.nn.RNN over [batch, time, features], giving its last step's state (or every step's,
    for a recurrent layer after it), as the page's RNN layer."""

    def __init__(self, features, hidden, every_step, nonlinearity):
        super().__init__(features, hidden, nonlinearity=nonlinearity, batch_first=True)
        self.every_step = every_step
"#;

const LSTM_CLASS: &str = r#"

class LSTM(nn.LSTM):
    """torch.nn.LSTM over [batch, time, features], giving its last step's state (or every
    step's). The course writes the same cell with one bias and the gates in the order f, i, o,
    C~; PyTorch keeps two biases (bias_ih + bias_hh) and orders its gates i, f, g (= C~), o."""

    def __init__(self, features, hidden, every_step):
        super().__init__(features, hidden, batch_first=True)
        self.every_step = every_step
"#;

const GRU_CLASS: &str = r#"

class CourseGRU(nn.Module):
    """The course's GRU, step by step over [batch, time, features]:
        z, r = sigmoid(W [h, x] + b),  h~ = tanh(W [r * h, x] + b),  h = (1 - z) * h + z * h~.
    Unlike torch.nn.GRU, the reset gate multiplies the state before its product with the weights
    (nn.GRU multiplies after it, and gives z the other role), so the weights of one do not fit the
    other. The gates lie in the rows of weight_ih, weight_hh and bias in the order z, r, h~."""

    def __init__(self, features, hidden, every_step):
        super().__init__()
        self.hidden, self.every_step = hidden, every_step
        bound = hidden ** -0.5
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden, features).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden, hidden).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(3 * hidden))

    def step(self, x, h):
        """One time step: the state after input x (one row per sequence) from state h."""
        gates = 2 * self.hidden
        from_input = x @ self.weight_ih.T + self.bias
        sums = from_input[:, :gates] + h @ self.weight_hh[:gates].T
        z, r = torch.sigmoid(sums).chunk(2, dim=1)
        proposal = torch.tanh(from_input[:, gates:] + (r * h) @ self.weight_hh[gates:].T)
        return (1 - z) * h + z * proposal
"#;

/// The recurrent layers' `forward` on sequences of one length.
const PLAIN_FORWARD: &str = r#"
    def forward(self, x):
        states, _ = super().forward(x)
        return states if self.every_step else states[:, -1]
"#;

/// The recurrent layers' `forward` on padded sequences of varying length.
const PACKED_FORWARD: &str = r#"
    def forward(self, x, lengths):
        states = run_packed(super().forward, x, lengths)
        return states if self.every_step else states[:, -1]
"#;

const GRU_FORWARD: &str = r#"
    def forward(self, x):
        h = x.new_zeros(x.shape[0], self.hidden)
        states = []
        for t in range(x.shape[1]):
            h = self.step(x[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1) if self.every_step else h
"#;

const GRU_PADDED_FORWARD: &str = r#"
    def forward(self, x, lengths):
        h = x.new_zeros(x.shape[0], self.hidden)
        states = []
        for t in range(x.shape[1]):
            # A sequence that has ended keeps its last state over the padding.
            going = (t < lengths)[:, None]
            h = torch.where(going, self.step(x[:, t], h), h)
            states.append(h)
        return torch.stack(states, dim=1) if self.every_step else h
"#;

/// How torch.nn's recurrent modules run on padded sequences: packed, so that each sequence is
/// read up to its own end.
const PACKED_RUN: &str = r#"

def run_packed(recurrent, x, lengths):
    """Runs torch.nn.RNN or LSTM's forward over each sequence's own steps only (packed), then gives
    every step of padding after a sequence's end that sequence's last state: the page's layers
    carry their state over the padding unchanged."""
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    states, _ = recurrent(packed)
    states, _ = nn.utils.rnn.pad_packed_sequence(
        states, batch_first=True, total_length=x.shape[1]
    )
    steps = torch.arange(x.shape[1])
    last = torch.minimum(steps[None, :], lengths[:, None] - 1)
    return states.gather(1, last[:, :, None].expand(-1, -1, states.shape[2]))
"#;

/// The network on padded sequences: `{recurrent}` is replaced by the recurrent classes used.
const PADDED_CLASS: &str = r#"

class PaddedSequences(nn.Sequential):
    """The page's layers on sequences of varying length, padded to one length: the last feature
    of each step is 1 on the sequence and 0 on the padding after its end. The layers read the
    other features; the recurrent ones read each sequence up to its own end."""

    def forward(self, x):
        lengths = x[:, :, -1].sum(dim=1).long()
        x = x[:, :, :-1]
        for layer in self:
            x = layer(x, lengths) if isinstance(layer, ({recurrent},)) else layer(x)
        return x
"#;

fn write_network(out: &mut String, modules: &[String], kinds: &Kinds) {
    let _ = write!(
        out,
        "\n\ndef build_network():\n    \"\"\"The page's network: module i is its layer i.\"\"\"\n    \
         return {}(\n",
        match kinds.padded {
            true => "PaddedSequences",
            false => "nn.Sequential",
        }
    );
    for module in modules {
        let _ = writeln!(out, "        {module},");
    }
    out.push_str("    )\n");
}

fn write_data(out: &mut String, data: &ScriptData) {
    if let ScriptData::Digits { shift } = data {
        out.push_str(DIGITS_READER);
        if shift.is_some() {
            out.push_str(SHIFTED);
        }
        return;
    }
    if let &ScriptData::Translations {
        source_steps,
        output_steps,
        tokens,
        start,
        end,
    } = data
    {
        seq2seq::write_data(out, (source_steps, output_steps), tokens, (start, end));
        return;
    }
    out.push_str(
        r#"

def read_data():
    """The page's examples (data.csv, one per row, its split first): the inputs and targets of
    the training set and of the test set."""
    with open(HERE / "data.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    sets = []
    for split in ("train", "test"):
        chosen = [row for row in rows if row["split"] == split]
"#,
    );
    match data {
        ScriptData::Points { features, outputs } => {
            out.push_str(
                "        x1 = torch.tensor([float(row[\"x1\"]) for row in chosen])\n        \
                 x2 = torch.tensor([float(row[\"x2\"]) for row in chosen])\n        \
                 label = torch.tensor([float(row[\"label\"]) for row in chosen])\n",
            );
            let names: Vec<&str> = features.iter().map(|(name, _)| *name).collect();
            let _ = writeln!(out, "        # The input features: {}.", names.join(", "));
            let expressions: Vec<&str> = features.iter().map(|(_, code)| *code).collect();
            let _ = writeln!(
                out,
                "        inputs = torch.stack([{}], dim=1)",
                expressions.join(", ")
            );
            if *outputs == 1 {
                out.push_str("        targets = label[:, None]\n");
            } else {
                let _ = writeln!(
                    out,
                    "        # One column per class, 1 at the point's class (1 where the label is \
                     above 0.5).\n        \
                     targets = nn.functional.one_hot((label > 0.5).long(), {outputs}).float()"
                );
            }
        }
        ScriptData::Digits { .. } | ScriptData::Translations { .. } => {
            unreachable!("written above")
        }
        ScriptData::Table {
            input_shape,
            target_shape,
        } => {
            let inputs: usize = input_shape.iter().product();
            let targets: usize = target_shape.iter().product();
            let shape = |dims: &[usize]| {
                let dims: Vec<String> = dims.iter().map(usize::to_string).collect();
                dims.join(", ")
            };
            let _ = writeln!(
                out,
                "        values = torch.tensor([[float(row[f\"x{{i}}\"]) for i in range({inputs})] \
                 for row in chosen])\n        \
                 inputs = values.reshape(-1, {})\n        \
                 values = torch.tensor([[float(row[f\"y{{i}}\"]) for i in range({targets})] \
                 for row in chosen])\n        \
                 targets = values.reshape(-1, {})",
                shape(input_shape),
                shape(target_shape)
            );
        }
    }
    out.push_str("        sets.append((inputs, targets))\n    return sets\n");
}

const DIGITS_READER: &str = r#"

def read_idx(name):
    """An IDX file, MNIST's format: a magic number whose last byte is the number of sizes, the
    sizes (big-endian 32-bit), then one unsigned byte per value."""
    data = (HERE / name).read_bytes()
    rank = data[3]
    sizes = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(sizes)


def read_data():
    """The page's digits (its training and test digits, in MNIST's IDX files): images of
    [1, 28, 28] intensities in [0, 1], targets one-hot over the ten classes."""
    sets = []
    for split in ("train", "test"):
        images = read_idx(f"{split}-images-idx3-ubyte").float()[:, None] / 255
        labels = read_idx(f"{split}-labels-idx1-ubyte").long()
        sets.append((images, nn.functional.one_hot(labels, 10).float()))
    return sets
"#;

const SHIFTED: &str = r#"

def shifted(images, most):
    """Each image moved by a random whole number of pixels, up to `most` each way, zeros coming
    in at the edges: the page's augmentation of its training digits."""
    side = images.shape[-1]
    padded = nn.functional.pad(images, (most, most, most, most))
    moved = torch.empty_like(images)
    for k, (dy, dx) in enumerate(torch.randint(-most, most + 1, (len(images), 2)).tolist()):
        moved[k] = padded[k, :, most - dy:most - dy + side, most - dx:most - dx + side]
    return moved
"#;

/// The loss and how predictions and accuracy come from the network's outputs.
fn loss_code(loss: Loss) -> (&'static str, &'static str) {
    match loss {
        Loss::MeanSquaredError => ("nn.MSELoss()", "outputs"),
        Loss::HalfSquaredError => (
            "lambda outputs, targets: 0.5 * nn.functional.mse_loss(outputs, targets)",
            "outputs",
        ),
        Loss::MeanAbsoluteError => ("nn.L1Loss()", "outputs"),
        Loss::BinaryCrossEntropy => ("nn.BCEWithLogitsLoss()", "torch.sigmoid(outputs)"),
        Loss::SoftmaxCrossEntropy => (
            "lambda outputs, targets: nn.functional.cross_entropy(\n        \
             outputs.reshape(-1, outputs.shape[-1]), targets.reshape(-1, targets.shape[-1]))",
            "torch.softmax(outputs, dim=-1)",
        ),
    }
}

fn optimizer_code(training: &TrainConfig) -> String {
    let config = &training.optimizer;
    let lr = float(config.learning_rate);
    match config.kind {
        OptimizerKind::Sgd => format!("torch.optim.SGD(parameters, lr={lr})"),
        OptimizerKind::Momentum => format!(
            "torch.optim.SGD(parameters, lr={lr}, momentum={})",
            float(config.momentum)
        ),
        OptimizerKind::AdaGrad => format!(
            "torch.optim.Adagrad(parameters, lr={lr}, eps={})",
            float(config.epsilon)
        ),
        OptimizerKind::RmsProp => format!(
            "torch.optim.RMSprop(parameters, lr={lr}, alpha={}, eps={})",
            float(config.rho),
            float(config.epsilon)
        ),
        OptimizerKind::Adam => format!(
            "torch.optim.Adam(parameters, lr={lr}, betas=({}, {}), eps={})",
            float(config.beta1),
            float(config.beta2),
            float(config.epsilon)
        ),
    }
}

fn write_training(out: &mut String, script: &Script, regularised: &[String], scoring: Scoring) {
    let training = script.training;
    let (loss, prediction) = loss_code(training.loss);
    out.push_str("\n\n");
    if scoring == Scoring::Translations {
        out.push_str(seq2seq::LOSS_COMMENT);
    }
    let _ = writeln!(out, "loss_function = {loss}");
    let penalty = match training.regularization {
        Regularization::None => None,
        _ if training.regularization_rate == 0.0 => None,
        Regularization::L1 => Some(("L1", "weight.abs().sum()")),
        Regularization::L2 => Some(("L2", "0.5 * (weight * weight).sum()")),
    };
    match penalty {
        Some((name, term)) => {
            let names: Vec<String> = regularised.iter().map(|n| format!("\"{n}\"")).collect();
            let _ = writeln!(
                out,
                "# {name} regularisation of the weights (not the biases), added to the loss.\n\
                 REGULARISED = [{}]\n\
                 RATE = {}\n\n\n\
                 def penalty(model):\n    \
                 weights = dict(model.named_parameters())\n    \
                 return RATE * sum({term} for weight in (weights[name] for name in \
                 REGULARISED))",
                names.join(", "),
                float(training.regularization_rate)
            );
        }
        None => out.push_str("\n\ndef penalty(model):\n    return 0.0\n"),
    }
    let accuracy = if scoring == Scoring::OwnSteps {
        "    # The steps of padding after a sequence's end have no class (their targets are all 0).\n    \
         # As the page does, each sequence's loss is averaged over its own steps, then over the\n    \
         # sequences, and the accuracy is counted over every step that has a class.\n    \
         scored = targets.sum(dim=-1) > 0\n    \
         per_step = -(targets * torch.log_softmax(outputs, dim=-1)).sum(dim=-1)\n    \
         loss = ((per_step * scored).sum(dim=1) / scored.sum(dim=1)).mean() + penalty(model)\n    \
         right = (predicted.argmax(dim=-1) == targets.argmax(dim=-1))[scored]\n    \
         return loss.item(), right.float().mean().item()\n"
    } else if scoring == Scoring::Classes {
        "    if targets.shape[-1] == 1:\n        \
         # One output: the prediction and the target on the same side of the middle (0.5, or 0\n        \
         # for targets of -1 and 1).\n        \
         middle = 0.0 if targets.min() < 0 else 0.5\n        \
         right = (predicted > middle) == (targets > middle)\n    \
         else:\n        \
         right = predicted.argmax(dim=-1) == targets.argmax(dim=-1)\n    \
         return loss.item(), right.float().mean().item()\n"
    } else {
        "    return loss.item(), None\n"
    };
    if scoring == Scoring::Translations {
        out.push_str(seq2seq::EVALUATE);
    } else {
        let _ = write!(
            out,
            r#"

def evaluate(model, inputs, targets):
    """The loss (with the regularisation penalty, as the page counts it) and the accuracy."""
    model.eval()
    with torch.no_grad():
        outputs = model(inputs)
        loss = loss_function(outputs, targets) + penalty(model)
        predicted = {prediction}
{accuracy}"#
        );
    }
    let _ = write!(
        out,
        r#"

def train_epoch(model, optimizer, inputs, targets, batch_size{schedule_parameter}):
    """One pass over the training set in shuffled batches."""
    model.train()
    order = torch.randperm(len(inputs))
    for start in range(0, len(inputs), batch_size):
        batch = order[start:start + batch_size]
        batch_inputs = {batch_inputs}
        optimizer.zero_grad()
        loss = loss_function(model(batch_inputs), targets[batch]) + penalty(model)
        loss.backward()
"#,
        schedule_parameter = if script.cosine_decay {
            ", schedule"
        } else {
            ""
        },
        batch_inputs = match script.data {
            ScriptData::Digits { shift: Some(most) } => format!("shifted(inputs[batch], {most})"),
            _ => "inputs[batch]".to_string(),
        },
    );
    if let Some(clip) = training.clip_norm {
        let _ = writeln!(
            out,
            "        # The page clips the gradients to a global norm of {clip}.\n        \
             nn.utils.clip_grad_norm_(model.parameters(), {})",
            float(clip)
        );
    }
    out.push_str("        optimizer.step()\n");
    if script.cosine_decay {
        out.push_str("        schedule.step()\n");
    }
    let _ = writeln!(
        out,
        "\n\ndef make_optimizer(parameters):\n    return {}",
        optimizer_code(training)
    );
    if script.cosine_decay {
        out.push_str(COSINE_SCHEDULE);
    }
}

const COSINE_SCHEDULE: &str = r#"

def make_schedule(optimizer, steps):
    """The learning rate along a cosine from its value down to 0 over all `steps` of the run, as
    the page decays it: step s at lr * (1 + cos(pi * (s + 0.5) / steps)) / 2."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min((step + 0.5) / steps, 1.0)))
    )
"#;

fn write_main(out: &mut String, script: &Script, scoring: Scoring) -> Result<(), String> {
    let network = serde_json::to_string(script.network)
        .map_err(|error| format!("the network cannot be written: {error}"))?;
    let network = python_string(&network);
    let settings = match script.settings {
        Some(settings) => python_string(settings),
        None => "None".to_string(),
    };
    let truncation = match script.training.truncation {
        Some(steps) => format!(
            "    # The page cut backpropagation through time {steps} steps back; this script \
             lets it run\n    # through every step.\n"
        ),
        None => String::new(),
    };
    let report = match scoring {
        Scoring::Values => {
            "    loss, _ = evaluate(model, inputs, targets)\n    \
             print(f\"{name} loss {loss:.6f}\")"
        }
        Scoring::Classes | Scoring::OwnSteps => {
            "    loss, accuracy = evaluate(model, inputs, targets)\n    \
             print(f\"{name} loss {loss:.6f}, accuracy {100 * accuracy:.2f}%\")"
        }
        Scoring::Translations => {
            "    loss, accuracy, answers = evaluate(model, inputs, targets)\n    \
             print(\n        \
             f\"{name} loss {loss:.6f}, accuracy {100 * accuracy:.2f}%, \"\n        \
             f\"answers right {100 * answers:.2f}%\"\n    \
             )"
        }
    };
    let _ = write!(
        out,
        r#"

# What the page needs to open the trained weights: the network's description and its settings.
NETWORK = {network}
SETTINGS = {settings}


def report(name, model, inputs, targets):
{report}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default={epochs})
    parser.add_argument("--batch-size", type=int, default={batch})
    arguments = parser.parse_args()
    # The batches' order (and any dropout) are PyTorch's own from here on, drawn from this seed.
    torch.manual_seed({seed})
    (train_inputs, train_targets), (test_inputs, test_targets) = read_data()
    model = build_network()
    model.load_state_dict(load_file(HERE / "{WEIGHTS_FILE}"), strict=True)
    report("test", model, test_inputs, test_targets)
    optimizer = make_optimizer(model.parameters())
{schedule}{truncation}    for epoch in range(1, arguments.epochs + 1):
        train_epoch(model, optimizer, train_inputs, train_targets, arguments.batch_size{schedule_argument})
        report(f"epoch {{epoch}}: test", model, test_inputs, test_targets)
    metadata = {{"format": "{FORMAT}", "version": "{VERSION}", "network": NETWORK}}
    if SETTINGS is not None:
        metadata["settings"] = SETTINGS
    weights = {{name: value.contiguous() for name, value in model.state_dict().items()}}
    save_file(weights, HERE / "{TRAINED_FILE}", metadata=metadata)
    print("saved", HERE / "{TRAINED_FILE}")


if __name__ == "__main__":
    main()
"#,
        epochs = script.epochs,
        batch = script.training.batch_size,
        seed = script.training.seed,
        schedule = if script.cosine_decay {
            "    batches = math.ceil(len(train_inputs) / arguments.batch_size)\n    \
             schedule = make_schedule(optimizer, batches * arguments.epochs)\n"
        } else {
            ""
        },
        schedule_argument = if script.cosine_decay {
            ", schedule"
        } else {
            ""
        },
    );
    Ok(())
}

/// A string as a Python literal (JSON's escapes are Python's too).
fn python_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}
