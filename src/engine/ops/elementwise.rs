//! Element-by-element ops (add_bias, add, mul, square, add_scalar, scale, softmax): shape rules,
//! forward and backward.
//!
//! GPU twin: shader `shaders/elementwise.wgsl` (bias add, sum, product and their gradients) and
//! `training.wgsl`'s `softmax_rows` (softmax forward only); launchers `gpu::Commands::add_bias`,
//! `add`, `multiply`, `accumulate`, `accumulate_product` (`src/gpu/kernels.rs`,
//! `src/gpu/tensor_kernels.rs`); parity cases `Case::BiasAdd`, `Case::ColumnSums`, `Case::Add`,
//! `Case::Multiply` in `tests/gpu_common/kernel_cases.rs`. Square, add_scalar and scale have no
//! GPU twin: the GPU pass refuses them by name.

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::softmax;
use crate::engine::tensor::Tensor;

pub fn same_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<OutputShape, EngineError> {
    if a != b {
        return Err(EngineError::shape(
            op,
            format!("two tensors of the same shape, the left is {a:?}"),
            format!("{b:?}"),
        ));
    }
    Ok(OutputShape::SameAs(0))
}

/// Checks that `bias` has one value per column of `x`; `op_name` says which op asks.
pub fn add_bias_shape(
    op_name: &'static str,
    x: &[usize],
    bias: &[usize],
) -> Result<OutputShape, EngineError> {
    let columns = x.last().copied();
    if x.is_empty() || bias.len() != 1 || Some(bias[0]) != columns {
        return Err(EngineError::shape(
            op_name,
            format!(
                "a bias vector of length {} (one per column of {x:?})",
                columns.unwrap_or(0)
            ),
            format!("a bias of shape {bias:?}"),
        ));
    }
    Ok(OutputShape::SameAs(0))
}

pub fn softmax_shape(x: &[usize]) -> Result<OutputShape, EngineError> {
    if x.is_empty() {
        return Err(EngineError::shape(
            "softmax",
            "a vector or a matrix (softmax is taken per row)",
            "a scalar",
        ));
    }
    Ok(OutputShape::SameAs(0))
}

fn last_dimension(t: &Tensor) -> usize {
    t.shape().last().copied().unwrap_or(1)
}

/// `grad += scale * upstream`.
pub fn accumulate(upstream: &[f32], scale: f32, grad: &mut [f32]) {
    grad.iter_mut()
        .zip(upstream)
        .for_each(|(g, &u)| *g += scale * u);
}

/// `grad += scale · upstream`, or with `overwrite` `grad = scale · upstream`.
pub fn pass_on(upstream: &[f32], scale: f32, grad: &mut [f32], overwrite: bool) {
    match (overwrite, scale == 1.0) {
        (true, true) => grad.copy_from_slice(upstream),
        (true, false) => grad
            .iter_mut()
            .zip(upstream)
            .for_each(|(g, &u)| *g = scale * u),
        (false, _) => accumulate(upstream, scale, grad),
    }
}

pub fn add_bias_forward(x: &Tensor, bias: &Tensor, out: &mut Tensor) {
    let cols = bias.len();
    if cols == 0 {
        return;
    }
    // The playground's layers are a few neurons wide: a loop over a row of runtime length that
    // short never reaches the compiler's vectorised body, so columns go in blocks of constant
    // width (8, then 4, then one by one).
    let (bias, x, out) = (bias.data(), x.data(), out.data_mut());
    let mut j = 0;
    while cols - j >= 8 {
        add_bias_columns::<8>(x, bias, cols, j, out);
        j += 8;
    }
    if cols - j >= 4 {
        add_bias_columns::<4>(x, bias, cols, j, out);
        j += 4;
    }
    while j < cols {
        add_bias_columns::<1>(x, bias, cols, j, out);
        j += 1;
    }
}

/// Columns `j..j + W` of `out = x + bias` (rows of `cols`).
fn add_bias_columns<const W: usize>(
    x: &[f32],
    bias: &[f32],
    cols: usize,
    j: usize,
    out: &mut [f32],
) {
    let bias: &[f32; W] = bias[j..j + W].try_into().expect("W columns");
    for (out_row, x_row) in out.chunks_exact_mut(cols).zip(x.chunks_exact(cols)) {
        let out_block: &mut [f32; W] = (&mut out_row[j..j + W]).try_into().expect("W columns");
        let x_block: &[f32; W] = x_row[j..j + W].try_into().expect("W columns");
        for ((o, &x), &b) in out_block.iter_mut().zip(x_block).zip(bias) {
            *o = x + b;
        }
    }
}

/// The bias gradient is the upstream gradient summed over rows; `x`'s is the upstream itself.
pub fn add_bias_backward(slot: usize, upstream: &Tensor, grad: &mut Tensor) {
    if slot == 0 {
        accumulate(upstream.data(), 1.0, grad.data_mut());
        return;
    }
    let cols = grad.len();
    if cols == 0 {
        return;
    }
    for row in upstream.data().chunks_exact(cols) {
        accumulate(row, 1.0, grad.data_mut());
    }
}

pub fn add_forward(a: &Tensor, b: &Tensor, out: &mut Tensor) {
    let pairs = a.data().iter().zip(b.data());
    out.data_mut()
        .iter_mut()
        .zip(pairs)
        .for_each(|(o, (a, b))| *o = a + b);
}

pub fn mul_forward(a: &Tensor, b: &Tensor, out: &mut Tensor) {
    let pairs = a.data().iter().zip(b.data());
    out.data_mut()
        .iter_mut()
        .zip(pairs)
        .for_each(|(o, (a, b))| *o = a * b);
}

/// d(a*b)/da = b and d(a*b)/db = a.
/// `grad (+)= upstream · other`: added, or written with `overwrite`.
pub fn mul_backward(
    slot: usize,
    (a, b): (&Tensor, &Tensor),
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    let other = if slot == 0 { b } else { a };
    let each = grad
        .data_mut()
        .iter_mut()
        .zip(upstream.data().iter().zip(other.data()));
    match overwrite {
        true => each.for_each(|(g, (u, o))| *g = u * o),
        false => each.for_each(|(g, (u, o))| *g += u * o),
    }
}

pub fn square_forward(x: &Tensor, out: &mut Tensor) {
    out.data_mut()
        .iter_mut()
        .zip(x.data())
        .for_each(|(o, &x)| *o = x * x);
}

/// d(x^2)/dx = 2x.
pub fn square_backward(x: &Tensor, upstream: &Tensor, grad: &mut Tensor) {
    let pairs = upstream.data().iter().zip(x.data());
    grad.data_mut()
        .iter_mut()
        .zip(pairs)
        .for_each(|(g, (u, x))| *g += 2.0 * x * u);
}

pub fn add_scalar_forward(x: &Tensor, c: f32, out: &mut Tensor) {
    out.data_mut()
        .iter_mut()
        .zip(x.data())
        .for_each(|(o, &x)| *o = x + c);
}

pub fn scale_forward(x: &Tensor, c: f32, out: &mut Tensor) {
    out.data_mut()
        .iter_mut()
        .zip(x.data())
        .for_each(|(o, &x)| *o = c * x);
}

pub fn softmax_forward(x: &Tensor, out: &mut Tensor) {
    softmax::softmax_rows(x.data(), out.data_mut(), last_dimension(x));
}

pub fn softmax_backward(output: &Tensor, upstream: &Tensor, grad: &mut Tensor) {
    softmax::softmax_rows_backward(
        output.data(),
        upstream.data(),
        grad.data_mut(),
        last_dimension(output),
    );
}
