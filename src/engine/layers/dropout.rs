//! Dropout: in training, each value zeroed with probability `rate` (in `[0, 1)`) and the others
//! scaled by `1 / (1 - rate)`; at evaluation, the values pass unchanged (`engine::dropout`
//! records it).

use serde::{Deserialize, Serialize};

use super::{Initialising, LayerKind, RecordingFor, Setting, SettingValue};
use crate::engine::dropout;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    pub rate: f32,
}

impl LayerKind for Dropout {
    type Built = Dropout;
    const KEY: &'static str = "dropout";
    const TITLE: &'static str = "Dropout";

    fn first() -> Dropout {
        Dropout { rate: 0.25 }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        dropout::check_rate(self.rate)?;
        Ok((shape.to_vec(), 0))
    }

    fn init(&self, _: &[usize], _: &mut Initialising<'_>) -> Result<Dropout, EngineError> {
        Ok(*self)
    }

    fn record(
        built: &Dropout,
        tape: &mut Tape,
        _: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let (output, recorded) = dropout::record(tape, x, built.rate, recording.mode)?;
        Ok(match recorded {
            Some(nodes) => LayerNodes::Dropout(nodes),
            None => LayerNodes::Output(output),
        })
    }

    fn settings(&self) -> Vec<Setting> {
        vec![Setting {
            key: "rate",
            value: SettingValue::Rate(self.rate),
        }]
    }

    fn with_setting(&self, setting: Setting) -> Option<Dropout> {
        match (setting.key, setting.value) {
            ("rate", SettingValue::Rate(rate)) => Some(Dropout { rate }),
            _ => None,
        }
    }

    fn token(&self) -> String {
        format!("drop{}", self.rate)
    }

    fn from_token(token: &str) -> Option<Dropout> {
        let rate: f32 = token.strip_prefix("drop")?.parse().ok()?;
        (0.0..1.0).contains(&rate).then_some(Dropout { rate })
    }
}
