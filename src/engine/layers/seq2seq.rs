//! A sequence-to-sequence layer, as the course draws it: an **encoder** ("just an RNN, maybe
//! LSTM, without the output") reads the input tokens, and its last state is **the encoding**;
//! a **decoder** ("just another RNN with output") starts from that state and writes the output
//! one token at a time, each step reading the token before it. Tokens go through learned
//! embeddings, one table for the input's tokens and one for the output's.
//!
//! One example is `[source + output_steps, 1]` token numbers: the input sequence (`source`
//! steps, padded at the end in a padded network), then what the decoder reads at each output
//! step: the start token, then the right answer's tokens (for teacher forcing). The layer gives
//! the logits of every output step, `[output_steps, target_tokens]`, for a softmax
//! cross-entropy against the answer.
//!
//! - **Teacher forcing** (a training option): while training, each decoder step reads the right
//!   previous token; without it, and always when evaluating, the decoder reads back its own
//!   most likely token (greedy decoding).
//! - **Attention** over the encoder's states: `dot` (Luong: the new state `h_t` scores each
//!   encoder state `s` by `h_t · s`) or `additive` (Bahdanau: the previous state scores each by
//!   `v · tanh(W h_{t-1} + U s)`, and the context is also read by the step). The scores'
//!   softmax over the input's steps weighs the states into a context vector `c_t`, and the
//!   output reads `[h_t, c_t]`. Padding after a sequence's end gets no weight.
//!
//! The encoder and the decoder step with the recurrent layers' own cells ([`Cell`]).

use serde::{Deserialize, Serialize};

use super::cell::{Cell, Previous};
use super::leading_number;
use super::recurrent::{self, RecurrentWeights, StepLinks, StepNodes};
use super::{Initialising, LayerKind, MAX_WIDTH, RecordingFor, Setting, SettingValue};
use crate::engine::activation::Activation;
use crate::engine::description::{Described, Description};
use crate::engine::error::EngineError;
use crate::engine::init::Initializer;
use crate::engine::model_tape::{LayerNodes, Mode};
use crate::engine::params::{ParamId, ParamRole, Params};
use crate::engine::tape::{NodeId, Tape};
use crate::engine::tensor::Tensor;

/// Most different tokens an embedding table holds.
pub const MAX_TOKENS: usize = 1024;
/// Most steps the decoder writes.
pub const MAX_OUTPUT_STEPS: usize = 128;

/// How the decoder looks back at the encoder's states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Attention {
    /// Only the encoding (the encoder's last state) reaches the decoder.
    None,
    /// Luong's dot-product attention.
    Dot,
    /// Bahdanau's additive attention.
    Additive,
}

impl Described for Attention {
    fn every() -> &'static [Attention] {
        &[Attention::None, Attention::Dot, Attention::Additive]
    }

    fn describe(self) -> Description {
        match self {
            Attention::None => Description::new(
                "none",
                "No attention",
                "no attention",
                "the decoder sees only the encoding, the encoder's last state",
            ),
            Attention::Dot => Description::new(
                "dot",
                "Dot-product (Luong)",
                "dot-product attention",
                "score(h_t, s) = h_t · s, from the decoder's new state",
            ),
            Attention::Additive => Description::new(
                "additive",
                "Additive (Bahdanau)",
                "additive attention",
                "score(h_{t-1}, s) = v · tanh(W h_{t-1} + U s), from the decoder's previous state",
            ),
        }
    }
}

/// An encoder and a decoder of one cell each.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Seq2Seq {
    /// The cell of both the encoder and the decoder.
    pub cell: Cell,
    /// Values of state of each.
    pub hidden: usize,
    /// Values of each token's embedding.
    pub embedding: usize,
    /// Different input tokens (`0..source_tokens`).
    pub source_tokens: usize,
    /// Different output tokens, the decoder's start and end among them.
    pub target_tokens: usize,
    /// Steps the decoder writes.
    pub output_steps: usize,
    pub attention: Attention,
    /// Whether training feeds the decoder the right previous token (otherwise its own).
    pub teacher_forcing: bool,
}

impl Seq2Seq {
    /// The cells a sequence-to-sequence layer offers.
    pub const CELLS: [Cell; 3] = [Cell::Rnn(Activation::Tanh), Cell::Lstm, Cell::Gru];

