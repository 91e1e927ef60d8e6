//! Slicing and concatenation along one axis (what a recurrent cell needs to join `[x_t, h_t-1]`
//! and to split its gates apart): shape rules, forward and backward.
//!
//! A tensor is seen as `[outer, axis, inner]`: the dimensions before the axis, the axis, and
//! those after it. Both ops copy runs of `len · inner` values between two such views, and their
//! gradients copy the same runs back, added into the input's gradient.
//!
//! GPU twin: shader `shaders/axis.wgsl` (`copy_along_axis`); launcher
//! `gpu::Commands::copy_along_axis` (`src/gpu/tensor_kernels.rs`); parity cases: `Case::Slice` and
//! `Case::Concat` in `tests/gpu_common/kernel_cases.rs`.
//!
//! Also the shape rule of `Op::Unflatten` (`[n, len·k]` as `[n, len, k]`: the same values, so
//! its forward and backward are flatten's copies; on the GPU a view of its input's buffer, tested
//! by the stacked recurrent case of `tests/gpu_sequential_training.rs`).

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

/// Highest rank the axis ops take (their output shape is kept on the stack).
pub const MAX_RANK: usize = 8;

/// One run of values copied between two tensors seen as `[outer, axis, inner]`: `len` indices of
/// the axis, from `from_start` in a tensor whose axis has `from_axis` entries to `to_start` in
/// one whose axis has `to_axis`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisCopy {
    pub outer: usize,
    pub inner: usize,
    pub len: usize,
    pub from_axis: usize,
    pub from_start: usize,
    pub to_axis: usize,
    pub to_start: usize,
}

impl AxisCopy {
    /// `out[o, to_start + a, i] (+)= from[o, from_start + a, i]` for `a < len`; with
    /// `accumulate` the values are added.
    pub fn run(&self, from: &[f32], to: &mut [f32], accumulate: bool) {
        let run = self.len * self.inner;
        if run == 0 {
            return;
        }
        for o in 0..self.outer {
            let source = (o * self.from_axis + self.from_start) * self.inner;
            let target = (o * self.to_axis + self.to_start) * self.inner;
            let (source, target) = (&from[source..source + run], &mut to[target..target + run]);
            if accumulate {
                target.iter_mut().zip(source).for_each(|(t, s)| *t += s);
            } else {
                target.copy_from_slice(source);
            }
        }
    }

    /// The same run the other way: from the `to` view back to the `from` view.
    pub fn reversed(&self) -> AxisCopy {
        AxisCopy {
            from_axis: self.to_axis,
            from_start: self.to_start,
            to_axis: self.from_axis,
            to_start: self.from_start,
            ..*self
        }
    }
}

/// `(outer, axis, inner)` of `shape` around `axis`.
fn split_at_axis(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    let outer = shape[..axis].iter().product();
    let inner = shape[axis + 1..].iter().product();
    (outer, shape[axis], inner)
}

fn check_axis(op: &'static str, shape: &[usize], axis: usize) -> Result<(), EngineError> {
    if axis >= shape.len() || shape.len() > MAX_RANK {
        return Err(EngineError::shape(
            op,
            format!("a tensor of rank {} to {MAX_RANK} (axis {axis})", axis + 1),
            format!("{shape:?}"),
        ));
    }
    Ok(())
}

pub fn slice_shape(
    axis: usize,
    start: usize,
    len: usize,
    x: &[usize],
) -> Result<OutputShape, EngineError> {
    check_axis("slice", x, axis)?;
    if len == 0 || start + len > x[axis] {
        return Err(EngineError::shape(
            "slice",
            format!(
                "entries {start}..{} of axis {axis}, which has {}",
                start + len,
                x[axis]
            ),
            format!("{x:?}"),
        ));
    }
    Ok(OutputShape::Resized {
        like: 0,
        axis,
        size: len,
    })
}

pub fn concat_shape(axis: usize, a: &[usize], b: &[usize]) -> Result<OutputShape, EngineError> {
    check_axis("concat", a, axis)?;
    let others_match = a.len() == b.len()
        && a.iter()
            .zip(b)
            .enumerate()
            .all(|(dimension, (x, y))| dimension == axis || x == y);
    if !others_match {
        return Err(EngineError::shape(
            "concat",
            format!("two tensors that differ only along axis {axis}, the left is {a:?}"),
            format!("{b:?}"),
        ));
    }
    Ok(OutputShape::Resized {
        like: 0,
        axis,
        size: a[axis] + b[axis],
    })
}

/// The run a slice copies from its input to its output.
pub fn slice_copy(axis: usize, start: usize, len: usize, x: &[usize]) -> AxisCopy {
    let (outer, from_axis, inner) = split_at_axis(x, axis);
    AxisCopy {
        outer,
        inner,
        len,
        from_axis,
        from_start: start,
        to_axis: len,
        to_start: 0,
    }
}

