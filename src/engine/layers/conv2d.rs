//! A convolution layer: `out_channels` kernels of `kernel`x`kernel` over all input channels, one
//! bias per output channel, then an activation.

use serde::{Deserialize, Serialize};

use super::{
    Initialising, LayerKind, MAX_SIDE, MAX_WIDTH, RecordingFor, Setting, SettingValue,
    activation_suffix, leading_number, op_output, optional_number, with_activation,
};
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::ops::Op;
use crate::engine::params::{ParamId, ParamRole, Params};
use crate::engine::tape::{NodeId, Tape};
use crate::engine::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conv2d {
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    /// Zeros added on every side of the input.
    pub padding: usize,
    pub activation: Activation,
}

/// A built convolution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuiltConv2d {
    weights: ParamId,
    bias: ParamId,
    settings: Conv2d,
}

impl LayerKind for Conv2d {
    type Built = BuiltConv2d;
    const KEY: &'static str = "conv2d";
    const TITLE: &'static str = "Convolution";

    fn first() -> Conv2d {
        Conv2d {
            out_channels: 8,
            kernel: 3,
            stride: 1,
            padding: 1,
            activation: Activation::Relu,
        }
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        let Conv2d {
            out_channels,
            kernel,
            stride,
            padding,
            ..
        } = *self;
        if out_channels == 0 {
            return Err(EngineError::InvalidConfig(
                "a convolution needs at least one output channel".to_string(),
            ));
        }
        let in_channels = if shape.len() == 4 { shape[1] } else { 0 };
        let weights = [out_channels, in_channels, kernel, kernel];
        let shapes: [&[usize]; 3] = [shape, &weights, &[out_channels]];
        let out = op_output(Op::Conv2d { stride, padding }, &shapes)?;
        Ok((out, out_channels * (in_channels * kernel * kernel + 1)))
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<BuiltConv2d, EngineError> {
        let (in_channels, kernel, out_channels) = (in_shape[0], self.kernel, self.out_channels);
        let area = kernel * kernel;
        let mut weights = Tensor::zeros(&[out_channels, in_channels, kernel, kernel]);
        let initializer = init.initializer_for(self.activation);
        initializer.fill_weights(
            &mut weights,
            in_channels * area,
            out_channels * area,
            init.rng,
        );
        let mut bias = Tensor::zeros(&[out_channels]);
        initializer.fill_bias(&mut bias);
        Ok(BuiltConv2d {
            weights: init.params.add(weights, ParamRole::Weight),
            bias: init.params.add(bias, ParamRole::Bias),
            settings: *self,
        })
    }

    fn record(
        built: &BuiltConv2d,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let Conv2d {
            stride,
            padding,
            activation,
            ..
        } = built.settings;
        let weights = tape.parameter(params, built.weights)?;
        let bias = tape.parameter(params, built.bias)?;
        let sums = tape.conv2d(x, weights, bias, stride, padding)?;
        let output = if recording.logits_only || activation == Activation::Linear {
            sums
        } else {
            tape.activation(sums, activation)?
        };
        Ok(LayerNodes::Output(output))
    }

    fn weights(built: &BuiltConv2d) -> Option<ParamId> {
        Some(built.weights)
    }

    fn window(&self) -> Option<(usize, usize, usize)> {
        Some((self.kernel, self.stride, self.padding))
    }

    fn settings(&self) -> Vec<Setting> {
        vec![
            Setting::count("channels", self.out_channels),
            Setting::count("kernel", self.kernel),
            Setting::count("stride", self.stride),
            Setting::count("padding", self.padding),
            Setting::activation(self.activation),
        ]
    }

    fn with_setting(&self, setting: Setting) -> Option<Conv2d> {
        let mut layer = *self;
        match (setting.key, setting.value) {
            ("channels", SettingValue::Count(value)) => layer.out_channels = value,
            ("kernel", SettingValue::Count(value)) => layer.kernel = value,
            ("stride", SettingValue::Count(value)) => layer.stride = value,
            ("padding", SettingValue::Count(value)) => layer.padding = value,
            ("activation", SettingValue::Activation(value)) => layer.activation = value,
            _ => return None,
        }
        Some(layer)
    }

    fn token(&self) -> String {
        let mut text = format!("conv{}k{}", self.out_channels, self.kernel);
        if self.stride != 1 {
            text += &format!("s{}", self.stride);
        }
        if self.padding != 0 {
            text += &format!("p{}", self.padding);
        }
        with_activation(text, self.activation)
    }

    fn from_token(token: &str) -> Option<Conv2d> {
        let rest = token.strip_prefix("conv")?;
        let (out_channels, rest) = leading_number(rest, 1..=MAX_WIDTH)?;
        let (kernel, rest) = leading_number(rest.strip_prefix('k')?, 1..=MAX_SIDE)?;
        let (stride, rest) = optional_number(rest, 's', 1)?;
        let (padding, rest) = optional_number(rest, 'p', 0)?;
        (stride > 0).then_some(Conv2d {
            out_channels,
            kernel,
            stride,
            padding,
            activation: activation_suffix(rest)?,
        })
    }
}
