//! `Conv2d`: a 2-D convolution of NCHW feature maps, as im2col + gemm, and its gradients.
//!
//! For each image, `im2col` copies every k×k window of every input channel into one column of a
//! `[c_in·k·k, h_out·w_out]` matrix (zeros where a window hangs over the padding). The
//! convolution is then one product per image, with the weights read as a `[c_out, c_in·k·k]`
//! matrix: `Y[n] = W · columns[n] + b`, already in NCHW order. With `dY` the upstream gradient:
//! `dW += dY[n] · columns[n]ᵀ`, `db[c] += Σ dY[n, c, ·, ·]` and
//! `dX[n] += col2im(Wᵀ · dY[n])` (each column's values added back where its window came from).
//!
//! The sizes follow the course's formula `n_out = (n_in + 2p - k)/s + 1`; a kernel that does not
//! land a whole number of times is refused with that formula written out.
//!
//! GPU twin: shader `shaders/conv.wgsl` (with `window.wgsl`); launcher
//! `gpu::ConvCommands::conv2d_*` (`src/gpu/conv_kernels.rs`); parity cases: the convolution cases
//! of `tests/gpu_common/conv_cases.rs`.

use super::short_rows;
use super::{OutputShape, Scratch};
use crate::engine::error::EngineError;
use crate::engine::gemm::{self, Operand};
use crate::engine::tensor::Tensor;

/// `n_out = (n_in + 2p - k)/s + 1` for one side, or the formula written out with why it fails.
///
/// `padding` is `None` for pooling windows, which have none (the formula then omits `2p`).
pub fn output_side(
    n_in: usize,
    kernel: usize,
    stride: usize,
    padding: Option<usize>,
) -> Result<usize, String> {
    let padded = n_in + 2 * padding.unwrap_or(0);
    let numerator = padded as i64 - kernel as i64;
    let written = match padding {
        Some(p) => format!("({n_in} + {} - {kernel})/{stride} + 1", 2 * p),
        None => format!("({n_in} - {kernel})/{stride} + 1"),
    };
    if numerator < 0 {
        let value = numerator as f64 / stride as f64 + 1.0;
        return Err(format!(
            "{written} = {}: the window is larger than the {}input",
            decimal(value),
            if padding.is_some_and(|p| p > 0) {
                "padded "
            } else {
                ""
            }
        ));
    }
    let numerator = numerator as usize;
    if !numerator.is_multiple_of(stride) {
        let value = numerator as f64 / stride as f64 + 1.0;
        return Err(format!(
            "{written} = {} is not a whole number",
            decimal(value)
        ));
    }
    Ok(numerator / stride + 1)
}

/// A number with at most two decimals and no trailing zeros (12.5, 8.67, -1).
fn decimal(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Output height and width of a sliding window over an `height`x`width` input, or the learner's
/// reason why it does not fit. `window` describes it ("a 5x5 kernel with stride 2 and padding 0").
pub(super) fn sliding_output(
    op: &str,
    window: &str,
    (height, width): (usize, usize),
    kernel: usize,
    stride: usize,
    padding: Option<usize>,
) -> Result<(usize, usize), EngineError> {
    if kernel == 0 || stride == 0 {
        return Err(EngineError::InvalidConfig(format!(
            "{op}: {window} cannot slide: the size and the stride must both be at least 1"
        )));
    }
    let fit = |side: usize, name: &str| {
        output_side(side, kernel, stride, padding).map_err(|why| {
            let which = if height == width {
                String::new()
            } else {
                format!("along the {name}, ")
            };
            EngineError::InvalidConfig(format!(
                "{op}: {window} does not fit a {height}x{width} input: {which}{why}"
            ))
        })
    };
    Ok((fit(height, "height")?, fit(width, "width")?))
}

/// Every size of one convolution.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    in_channels: usize,
    height: usize,
    width: usize,
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    out_height: usize,
    out_width: usize,
}

impl Geometry {
    /// Reads the sizes of tensors already checked by [`output_shape`].
    fn of(input: &Tensor, weights: &Tensor, stride: usize, padding: usize) -> Geometry {
        let (x, w) = (input.shape(), weights.shape());
        let kernel = w[2];
        let out = |side: usize| (side + 2 * padding - kernel) / stride + 1;
        Geometry {
            batch: x[0],
            in_channels: x[1],
            height: x[2],
            width: x[3],
            out_channels: w[0],
            kernel,
            stride,
            padding,
            out_height: out(x[2]),
            out_width: out(x[3]),
        }
    }

    /// Rows of the im2col matrix: one per (input channel, kernel row, kernel column).
    fn window_len(&self) -> usize {
        self.in_channels * self.kernel * self.kernel
    }