    /// Features the decoder's cell reads at each step: the previous token's embedding, and the
    /// context with additive attention.
    fn decoder_features(&self) -> usize {
        match self.attention {
            Attention::Additive => self.embedding + self.hidden,
            Attention::None | Attention::Dot => self.embedding,
        }
    }

    /// Values the output layer reads: `h_t`, and `c_t` with attention.
    fn output_features(&self) -> usize {
        match self.attention {
            Attention::None => self.hidden,
            Attention::Dot | Attention::Additive => 2 * self.hidden,
        }
    }

    /// The input's steps, on examples of `shape` (a batch first), or why it cannot be read.
    fn source_steps(&self, shape: &[usize]) -> Result<usize, EngineError> {
        let limits = [
            ("values of state", self.hidden, 1, MAX_WIDTH),
            ("values per embedding", self.embedding, 1, MAX_WIDTH),
            ("input tokens", self.source_tokens, 1, MAX_TOKENS),
            ("output tokens", self.target_tokens, 3, MAX_TOKENS),
            ("output steps", self.output_steps, 1, MAX_OUTPUT_STEPS),
        ];
        for (what, value, least, most) in limits {
            if !(least..=most).contains(&value) {
                return Err(EngineError::InvalidConfig(format!(
                    "a sequence-to-sequence layer takes {least} to {most} {what}, not {value}"
                )));
            }
        }
        if !Seq2Seq::CELLS.contains(&self.cell) {
            return Err(EngineError::InvalidConfig(
                "a sequence-to-sequence layer's cell is a tanh RNN, an LSTM or a GRU".to_string(),
            ));
        }
        match *shape {
            [_, steps, 1] if steps > self.output_steps => Ok(steps - self.output_steps),
            _ => Err(EngineError::InvalidConfig(format!(
                "a sequence-to-sequence layer reads one token per step: the input's tokens, \
                 then the {} tokens its decoder reads ([steps, 1], at least {} steps)",
                self.output_steps,
                self.output_steps + 1
            ))),
        }
    }

    fn cell_key(&self) -> &'static str {
        match self.cell {
            Cell::Rnn(_) => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }
}

/// The additive attention's weights: `W` for the query, `U` for the keys, `v` for the score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdditiveWeights {
    pub query: ParamId,
    pub key: ParamId,
    pub score: ParamId,
}

/// A built sequence-to-sequence layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seq2SeqWeights {
    pub settings: Seq2Seq,
    /// Steps of the input sequence.
    pub source_steps: usize,
    /// `[source_tokens, embedding]`.
    pub source_embedding: ParamId,
    /// `[target_tokens, embedding]`.
    pub target_embedding: ParamId,
    pub encoder: RecurrentWeights,
    pub decoder: RecurrentWeights,
    pub additive: Option<AdditiveWeights>,
    /// `[output_features, target_tokens]` and `[target_tokens]`.
    pub output_weights: ParamId,
    pub output_bias: ParamId,
}

/// One decoder step on the tape.
#[derive(Clone, Debug, PartialEq)]
pub struct DecoderStep {
    /// The token it read, `[batch, 1]`.
    pub token: NodeId,
    /// Its cell's step (its input is the token's embedding, with the context when additive).
    pub cell: StepNodes,
    /// The attention's weights over the input's steps, `[batch, source steps]`.
    pub attention: Option<NodeId>,
    /// The context vector `c_t`, `[batch, hidden]`.
    pub context: Option<NodeId>,
    /// Its output's logits, `[batch, target_tokens]`.
    pub logits: NodeId,
}

/// What a sequence-to-sequence layer left on the tape.
#[derive(Clone, Debug, PartialEq)]
pub struct Seq2SeqNodes {
    /// Every step of the encoder over the input.
    pub encoder: Vec<StepNodes>,
    /// The encoder's last state, `[batch, hidden]`: the encoding.
    pub encoding: NodeId,
    pub decoder: Vec<DecoderStep>,
    /// Every step's logits, `[batch, output_steps, target_tokens]`.
    pub output: NodeId,
}

impl LayerKind for Seq2Seq {
    type Built = Seq2SeqWeights;
    const KEY: &'static str = "seq2seq";
    const TITLE: &'static str = "Encoder-decoder";
    const IN_BUILDER: bool = false;

