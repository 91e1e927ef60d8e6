//! Shared by the GPU kernel parity suites: opening the device (a missing adapter fails the suite,
//! it never skips), the engine side of a case (forward, then backward of `sum(y * r)`), and the
//! error measure.

// Each suite uses the helpers it needs.
#![allow(dead_code)]

use neural_playground::engine::{NodeId, ParamId, ParamRole, Params, SeededRng, Tape, Tensor};
use neural_playground::gpu::{GpuContext, GpuError};

/// The default adapter (lavapipe natively), or a panic saying how to get one.
pub fn open_context() -> GpuContext {
    GpuContext::new_blocking().unwrap_or_else(|error| match error {
        GpuError::NoAdapter(reason) => panic!(
            "no GPU adapter: install mesa-vulkan-drivers (cargo xtask setup does) or run on a \
             machine with a GPU\nwgpu: {reason}"
        ),
        other => panic!("{other}"),
    })
}

/// A parameter node holding `value` (so the tape computes its gradient).
pub fn parameter(tape: &mut Tape, params: &mut Params, value: &Tensor) -> (ParamId, NodeId) {
    let id = params.add(value.clone(), ParamRole::Other);
    (id, tape.parameter(params, id).unwrap())
}

/// Runs forward and backward of `sum(y * r)` for a random `r`, and returns `r` (the gradient
/// of that sum with respect to `y`).
pub fn weighted_sum_backward(
    tape: &mut Tape,
    params: &mut Params,
    y: NodeId,
    rng: &mut SeededRng,
) -> Tensor {
    let shape = tape.node(y).value().shape().to_vec();
    let r = random(rng, &shape, -1.0, 1.0);
    let r_node = tape.input(&shape);
    let product = tape.mul(y, r_node).unwrap();
    let total = tape.sum(product).unwrap();
    tape.set_input(r_node, &r).unwrap();
    tape.forward(params).unwrap();
    tape.backward(total, params).unwrap();
    r
}

pub fn random(rng: &mut SeededRng, shape: &[usize], low: f32, high: f32) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| rng.uniform_range(low, high)).collect();
    Tensor::from_vec(shape, data).unwrap()
}

pub fn plus(a: &Tensor, b: &Tensor) -> Tensor {
    let sum = a.data().iter().zip(b.data()).map(|(x, y)| x + y).collect();
    Tensor::from_vec(a.shape(), sum).unwrap()
}

/// `max |got - expected| / max |expected|` (infinite when the GPU produced a non-finite value).
pub fn compare(got: &Tensor, expected: &Tensor) -> f64 {
    assert_eq!(got.shape(), expected.shape(), "read back the wrong shape");
    if got.data().iter().any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    difference(got.data(), expected.data())
}

/// `max |got - expected| / max |expected|` of two lists of the same length.
pub fn difference(got: &[f32], expected: &[f32]) -> f64 {
    assert_eq!(
        got.len(),
        expected.len(),
        "compared lists of different lengths"
    );
    let worst = got
        .iter()
        .zip(expected)
        .map(|(&g, &e)| (f64::from(g) - f64::from(e)).abs())
        .fold(0.0, f64::max);
    let scale = expected
        .iter()
        .map(|&e| f64::from(e).abs())
        .fold(0.0, f64::max);
    worst / scale.max(f64::MIN_POSITIVE)
}