    /// Columns of the im2col matrix: one per output position.
    fn positions(&self) -> usize {
        self.out_height * self.out_width
    }

    fn image_len(&self) -> usize {
        self.in_channels * self.height * self.width
    }

    fn output_len(&self) -> usize {
        self.out_channels * self.positions()
    }

    /// The input row (or column) that output index `out_index` reads at kernel offset `k_index`,
    /// or `None` when it falls in the zero padding.
    fn source(&self, out_index: usize, k_index: usize, side: usize) -> Option<usize> {
        (out_index * self.stride + k_index)
            .checked_sub(self.padding)
            .filter(|&i| i < side)
    }
}

pub fn output_shape(
    stride: usize,
    padding: usize,
    input: &[usize],
    weights: &[usize],
    bias: &[usize],
) -> Result<OutputShape, EngineError> {
    let &[batch, in_channels, height, width] = input else {
        return Err(EngineError::shape(
            "conv2d",
            "an input of shape [batch, channels, height, width]",
            format!("{input:?}"),
        ));
    };
    let &[out_channels, kernel_channels, k, k_width] = weights else {
        return Err(EngineError::shape(
            "conv2d",
            "weights of shape [out_channels, in_channels, k, k]",
            format!("{weights:?}"),
        ));
    };
    if k != k_width {
        return Err(EngineError::shape(
            "conv2d",
            "square kernels (k x k)",
            format!("{k}x{k_width} kernels (weights {weights:?})"),
        ));
    }
    if kernel_channels != in_channels {
        return Err(EngineError::shape(
            "conv2d",
            format!("an input with {kernel_channels} channels (one kernel per input channel)"),
            format!("{in_channels} channels (input {input:?})"),
        ));
    }
    if bias != [out_channels] {
        return Err(EngineError::shape(
            "conv2d",
            format!("one bias per output channel, a vector of length {out_channels}"),
            format!("a bias of shape {bias:?}"),
        ));
    }
    let window = format!("a {k}x{k} kernel with stride {stride} and padding {padding}");
    let (out_height, out_width) =
        sliding_output("conv2d", &window, (height, width), k, stride, Some(padding))?;
    Ok(OutputShape::FeatureMaps([
        batch,
        out_channels,
        out_height,
        out_width,
    ]))
}

/// The outputs `lo..hi` along one side whose window, at kernel offset `k_index`, reads inside
/// the input (`side` long) rather than in the zero padding.
fn inside_range(g: &Geometry, k_index: usize, side: usize, outputs: usize) -> (usize, usize) {
    // Output o reads input o·s + k − p, which must lie in 0..side.
    let first = g.padding.saturating_sub(k_index).div_ceil(g.stride);
    let end = (side + g.padding)
        .saturating_sub(k_index)
        .div_ceil(g.stride);
    (first.min(outputs), end.clamp(first.min(outputs), outputs))
}

/// Copies every k×k window of one image into a column of `columns` (`[c_in·k·k, positions]`).
/// Rows of windows are copied as slices where the stride is 1; padding is written as zeros.
fn im2col(g: &Geometry, image: &[f32], columns: &mut [f32]) {
    let positions = g.positions();
    let mut rows = columns.chunks_exact_mut(positions);
    for plane in image.chunks_exact(g.height * g.width) {
        for ky in 0..g.kernel {
            for kx in 0..g.kernel {
                let row = rows.next().expect("one row per window element");
                let (lo, hi) = inside_range(g, kx, g.width, g.out_width);
                // The input column read by output column `lo` (the first inside).
                let x_lo = (lo * g.stride + kx).saturating_sub(g.padding);
                for (oy, out_row) in row.chunks_exact_mut(g.out_width).enumerate() {
                    let Some(y) = g.source(oy, ky, g.height) else {
                        short_rows::zero(out_row);
                        continue;
                    };
                    let source = &plane[y * g.width..(y + 1) * g.width];
                    short_rows::zero(&mut out_row[..lo]);
                    short_rows::zero(&mut out_row[hi..]);
                    if lo == hi {
                        continue;
                    }
                    if g.stride == 1 {
                        short_rows::copy(&mut out_row[lo..hi], &source[x_lo..x_lo + (hi - lo)]);
                    } else {
                        for (offset, value) in out_row[lo..hi].iter_mut().enumerate() {
                            *value = source[x_lo + offset * g.stride];
                        }
                    }
                }
            }
        }
    }
}

