//! A long short-term memory layer, as the course writes it: from `[h_{t-1}, x_t]`, the forget,
//! input and output gates `f, i, o = σ(W [h_{t-1}, x_t] + b)` and the candidate
//! `C~ = tanh(W [h_{t-1}, x_t] + b)` (one matrix `W` for the four, in that order), then
//! `C_t = f·C_{t-1} + i·C~` and `h_t = o·tanh(C_t)`; the last step's `h` is its output. The
//! forget gate's bias starts at 1, so that the cell keeps its state from the start.
//!
//! PyTorch's `nn.LSTM` orders its gates i, f, g (= C~), o and keeps two biases that add up to
//! this one `b`.

use super::recurrent::{
    self, Columns, GateNodes, RecurrentWeights, StepLinks, StepNodes, recurrent_kind,
};
use crate::engine::error::EngineError;
use crate::engine::ops::lstm::{CANDIDATE, FORGET, INPUT, OUTPUT};
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

recurrent_kind! {
    /// A long short-term memory layer of `hidden` values of `h` (and of the cell state `C`).
    Lstm {
        key: "lstm",
        title: "LSTM",
        called: "an LSTM layer",
        gates: 4,
        bias_ones: |hidden| FORGET * hidden..(FORGET + 1) * hidden,
    }
}

/// Every step, as the module's header writes it: each gate's activation, the cell state and the
/// state are one op each (`Op::LstmGates`, `Op::LstmCell`, `Op::LstmState`) over the gates' one
/// node of `[batch, 4·hidden]`.
fn record_steps(
    built: &RecurrentWeights,
    tape: &mut Tape,
    params: &Params,
    x: NodeId,
    links: StepLinks,
) -> Result<Vec<StepNodes>, EngineError> {
    let [weights] = recurrent::record_weights(built, tape, params, &[4])?[..] else {
        unreachable!("one group of weights asked for");
    };
    let hidden = built.hidden;
    let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
    for t in 0..built.steps {
        let x_t = recurrent::step_input(tape, x, t)?;
        let previous = match steps.last() {
            Some(step) => {
                let cell = step.cell.expect("an LSTM step keeps its cell state");
                Some((
                    links.carry(tape, step.state, t)?,
                    links.carry(tape, cell, t)?,
                ))
            }
            None => None,
        };
        let sums = recurrent::weighted_sum(tape, &weights, previous.map(|(h, _)| h), x_t)?;
        let gates = tape.lstm_gates(sums)?;
        let cell = tape.lstm_cell(gates, previous.map(|(_, cell)| cell))?;
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
        let present = links.present_at(tape, t)?;
        let (previous_state, previous_cell) = previous.unzip();
        steps.push(StepNodes {
            input: x_t,
            state: StepLinks::hand_on(tape, present, state, previous_state)?,
            cell: Some(StepLinks::hand_on(tape, present, cell, previous_cell)?),
            gates: shown
                .iter()
                .map(|&(name, gate)| GateNodes {
                    name,
                    value: columns(gates, gate),
                    sum: columns(sums, gate),
                })
                .collect(),
            state_sum: None,
        });
    }
    Ok(steps)
}
