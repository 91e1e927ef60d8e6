//! A long short-term memory layer, as the course writes it: from `[h_{t-1}, x_t]`, the forget,
//! input and output gates `f, i, o = σ(W [h_{t-1}, x_t] + b)` and the candidate
//! `C~ = tanh(W [h_{t-1}, x_t] + b)` (one matrix `W` for the four, in that order), then
//! `C_t = f·C_{t-1} + i·C~` and `h_t = o·tanh(C_t)`; the last step's `h` is its output. The
//! forget gate's bias starts at 1, so that the cell keeps its state from the start.
//!
//! PyTorch's `nn.LSTM` orders its gates i, f, g (= C~), o and keeps two biases that add up to
//! this one `b`.

use super::recurrent::{self, RecurrentWeights, StepLinks, StepNodes, recurrent_kind};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

/// The gates' order in `W`'s columns.
const FORGET: usize = 0;
const INPUT: usize = 1;
const OUTPUT: usize = 2;
const CANDIDATE: usize = 3;

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

/// Every step, as the module's header writes it.
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
                let cell = step
                    .cell
                    .map(|cell| links.carry(tape, cell, t))
                    .transpose()?;
                Some((links.carry(tape, step.state, t)?, cell))
            }
            None => None,
        };
        let sums = recurrent::weighted_sum(tape, &weights, previous.map(|(h, _)| h), x_t)?;
        let mut gate = |index: usize, f: Activation| -> Result<NodeId, EngineError> {
            let sum = recurrent::gate(tape, sums, index, hidden)?;
            tape.activation(sum, f)
        };
        let mut gates = Vec::with_capacity(4);
        // At the first step C_0 = 0: the forget gate has nothing to keep.
        let forget = match previous {
            Some((_, Some(cell))) => {
                let forget = gate(FORGET, Activation::Sigmoid)?;
                gates.push(("f", forget));
                Some((forget, cell))
            }
            _ => None,
        };
        let input = gate(INPUT, Activation::Sigmoid)?;
        let output = gate(OUTPUT, Activation::Sigmoid)?;
        let candidate = gate(CANDIDATE, Activation::Tanh)?;
        gates.extend([("i", input), ("o", output), ("C~", candidate)]);
        let written = tape.mul(input, candidate)?;
        let cell = match forget {
            Some((forget, previous)) => {
                let kept = tape.mul(forget, previous)?;
                tape.add(kept, written)?
            }
            None => written,
        };
        let squashed = tape.activation(cell, Activation::Tanh)?;
        let state = tape.mul(output, squashed)?;
        let (previous_state, previous_cell) = match previous {
            Some((state, cell)) => (Some(state), cell),
            None => (None, None),
        };
        let present = links.present_at(tape, t)?;
        steps.push(StepNodes {
            input: x_t,
            state: StepLinks::hand_on(tape, present, state, previous_state)?,
            cell: Some(StepLinks::hand_on(tape, present, cell, previous_cell)?),
            gates,
        });
    }
    Ok(steps)
}
