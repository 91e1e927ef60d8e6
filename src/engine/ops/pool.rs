//! `MaxPool2d`, `AvgPool2d` and `Flatten` on NCHW feature maps: shape rules, forward, backward.
//!
//! A pooling window of `size`x`size` slides with `stride` over each channel of each image
//! (no padding, so `n_out = (n_in - size)/stride + 1`). Max pooling keeps the largest value and
//! remembers where it was, so backward routes the whole gradient to that one position; average
//! pooling keeps the mean, so backward splits the gradient evenly over the window.
//!
//! GPU twin: shader `shaders/pool.wgsl` (with `window.wgsl`); flatten moves nothing on the GPU (a
//! view of its input's buffer); launcher `gpu::ConvCommands::*_pool2d_*`
//! (`src/gpu/conv_kernels.rs`); parity cases: the pooling cases of
//! `tests/gpu_common/conv_cases.rs`.

use super::conv::sliding_output;
use super::{OutputShape, Scratch};
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

pub fn output_shape(
    op: &'static str,
    size: usize,
    stride: usize,
    input: &[usize],
) -> Result<OutputShape, EngineError> {
    let &[batch, channels, height, width] = input else {
        return Err(EngineError::shape(
            op,
            "an input of shape [batch, channels, height, width]",
            format!("{input:?}"),
        ));
    };
    let window = format!("a {size}x{size} window with stride {stride}");
    let (out_height, out_width) = sliding_output(op, &window, (height, width), size, stride, None)?;
    Ok(OutputShape::FeatureMaps([
        batch, channels, out_height, out_width,
    ]))
}

/// Sizes of one pooling: input plane and output plane.
#[derive(Clone, Copy, Debug)]
struct Planes {
    height: usize,
    width: usize,
    out_height: usize,
    out_width: usize,
}

impl Planes {
    fn of(input: &Tensor, output: &[usize]) -> Planes {
        let x = input.shape();
        Planes {
            height: x[2],
            width: x[3],
            out_height: output[2],
            out_width: output[3],
        }
    }

    fn input_len(&self) -> usize {
        (self.height * self.width).max(1)
    }

    fn output_len(&self) -> usize {
        (self.out_height * self.out_width).max(1)
    }

    /// Index in the input plane of every element of the window of output `(oy, ox)`.
    fn window(
        &self,
        size: usize,
        stride: usize,
        oy: usize,
        ox: usize,
    ) -> impl Iterator<Item = usize> {
        let width = self.width;
        (0..size).flat_map(move |dy| {
            let row = (oy * stride + dy) * width + ox * stride;
            row..row + size
        })
    }
}

/// Keeps the largest value of each window, and in `scratch.argmax` its index in `x` (the first
/// one on ties).
pub fn max_forward(
    size: usize,
    stride: usize,
    x: &Tensor,
    out: &mut Tensor,
    scratch: &mut Scratch,
) {
    let p = Planes::of(x, out.shape());
    scratch.argmax.resize(out.len(), 0);
    let planes = x.data().chunks_exact(p.input_len());
    let out_planes = out.data_mut().chunks_exact_mut(p.output_len());
    let argmax_planes = scratch.argmax.chunks_exact_mut(p.output_len());
    for (plane_index, ((plane, out_plane), argmax_plane)) in
        planes.zip(out_planes).zip(argmax_planes).enumerate()
    {
        let offset = plane_index * p.input_len();
        if size == 2 && stride == 2 {
            max_plane_2x2(&p, plane, offset, out_plane, argmax_plane);
        } else {
            max_plane(&p, size, stride, plane, offset, out_plane, argmax_plane);
        }
    }
}

/// `(index, value)` of the larger of two candidates, the first on ties. A select rather than a
/// branch: on data like feature maps the winner is a coin toss, and a mispredicted branch per
/// comparison cost more than the rest of the pooling.
#[inline(always)]
fn larger(best: (usize, f32), candidate: (usize, f32)) -> (usize, f32) {
    let wins = candidate.1 > best.1;
    (
        if wins { candidate.0 } else { best.0 },
        if wins { candidate.1 } else { best.1 },
    )
}

