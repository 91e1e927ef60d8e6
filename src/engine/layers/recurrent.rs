//! What the recurrent layers ([`Rnn`](super::Rnn), [`Lstm`](super::Lstm),
//! [`Gru`](super::Gru)) share: they read sequences `[time, features]`, keep `hidden` values of
//! state, and are unrolled onto the tape one time step after the other with the ops every other
//! layer uses (slices, concatenation, dense, activations, sums and products), so both trainers
//! train them and backpropagation through time is the tape's own backward pass.
//!
//! Each cell learns one weight matrix `W` of `[hidden + features, gates · hidden]` applied to
//! `[h_{t-1}, x_t]` (the state first, as the course writes it) and one bias `b` of
//! `gates · hidden`. The state starts at zero, so the first step multiplies `x_1` by the rows of
//! `W` that read the input only.

use super::{Initialising, MAX_WIDTH, RecordingFor, Setting, SettingValue, leading_number};
use crate::engine::error::EngineError;
use crate::engine::init::Initializer;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, ParamRole, Params};
use crate::engine::tape::{NodeId, Tape};
use crate::engine::tensor::Tensor;

/// What one time step of a cell left on the tape, for the unrolled view.
#[derive(Clone, Debug, PartialEq)]
pub struct StepNodes {
    /// `x_t`, `[batch, features]`.
    pub input: NodeId,
    /// The state `h_t` after this step, `[batch, hidden]`.
    pub state: NodeId,
    /// An LSTM's cell state `C_t`.
    pub cell: Option<NodeId>,
    /// The gates and the candidate, named as the course writes them ("f", "i", "o", "C~"; "z",
    /// "r", "h~"). A gate with nothing to act on at the first step (the state starts at zero)
    /// is not there.
    pub gates: Vec<GateNodes>,
    /// The weighted sum the state is an activation of, for a cell whose state is one (the
    /// RNN's `h_t = f(s)`).
    pub state_sum: Option<Columns>,
}

/// Columns `start..start + width` of a `[batch, columns]` node: one gate among the four an
/// LSTM computes in one node, or the whole of a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Columns {
    pub node: NodeId,
    pub start: usize,
    pub width: usize,
}

impl Columns {
    /// All the columns of `node`, `width` of them.
    pub fn whole(node: NodeId, width: usize) -> Columns {
        Columns {
            node,
            start: 0,
            width,
        }
    }

    /// The values, row after row.
    pub fn read(&self, tape: &Tape) -> Vec<f32> {
        let value = tape.value(self.node);
        let row = value.cols();
        let rows = value.data().chunks_exact(row);
        let columns = rows.flat_map(|row| &row[self.start..self.start + self.width]);
        columns.copied().collect()
    }
}

/// One gate (or candidate) of a step: its values, and the weighted sum its activation took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GateNodes {
    pub name: &'static str,
    pub value: Columns,
    pub sum: Columns,
}

/// Every time step of a recurrent layer on the tape, first to last, and its output.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentNodes {
    pub steps: Vec<StepNodes>,
    /// The last step's state `[batch, hidden]`, or every step's `[batch, steps, hidden]`.
    pub output: NodeId,
}

/// The layer's nodes once its steps are recorded: its output is the last step's state, or, with
/// `every_step`, every step's state as a sequence for a recurrent layer after it.
pub(super) fn finish(
    tape: &mut Tape,
    steps: Vec<StepNodes>,
    every_step: bool,
) -> Result<LayerNodes, EngineError> {
    let last = steps
        .last()
        .expect("a sequence has at least one step")
        .state;
    let output = match every_step {
        false => last,
        true => {
            let states = steps.iter().map(|step| step.state).collect();
            let joined = join_pairwise(tape, states)?;
            tape.unflatten(joined, steps.len())?
        }
    };
    Ok(LayerNodes::Recurrent(RecurrentNodes { steps, output }))
}

