//! A long short-term memory layer, as the course writes it: from `[h_{t-1}, x_t]`, the forget,
//! input and output gates `f, i, o = σ(W [h_{t-1}, x_t] + b)` and the candidate
//! `C~ = tanh(W [h_{t-1}, x_t] + b)` (one matrix `W` for the four, in that order), then
//! `C_t = f·C_{t-1} + i·C~` and `h_t = o·tanh(C_t)`; the last step's `h` is its output. The
//! forget gate's bias starts at 1, so that the cell keeps its state from the start.
//!
//! PyTorch's `nn.LSTM` orders its gates i, f, g (= C~), o and keeps two biases that add up to
//! this one `b`.

use serde::{Deserialize, Serialize};

use super::recurrent::{self, RecurrentWeights, StepNodes};
use super::{Initialising, LayerKind, RecordingFor, Setting};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, Params};
use crate::engine::tape::{NodeId, Tape};

/// The gates' order in `W`'s columns.
const FORGET: usize = 0;
const INPUT: usize = 1;
const OUTPUT: usize = 2;
const CANDIDATE: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lstm {
    /// Values of `h` (and of the cell state `C`) carried from one step to the next.
    pub hidden: usize,
    /// Whether it gives every step's state (for a recurrent layer after it), not the last's.
    #[serde(default)]
    pub every_step: bool,
}

impl LayerKind for Lstm {
    type Built = RecurrentWeights;
    const KEY: &'static str = "lstm";
    const RECURRENT: bool = true;
    const TITLE: &'static str = "LSTM";

    fn first() -> Lstm {
        Lstm {
            hidden: 16,
            every_step: false,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        recurrent::output(shape, (self.hidden, self.every_step), 4, "an LSTM layer")
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<RecurrentWeights, EngineError> {
        let forget = FORGET * self.hidden..(FORGET + 1) * self.hidden;
        recurrent::init(in_shape, (self.hidden, self.every_step), 4, forget, init)
    }

    fn record(
        built: &RecurrentWeights,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let [weights] = recurrent::record_weights(built, tape, params, &[4])?[..] else {
            unreachable!("one group of weights asked for");
        };
        let hidden = built.hidden;
        let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
        for t in 0..built.steps {
            let x_t = recurrent::step_input(tape, x, t)?;
            let previous = steps.last().map(|step| (step.state, step.cell));
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
            steps.push(StepNodes {
                input: x_t,
                state: tape.mul(output, squashed)?,
                cell: Some(cell),
                gates,
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

    fn with_setting(&self, setting: Setting) -> Option<Lstm> {
        recurrent::with_setting(self.hidden, self.every_step, setting)
            .map(|(hidden, every_step)| Lstm { hidden, every_step })
    }

    fn token(&self) -> String {
        recurrent::token(Self::KEY, self.hidden, self.every_step)
    }

    fn from_token(token: &str) -> Option<Lstm> {
        recurrent::from_token(token, Self::KEY)
            .map(|(hidden, every_step)| Lstm { hidden, every_step })
    }
}
