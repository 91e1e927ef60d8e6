//! Flatten: feature maps `[c, h, w]` to one vector of `c·h·w` features, the values in the same
//! order.

use serde::{Deserialize, Serialize};

use super::{Initialising, LayerKind, RecordingFor, op_output};
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::ops::Op;
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flatten;

impl LayerKind for Flatten {
    type Built = Flatten;
    const KEY: &'static str = "flatten";
    const TITLE: &'static str = "Flatten";

    fn first() -> Flatten {
        Flatten
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        Ok((op_output(Op::Flatten, &[shape])?, 0))
    }

    fn init(&self, _: &[usize], _: &mut Initialising<'_>) -> Result<Flatten, EngineError> {
        Ok(Flatten)
    }

    fn record(
        _: &Flatten,
        tape: &mut Tape,
        _: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        Ok(LayerNodes::Output(tape.flatten(x)?))
    }

    fn token(&self) -> String {
        "flat".to_string()
    }

    fn from_token(token: &str) -> Option<Flatten> {
        (token == "flat").then_some(Flatten)
    }
}
