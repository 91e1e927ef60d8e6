//! A plain recurrent layer, as the course writes it: `state = tanh([state, x] W + b)` at every
//! time step, the last step's state as its output.

use serde::{Deserialize, Serialize};

use super::recurrent::{self, RecurrentWeights, StepNodes};
use super::{Initialising, LayerKind, RecordingFor, Setting};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, Params};
use crate::engine::tape::{NodeId, Tape};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rnn {
    /// Values of state carried from one step to the next.
    pub hidden: usize,
    /// Whether it gives every step's state (for a recurrent layer after it), not the last's.
    #[serde(default)]
    pub every_step: bool,
}

impl LayerKind for Rnn {
    type Built = RecurrentWeights;
    const KEY: &'static str = "rnn";
    const RECURRENT: bool = true;
    const TITLE: &'static str = "RNN";

    fn first() -> Rnn {
        Rnn {
            hidden: 16,
            every_step: false,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        recurrent::output(shape, (self.hidden, self.every_step), 1, "an RNN layer")
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<RecurrentWeights, EngineError> {
        recurrent::init(in_shape, (self.hidden, self.every_step), 1, 0..0, init)
    }

    fn record(
        built: &RecurrentWeights,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let [weights] = recurrent::record_weights(built, tape, params, &[1])?[..] else {
            unreachable!("one group of weights asked for");
        };
        let mut steps: Vec<StepNodes> = Vec::with_capacity(built.steps);
        for t in 0..built.steps {
            let x_t = recurrent::step_input(tape, x, t)?;
            let previous = steps.last().map(|step| step.state);
            let sum = recurrent::weighted_sum(tape, &weights, previous, x_t)?;
            steps.push(StepNodes {
                input: x_t,
                state: tape.activation(sum, Activation::Tanh)?,
                cell: None,
                gates: Vec::new(),
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

    fn with_setting(&self, setting: Setting) -> Option<Rnn> {
        recurrent::with_setting(self.hidden, self.every_step, setting)
            .map(|(hidden, every_step)| Rnn { hidden, every_step })
    }

    fn token(&self) -> String {
        recurrent::token(Self::KEY, self.hidden, self.every_step)
    }

    fn from_token(token: &str) -> Option<Rnn> {
        recurrent::from_token(token, Self::KEY)
            .map(|(hidden, every_step)| Rnn { hidden, every_step })
    }
}