/// Max pooling of one plane with any window and stride.
fn max_plane(
    p: &Planes,
    size: usize,
    stride: usize,
    plane: &[f32],
    offset: usize,
    out_plane: &mut [f32],
    argmax_plane: &mut [usize],
) {
    for oy in 0..p.out_height {
        for ox in 0..p.out_width {
            let corner = oy * stride * p.width + ox * stride;
            let mut best = (corner, plane[corner]);
            for dy in 0..size {
                let row = corner + dy * p.width;
                for (dx, &value) in plane[row..row + size].iter().enumerate() {
                    best = larger(best, (row + dx, value));
                }
            }
            let o = oy * p.out_width + ox;
            out_plane[o] = best.1;
            argmax_plane[o] = offset + best.0;
        }
    }
}

/// Max pooling of one plane with 2x2 windows and stride 2 (LeNet's, and most CNNs'): two input
/// rows give one output row, with no inner loops.
fn max_plane_2x2(
    p: &Planes,
    plane: &[f32],
    offset: usize,
    out_plane: &mut [f32],
    argmax_plane: &mut [usize],
) {
    let outputs = out_plane
        .chunks_exact_mut(p.out_width)
        .zip(argmax_plane.chunks_exact_mut(p.out_width));
    for (oy, (out_row, argmax_row)) in outputs.enumerate() {
        let top_start = 2 * oy * p.width;
        let top = &plane[top_start..top_start + 2 * p.out_width];
        let bottom = &plane[top_start + p.width..top_start + p.width + 2 * p.out_width];
        let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
        for (ox, ((top, bottom), (value, argmax))) in windows
            .zip(out_row.iter_mut().zip(argmax_row.iter_mut()))
            .enumerate()
        {
            let left = top_start + 2 * ox;
            let mut best = (left, top[0]);
            best = larger(best, (left + 1, top[1]));
            best = larger(best, (left + p.width, bottom[0]));
            best = larger(best, (left + p.width + 1, bottom[1]));
            *value = best.1;
            *argmax = offset + best.0;
        }
    }
}

/// Each output's gradient goes, whole, to the input position that won its window.
pub fn max_backward(scratch: &Scratch, upstream: &Tensor, grad: &mut Tensor) {
    let grad = grad.data_mut();
    for (&index, &u) in scratch.argmax.iter().zip(upstream.data()) {
        grad[index] += u;
    }
}

/// The mean of each window.
pub fn average_forward(size: usize, stride: usize, x: &Tensor, out: &mut Tensor) {
    let p = Planes::of(x, out.shape());
    let share = 1.0 / (size * size) as f32;
    let planes = x.data().chunks_exact(p.input_len());
    let out_planes = out.data_mut().chunks_exact_mut(p.output_len());
    for (plane, out_plane) in planes.zip(out_planes) {
        for oy in 0..p.out_height {
            for ox in 0..p.out_width {
                let total: f32 = p.window(size, stride, oy, ox).map(|i| plane[i]).sum();
                out_plane[oy * p.out_width + ox] = total * share;
            }
        }
    }
}

/// Each output's gradient is split evenly, `1/size²` to every element of its window.
pub fn average_backward(
    size: usize,
    stride: usize,
    x: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
) {
    let p = Planes::of(x, upstream.shape());
    let share = 1.0 / (size * size) as f32;
    let up_planes = upstream.data().chunks_exact(p.output_len());
    let grad_planes = grad.data_mut().chunks_exact_mut(p.input_len());
    for (up_plane, grad_plane) in up_planes.zip(grad_planes) {
        for oy in 0..p.out_height {
            for ox in 0..p.out_width {
                let g = up_plane[oy * p.out_width + ox] * share;
                p.window(size, stride, oy, ox)
                    .for_each(|i| grad_plane[i] += g);
            }
        }
    }
}

/// `[n, c, h, w]` (or any `[n, ...]`) to `[n, c·h·w]`.
pub fn flatten_shape(input: &[usize]) -> Result<OutputShape, EngineError> {
    match input {
        [rows, rest @ ..] if !rest.is_empty() => {
            Ok(OutputShape::Matrix(*rows, rest.iter().product()))
        }
        _ => Err(EngineError::shape(
            "flatten",
            "a batch of feature maps, shaped [batch, channels, height, width]",
            format!("{input:?}"),
        )),
    }
}

/// Tensors are row-major, so `[n, c, h, w]` and `[n, c·h·w]` hold the same values in the same
/// order: flattening is one contiguous copy (each tape node owns its buffer), never a gather.
pub fn flatten_forward(x: &Tensor, out: &mut Tensor) {
    out.data_mut().copy_from_slice(x.data());
}
