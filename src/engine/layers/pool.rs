//! Pooling layers: the largest value ([`MaxPool2d`]) or the mean ([`AvgPool2d`]) of each
//! `size`x`size` window moved by `stride`, per channel.

use serde::{Deserialize, Serialize};

use super::{LayerKind, MAX_SIDE, RecordingFor, leading_number, op_output, optional_number};
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::ops::Op;
use crate::engine::params::Params;
use crate::engine::rng::SeededRng;
use crate::engine::tape::{NodeId, Tape};

/// Which pooling a preset uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pooling {
    Max,
    Average,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaxPool2d {
    pub size: usize,
    pub stride: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvgPool2d {
    pub size: usize,
    pub stride: usize,
}

/// The output shape of pooling `op` on `shape`, checked by the op.
fn pooled(op: Op, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
    Ok((op_output(op, &[shape])?, 0))
}

/// `max2`, or `max3s1` when the stride is not the size.
fn window_token(name: &str, size: usize, stride: usize) -> String {
    match stride == size {
        true => format!("{name}{size}"),
        false => format!("{name}{size}s{stride}"),
    }
}

/// `(size, stride)` of a window token starting with `name`.
fn window_from_token(token: &str, name: &str) -> Option<(usize, usize)> {
    let rest = token.strip_prefix(name)?;
    let (size, rest) = leading_number(rest, 1..=MAX_SIDE)?;
    let (stride, rest) = optional_number(rest, 's', size)?;
    (rest.is_empty() && stride > 0).then_some((size, stride))
}

impl LayerKind for MaxPool2d {
    type Built = MaxPool2d;
    const KEY: &'static str = "max_pool2d";
    const TITLE: &'static str = "Max pooling";

    fn first() -> MaxPool2d {
        MaxPool2d { size: 2, stride: 2 }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        pooled(
            Op::MaxPool2d {
                size: self.size,
                stride: self.stride,
            },
            shape,
        )
    }

    fn init(
        &self,
        _: &[usize],
        _: &mut Params,
        _: &mut SeededRng,
    ) -> Result<MaxPool2d, EngineError> {
        Ok(*self)
    }

    fn record(
        built: &MaxPool2d,
        tape: &mut Tape,
        _: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        Ok(LayerNodes::Output(tape.max_pool2d(
            x,
            built.size,
            built.stride,
        )?))
    }

    fn window(&self) -> Option<(usize, usize, usize)> {
        Some((self.size, self.stride, 0))
    }

    fn token(&self) -> String {
        window_token("max", self.size, self.stride)
    }

    fn from_token(token: &str) -> Option<MaxPool2d> {
        let (size, stride) = window_from_token(token, "max")?;
        Some(MaxPool2d { size, stride })
    }
}

impl LayerKind for AvgPool2d {
    type Built = AvgPool2d;
    const KEY: &'static str = "avg_pool2d";
    const TITLE: &'static str = "Average pooling";

    fn first() -> AvgPool2d {
        AvgPool2d { size: 2, stride: 2 }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        pooled(
            Op::AvgPool2d {
                size: self.size,
                stride: self.stride,
            },
            shape,
        )
    }

    fn init(
        &self,
        _: &[usize],
        _: &mut Params,
        _: &mut SeededRng,
    ) -> Result<AvgPool2d, EngineError> {
        Ok(*self)
    }

    fn record(
        built: &AvgPool2d,
        tape: &mut Tape,
        _: &Params,
        x: NodeId,
        _: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        Ok(LayerNodes::Output(tape.avg_pool2d(
            x,
            built.size,
            built.stride,
        )?))
    }

    fn window(&self) -> Option<(usize, usize, usize)> {
        Some((self.size, self.stride, 0))
    }

    fn token(&self) -> String {
        window_token("avg", self.size, self.stride)
    }

    fn from_token(token: &str) -> Option<AvgPool2d> {
        let (size, stride) = window_from_token(token, "avg")?;
        Some(AvgPool2d { size, stride })
    }
}
