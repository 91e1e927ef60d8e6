//! The convolution page's worked arithmetic: a small convolution (channels, kernels, bias, stride,
//! padding) and a small pooling, each run on the engine's tape, then written out cell by cell —
//! the window, every input × weight product and their sum + bias — for the view to animate.

pub mod backward;
pub mod presets;

use crate::engine::{EngineError, NodeId, ParamRole, Params, Tape, Tensor, output_side};

/// A convolution of `in_channels` square `size`×`size` planes by `out_channels` × `in_channels`
/// square `kernel`×`kernel` kernels, one bias per output channel.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvProblem {
    pub in_channels: usize,
    pub size: usize,
    /// `[in_channels, size, size]`, row by row.
    pub input: Vec<f32>,
    pub out_channels: usize,
    pub kernel: usize,
    /// `[out_channels, in_channels, kernel, kernel]`, row by row.
    pub kernels: Vec<f32>,
    pub bias: Vec<f32>,
    pub stride: usize,
    pub padding: usize,
}

/// One input × weight product of a window. `row`/`col` are in padded coordinates (0 is the
/// first row of padding); `padded` says the input there is a zero of the padding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tap {
    pub channel: usize,
    pub row: usize,
    pub col: usize,
    pub input: f32,
    pub weight: f32,
    pub padded: bool,
}

/// One output cell written out: where its window sits and the arithmetic that gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvCell {
    pub out_channel: usize,
    pub row: usize,
    pub col: usize,
    /// Top-left corner of the window, in padded coordinates.
    pub top: usize,
    pub left: usize,
    pub taps: Vec<Tap>,
    /// The sum of the products, before the bias.
    pub sum: f32,
    pub bias: f32,
    /// The engine's output value.
    pub value: f32,
}

/// Every output cell, channel by channel, row by row: the order the window visits them.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvResult {
    pub out_side: usize,
    pub cells: Vec<ConvCell>,
}

impl ConvProblem {
    /// `n_out = (n_in + 2p − k)/s + 1` with this problem's numbers and its value, or why it fails.
    pub fn formula(&self) -> String {
        let (n, p, k, s) = (self.size, self.padding, self.kernel, self.stride);
        let head = format!("n_out = (n_in + 2p − k)/s + 1 = ({n} + 2·{p} − {k})/{s} + 1");
        with_value(head, output_side(n, k, s, Some(p)))
    }

    /// Runs the convolution on the engine's tape and writes out every cell, or the engine's reason
    /// for refusing this combination.
    pub fn evaluate(&self) -> Result<ConvResult, String> {
        let (c_in, n, c_out, k) = (self.in_channels, self.size, self.out_channels, self.kernel);
        let mut tape = Tape::new();
        let mut params = Params::new();
        let x = tape.input(&[1, c_in, n, n]);
        let weights = parameter(&mut tape, &mut params, &[c_out, c_in, k, k], &self.kernels)?;
        let bias = parameter(&mut tape, &mut params, &[c_out], &self.bias)?;
        let out = tape
            .conv2d(x, weights, bias, self.stride, self.padding)
            .map_err(|e| e.to_string())?;
        let input = tensor(&[1, c_in, n, n], &self.input)?;
        let output = run(&mut tape, &params, x, &input, out)?;
        let out_side = output.shape()[2];
        let mut cells = Vec::with_capacity(output.len());
        for (index, &value) in output.data().iter().enumerate() {
            let (out_channel, row, col) = (
                index / (out_side * out_side),
                index / out_side % out_side,
                index % out_side,
            );
            let (top, left) = (row * self.stride, col * self.stride);
            let taps = self.window_taps(out_channel, top, left);
            let bias = self.bias[out_channel];
            cells.push(ConvCell {
                out_channel,
                row,
                col,
                top,
                left,
                sum: taps.iter().map(|tap| tap.input * tap.weight).sum(),
                taps,
                bias,
                value,
            });
        }
        Ok(ConvResult { out_side, cells })
    }

