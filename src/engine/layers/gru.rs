//! A gated recurrent unit, as the course writes it: from `[h_{t-1}, x_t]`, the update and reset
//! gates `z, r = σ(W [h_{t-1}, x_t] + b)`, the candidate `h~ = tanh(W [r·h_{t-1}, x_t] + b)`, and
//! `h_t = (1 − z)·h_{t-1} + z·h~`, recorded as `h_{t-1} + z·(h~ − h_{t-1})`; the last step's `h`
//! is its output. One matrix `W` holds the columns of z, r, then h~.
//!
//! PyTorch's `nn.GRU` differs in two ways: it applies `r` after the product
//! (`h~ = tanh(W_x x_t + r·(W_h h_{t-1} + b_h))`), and its `z` keeps the old state
//! (`h_t = (1 − z)·h~ + z·h_{t-1}`).

use serde::{Deserialize, Serialize};

use super::recurrent::{self, RecurrentWeights, StepNodes};
use super::{Initialising, LayerKind, RecordingFor, Setting};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, Params};
use crate::engine::tape::{NodeId, Tape};

/// The gates' order in `W`'s columns: update, reset (one group), then the candidate.
const UPDATE: usize = 0;
const RESET: usize = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gru {
    /// Values of state carried from one step to the next.
    pub hidden: usize,
    /// Whether it gives every step's state (for a recurrent layer after it), not the last's.
    #[serde(default)]
    pub every_step: bool,
}

impl LayerKind for Gru {
    type Built = RecurrentWeights;
    const KEY: &'static str = "gru";
    const RECURRENT: bool = true;
    const TITLE: &'static str = "GRU";

    fn first() -> Gru {
        Gru {
            hidden: 16,
            every_step: false,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        recurrent::output(shape, (self.hidden, self.every_step), 3, "a GRU layer")
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<RecurrentWeights, EngineError> {
        recurrent::init(in_shape, (self.hidden, self.every_step), 3, 0..0, init)
    }

    fn record(
        built: &RecurrentWeights,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let [gates, candidate] = recurrent::record_weights(built, tape, params, &[2, 1])?[..]
        else {
            unreachable!("two groups of weights asked for");
        };
        let hidden = built.hidden;
        let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
        for t in 0..built.steps {
            let x_t = recurrent::step_input(tape, x, t)?;
            let previous = steps.last().map(|step| step.state);
            let sums = recurrent::weighted_sum(tape, &gates, previous, x_t)?;
            let update = recurrent::gate(tape, sums, UPDATE, hidden)?;
            let update = tape.activation(update, Activation::Sigmoid)?;
            let mut named = vec![("z", update)];
            let state = match previous {
                Some(previous) => {
                    let reset = recurrent::gate(tape, sums, RESET, hidden)?;
                    let reset = tape.activation(reset, Activation::Sigmoid)?;
                    let reset_state = tape.mul(reset, previous)?;
                    let sum = recurrent::weighted_sum(tape, &candidate, Some(reset_state), x_t)?;
                    let proposal = tape.activation(sum, Activation::Tanh)?;
                    named.extend([("r", reset), ("h~", proposal)]);
                    let minus_previous = tape.scale(previous, -1.0)?;
                    let change = tape.add(proposal, minus_previous)?;
                    let moved = tape.mul(update, change)?;
                    tape.add(previous, moved)?
                }
                // h_0 = 0: the reset gate has nothing to reset and h_1 = z·h~.
                None => {
                    let sum = recurrent::weighted_sum(tape, &candidate, None, x_t)?;
                    let proposal = tape.activation(sum, Activation::Tanh)?;
                    named.push(("h~", proposal));
                    tape.mul(update, proposal)?
                }
            };
            steps.push(StepNodes {
                input: x_t,
                state,
                cell: None,
                gates: named,
            });
        }
        recurrent::finish(tape, steps, built.every_step)
    }

    fn weights(built: &RecurrentWeights) -> Option<ParamId> {
        Some(built.weights)
    }

    fn settings(&self) -> Vec<Setting> {
        recurrent::settings(self.hidden, self.every_step)
    }

    fn with_setting(&self, setting: Setting) -> Option<Gru> {
        recurrent::with_setting(self.hidden, self.every_step, setting)
            .map(|(hidden, every_step)| Gru { hidden, every_step })
    }

    fn token(&self) -> String {
        recurrent::token(Self::KEY, self.hidden, self.every_step)
    }

    fn from_token(token: &str) -> Option<Gru> {
        recurrent::from_token(token, Self::KEY)
            .map(|(hidden, every_step)| Gru { hidden, every_step })
    }
}
