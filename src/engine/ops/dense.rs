//! `Dense`: `Y = X · W + b`, a dense layer's weighted sums as one op, so that the bias is added
//! as the product is computed instead of in a second pass over `Y` (the decision-boundary grid
//! spent 15% of its time in that pass).
//!
//! Backward is the matmul's and the bias add's, with `dY` the upstream gradient:
//! `dX += dY · Wᵀ`, `dW += Xᵀ · dY` and `db += dY` summed over the rows.
//!
//! GPU twin: shader `shaders/matmul.wgsl` / `matmul_wide.wgsl`, then `elementwise.wgsl`'s
//! `add_bias`; launcher `gpu::Commands::matmul` and `add_bias` (`src/gpu/kernels.rs`; the GPU runs
//! the two in turn); parity cases: `Case::Matmul` and `Case::BiasAdd` in
//! `tests/gpu_common/kernel_cases.rs`.

use super::{OutputShape, elementwise, matmul};
use crate::engine::error::EngineError;
use crate::engine::gemm::{self, PanelLayout, Runs};
use crate::engine::tensor::Tensor;

const NAME: &str = "dense";

pub fn output_shape(
    x: &[usize],
    weights: &[usize],
    bias: &[usize],
) -> Result<OutputShape, EngineError> {
    let shape = matmul::output_shape(NAME, x, false, weights, false)?;
    if let OutputShape::Matrix(rows, outputs) = shape {
        elementwise::add_bias_shape(NAME, &[rows, outputs], bias)?;
    }
    Ok(shape)
}

pub fn forward(x: &Tensor, weights: &Tensor, bias: &Tensor, out: &mut Tensor) {
    gemm::matmul_plus_bias(
        matmul::operand(x, false),
        matmul::operand(weights, false),
        bias.data(),
        out.data_mut(),
    );
}

/// Slot 0 is `X`, 1 is `W`, 2 is `b`. `accumulate == false` overwrites `grad` (slots 0 and 1
/// only: the bias gradient always accumulates).
pub fn backward(
    slot: usize,
    x: &Tensor,
    weights: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
    accumulate: bool,
) {
    match slot {
        0 | 1 => matmul::backward(slot, x, false, weights, false, upstream, grad, accumulate),
        _ => elementwise::add_bias_backward(1, upstream, grad),
    }
}

/// The weight gradient `dW = Xᵀ · dY` handed to `each_band` a band of rows at a time (the
/// first row's index and the band), computed in `scratch` (`W`'s shape) only where the product
/// is too small to be worth banding: see [`gemm::matmul_in_row_bands`]. `each_band` reads the
/// band's rows of `ahead` (matrices shaped as `W`), which are prefetched meanwhile.
pub fn weight_gradient_in_bands(
    x: &Tensor,
    upstream: &Tensor,
    scratch: &mut Tensor,
    ahead: &[gemm::ReadAhead],
    each_band: impl FnMut(usize, &mut [f32]),
) {
    gemm::matmul_in_row_bands(
        matmul::operand(x, true),
        matmul::operand(upstream, false),
        scratch.data_mut(),
        ahead,
        each_band,
    );
}

/// [`forward`] with the weights kept in `layout` (see `PackedWeights`).
pub fn forward_packed(
    x: &Tensor,
    weights: &[f32],
    layout: &PanelLayout,
    bias: &Tensor,
    out: &mut Tensor,
) {
    gemm::matmul_packed_plus_bias(
        matmul::operand(x, false),
        weights,
        layout,
        bias.data(),
        out.data_mut(),
    );
}

/// The input gradient `dX = dY · Wᵀ` (added to `grad` when `accumulate`) with the weights kept
/// in `layout`.
pub fn input_gradient_packed(
    upstream: &Tensor,
    weights: &[f32],
    layout: &PanelLayout,
    grad: &mut Tensor,
    accumulate: bool,
) {
    gemm::matmul_packed_transposed(
        matmul::operand(upstream, false),
        weights,
        layout,
        grad.data_mut(),
        accumulate,
    );
}

