//! A gated recurrent unit, as the course writes it: from `[h_{t-1}, x_t]`, the update and reset
//! gates `z, r = σ(W [h_{t-1}, x_t] + b)`, the candidate `h~ = tanh(W [r·h_{t-1}, x_t] + b)`, and
//! `h_t = (1 − z)·h_{t-1} + z·h~`, recorded as `h_{t-1} + z·(h~ − h_{t-1})`; the last step's `h`
//! is its output. One matrix `W` holds the columns of z, r, then h~.
//!
//! PyTorch's `nn.GRU` differs in two ways: it applies `r` after the product
//! (`h~ = tanh(W_x x_t + r·(W_h h_{t-1} + b_h))`), and its `z` keeps the old state
//! (`h_t = (1 − z)·h~ + z·h_{t-1}`).

use super::recurrent::{
    self, Columns, GateNodes, RecurrentWeights, StepLinks, StepNodes, recurrent_kind,
};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

/// The gates' order in `W`'s columns: update, reset (one group), then the candidate.
const UPDATE: usize = 0;
const RESET: usize = 1;

recurrent_kind! {
    /// A gated recurrent unit of `hidden` values of state.
    Gru {
        key: "gru",
        title: "GRU",
        called: "a GRU layer",
        gates: 3,
        bias_ones: |_| 0..0,
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
    let [gates, candidate] = recurrent::record_weights(built, tape, params, &[2, 1])?[..] else {
        unreachable!("two groups of weights asked for");
    };
    let hidden = built.hidden;
    let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
    for t in 0..built.steps {
        let x_t = recurrent::step_input(tape, x, t)?;
        let previous = match steps.last() {
            Some(step) => Some(links.carry(tape, step.state, t)?),
            None => None,
        };
        let sums = recurrent::weighted_sum(tape, &gates, previous, x_t)?;
        let whole = |node| Columns::whole(node, hidden);
        let shown = |name, value, sum| GateNodes {
            name,
            value: whole(value),
            sum: whole(sum),
        };
        let update_sum = recurrent::gate(tape, sums, UPDATE, hidden)?;
        let update = tape.activation(update_sum, Activation::Sigmoid)?;
        let mut named = vec![shown("z", update, update_sum)];
        let state = match previous {
            Some(previous) => {
                let reset_sum = recurrent::gate(tape, sums, RESET, hidden)?;
                let reset = tape.activation(reset_sum, Activation::Sigmoid)?;
                let reset_state = tape.mul(reset, previous)?;
                let sum = recurrent::weighted_sum(tape, &candidate, Some(reset_state), x_t)?;
                let proposal = tape.activation(sum, Activation::Tanh)?;
                named.extend([shown("r", reset, reset_sum), shown("h~", proposal, sum)]);
                let minus_previous = tape.scale(previous, -1.0)?;
                let change = tape.add(proposal, minus_previous)?;
                let moved = tape.mul(update, change)?;
                tape.add(previous, moved)?
            }
            // h_0 = 0: the reset gate has nothing to reset and h_1 = z·h~.
            None => {
                let sum = recurrent::weighted_sum(tape, &candidate, None, x_t)?;
                let proposal = tape.activation(sum, Activation::Tanh)?;
                named.push(shown("h~", proposal, sum));
                tape.mul(update, proposal)?
            }
        };
        let present = links.present_at(tape, t)?;
        steps.push(StepNodes {
            input: x_t,
            state: StepLinks::hand_on(tape, present, state, previous)?,
            cell: None,
            gates: named,
            state_sum: None,
        });
    }
    Ok(steps)
}
