//! The loss op: a scalar loss of a prediction (or logits) against a target, and its gradient with
//! respect to the prediction (the formulas live in `engine::loss`).
//!
//! GPU twin: shader `shaders/reduce.wgsl` (`loss_terms`, `sum_to_scalar`, `loss_gradient`);
//! launcher `gpu::Commands::loss_value`, `loss_gradient` (`src/gpu/kernels.rs`); parity cases:
//! `Case::LossValue` and `Case::LossGradient` in `tests/gpu_common/kernel_cases.rs`.

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::loss::Loss;
use crate::engine::tensor::Tensor;

pub fn output_shape(
    kind: Loss,
    prediction: &[usize],
    target: &[usize],
) -> Result<OutputShape, EngineError> {
    if prediction != target {
        return Err(EngineError::shape(
            "loss",
            format!("targets shaped like the predictions {prediction:?}"),
            format!("targets of shape {target:?}"),
        ));
    }
    if kind == Loss::SoftmaxCrossEntropy && prediction.last().is_none_or(|&k| k < 2) {
        return Err(EngineError::shape(
            "cross_entropy",
            "at least two classes (columns) for softmax cross-entropy",
            format!("predictions of shape {prediction:?}"),
        ));
    }
    Ok(OutputShape::Scalar)
}

fn columns(t: &Tensor) -> usize {
    t.shape().last().copied().unwrap_or(1)
}

pub fn forward(kind: Loss, prediction: &Tensor, target: &Tensor, out: &mut Tensor) {
    out.data_mut()[0] = kind.value(prediction.data(), target.data(), columns(prediction)) as f32;
}

pub fn backward(
    kind: Loss,
    prediction: &Tensor,
    target: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
) {
    let cols = columns(prediction);
    kind.gradient(
        prediction.data(),
        target.data(),
        cols,
        upstream.data()[0],
        grad.data_mut(),
    );
}
