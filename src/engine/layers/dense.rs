//! A fully connected layer of `outputs` neurons on a vector of features, then an activation
//! (the engine's [`Dense`](crate::engine::Dense) records it). On sequences `[time, features]`
//! (every step of a recurrent layer) the same weights apply at every time step, giving
//! `[time, outputs]`: one prediction per step.

use serde::{Deserialize, Serialize};

use super::{
    Initialising, LayerKind, MAX_WIDTH, RecordingFor, Setting, SettingValue, activation_suffix,
    leading_number, with_activation,
};
use crate::engine::activation::Activation;
use crate::engine::dense::{Dense, DenseConfig};
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::{ParamId, Params};
use crate::engine::tape::{NodeId, Tape};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DenseLayer {
    pub outputs: usize,
    pub activation: Activation,
}

impl LayerKind for DenseLayer {
    type Built = Dense;
    const KEY: &'static str = "dense";
    const TITLE: &'static str = "Dense";

    fn first() -> DenseLayer {
        DenseLayer {
            outputs: 64,
            activation: Activation::Relu,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        if self.outputs == 0 {
            return Err(EngineError::InvalidConfig(
                "a dense layer needs at least one neuron".to_string(),
            ));
        }
        match *shape {
            [batch, features] => Ok((vec![batch, self.outputs], (features + 1) * self.outputs)),
            [batch, steps, features] => Ok((
                vec![batch, steps, self.outputs],
                (features + 1) * self.outputs,
            )),
            _ => Err(EngineError::InvalidConfig(
                "a dense layer takes a vector of features (or a sequence of them): add a \
                 Flatten layer before it"
                    .to_string(),
            )),
        }
    }

    fn init(&self, in_shape: &[usize], init: &mut Initialising<'_>) -> Result<Dense, EngineError> {
        let features = *in_shape.last().expect("a checked input shape");
        DenseConfig::new(features, self.outputs)
            .with_activation(self.activation)
            .with_initializer(init.initializer_for(self.activation))
            .init(init.params, init.rng)
    }

    fn record(
        built: &Dense,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let activation = (!recording.logits_only).then(|| built.activation());
        // On sequences: every step of every sequence a row, then back to sequences.
        if let &[_, steps, _] = tape.recorded_shape(x) {
            let rows = tape.steps_as_rows(x)?;
            let recorded = built.record(tape, params, rows, activation)?;
            return Ok(LayerNodes::Output(
                tape.rows_as_steps(recorded.output, steps)?,
            ));
        }
        let recorded = built.record(tape, params, x, activation)?;
        Ok(LayerNodes::Dense(recorded))
    }

    fn weights(built: &Dense) -> Option<ParamId> {
        Some(built.weights())
    }

    fn settings(&self) -> Vec<Setting> {
        vec![
            Setting::count("neurons", self.outputs),
            Setting::activation(self.activation),
        ]
    }

    fn with_setting(&self, setting: Setting) -> Option<DenseLayer> {
        let mut layer = *self;
        match (setting.key, setting.value) {
            ("neurons", SettingValue::Count(value)) => layer.outputs = value,
            ("activation", SettingValue::Activation(value)) => layer.activation = value,
            _ => return None,
        }
        Some(layer)
    }

    fn token(&self) -> String {
        with_activation(format!("dense{}", self.outputs), self.activation)
    }

    fn from_token(token: &str) -> Option<DenseLayer> {
        let (outputs, rest) = leading_number(token.strip_prefix("dense")?, 1..=MAX_WIDTH)?;
        Some(DenseLayer {
            outputs,
            activation: activation_suffix(rest)?,
        })
    }
}
