//! Pooling layers: the largest value ([`MaxPool2d`]) or the mean ([`AvgPool2d`]) of each
//! `size`x`size` window moved by `stride`, per channel.

use serde::{Deserialize, Serialize};

use super::{
    Initialising, LayerKind, MAX_SIDE, RecordingFor, Setting, SettingValue, leading_number,
    op_output, optional_number,
};
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::ops::Op;
use crate::engine::params::Params;
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

/// The [`LayerKind`] of a pooling: the two differ only in their names, their op and the tape
/// method that records it.
macro_rules! pooling_kind {
    ($kind:ident, $key:literal, $title:literal, $token:literal, $op:ident, $record:ident) => {
        impl LayerKind for $kind {
            type Built = $kind;
            const KEY: &'static str = $key;
            const TITLE: &'static str = $title;

            fn first() -> $kind {
                $kind { size: 2, stride: 2 }
            }

            fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
                let op = Op::$op {
                    size: self.size,
                    stride: self.stride,
                };
                Ok((op_output(op, &[shape])?, 0))
            }

            fn init(&self, _: &[usize], _: &mut Initialising<'_>) -> Result<$kind, EngineError> {
                Ok(*self)
            }

            fn record(
                built: &$kind,
                tape: &mut Tape,
                _: &Params,
                x: NodeId,
                _: RecordingFor,
            ) -> Result<LayerNodes, EngineError> {
                Ok(LayerNodes::Output(tape.$record(
                    x,
                    built.size,
                    built.stride,
                )?))
            }

            fn window(&self) -> Option<(usize, usize, usize)> {
                Some((self.size, self.stride, 0))
            }

            fn settings(&self) -> Vec<Setting> {
                vec![
                    Setting::count("size", self.size),
                    Setting::count("stride", self.stride),
                ]
            }

            fn with_setting(&self, setting: Setting) -> Option<$kind> {
                let mut layer = *self;
                match (setting.key, setting.value) {
                    ("size", SettingValue::Count(value)) => layer.size = value,
                    ("stride", SettingValue::Count(value)) => layer.stride = value,
                    _ => return None,
                }
                Some(layer)
            }

            fn token(&self) -> String {
                window_token($token, self.size, self.stride)
            }

            fn from_token(token: &str) -> Option<$kind> {
                let (size, stride) = window_from_token(token, $token)?;
                Some($kind { size, stride })
            }
        }
    };
}

pooling_kind!(
    MaxPool2d,
    "max_pool2d",
    "Max pooling",
    "max",
    MaxPool2d,
    max_pool2d
);
pooling_kind!(
    AvgPool2d,
    "avg_pool2d",
    "Average pooling",
    "avg",
    AvgPool2d,
    avg_pool2d
);
