//! `MatMul`: `C = op(A) · op(B)` and its gradients, all through the strided gemm (no copies).
//!
//! With `dC` the upstream gradient:
//! `dA = dC · op(B)^T` (or its transpose when A is used transposed) and
//! `dB = op(A)^T · dC` (or its transpose when B is used transposed).
//!
//! GPU twin: shader `shaders/matmul.wgsl` and `matmul_wide.wgsl`; launcher `gpu::Commands::matmul`
//! (`src/gpu/matmul.rs`); parity cases: `Case::Matmul` in `tests/gpu_common/kernel_cases.rs`.

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::gemm::{self, Operand};
use crate::engine::tensor::Tensor;

fn used(shape: &[usize], transposed: bool) -> (usize, usize) {
    if transposed {
        (shape[1], shape[0])
    } else {
        (shape[0], shape[1])
    }
}

/// The shape of `op(a) · op(b)`; `op_name` says which op asks, for the error messages.
pub fn output_shape(
    op_name: &'static str,
    a: &[usize],
    transpose_a: bool,
    b: &[usize],
    transpose_b: bool,
) -> Result<OutputShape, EngineError> {
    if a.len() != 2 || b.len() != 2 {
        return Err(EngineError::shape(
            op_name,
            "two matrices (2-D tensors)",
            format!("shapes {a:?} and {b:?}"),
        ));
    }
    let (m, k) = used(a, transpose_a);
    let (k_b, n) = used(b, transpose_b);
    if k != k_b {
        let t = |flag: bool| if flag { "ᵀ" } else { "" };
        return Err(EngineError::shape(
            op_name,
            "the left matrix to have as many columns as the right one has rows",
            format!(
                "{a:?}{} by {b:?}{}: inner dimensions {k} and {k_b} differ",
                t(transpose_a),
                t(transpose_b)
            ),
        ));
    }
    Ok(OutputShape::Matrix(m, n))
}

pub fn operand(t: &Tensor, transposed: bool) -> Operand<'_> {
    Operand::new(t.data(), t.shape()[0], t.shape()[1], transposed)
}

pub fn forward(a: &Tensor, transpose_a: bool, b: &Tensor, transpose_b: bool, out: &mut Tensor) {
    gemm::matmul(
        operand(a, transpose_a),
        operand(b, transpose_b),
        out.data_mut(),
        false,
    );
}

/// The gradient of `op(A) · op(B)` with respect to input `slot` (0 is `A`, 1 is `B`), added
/// to `grad`, or written over it when `accumulate` is false.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    slot: usize,
    a: &Tensor,
    transpose_a: bool,
    b: &Tensor,
    transpose_b: bool,
    upstream: &Tensor,
    grad: &mut Tensor,
    accumulate: bool,
) {
    let d_c = |transposed| operand(upstream, transposed);
    let out = grad.data_mut();
    match (slot, transpose_a, transpose_b) {
        // A used as is: dA = dC · op(B)^T.
        (0, false, _) => gemm::matmul(d_c(false), operand(b, !transpose_b), out, accumulate),
        // A used transposed: dA = (dC · op(B)^T)^T = op(B) · dC^T.
        (0, true, _) => gemm::matmul(operand(b, transpose_b), d_c(true), out, accumulate),
        // B used as is: dB = op(A)^T · dC.
        (_, _, false) => gemm::matmul(operand(a, !transpose_a), d_c(false), out, accumulate),
        // B used transposed: dB = (op(A)^T · dC)^T = dC^T · op(A).
        (_, _, true) => gemm::matmul(d_c(true), operand(a, transpose_a), out, accumulate),
    }
}
