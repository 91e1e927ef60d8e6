//! A gated recurrent unit, as the course writes it: from `[h_{t-1}, x_t]`, the update and reset
//! gates `z, r = σ(W [h_{t-1}, x_t] + b)`, the candidate `h~ = tanh(W [r·h_{t-1}, x_t] + b)`, and
//! `h_t = (1 − z)·h_{t-1} + z·h~`, recorded as `h_{t-1} + z·(h~ − h_{t-1})`; the last step's `h`
//! is its output. One matrix `W` holds the columns of z, r, then h~.
//!
//! PyTorch's `nn.GRU` differs in two ways: it applies `r` after the product
//! (`h~ = tanh(W_x x_t + r·(W_h h_{t-1} + b_h))`), and its `z` keeps the old state
//! (`h_t = (1 − z)·h~ + z·h_{t-1}`).

use super::cell::{Cell, Previous};
use super::recurrent::{self, Columns, GateNodes, StepNodes, StepWeights, recurrent_kind};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
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
        cell: Cell::Gru,
    }
}

/// One step, as the module's header writes it, with the weights of the gates and of the
/// candidate.
pub(super) fn step(
    tape: &mut Tape,
    (gates, candidate): (&StepWeights, &StepWeights),
    hidden: usize,
    previous: Option<Previous>,
    x_t: NodeId,
) -> Result<StepNodes, EngineError> {
    let previous = previous.map(|previous| previous.state);
    let sums = recurrent::weighted_sum(tape, gates, previous, x_t)?;
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
            let sum = recurrent::weighted_sum(tape, candidate, Some(reset_state), x_t)?;
            let proposal = tape.activation(sum, Activation::Tanh)?;
            named.extend([shown("r", reset, reset_sum), shown("h~", proposal, sum)]);
            let minus_previous = tape.scale(previous, -1.0)?;
            let change = tape.add(proposal, minus_previous)?;
            let moved = tape.mul(update, change)?;
            tape.add(previous, moved)?
        }
        // h_0 = 0: the reset gate has nothing to reset and h_1 = z·h~.
        None => {
            let sum = recurrent::weighted_sum(tape, candidate, None, x_t)?;
            let proposal = tape.activation(sum, Activation::Tanh)?;
            named.push(shown("h~", proposal, sum));
            tape.mul(update, proposal)?
        }
    };
    Ok(StepNodes {
        input: x_t,
        state,
        cell: None,
        gates: named,
        state_sum: None,
    })
}