/// `[batch, k]` nodes side by side, `[batch, count·k]`, joined pairwise, level by level: each
/// value is copied log2(count) times, not up to count.
pub(super) fn join_pairwise(tape: &mut Tape, nodes: Vec<NodeId>) -> Result<NodeId, EngineError> {
    let mut joined = nodes;
    while joined.len() > 1 {
        joined = joined
            .chunks(2)
            .map(|pair| match *pair {
                [left, right] => tape.concat(left, right, 1),
                [single] => Ok(single),
                _ => unreachable!("chunks of two"),
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(joined[0])
}

/// How one step's state reaches the next. Backpropagation through time stops where the
/// truncation says: the state handed from step `t - 1` to step `t` is cut from its past (its
/// values kept, no gradient flowing back) wherever `t` is a whole number of `every` steps before
/// the end, so that the last step's loss reaches back `every` steps exactly (the trainers cut
/// their training tapes only). And in a padded network, a sequence that has ended hands on its
/// last real state unchanged over its padding (see [`RecordingFor::present`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct StepLinks {
    steps: usize,
    every: Option<usize>,
    present: Option<NodeId>,
}

impl StepLinks {
    pub(super) fn new(built: &RecurrentWeights, recording: RecordingFor) -> StepLinks {
        StepLinks {
            steps: built.steps,
            every: recording.truncation,
            present: recording.present,
        }
    }

    /// Links over `steps` steps that only carry states over padding (where `present` says),
    /// never cut.
    pub(super) fn padding_only(steps: usize, present: Option<NodeId>) -> StepLinks {
        StepLinks {
            steps,
            every: None,
            present,
        }
    }

    /// The state step `t` reads (`state`, the one step `t - 1` left), cut where the
    /// truncation says.
    pub(super) fn carry(
        &self,
        tape: &mut Tape,
        state: NodeId,
        t: usize,
    ) -> Result<NodeId, EngineError> {
        match self.every {
            Some(every) if t > 0 && (self.steps - t).is_multiple_of(every) => tape.detach(state),
            _ => Ok(state),
        }
    }

    /// Whether each sequence is still going at step `t` (`[batch, 1]`), in a padded network:
    /// read once per step and handed to [`StepLinks::hand_on`] for each state the cell keeps.
    pub(super) fn present_at(
        &self,
        tape: &mut Tape,
        t: usize,
    ) -> Result<Option<NodeId>, EngineError> {
        match self.present {
            Some(present) if t > 0 => step_input(tape, present, t).map(Some),
            _ => Ok(None),
        }
    }

    /// The state a step hands on: the `new` one it computed, or, where `present` (from
    /// [`StepLinks::present_at`]) says a sequence has already ended, the `previous` one
    /// unchanged.
    pub(super) fn hand_on(
        tape: &mut Tape,
        present: Option<NodeId>,
        new: NodeId,
        previous: Option<NodeId>,
    ) -> Result<NodeId, EngineError> {
        match (present, previous) {
            (Some(present), Some(previous)) => tape.carry(present, new, previous),
            _ => Ok(new),
        }
    }
}

/// A cell's settings: its state size, and whether it gives every step's state.
pub(super) fn settings(hidden: usize, every_step: bool) -> Vec<Setting> {
    vec![
        Setting::count("hidden", hidden),
        Setting {
            key: "every_step",
            value: SettingValue::Switch(every_step),
        },
    ]
}

/// `(hidden, every_step)` with `setting` changed, if it is one of a cell's.
pub(super) fn with_setting(
    hidden: usize,
    every_step: bool,
    setting: Setting,
) -> Option<(usize, bool)> {
    match (setting.key, setting.value) {
        ("hidden", SettingValue::Count(hidden)) => Some((hidden, every_step)),
        ("every_step", SettingValue::Switch(every_step)) => Some((hidden, every_step)),
        _ => None,
    }
}

/// A built recurrent layer: its parameters and sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentWeights {
    /// `W`, `[hidden + features, gates · hidden]`.
    pub weights: ParamId,
    /// `b`, `[gates · hidden]`.
    pub bias: ParamId,
    pub features: usize,
    pub hidden: usize,
    pub steps: usize,
    /// Whether the layer gives every step's state.
    pub every_step: bool,
}

/// `(steps, features)` of sequences shaped `[batch, steps, features]`, or why `shape` is not
/// one.
pub(super) fn sequence_shape(shape: &[usize], title: &str) -> Result<(usize, usize), EngineError> {
    match *shape {
        [_, steps, features] if steps > 0 && features > 0 => Ok((steps, features)),
        _ => Err(EngineError::InvalidConfig(format!(
            "{title} reads sequences of time steps, each a vector of features: its input must \
             be shaped [time, features]"
        ))),
    }
}

/// The output shape (the last step's state, or every step's) and the number of scalars learned
/// by a cell of `gates` gates and `hidden` values of state on `shape`.
pub(super) fn output(
    shape: &[usize],
    (hidden, every_step): (usize, bool),
    gates: usize,
    title: &str,
) -> Result<(Vec<usize>, usize), EngineError> {
    let (steps, features) = sequence_shape(shape, title)?;
    if hidden == 0 || hidden > MAX_WIDTH {
        return Err(EngineError::InvalidConfig(format!(
            "{title} needs 1 to {MAX_WIDTH} values of state, not {hidden}"
        )));
    }
    let parameters = (hidden + features + 1) * gates * hidden;
    let output = match every_step {
        false => vec![shape[0], hidden],
        true => vec![shape[0], steps, hidden],
    };
    Ok((output, parameters))
}

/// Creates `W` and `b` for examples of `in_shape` (`[steps, features]`): uniform in
/// `±1/√hidden` as PyTorch's recurrent layers start (or the network's chosen initialisation),
/// biases zero but for `bias_ones`, the gates' columns whose bias starts at 1 (an LSTM's forget
/// gate, so that it keeps its state from the start).
pub(super) fn init(
    in_shape: &[usize],
    (hidden, every_step): (usize, bool),
    gates: usize,
    bias_ones: std::ops::Range<usize>,
    init: &mut Initialising<'_>,
) -> Result<RecurrentWeights, EngineError> {
    let (steps, features) = match *in_shape {
        [steps, features] => (steps, features),
        _ => {
            return Err(EngineError::InvalidConfig(format!(
                "a recurrent layer reads [time, features], not {in_shape:?}"
            )));
        }
    };
    let (rows, cols) = (hidden + features, gates * hidden);
    let initializer = init.chosen.unwrap_or(Initializer::Uniform {
        limit: 1.0 / (hidden as f32).sqrt(),
    });
    let mut weights = Tensor::zeros(&[rows, cols]);
    initializer.fill_weights(&mut weights, rows, cols, init.rng);
    let mut bias = Tensor::zeros(&[cols]);
    initializer.fill_bias(&mut bias);
    if init.chosen.is_none() {
        bias.data_mut()[bias_ones].fill(1.0);
    }
    Ok(RecurrentWeights {
        weights: init.params.add(weights, ParamRole::Weight),
        bias: init.params.add(bias, ParamRole::Bias),
        features,
        hidden,
        steps,
        every_step,
    })
}

/// A cell's weights on the tape: `W` whole (for `[h_{t-1}, x_t]`) and its rows that read the
/// input alone (for the first step, whose state is zero), each for the columns of one group of
/// gates.
#[derive(Clone, Copy, Debug)]
pub(super) struct StepWeights {
    pub whole: NodeId,
    pub input_rows: NodeId,
    pub bias: NodeId,
}

/// The parameter nodes of `built`, split by columns into groups of `groups[k]` gates each (one
/// group for the RNN and the LSTM; the GRU's update and reset gates, then its candidate).
pub(super) fn record_weights(
    built: &RecurrentWeights,
    tape: &mut Tape,
    params: &Params,
    groups: &[usize],
) -> Result<Vec<StepWeights>, EngineError> {
    let weights = tape.parameter(params, built.weights)?;
    let bias = tape.parameter(params, built.bias)?;
    let whole_width: usize = groups.iter().sum();
    let mut recorded = Vec::with_capacity(groups.len());
    let mut start = 0;
    for &gates in groups {
        let (whole, bias) = if gates == whole_width {
            (weights, bias)
        } else {
            let columns = (start * built.hidden, gates * built.hidden);
            (
                tape.slice(weights, 1, columns.0, columns.1)?,
                tape.slice(bias, 0, columns.0, columns.1)?,
            )
        };
        let input_rows = tape.slice(whole, 0, built.hidden, built.features)?;
        recorded.push(StepWeights {
            whole,
            input_rows,
            bias,
        });
        start += gates;
    }
    Ok(recorded)
}

/// `x_t`, `[batch, features]`, of the sequences `x` (`[batch, steps, features]`).
pub(super) fn step_input(tape: &mut Tape, x: NodeId, t: usize) -> Result<NodeId, EngineError> {
    let step = tape.slice(x, 1, t, 1)?;
    tape.flatten(step)
}

/// `[h_{t-1}, x_t] · W + b`, or `x_t · W_x + b` at the first step (`state` is `None`).
pub(super) fn weighted_sum(
    tape: &mut Tape,
    weights: &StepWeights,
    state: Option<NodeId>,
    x_t: NodeId,
) -> Result<NodeId, EngineError> {
    match state {
        Some(state) => {
            let joined = tape.concat(state, x_t, 1)?;
            tape.dense(joined, weights.whole, weights.bias)
        }
        None => tape.dense(x_t, weights.input_rows, weights.bias),
    }
}

/// Columns `gate · hidden .. (gate + 1) · hidden` of a `[batch, gates · hidden]` node.
pub(super) fn gate(
    tape: &mut Tape,
    sums: NodeId,
    gate: usize,
    hidden: usize,
) -> Result<NodeId, EngineError> {
    tape.slice(sums, 1, gate * hidden, hidden)
}

/// A cell's link token, `{key}{hidden}`, then `seq` when it gives every step: "lstm64",
/// "gru32seq".
pub(super) fn token(key: &str, hidden: usize, every_step: bool) -> String {
    match every_step {
        false => format!("{key}{hidden}"),
        true => format!("{key}{hidden}seq"),
    }
}

/// `(hidden, every_step)` of a token `{key}{hidden}[seq]`.
pub(super) fn from_token(token: &str, key: &str) -> Option<(usize, bool)> {
    let (hidden, rest) = leading_number(token.strip_prefix(key)?, 1..=MAX_WIDTH)?;
    match rest {
        "" => Some((hidden, false)),
        "seq" => Some((hidden, true)),
        _ => None,
    }
}

/// A recurrent kind of layer: its settings (`hidden`, `every_step`) and every [`LayerKind`]
/// answer, its steps those of the [`Cell`](super::cell::Cell) named by `cell`, unrolled by
/// [`record_sequence`](super::cell::record_sequence).
///
/// [`LayerKind`]: super::LayerKind
macro_rules! recurrent_kind {
    (
        $(#[$doc:meta])*
        $kind:ident {
            key: $key:literal,
            title: $title:literal,
            called: $called:literal,
            cell: $cell:expr $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $kind {
            /// Values of state carried from one step to the next.
            pub hidden: usize,
            /// Whether it gives every step's state (for a recurrent layer after it), not the
            /// last's.
            #[serde(default)]
            pub every_step: bool,
        }

        impl $crate::engine::layers::LayerKind for $kind {
            type Built = $crate::engine::layers::recurrent::RecurrentWeights;
            const KEY: &'static str = $key;
            const TITLE: &'static str = $title;
            const RECURRENT: bool = true;

            fn first() -> $kind {
                $kind {
                    hidden: 16,
                    every_step: false,
                }
            }

            fn output(
                &self,
                shape: &[usize],
            ) -> Result<(Vec<usize>, usize), $crate::engine::error::EngineError> {
                let size = (self.hidden, self.every_step);
                let gates = $cell.gates();
                $crate::engine::layers::recurrent::output(shape, size, gates, $called)
            }

            fn init(
                &self,
                in_shape: &[usize],
                init: &mut $crate::engine::layers::Initialising<'_>,
            ) -> Result<Self::Built, $crate::engine::error::EngineError> {
                let size = (self.hidden, self.every_step);
                let (gates, ones) = ($cell.gates(), $cell.bias_ones(self.hidden));
                $crate::engine::layers::recurrent::init(in_shape, size, gates, ones, init)
            }

            fn record(
                built: &Self::Built,
                tape: &mut $crate::engine::tape::Tape,
                params: &$crate::engine::params::Params,
                x: $crate::engine::tape::NodeId,
                recording: $crate::engine::layers::RecordingFor,
            ) -> Result<$crate::engine::model_tape::LayerNodes, $crate::engine::error::EngineError>
            {
                let links = $crate::engine::layers::recurrent::StepLinks::new(built, recording);
                let steps = $crate::engine::layers::cell::record_sequence(
                    $cell, built, tape, params, x, links,
                )?;
                $crate::engine::layers::recurrent::finish(tape, steps, built.every_step)
            }

            fn weights(built: &Self::Built) -> Option<$crate::engine::params::ParamId> {
                Some(built.weights)
            }

            fn settings(&self) -> Vec<$crate::engine::layers::Setting> {
                $crate::engine::layers::recurrent::settings(self.hidden, self.every_step)
            }

            fn with_setting(&self, setting: $crate::engine::layers::Setting) -> Option<$kind> {
                $crate::engine::layers::recurrent::with_setting(
                    self.hidden,
                    self.every_step,
                    setting,
                )
                .map(|(hidden, every_step)| $kind { hidden, every_step })
            }

            fn token(&self) -> String {
                $crate::engine::layers::recurrent::token(Self::KEY, self.hidden, self.every_step)
            }

            fn from_token(token: &str) -> Option<$kind> {
                $crate::engine::layers::recurrent::from_token(token, Self::KEY)
                    .map(|(hidden, every_step)| $kind { hidden, every_step })
            }
        }
    };
}

pub(super) use recurrent_kind;
