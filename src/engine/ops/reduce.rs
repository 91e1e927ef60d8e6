//! Reductions to a scalar (sum, mean): forward and backward.
//!
//! GPU twin: none. The loss sums its terms on the GPU itself (`reduce.wgsl`'s `sum_to_scalar`),
//! and the GPU pass refuses these two ops by name.

use crate::engine::tensor::Tensor;

pub fn sum_forward(x: &Tensor, out: &mut Tensor) {
    let total: f64 = x.data().iter().map(|&v| f64::from(v)).sum();
    out.data_mut()[0] = total as f32;
}

pub fn mean_forward(x: &Tensor, out: &mut Tensor) {
    let total: f64 = x.data().iter().map(|&v| f64::from(v)).sum();
    out.data_mut()[0] = (total / x.len().max(1) as f64) as f32;
}

/// Every element contributed `scale` (1 for sum, 1/n for mean) to the scalar output.
pub fn sum_backward(upstream: &Tensor, scale: f32, grad: &mut Tensor) {
    let g = upstream.data()[0] * scale;
    grad.data_mut().iter_mut().for_each(|v| *v += g);
}
