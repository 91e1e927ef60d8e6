//! One time step of any recurrent cell ([`Cell`]: the RNN, the LSTM, the GRU), and the loop that
//! unrolls a cell over a whole sequence. The recurrent layers are that loop; the encoder and
//! decoder of a sequence-to-sequence layer call the same steps with inputs of their own (an
//! embedded token, an attention's context) and a state handed over from the encoder.

use super::recurrent::{self, RecurrentWeights, StepLinks, StepNodes, StepWeights};
use super::{gru, lstm, rnn};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

/// Which cell a recurrent layer steps with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cell {
    /// `h_t = f([h_{t-1}, x_t] W + b)` with this activation (tanh in the course).
    Rnn(Activation),
    Lstm,
    Gru,
}

/// The state a step reads: `h_{t-1}`, and an LSTM's cell state `C_{t-1}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Previous {
    pub state: NodeId,
    pub cell: Option<NodeId>,
}

impl Previous {
    /// The state a step left, for the next.
    pub fn after(step: &StepNodes) -> Previous {
        Previous {
            state: step.state,
            cell: step.cell,
        }
    }
}

impl Cell {
    /// Its short name: "rnn" (tanh), "lstm" or "gru".
    pub fn key(self) -> &'static str {
        match self {
            Cell::Rnn(_) => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
        }
    }

    /// The cell a short name names (an RNN steps with tanh), if any.
    pub fn from_key(key: &str) -> Option<Cell> {
        [Cell::Rnn(Activation::Tanh), Cell::Lstm, Cell::Gru]
            .into_iter()
            .find(|cell| cell.key() == key)
    }

    /// How many blocks of `hidden` columns its weights have: 1, 4 (f, i, o, C~), 3 (z, r, h~).
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn(_) => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// The columns whose bias starts at 1 (an LSTM's forget gate, so that it keeps its state
    /// from the start).
    pub fn bias_ones(self, hidden: usize) -> std::ops::Range<usize> {
        match self {
            Cell::Lstm => lstm::FORGET * hidden..(lstm::FORGET + 1) * hidden,
            Cell::Rnn(_) | Cell::Gru => 0..0,
        }
    }

    /// The weights' nodes on `tape`, grouped as the cell's steps read them.
    pub(super) fn record_weights(
        self,
        built: &RecurrentWeights,
        tape: &mut Tape,
        params: &Params,
    ) -> Result<Vec<StepWeights>, EngineError> {
        let groups: &[usize] = match self {
            Cell::Rnn(_) => &[1],
            Cell::Lstm => &[4],
            Cell::Gru => &[2, 1],
        };
        recurrent::record_weights(built, tape, params, groups)
    }

    /// One step on `x_t` (`[batch, features]`) from `previous` (none at the first step: the
    /// state starts at zero).
    pub(super) fn step(
        self,
        tape: &mut Tape,
        weights: &[StepWeights],
        hidden: usize,
        previous: Option<Previous>,
        x_t: NodeId,
    ) -> Result<StepNodes, EngineError> {
        match self {
            Cell::Rnn(activation) => {
                rnn::step(tape, &weights[0], activation, hidden, previous, x_t)
            }
            Cell::Lstm => lstm::step(tape, &weights[0], hidden, previous, x_t),
            Cell::Gru => gru::step(tape, (&weights[0], &weights[1]), hidden, previous, x_t),
        }
    }
}

/// Every step of `built` over the sequences `x` (`[batch, steps, features]`), each reading the
/// state the one before left, cut and carried over padding as `links` says.
pub(super) fn record_sequence(
    cell: Cell,
    built: &RecurrentWeights,
    tape: &mut Tape,
    params: &Params,
    x: NodeId,
    links: StepLinks,
) -> Result<Vec<StepNodes>, EngineError> {
    let weights = cell.record_weights(built, tape, params)?;
    let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
    for t in 0..built.steps {
        let x_t = recurrent::step_input(tape, x, t)?;
        let previous = match steps.last() {
            Some(step) => Some(Previous {
                state: links.carry(tape, step.state, t)?,
                cell: match step.cell {
                    Some(cell) => Some(links.carry(tape, cell, t)?),
                    None => None,
                },
            }),
            None => None,
        };
        let mut step = cell.step(tape, &weights, built.hidden, previous, x_t)?;
        let present = links.present_at(tape, t)?;
        let before = previous.map(|previous| previous.state);
        step.state = StepLinks::hand_on(tape, present, step.state, before)?;
        if let Some(cell) = step.cell {
            let before = previous.and_then(|previous| previous.cell);
            step.cell = Some(StepLinks::hand_on(tape, present, cell, before)?);
        }
        steps.push(step);
    }
    Ok(steps)
}
