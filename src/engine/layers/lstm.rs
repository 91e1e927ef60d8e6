//! A long short-term memory layer, as the course writes it: from `[h_{t-1}, x_t]`, the forget,
//! input and output gates `f, i, o = σ(W [h_{t-1}, x_t] + b)` and the candidate
//! `C~ = tanh(W [h_{t-1}, x_t] + b)` (one matrix `W` for the four, in that order), then
//! `C_t = f·C_{t-1} + i·C~` and `h_t = o·tanh(C_t)`; the last step's `h` is its output. The
//! forget gate's bias starts at 1, so that the cell keeps its state from the start.
//!
//! PyTorch's `nn.LSTM` orders its gates i, f, g (= C~), o and keeps two biases that add up to
//! this one `b`.

use super::cell::{Cell, Previous};
use super::recurrent::{self, Columns, GateNodes, StepNodes, StepWeights, recurrent_kind};
use crate::engine::error::EngineError;
pub(super) use crate::engine::ops::lstm::FORGET;
use crate::engine::ops::lstm::{CANDIDATE, INPUT, OUTPUT};
use crate::engine::tape::{NodeId, Tape};

recurrent_kind! {
    /// A long short-term memory layer of `hidden` values of `h` (and of the cell state `C`).
    Lstm {
        key: "lstm",
        title: "LSTM",
        called: "an LSTM layer",
        cell: Cell::Lstm,
    }
}

/// One step, as the module's header writes it: each gate's activation, the cell state and the
/// state are one op each (`Op::LstmGates`, `Op::LstmCell`, `Op::LstmState`) over the gates' one
/// node of `[batch, 4·hidden]`.
pub(super) fn step(
    tape: &mut Tape,
    weights: &StepWeights,
    hidden: usize,
    previous: Option<Previous>,
    x_t: NodeId,
) -> Result<StepNodes, EngineError> {
    let sums = recurrent::weighted_sum(tape, weights, previous.map(|p| p.state), x_t)?;
    let gates = tape.lstm_gates(sums)?;
    let previous_cell =
        previous.map(|previous| previous.cell.expect("an LSTM step hands on its cell state"));
    let cell = tape.lstm_cell(gates, previous_cell)?;
    let state = tape.lstm_state(gates, cell)?;
    let columns = |node, gate: usize| Columns {
        node,
        start: gate * hidden,
        width: hidden,
    };
    // At the first step C_0 = 0: the forget gate has nothing to keep.
    let shown: &[(&str, usize)] = match previous {
        Some(_) => &[
            ("f", FORGET),
            ("i", INPUT),
            ("o", OUTPUT),
            ("C~", CANDIDATE),
        ],
        None => &[("i", INPUT), ("o", OUTPUT), ("C~", CANDIDATE)],
    };
    Ok(StepNodes {
        input: x_t,
        state,
        cell: Some(cell),
        gates: shown
            .iter()
            .map(|&(name, gate)| GateNodes {
                name,
                value: columns(gates, gate),
                sum: columns(sums, gate),
            })
            .collect(),
        state_sum: None,
    })
}