/// The run concatenation copies from its input in `slot` (0: `a`, 1: `b`) to its output.
pub fn concat_copy(axis: usize, slot: usize, a: &[usize], b: &[usize]) -> AxisCopy {
    let (outer, a_axis, inner) = split_at_axis(a, axis);
    let b_axis = b[axis];
    let (len, to_start) = if slot == 0 {
        (a_axis, 0)
    } else {
        (b_axis, a_axis)
    };
    AxisCopy {
        outer,
        inner,
        len,
        from_axis: len,
        from_start: 0,
        to_axis: a_axis + b_axis,
        to_start,
    }
}

pub fn slice_forward(axis: usize, start: usize, len: usize, x: &Tensor, out: &mut Tensor) {
    slice_copy(axis, start, len, x.shape()).run(x.data(), out.data_mut(), false);
}

/// The slice's gradient lands in its entries of the input's gradient.
pub fn slice_backward(
    axis: usize,
    start: usize,
    len: usize,
    x: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
) {
    slice_copy(axis, start, len, x.shape())
        .reversed()
        .run(upstream.data(), grad.data_mut(), true);
}

pub fn concat_forward(axis: usize, a: &Tensor, b: &Tensor, out: &mut Tensor) {
    for (slot, part) in [a, b].into_iter().enumerate() {
        concat_copy(axis, slot, a.shape(), b.shape()).run(part.data(), out.data_mut(), false);
    }
}

/// Each input's gradient is its own entries of the output's.
pub fn concat_backward(
    axis: usize,
    slot: usize,
    a: &Tensor,
    b: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    // Each input's gradient is a whole part of the upstream one: copied, or added.
    concat_copy(axis, slot, a.shape(), b.shape())
        .reversed()
        .run(upstream.data(), grad.data_mut(), !overwrite);
}

/// `[n, len·k]` read as `[n, len, k]`, or why `input` cannot be.
pub fn unflatten_shape(len: usize, input: &[usize]) -> Result<OutputShape, EngineError> {
    match *input {
        [rows, width] if len > 0 && width % len == 0 && width > 0 => {
            Ok(OutputShape::Sequences([rows, len, width / len]))
        }
        _ => Err(EngineError::shape(
            "unflatten",
            format!("[batch, n] with n a multiple of {len}"),
            format!("{input:?}"),
        )),
    }
}

/// `[n, steps, k]` read as `[n·steps, k]`, or why `input` cannot be.
pub fn steps_as_rows_shape(input: &[usize]) -> Result<OutputShape, EngineError> {
    match *input {
        [rows, steps, width] => Ok(OutputShape::Matrix(rows * steps, width)),
        _ => Err(EngineError::shape(
            "steps_as_rows",
            "sequences [batch, steps, features]",
            format!("{input:?}"),
        )),
    }
}

/// `[n·steps, k]` read as `[n, steps, k]`, or why `input` cannot be.
pub fn rows_as_steps_shape(steps: usize, input: &[usize]) -> Result<OutputShape, EngineError> {
    match *input {
        [rows, width] if steps > 0 && rows % steps == 0 => {
            Ok(OutputShape::Sequences([rows / steps, steps, width]))
        }
        _ => Err(EngineError::shape(
            "rows_as_steps",
            format!("[rows, k] with the rows a multiple of {steps}"),
            format!("{input:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(shape: &[usize]) -> Tensor {
        let len = shape.iter().product::<usize>();
        Tensor::from_vec(shape, (0..len).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn a_slice_of_the_middle_axis_keeps_those_entries_of_every_row() {
        let x = counting(&[2, 4, 3]);
        let mut out = Tensor::zeros(&[2, 2, 3]);
        slice_forward(1, 1, 2, &x, &mut out);
        assert_eq!(
            out.data(),
            &[3., 4., 5., 6., 7., 8., 15., 16., 17., 18., 19., 20.]
        );
    }

    #[test]
    fn concatenation_interleaves_runs_and_its_gradient_splits_them_back() {
        let a = counting(&[2, 1]);
        let b = Tensor::from_vec(&[2, 2], vec![10., 11., 12., 13.]).unwrap();
        let mut out = Tensor::zeros(&[2, 3]);
        concat_forward(1, &a, &b, &mut out);
        assert_eq!(out.data(), &[0., 10., 11., 1., 12., 13.]);
        let mut grad_b = Tensor::full(&[2, 2], 1.0);
        concat_backward(1, 1, &a, &b, &out, &mut grad_b, false);
        assert_eq!(grad_b.data(), &[11., 12., 13., 14.]);
    }

    #[test]
    fn shapes_that_cannot_work_are_refused_with_the_reason() {
        assert!(slice_shape(1, 3, 2, &[2, 4]).is_err());
        assert!(slice_shape(2, 0, 1, &[2, 4]).is_err());
        assert!(slice_shape(1, 0, 0, &[2, 4]).is_err());
        assert!(concat_shape(1, &[2, 3], &[3, 3]).is_err());
        assert!(concat_shape(0, &[2, 3], &[3, 3]).is_ok());
        let error = concat_shape(1, &[2, 3], &[2]).unwrap_err().to_string();
        assert!(error.contains("differ only along axis 1"), "{error}");
    }
}
