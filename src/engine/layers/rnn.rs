//! A plain recurrent layer, as the course writes it: `state = tanh([state, x] W + b)` at every
//! time step, the last step's state (or every step's) as its output. Its activation can be
//! another one (linear or ReLU: a one-unit RNN with `w_x = 1`, `w_h = 1`, `b = 0` then counts
//! exactly, the counter the Sequences page has the learner build by hand).

use serde::{Deserialize, Serialize};

use super::cell::{Cell, Previous, record_sequence};
use super::recurrent::{self, Columns, RecurrentWeights, StepLinks, StepNodes, StepWeights};
use super::{Initialising, LayerKind, RecordingFor, Setting, SettingValue};
use crate::engine::activation::Activation;
use crate::engine::description::Described;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, Params};
use crate::engine::tape::{NodeId, Tape};

/// A plain recurrent layer of `hidden` values of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rnn {
    /// Values of state carried from one step to the next.
    pub hidden: usize,
    /// Whether it gives every step's state (for a recurrent layer after it), not the last's.
    #[serde(default)]
    pub every_step: bool,
    /// What squashes the weighted sum into the new state: tanh, as the course writes it.
    #[serde(default = "course_activation")]
    pub activation: Activation,
}

fn course_activation() -> Activation {
    Activation::Tanh
}

impl Rnn {
    /// The course's RNN (tanh) of `hidden` values of state, giving its last state.
    pub fn new(hidden: usize) -> Rnn {
        Rnn {
            hidden,
            every_step: false,
            activation: Activation::Tanh,
        }
    }
}

/// A built RNN layer: its weights and its activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnWeights {
    pub cell: RecurrentWeights,
    pub activation: Activation,
}

const CALLED: &str = "an RNN layer";

impl LayerKind for Rnn {
    type Built = RnnWeights;
    const KEY: &'static str = "rnn";
    const TITLE: &'static str = "RNN";
    const RECURRENT: bool = true;

    fn first() -> Rnn {
        Rnn::new(16)
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        recurrent::output(shape, (self.hidden, self.every_step), 1, CALLED)
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<RnnWeights, EngineError> {
        let size = (self.hidden, self.every_step);
        Ok(RnnWeights {
            cell: recurrent::init(in_shape, size, 1, 0..0, init)?,
            activation: self.activation,
        })
    }

    fn record(
        built: &RnnWeights,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let links = StepLinks::new(&built.cell, recording);
        let cell = Cell::Rnn(built.activation);
        let steps = record_sequence(cell, &built.cell, tape, params, x, links)?;
        recurrent::finish(tape, steps, built.cell.every_step)
    }

    fn weights(built: &RnnWeights) -> Option<ParamId> {
        Some(built.cell.weights)
    }

    fn settings(&self) -> Vec<Setting> {
        let mut settings = recurrent::settings(self.hidden, self.every_step);
        settings.push(Setting::activation(self.activation));
        settings
    }

    fn with_setting(&self, setting: Setting) -> Option<Rnn> {
        if let ("activation", SettingValue::Activation(activation)) = (setting.key, setting.value) {
            return Some(Rnn {
                activation,
                ..*self
            });
        }
        recurrent::with_setting(self.hidden, self.every_step, setting).map(
            |(hidden, every_step)| Rnn {
                hidden,
                every_step,
                ..*self
            },
        )
    }

    /// `rnn16`, `rnn16seq`; another activation than tanh after a dash: `rnn1-linear`.
    fn token(&self) -> String {
        let cell = recurrent::token(Self::KEY, self.hidden, self.every_step);
        match self.activation {
            Activation::Tanh => cell,
            other => format!("{cell}-{}", other.key()),
        }
    }

    fn from_token(token: &str) -> Option<Rnn> {
        let (cell, activation) = match token.split_once('-') {
            Some((cell, activation)) => (cell, Activation::from_key(activation)?),
            None => (token, Activation::Tanh),
        };
        let (hidden, every_step) = recurrent::from_token(cell, Self::KEY)?;
        Some(Rnn {
            hidden,
            every_step,
            activation,
        })
    }
}

/// One step: `h_t = f([h_{t-1}, x_t] W + b)`.
pub(super) fn step(
    tape: &mut Tape,
    weights: &StepWeights,
    activation: Activation,
    hidden: usize,
    previous: Option<Previous>,
    x_t: NodeId,
) -> Result<StepNodes, EngineError> {
    let previous = previous.map(|previous| previous.state);
    let sum = recurrent::weighted_sum(tape, weights, previous, x_t)?;
    Ok(StepNodes {
        input: x_t,
        state: tape.activation(sum, activation)?,
        cell: None,
        gates: Vec::new(),
        state_sum: Some(Columns::whole(sum, hidden)),
    })
}