    fn first() -> Seq2Seq {
        Seq2Seq {
            cell: Cell::Lstm,
            hidden: 64,
            embedding: 16,
            source_tokens: 10,
            target_tokens: 12,
            output_steps: 9,
            attention: Attention::Dot,
            teacher_forcing: true,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        self.source_steps(shape)?;
        let (hidden, gates) = (self.hidden, self.cell.gates());
        let cell = |features: usize| (hidden + features + 1) * gates * hidden;
        let additive = match self.attention {
            Attention::Additive => 2 * hidden * hidden + hidden,
            Attention::None | Attention::Dot => 0,
        };
        let parameters = (self.source_tokens + self.target_tokens) * self.embedding
            + cell(self.embedding)
            + cell(self.decoder_features())
            + additive
            + (self.output_features() + 1) * self.target_tokens;
        let output = vec![shape[0], self.output_steps, self.target_tokens];
        Ok((output, parameters))
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<Seq2SeqWeights, EngineError> {
        let source_steps = self.source_steps(&[&[1], in_shape].concat())?;
        let table = |tokens: usize, init: &mut Initialising<'_>| {
            let mut values = Tensor::zeros(&[tokens, self.embedding]);
            // As `nn.Embedding` starts: N(0, 1).
            values.data_mut().fill_with(|| init.rng.standard_normal());
            init.params.add(values, ParamRole::Weight)
        };
        let source_embedding = table(self.source_tokens, init);
        let target_embedding = table(self.target_tokens, init);
        let (hidden, gates) = (self.hidden, self.cell.gates());
        let ones = self.cell.bias_ones(hidden);
        let encoder_shape = [source_steps, self.embedding];
        let encoder = recurrent::init(&encoder_shape, (hidden, true), gates, ones.clone(), init)?;
        let decoder_shape = [self.output_steps, self.decoder_features()];
        let decoder = recurrent::init(&decoder_shape, (hidden, true), gates, ones, init)?;
        let additive = match self.attention {
            Attention::Additive => Some(AdditiveWeights {
                query: linear_weights(init, hidden, hidden),
                key: linear_weights(init, hidden, hidden),
                score: linear_weights(init, hidden, 1),
            }),
            Attention::None | Attention::Dot => None,
        };
        let output_weights = linear_weights(init, self.output_features(), self.target_tokens);
        let mut bias = Tensor::zeros(&[self.target_tokens]);
        let limit = 1.0 / (self.output_features() as f32).sqrt();
        bias.data_mut()
            .fill_with(|| init.rng.uniform_range(-limit, limit));
        let output_bias = init.params.add(bias, ParamRole::Bias);
        Ok(Seq2SeqWeights {
            settings: *self,
            source_steps,
            source_embedding,
            target_embedding,
            encoder,
            decoder,
            additive,
            output_weights,
            output_bias,
        })
    }

    fn record(
        built: &Seq2SeqWeights,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        record(built, tape, params, x, recording).map(LayerNodes::Seq2Seq)
    }

    fn weights(built: &Seq2SeqWeights) -> Option<ParamId> {
        Some(built.output_weights)
    }

    fn settings(&self) -> Vec<Setting> {
        vec![
            Setting::count("hidden", self.hidden),
            Setting::count("embedding", self.embedding),
            Setting::count("output_steps", self.output_steps),
            Setting {
                key: "teacher_forcing",
                value: SettingValue::Switch(self.teacher_forcing),
            },
        ]
    }

    fn with_setting(&self, setting: Setting) -> Option<Seq2Seq> {
        let mut changed = *self;
        match (setting.key, setting.value) {
            ("hidden", SettingValue::Count(value)) => changed.hidden = value,
            ("embedding", SettingValue::Count(value)) => changed.embedding = value,
            ("output_steps", SettingValue::Count(value)) => changed.output_steps = value,
            ("teacher_forcing", SettingValue::Switch(on)) => changed.teacher_forcing = on,
            _ => return None,
        }
        Some(changed)
    }

    /// `s2s{cell}{hidden}e{embedding}v{source tokens}x{target tokens}t{output steps}`, then
    /// `-dot` or `-additive`, then `-free` without teacher forcing: "s2slstm64e16v10x12t9-dot".
    fn token(&self) -> String {
        let mut token = format!(
            "s2s{}{}e{}v{}x{}t{}",
            self.cell_key(),
            self.hidden,
            self.embedding,
            self.source_tokens,
            self.target_tokens,
            self.output_steps
        );
        if self.attention != Attention::None {
            token.push('-');
            token.push_str(self.attention.key());
        }
        if !self.teacher_forcing {
            token.push_str("-free");
        }
        token
    }

    fn from_token(token: &str) -> Option<Seq2Seq> {
        let rest = token.strip_prefix("s2s")?;
        let (cell, rest) = [("rnn", Cell::Rnn(Activation::Tanh)), ("lstm", Cell::Lstm)]
            .into_iter()
            .chain([("gru", Cell::Gru)])
            .find_map(|(key, cell)| rest.strip_prefix(key).map(|rest| (cell, rest)))?;
        let (hidden, rest) = leading_number(rest, 1..=MAX_WIDTH)?;
        let (embedding, rest) = leading_number(rest.strip_prefix('e')?, 1..=MAX_WIDTH)?;
        let (source_tokens, rest) = leading_number(rest.strip_prefix('v')?, 1..=MAX_TOKENS)?;
        let (target_tokens, rest) = leading_number(rest.strip_prefix('x')?, 3..=MAX_TOKENS)?;
        let (output_steps, rest) = leading_number(rest.strip_prefix('t')?, 1..=MAX_OUTPUT_STEPS)?;
        let (rest, teacher_forcing) = match rest.strip_suffix("-free") {
            Some(rest) => (rest, false),
            None => (rest, true),
        };
        let attention = match rest {
            "" => Attention::None,
            _ => Attention::from_key(rest.strip_prefix('-')?)?,
        };
        Some(Seq2Seq {
            cell,
            hidden,
            embedding,
            source_tokens,
            target_tokens,
            output_steps,
            attention,
            teacher_forcing,
        })
    }
}

/// A weight matrix `[inputs, outputs]` started as `nn.Linear` starts its weights.
fn linear_weights(init: &mut Initialising<'_>, inputs: usize, outputs: usize) -> ParamId {
    let mut weights = Tensor::zeros(&[inputs, outputs]);
    let initializer = init.chosen.unwrap_or(Initializer::Uniform {
        limit: 1.0 / (inputs as f32).sqrt(),
    });
    initializer.fill_weights(&mut weights, inputs, outputs, init.rng);
    init.params.add(weights, ParamRole::Weight)
}

/// What the decoder attends to: the encoder's states `[batch, steps, hidden]`, the additive
/// attention's projected keys, and the scores' mask over padding.
struct Memory {
    states: NodeId,
    keys: Option<NodeId>,
    /// `[batch, steps]`: 0 on the input's steps, a large negative number on padding.
    mask: Option<NodeId>,
}

/// Encoder, then decoder, as the module's header says.
fn record(
    built: &Seq2SeqWeights,
    tape: &mut Tape,
    params: &Params,
    tokens: NodeId,
    recording: RecordingFor,
) -> Result<Seq2SeqNodes, EngineError> {
    let settings = &built.settings;
    let cell = settings.cell;
    let hidden = settings.hidden;
    let source = built.source_steps;
    // The encoder: one cell step per input token.
    let source_table = tape.parameter(params, built.source_embedding)?;
    let weights = cell.record_weights(&built.encoder, tape, params)?;
    let links = StepLinks::padding_only(built.encoder.steps, recording.present);
    let mut encoder: Vec<StepNodes> = Vec::with_capacity(source);
    for t in 0..source {
        let token = recurrent::step_input(tape, tokens, t)?;
        let embedded = tape.embedding(source_table, token)?;
        let previous = encoder.last().map(Previous::after);
        let mut step = cell.step(tape, &weights, hidden, previous, embedded)?;
        let present = links.present_at(tape, t)?;
        step.state = StepLinks::hand_on(tape, present, step.state, previous.map(|p| p.state))?;
        if let Some(new) = step.cell {
            let before = previous.and_then(|previous| previous.cell);
            step.cell = Some(StepLinks::hand_on(tape, present, new, before)?);
        }
        encoder.push(step);
    }
    let last = encoder.last().expect("an input has at least one step");
    let encoding = last.state;
    let memory = match settings.attention {
        Attention::None => None,
        Attention::Dot | Attention::Additive => {
            Some(memory(built, tape, params, &encoder, recording.present)?)
        }
    };
    // The decoder: from the encoding, one step per output token.
    let target_table = tape.parameter(params, built.target_embedding)?;
    let weights = cell.record_weights(&built.decoder, tape, params)?;
    let output_weights = tape.parameter(params, built.output_weights)?;
    let output_bias = tape.parameter(params, built.output_bias)?;
    let forced = recording.mode == Mode::Training && settings.teacher_forcing;
    let mut previous = Previous::after(last);
    let mut decoder: Vec<DecoderStep> = Vec::with_capacity(settings.output_steps);
    for t in 0..settings.output_steps {
        let token = match decoder.last() {
            Some(before) if !forced => tape.argmax(before.logits)?,
            _ => recurrent::step_input(tape, tokens, source + t)?,
        };
        let embedded = tape.embedding(target_table, token)?;
        let (input, early) = match (&memory, settings.attention) {
            (Some(memory), Attention::Additive) => {
                let (weights, context) = attend(built, tape, params, memory, previous.state)?;
                (tape.concat(embedded, context, 1)?, Some((weights, context)))
            }
            _ => (embedded, None),
        };
        let step = cell.step(tape, &weights, hidden, Some(previous), input)?;
        let attended = match (&memory, early) {
            (_, Some(early)) => Some(early),
            (Some(memory), None) => Some(attend(built, tape, params, memory, step.state)?),
            (None, None) => None,
        };
        let read = match attended {
            Some((_, context)) => tape.concat(step.state, context, 1)?,
            None => step.state,
        };
        let logits = tape.dense(read, output_weights, output_bias)?;
        previous = Previous::after(&step);
        decoder.push(DecoderStep {
            token,
            cell: step,
            attention: attended.map(|(weights, _)| weights),
            context: attended.map(|(_, context)| context),
            logits,
        });
    }
    let output = join_steps(tape, decoder.iter().map(|step| step.logits).collect())?;
    Ok(Seq2SeqNodes {
        encoder,
        encoding,
        decoder,
        output,
    })
}

/// The encoder's states side by side, their additive keys, and the mask over padding.
fn memory(
    built: &Seq2SeqWeights,
    tape: &mut Tape,
    params: &Params,
    encoder: &[StepNodes],
    present: Option<NodeId>,
) -> Result<Memory, EngineError> {
    let states = join_steps(tape, encoder.iter().map(|step| step.state).collect())?;
    let keys = match built.additive {
        Some(additive) => {
            let key = tape.parameter(params, additive.key)?;
            let rows = tape.steps_as_rows(states)?;
            let projected = tape.matmul(rows, key)?;
            Some(tape.rows_as_steps(projected, encoder.len())?)
        }
        None => None,
    };
    let mask = match present {
        Some(present) => {
            let source = tape.slice(present, 1, 0, encoder.len())?;
            let source = tape.flatten(source)?;
            let missing = tape.add_scalar(source, -1.0)?;
            Some(tape.scale(missing, 1e9)?)
        }
        None => None,
    };
    Ok(Memory { states, keys, mask })
}

/// The attention's weights over the input's steps and the context, for `query` (`[batch,
/// hidden]`).
fn attend(
    built: &Seq2SeqWeights,
    tape: &mut Tape,
    params: &Params,
    memory: &Memory,
    query: NodeId,
) -> Result<(NodeId, NodeId), EngineError> {
    let scores = match (built.additive, memory.keys) {
        (Some(additive), Some(keys)) => {
            let steps = tape.recorded_shape(keys)[1];
            let query_weights = tape.parameter(params, additive.query)?;
            let score_weights = tape.parameter(params, additive.score)?;
            let projected = tape.matmul(query, query_weights)?;
            let summed = tape.add_to_steps(keys, projected)?;
            let squashed = tape.activation(summed, Activation::Tanh)?;
            let rows = tape.steps_as_rows(squashed)?;
            let scored = tape.matmul(rows, score_weights)?;
            let scored = tape.rows_as_steps(scored, steps)?;
            tape.flatten(scored)?
        }
        _ => tape.step_scores(memory.states, query)?,
    };
    let scores = match memory.mask {
        Some(mask) => tape.add(scores, mask)?,
        None => scores,
    };
    let weights = tape.softmax(scores)?;
    let context = tape.step_mix(weights, memory.states)?;
    Ok((weights, context))
}

/// `[batch, k]` nodes, one per step, as one `[batch, steps, k]` node.
fn join_steps(tape: &mut Tape, steps: Vec<NodeId>) -> Result<NodeId, EngineError> {
    let count = steps.len();
    let joined = recurrent::join_pairwise(tape, steps)?;
    tape.unflatten(joined, count)
}