    /// The products of the window at (`top`, `left`) (padded coordinates) for one output channel.
    fn window_taps(&self, out_channel: usize, top: usize, left: usize) -> Vec<Tap> {
        let (n, k, p) = (self.size, self.kernel, self.padding);
        let mut taps = Vec::with_capacity(self.in_channels * k * k);
        for channel in 0..self.in_channels {
            for i in 0..k {
                for j in 0..k {
                    let (row, col) = (top + i, left + j);
                    let inside = (p..p + n).contains(&row) && (p..p + n).contains(&col);
                    let input = if inside {
                        self.input[(channel * n + row - p) * n + col - p]
                    } else {
                        0.0
                    };
                    let weight =
                        self.kernels[((out_channel * self.in_channels + channel) * k + i) * k + j];
                    taps.push(Tap {
                        channel,
                        row,
                        col,
                        input,
                        weight,
                        padded: !inside,
                    });
                }
            }
        }
        taps
    }

    /// The input at `(channel, row, col)` of the unpadded planes.
    pub fn input_at(&self, channel: usize, row: usize, col: usize) -> f32 {
        self.input[(channel * self.size + row) * self.size + col]
    }

    /// The weight at `(out_channel, in_channel, row, col)`.
    pub fn weight_at(&self, out_channel: usize, channel: usize, row: usize, col: usize) -> f32 {
        let k = self.kernel;
        self.kernels[((out_channel * self.in_channels + channel) * k + row) * k + col]
    }

    /// Changes the input side, keeping the top-left values and filling new cells with 0.
    pub fn resize_input(&mut self, size: usize) {
        self.input = resize_planes(&self.input, self.in_channels, self.size, size);
        self.size = size;
    }

    /// Changes the kernel side, keeping the top-left weights and filling new ones with 0.
    pub fn resize_kernels(&mut self, kernel: usize) {
        let planes = self.out_channels * self.in_channels;
        self.kernels = resize_planes(&self.kernels, planes, self.kernel, kernel);
        self.kernel = kernel;
    }

    /// Changes the number of input channels: new planes and kernels are zeros.
    pub fn set_in_channels(&mut self, channels: usize) {
        let (n, k) = (self.size, self.kernel);
        self.input.resize(channels * n * n, 0.0);
        let mut kernels = Vec::with_capacity(self.out_channels * channels * k * k);
        for o in 0..self.out_channels {
            for c in 0..channels {
                for index in 0..k * k {
                    kernels.push(if c < self.in_channels {
                        self.kernels[(o * self.in_channels + c) * k * k + index]
                    } else {
                        0.0
                    });
                }
            }
        }
        self.kernels = kernels;
        self.in_channels = channels;
    }

    /// Changes the number of output channels (kernels): new kernels and biases are zeros.
    pub fn set_out_channels(&mut self, channels: usize) {
        let per_kernel = self.in_channels * self.kernel * self.kernel;
        self.kernels.resize(channels * per_kernel, 0.0);
        self.bias.resize(channels, 0.0);
        self.out_channels = channels;
    }
}

/// Which pooling: the largest value of each window, or the mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Average,
}

/// Pooling of one square `side`×`side` plane by `size`×`size` windows moved by `stride`.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolProblem {
    pub kind: PoolKind,
    pub side: usize,
    pub input: Vec<f32>,
    pub size: usize,
    pub stride: usize,
}

/// One pooled cell: its window (row, column, value of each element), which element is the max
/// (max pooling), and the engine's output.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolCell {
    pub row: usize,
    pub col: usize,
    pub window: Vec<(usize, usize, f32)>,
    pub max_at: Option<(usize, usize)>,
    pub value: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PoolResult {
    pub out_side: usize,
    pub cells: Vec<PoolCell>,
}