/// [`weight_gradient_in_bands`] for weights kept in `layout`: each band comes in that layout's
/// order, with the [`Runs`] where it lies in the packed weights (see
/// [`gemm::matmul_in_panel_bands`]).
pub fn weight_gradient_in_panel_bands(
    x: &Tensor,
    upstream: &Tensor,
    layout: &PanelLayout,
    scratch: &mut Tensor,
    ahead: &[gemm::ReadAhead],
    each_band: impl FnMut(Runs, &mut [f32]),
) {
    gemm::matmul_in_panel_bands(
        matmul::operand(x, true),
        matmul::operand(upstream, false),
        layout,
        scratch.data_mut(),
        ahead,
        each_band,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::SeededRng;

    fn random(shape: &[usize], rng: &mut SeededRng) -> Tensor {
        let mut t = Tensor::zeros(shape);
        t.data_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(-1.0, 1.0));
        t
    }

    fn assert_close(what: &str, got: &Tensor, expected: &Tensor) {
        for (index, (g, e)) in got.data().iter().zip(expected.data()).enumerate() {
            assert!(
                (g - e).abs() <= 1e-5 * (1.0 + e.abs()),
                "{what}[{index}]: {g} vs {e}"
            );
        }
    }

    /// Forward and every gradient against the matmul op then the add_bias op, on odd shapes that
    /// take each skinny loop (row updates of a fixed depth and of any depth, dot products over
    /// contiguous and over gathered columns) and the blocked GEMM.
    #[test]
    fn equals_matmul_then_add_bias() {
        let mut rng = SeededRng::new(3);
        let shapes = [
            (37, 2, 8),
            (13, 7, 3),
            (9, 5, 1),
            (5, 12, 21),
            (10, 20, 1),
            (6, 20, 2),
            (41, 19, 27),
        ];
        for (rows, inputs, outputs) in shapes {
            let x = random(&[rows, inputs], &mut rng);
            let weights = random(&[inputs, outputs], &mut rng);
            let bias = random(&[outputs], &mut rng);
            let upstream = random(&[rows, outputs], &mut rng);

            let mut fused = Tensor::zeros(&[rows, outputs]);
            forward(&x, &weights, &bias, &mut fused);
            let mut product = Tensor::zeros(&[rows, outputs]);
            matmul::forward(&x, false, &weights, false, &mut product);
            let mut separate = Tensor::zeros(&[rows, outputs]);
            elementwise::add_bias_forward(&product, &bias, &mut separate);
            assert_close("output", &fused, &separate);

            for (slot, input) in [&x, &weights, &bias].into_iter().enumerate() {
                let mut fused_grad = random(input.shape(), &mut SeededRng::new(9));
                let mut separate_grad = fused_grad.clone();
                backward(slot, &x, &weights, &upstream, &mut fused_grad, true);
                match slot {
                    2 => elementwise::add_bias_backward(1, &upstream, &mut separate_grad),
                    _ => matmul::backward(
                        slot,
                        &x,
                        false,
                        &weights,
                        false,
                        &upstream,
                        &mut separate_grad,
                        true,
                    ),
                }
                assert_close(&format!("gradient {slot}"), &fused_grad, &separate_grad);
                if slot < 2 {
                    // Overwriting gives the product alone, whatever the gradient held.
                    let mut overwritten = random(input.shape(), &mut SeededRng::new(11));
                    backward(slot, &x, &weights, &upstream, &mut overwritten, false);
                    let mut from_zero = Tensor::zeros(input.shape());
                    backward(slot, &x, &weights, &upstream, &mut from_zero, true);
                    assert_close(&format!("overwritten {slot}"), &overwritten, &from_zero);
                }
            }
        }
    }

    #[test]
    fn refuses_a_bias_of_the_wrong_length() {
        let error = output_shape(&[4, 3], &[3, 2], &[3])
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("dense") && error.contains("length 2"),
            "{error}"
        );
        let error = output_shape(&[4, 3], &[2, 2], &[2])
            .unwrap_err()
            .to_string();
        assert!(error.contains("inner dimensions 3 and 2"), "{error}");
    }
}
