//! Dropout as an op, `x · mask`: shape rule, forward and backward. The mask is data that the
//! [dropout layer](crate::engine::dropout) draws before every training step: 0 where a value is
//! dropped, `1 / (1 - rate)` where it is kept (inverted dropout: the survivors are scaled up in
//! training, so the expected output equals the input and evaluation needs no rescaling).
//! Backward lets the gradient through the kept values, scaled the same way; none flows into the
//! mask.
//!
//! GPU twin: shader `shaders/dropout.wgsl`; launcher `gpu::NormCommands::dropout_*`
//! (`src/gpu/norm_kernels.rs`); parity cases: `tests/gpu_common/norm_cases.rs`.

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

pub fn output_shape(x: &[usize], mask: &[usize]) -> Result<OutputShape, EngineError> {
    if x != mask {
        return Err(EngineError::shape(
            "dropout",
            format!("a mask of the input's shape {x:?}"),
            format!("a mask of shape {mask:?}"),
        ));
    }
    Ok(OutputShape::SameAs(0))
}

pub fn forward(x: &Tensor, mask: &Tensor, out: &mut Tensor) {
    let pairs = x.data().iter().zip(mask.data());
    out.data_mut()
        .iter_mut()
        .zip(pairs)
        .for_each(|(y, (x, m))| *y = x * m);
}

/// d(x · mask)/dx = mask: 0 for a dropped value, `1 / (1 - rate)` for a kept one.
pub fn backward(mask: &Tensor, upstream: &Tensor, grad: &mut Tensor) {
    let pairs = upstream.data().iter().zip(mask.data());
    grad.data_mut()
        .iter_mut()
        .zip(pairs)
        .for_each(|(g, (dy, m))| *g += dy * m);
}