/// The reverse of [`im2col`]: adds each column's values back to the pixels its window read.
fn col2im(g: &Geometry, columns: &[f32], image: &mut [f32]) {
    let positions = g.positions();
    let mut rows = columns.chunks_exact(positions);
    for plane in image.chunks_exact_mut(g.height * g.width) {
        for ky in 0..g.kernel {
            for kx in 0..g.kernel {
                let row = rows.next().expect("one row per window element");
                let (lo, hi) = inside_range(g, kx, g.width, g.out_width);
                let x_lo = (lo * g.stride + kx).saturating_sub(g.padding);
                for (oy, out_row) in row.chunks_exact(g.out_width).enumerate() {
                    let Some(y) = g.source(oy, ky, g.height).filter(|_| lo < hi) else {
                        continue;
                    };
                    let target = &mut plane[y * g.width..(y + 1) * g.width];
                    if g.stride == 1 {
                        short_rows::add(&mut target[x_lo..x_lo + (hi - lo)], &out_row[lo..hi]);
                    } else {
                        for (offset, &value) in out_row[lo..hi].iter().enumerate() {
                            target[x_lo + offset * g.stride] += value;
                        }
                    }
                }
            }
        }
    }
}

/// `inputs` are `[x, weights, bias]`. Keeps every image's im2col matrix in `scratch.columns`
/// for the backward pass.
pub fn forward(
    inputs: &[&Tensor],
    stride: usize,
    padding: usize,
    out: &mut Tensor,
    scratch: &mut Scratch,
) {
    let (input, weights, bias) = (inputs[0], inputs[1], inputs[2]);
    let g = Geometry::of(input, weights, stride, padding);
    let (rows, positions) = (g.window_len(), g.positions());
    scratch.columns.resize(g.batch * rows * positions, 0.0);
    let kernels = Operand::new(weights.data(), g.out_channels, rows, false);
    let images = input.data().chunks_exact(g.image_len().max(1));
    let all_columns = scratch.columns.chunks_exact_mut((rows * positions).max(1));
    let outputs = out.data_mut().chunks_exact_mut(g.output_len().max(1));
    for ((image, columns), output) in images.zip(all_columns).zip(outputs) {
        im2col(&g, image, columns);
        let columns = Operand::new(columns, rows, positions, false);
        gemm::matmul(kernels, columns, output, false);
        for (channel, &b) in output.chunks_exact_mut(positions).zip(bias.data()) {
            channel.iter_mut().for_each(|v| *v += b);
        }
    }
}

/// Adds the gradient of input `slot` (0: x, 1: weights, 2: bias). Reads the im2col matrices the
/// forward pass left in `scratch`.
pub fn backward(
    slot: usize,
    inputs: &[&Tensor],
    stride: usize,
    padding: usize,
    upstream: &Tensor,
    grad: &mut Tensor,
    scratch: &mut Scratch,
) {
    let g = Geometry::of(inputs[0], inputs[1], stride, padding);
    let (rows, positions) = (g.window_len(), g.positions());
    let upstream_images = upstream.data().chunks_exact(g.output_len().max(1));
    match slot {
        0 => {
            let kernels = Operand::new(inputs[1].data(), g.out_channels, rows, true);
            scratch.column_grad.resize(rows * positions, 0.0);
            let grads = grad.data_mut().chunks_exact_mut(g.image_len().max(1));
            for (d_output, d_image) in upstream_images.zip(grads) {
                let d_output = Operand::new(d_output, g.out_channels, positions, false);
                gemm::matmul(kernels, d_output, &mut scratch.column_grad, false);
                col2im(&g, &scratch.column_grad, d_image);
            }
        }
        1 => {
            // dWᵀ = Σ columns[n] · dY[n]ᵀ, summed over the batch, then added transposed: this
            // way the product packs the im2col matrix along its contiguous rows and transposes
            // only dY, which is smaller (dW = dY · columnsᵀ would gather the large one).
            let transposed = &mut scratch.column_grad;
            transposed.clear();
            transposed.resize(rows * g.out_channels, 0.0);
            let all_columns = scratch.columns.chunks_exact((rows * positions).max(1));
            for (d_output, columns) in upstream_images.zip(all_columns) {
                let d_output = Operand::new(d_output, g.out_channels, positions, true);
                let columns = Operand::new(columns, rows, positions, false);
                gemm::matmul(columns, d_output, transposed, true);
            }
            for (channel, d_kernel) in grad.data_mut().chunks_exact_mut(rows.max(1)).enumerate() {
                for (row, value) in d_kernel.iter_mut().enumerate() {
                    *value += transposed[row * g.out_channels + channel];
                }
            }
        }
        _ => {
            for d_output in upstream_images {
                let channels = d_output.chunks_exact(positions.max(1));
                for (d_bias, channel) in grad.data_mut().iter_mut().zip(channels) {
                    *d_bias += channel.iter().sum::<f32>();
                }
            }
        }
    }
}