impl PoolProblem {
    /// `n_out = (n_in − k)/s + 1` with this problem's numbers (pooling has no padding).
    pub fn formula(&self) -> String {
        let (n, k, s) = (self.side, self.size, self.stride);
        let head = format!("n_out = (n_in − k)/s + 1 = ({n} − {k})/{s} + 1");
        with_value(head, output_side(n, k, s, None))
    }

    /// Runs the pooling on the engine's tape, or gives the engine's reason for refusing it.
    pub fn evaluate(&self) -> Result<PoolResult, String> {
        let n = self.side;
        let mut tape = Tape::new();
        let x = tape.input(&[1, 1, n, n]);
        let out = match self.kind {
            PoolKind::Max => tape.max_pool2d(x, self.size, self.stride),
            PoolKind::Average => tape.avg_pool2d(x, self.size, self.stride),
        }
        .map_err(|e| e.to_string())?;
        let input = tensor(&[1, 1, n, n], &self.input)?;
        let output = run(&mut tape, &Params::new(), x, &input, out)?;
        let out_side = output.shape()[2];
        let cells = output
            .data()
            .iter()
            .enumerate()
            .map(|(index, &value)| {
                let (row, col) = (index / out_side, index % out_side);
                let (top, left) = (row * self.stride, col * self.stride);
                let window: Vec<_> = (0..self.size * self.size)
                    .map(|i| (top + i / self.size, left + i % self.size))
                    .map(|(r, c)| (r, c, self.input[r * n + c]))
                    .collect();
                // The engine keeps the first of equal maxima; point at the same one.
                let max_at = (self.kind == PoolKind::Max)
                    .then(|| window.iter().find(|&&(_, _, v)| v == value))
                    .flatten()
                    .map(|&(r, c, _)| (r, c));
                PoolCell {
                    row,
                    col,
                    window,
                    max_at,
                    value,
                }
            })
            .collect();
        Ok(PoolResult { out_side, cells })
    }
}

/// A number as the page writes it: at most two decimals, no trailing zeros (3.25, -1, 0.5).
pub fn number(value: f32) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// `head = value`, or `head = <the engine's reason>` when the side does not come out whole.
fn with_value(head: String, side: Result<usize, String>) -> String {
    match side {
        Ok(side) => format!("{head} = {side}"),
        // The engine writes "(…)/s + 1 = 1.5 is not a whole number": keep what follows the formula.
        Err(why) => match why.split_once(" = ") {
            Some((_, rest)) => format!("{head} = {rest}"),
            None => format!("{head}: {why}"),
        },
    }
}

fn resize_planes(values: &[f32], planes: usize, old: usize, new: usize) -> Vec<f32> {
    let mut out = vec![0.0; planes * new * new];
    for plane in 0..planes {
        for row in 0..old.min(new) {
            for col in 0..old.min(new) {
                out[(plane * new + row) * new + col] = values[(plane * old + row) * old + col];
            }
        }
    }
    out
}

fn tensor(shape: &[usize], values: &[f32]) -> Result<Tensor, String> {
    Tensor::from_vec(shape, values.to_vec()).map_err(|e| e.to_string())
}

fn parameter(
    tape: &mut Tape,
    params: &mut Params,
    shape: &[usize],
    values: &[f32],
) -> Result<NodeId, String> {
    let id = params.add(tensor(shape, values)?, ParamRole::Other);
    tape.parameter(params, id).map_err(|e| e.to_string())
}

fn run(
    tape: &mut Tape,
    params: &Params,
    x: NodeId,
    input: &Tensor,
    out: NodeId,
) -> Result<Tensor, String> {
    let forward = |tape: &mut Tape| -> Result<(), EngineError> {
        tape.set_input(x, input)?;
        tape.forward(params)
    };
    forward(tape).map_err(|e| e.to_string())?;
    Ok(tape.value(out).clone())
}

#[cfg(test)]
mod tests;
