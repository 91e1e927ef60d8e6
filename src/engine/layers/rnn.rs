//! A plain recurrent layer, as the course writes it: `state = tanh([state, x] W + b)` at every
//! time step, the last step's state (or every step's) as its output.

use super::recurrent::{self, RecurrentWeights, StepNodes, Truncation, recurrent_kind};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

recurrent_kind! {
    /// A plain recurrent layer of `hidden` values of state.
    Rnn {
        key: "rnn",
        title: "RNN",
        called: "an RNN layer",
        gates: 1,
        bias_ones: |_| 0..0,
    }
}

/// Every step: `h_t = tanh([h_{t-1}, x_t] W + b)`.
fn record_steps(
    built: &RecurrentWeights,
    tape: &mut Tape,
    params: &Params,
    x: NodeId,
    cut: Truncation,
) -> Result<Vec<StepNodes>, EngineError> {
    let [weights] = recurrent::record_weights(built, tape, params, &[1])?[..] else {
        unreachable!("one group of weights asked for");
    };
    let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
    for t in 0..built.steps {
        let x_t = recurrent::step_input(tape, x, t)?;
        let previous = match steps.last() {
            Some(step) => Some(cut.carry(tape, step.state, t)?),
            None => None,
        };
        let sum = recurrent::weighted_sum(tape, &weights, previous, x_t)?;
        steps.push(StepNodes {
            input: x_t,
            state: tape.activation(sum, Activation::Tanh)?,
            cell: None,
            gates: Vec::new(),
        });
    }
    Ok(steps)
}
