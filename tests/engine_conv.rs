//! Convolution, pooling and flatten on the tape: finite-difference gradient checks, a naive-loop
//! oracle for the im2col forward pass, the course's worked examples, and the output-size formula
//! `n_out = (n_in + 2p - k)/s + 1` with its refusals.

use neural_playground::engine::{
    EngineError, NodeId, ParamRole, Params, SeededRng, Tape, Tensor, output_side,
};

mod common;

use common::check;

fn random_tensor(shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut t = Tensor::zeros(shape);
    t.data_mut()
        .iter_mut()
        .for_each(|v| *v = rng.uniform_range(-2.0, 2.0));
    t
}

/// Distinct values at least 0.1 apart in a random order, so that no max-pool window has a
/// near-tie that a difference step could flip.
fn distinct_values(shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut t = Tensor::zeros(shape);
    let n = t.len();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    for i in (1..n).rev() {
        let j = (rng.uniform_range(0.0, 1.0) * (i + 1) as f32) as usize;
        values.swap(i, j.min(i));
    }
    t.data_mut().copy_from_slice(&values);
    t
}

fn tensor(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_vec(shape, values.to_vec()).unwrap()
}

/// `sum(x * r)` with random `r`, so backward gets a non-uniform upstream gradient.
fn weighted_sum(tape: &mut Tape, x: NodeId, rng: &mut SeededRng) -> NodeId {
    let shape = tape.node(x).value().shape().to_vec();
    let weights = tape.input(&shape);
    tape.set_input(weights, &random_tensor(&shape, rng))
        .unwrap();
    let product = tape.mul(x, weights).unwrap();
    tape.sum(product).unwrap()
}

fn parameter(tape: &mut Tape, params: &mut Params, value: Tensor) -> NodeId {
    let id = params.add(value, ParamRole::Other);
    tape.parameter(params, id).unwrap()
}

/// `out[n, o, y, x] = b[o] + Σ_{c, i, j} x[n, c, y·s + i - p, x·s + j - p] · w[o, c, i, j]`,
/// written as the seven loops of the definition.
fn naive_conv(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize, padding: usize) -> Tensor {
    let [n, c_in, h, wd] = x.shape().try_into().unwrap();
    let [c_out, _, k, _] = w.shape().try_into().unwrap();
    let (oh, ow) = (
        (h + 2 * padding - k) / stride + 1,
        (wd + 2 * padding - k) / stride + 1,
    );
    let mut out = Tensor::zeros(&[n, c_out, oh, ow]);
    let at = |t: &Tensor, s: [usize; 4], i: [usize; 4]| {
        t.data()[((i[0] * s[1] + i[1]) * s[2] + i[2]) * s[3] + i[3]]
    };
    for image in 0..n {
        for o in 0..c_out {
            for y in 0..oh {
                for xx in 0..ow {
                    let mut total = b.data()[o];
                    for c in 0..c_in {
                        for i in 0..k {
                            for j in 0..k {
                                let (row, col) = (y * stride + i, xx * stride + j);
                                if row < padding || col < padding {
                                    continue;
                                }
                                let (row, col) = (row - padding, col - padding);
                                if row >= h || col >= wd {
                                    continue;
                                }
                                total += at(x, [n, c_in, h, wd], [image, c, row, col])
                                    * at(w, [c_out, c_in, k, k], [o, c, i, j]);
                            }
                        }
                    }
                    out.data_mut()[((image * c_out + o) * oh + y) * ow + xx] = total;
                }
            }
        }
    }
    out
}

/// Runs one conv2d on the tape and returns its output.
fn conv_on_tape(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize, padding: usize) -> Tensor {
    let mut tape = Tape::new();
    let mut params = Params::new();
    let input = tape.input(x.shape());
    let weights = parameter(&mut tape, &mut params, w.clone());
    let bias = parameter(&mut tape, &mut params, b.clone());
    let out = tape.conv2d(input, weights, bias, stride, padding).unwrap();
    tape.set_input(input, x).unwrap();
    tape.forward(&params).unwrap();
    tape.value(out).clone()
}

fn pool_on_tape(x: &Tensor, max: bool, size: usize, stride: usize) -> Tensor {
    let mut tape = Tape::new();
    let input = tape.input(x.shape());
    let out = if max {
        tape.max_pool2d(input, size, stride).unwrap()
    } else {
        tape.avg_pool2d(input, size, stride).unwrap()
    };
    tape.set_input(input, x).unwrap();
    tape.forward(&Params::new()).unwrap();
    tape.value(out).clone()
}

#[test]
fn conv2d_gradients_for_input_weights_and_bias() {
    let mut rng = SeededRng::new(5);
    // Odd sizes: 5 rows and 7 columns, 2 input channels, 3 output channels, 3x3 kernels.
    for (stride, padding) in [(1, 0), (1, 1), (2, 0), (2, 1)] {
        let mut tape = Tape::new();
        let mut params = Params::new();
        let x = parameter(
            &mut tape,
            &mut params,
            random_tensor(&[2, 2, 5, 7], &mut rng),
        );
        let w = parameter(
            &mut tape,
            &mut params,
            random_tensor(&[3, 2, 3, 3], &mut rng),
        );
        let b = parameter(&mut tape, &mut params, random_tensor(&[3], &mut rng));
        let y = tape.conv2d(x, w, b, stride, padding).unwrap();
        let loss = weighted_sum(&mut tape, y, &mut rng);
        let name = format!("conv2d stride {stride} padding {padding}");
        check(&name, &mut tape, &mut params, loss);
    }
}

#[test]
fn conv2d_gradients_through_a_nonlinear_chain() {
    // conv -> square -> conv -> mean: the second conv's upstream depends on the first's output.
    let mut rng = SeededRng::new(6);
    let mut tape = Tape::new();
    let mut params = Params::new();
    let x = parameter(
        &mut tape,
        &mut params,
        random_tensor(&[1, 2, 6, 6], &mut rng),
    );
    let w1 = parameter(
        &mut tape,
        &mut params,
        random_tensor(&[3, 2, 2, 2], &mut rng),
    );
    let b1 = parameter(&mut tape, &mut params, random_tensor(&[3], &mut rng));
    let w2 = parameter(
        &mut tape,
        &mut params,
        random_tensor(&[2, 3, 3, 3], &mut rng),
    );
    let b2 = parameter(&mut tape, &mut params, random_tensor(&[2], &mut rng));
    let h = tape.conv2d(x, w1, b1, 1, 1).unwrap();
    let h = tape.square(h).unwrap();
    let y = tape.conv2d(h, w2, b2, 2, 0).unwrap();
    let loss = tape.mean(y).unwrap();
    check("conv2d chain", &mut tape, &mut params, loss);
}

#[test]
fn max_pool2d_gradients() {
    let mut rng = SeededRng::new(7);
    for (shape, size, stride) in [
        ([2, 3, 6, 4], 2, 2),
        // A wide plane through the 2x2 fast path: rows and columns must not be swapped.
        ([1, 2, 4, 10], 2, 2),
        ([1, 2, 5, 5], 3, 2),
        ([1, 2, 4, 5], 2, 1),
    ] {
        let mut tape = Tape::new();
        let mut params = Params::new();
        let x = parameter(&mut tape, &mut params, distinct_values(&shape, &mut rng));
        let y = tape.max_pool2d(x, size, stride).unwrap();
        let loss = weighted_sum(&mut tape, y, &mut rng);
        check("max_pool2d", &mut tape, &mut params, loss);
    }
}

#[test]
fn avg_pool2d_gradients() {
    let mut rng = SeededRng::new(8);
    for (shape, size, stride) in [
        ([2, 3, 6, 4], 2, 2),
        ([1, 2, 5, 5], 3, 2),
        ([1, 2, 4, 5], 2, 1),
    ] {
        let mut tape = Tape::new();
        let mut params = Params::new();
        let x = parameter(&mut tape, &mut params, random_tensor(&shape, &mut rng));
        let y = tape.avg_pool2d(x, size, stride).unwrap();
        let loss = weighted_sum(&mut tape, y, &mut rng);
        check("avg_pool2d", &mut tape, &mut params, loss);
    }
}

#[test]
fn flatten_keeps_the_order_and_passes_gradients() {
    let mut rng = SeededRng::new(9);
    let mut tape = Tape::new();
    let mut params = Params::new();
    let value = random_tensor(&[2, 3, 2, 2], &mut rng);
    let x = parameter(&mut tape, &mut params, value.clone());
    let flat = tape.flatten(x).unwrap();
    let w = parameter(&mut tape, &mut params, random_tensor(&[12, 4], &mut rng));
    let y = tape.matmul(flat, w).unwrap();
    let loss = weighted_sum(&mut tape, y, &mut rng);
    tape.forward(&params).unwrap();
    assert_eq!(tape.value(flat).shape(), &[2, 12]);
    assert_eq!(tape.value(flat).data(), value.data());
    check("flatten", &mut tape, &mut params, loss);
}

#[test]
fn conv2d_forward_matches_a_naive_loop() {
    let mut rng = SeededRng::new(10);
    let cases = [
        // (input shape, out channels, kernel, stride, padding)
        ([2, 2, 5, 7], 3, 3, 1, 0),
        ([2, 2, 5, 7], 3, 3, 2, 1),
        ([1, 1, 28, 28], 6, 5, 1, 2),
        ([3, 6, 14, 14], 16, 5, 1, 0),
        ([2, 3, 9, 9], 4, 1, 2, 0),
        ([1, 2, 4, 4], 2, 4, 1, 3),
        // A stride of 3 over padding, and padding wider than the kernel (whole rows of zeros).
        ([1, 2, 8, 8], 2, 3, 3, 2),
        ([1, 1, 3, 3], 1, 2, 1, 3),
    ];
    for (shape, c_out, k, stride, padding) in cases {
        let x = random_tensor(&shape, &mut rng);
        let w = random_tensor(&[c_out, shape[1], k, k], &mut rng);
        let b = random_tensor(&[c_out], &mut rng);
        let expected = naive_conv(&x, &w, &b, stride, padding);
        let found = conv_on_tape(&x, &w, &b, stride, padding);
        assert_eq!(found.shape(), expected.shape());
        for (i, (f, e)) in found.data().iter().zip(expected.data()).enumerate() {
            assert!(
                (f - e).abs() <= 1e-4 * (1.0 + e.abs()),
                "{shape:?} k {k} s {stride} p {padding}: element {i}: {f} vs {e}"
            );
        }
    }
}

#[test]
fn course_four_kernels_on_a_2x2_image_give_17_9_13_13() {
    // Four 2x2 kernels as large as the image: the layer maps 1 channel to 4 (and flattens it).
    let image = tensor(&[1, 1, 2, 2], &[10., 3., 6., 7.]);
    let kernels = tensor(
        &[4, 1, 2, 2],
        &[
            1., 0., 0., 1., 0., 1., 1., 0., 1., 1., 0., 0., 0., 0., 1., 1.,
        ],
    );
    let out = conv_on_tape(&image, &kernels, &Tensor::zeros(&[4]), 1, 0);
    assert_eq!(out.shape(), &[1, 4, 1, 1]);
    assert_eq!(out.data(), &[17., 9., 13., 13.]);
}

#[test]
fn course_feature_maps_and_the_two_channel_kernel() {
    let image = tensor(
        &[1, 1, 5, 5],
        &[
            1., 1., 1., 0., 0., //
            0., 1., 1., 1., 0., //
            0., 0., 1., 1., 1., //
            0., 0., 1., 1., 0., //
            0., 1., 1., 0., 0.,
        ],
    );
    // The course's two 3x3 kernels give its two feature maps.
    let kernels = tensor(
        &[2, 1, 3, 3],
        &[
            1., 0., 1., 0., 1., 0., 1., 0., 1., //
            0., 1., 0., 1., -4., 1., 0., 1., 0.,
        ],
    );
    let maps = conv_on_tape(&image, &kernels, &Tensor::zeros(&[2]), 1, 0);
    assert_eq!(maps.shape(), &[1, 2, 3, 3]);
    assert_eq!(
        maps.data(),
        &[
            4., 3., 4., 2., 4., 3., 2., 3., 4., -2., 0., -2., 2., -1., 0., 2., -1., -2.
        ]
    );
    // One kernel reading both maps (2 channels to 1): [[1, 0], [0, 1]] and [[0, 1], [1, 0]].
    let two_channel = tensor(&[1, 2, 2, 2], &[1., 0., 0., 1., 0., 1., 1., 0.]);
    let out = conv_on_tape(&maps, &two_channel, &Tensor::zeros(&[1]), 1, 0);
    assert_eq!(out.shape(), &[1, 1, 2, 2]);
    assert_eq!(out.data(), &[10., 3., 6., 7.]);
    // The bias of an output channel is added to each of its elements.
    let out = conv_on_tape(&maps, &two_channel, &tensor(&[1], &[0.5]), 1, 0);
    assert_eq!(out.data(), &[10.5, 3.5, 6.5, 7.5]);
}

fn course_pooling_input() -> Tensor {
    tensor(
        &[1, 1, 4, 4],
        &[
            4., 3., 1., 3., //
            2., 4., 3., 2., //
            2., 3., 2., 1., //
            2., 1., 0., 1.,
        ],
    )
}

#[test]
fn course_pooling_example() {
    let average = pool_on_tape(&course_pooling_input(), false, 2, 2);
    assert_eq!(average.shape(), &[1, 1, 2, 2]);
    assert_eq!(average.data(), &[3.25, 2.25, 2., 1.]);
    let max = pool_on_tape(&course_pooling_input(), true, 2, 2);
    assert_eq!(max.data(), &[4., 3., 3., 2.]);
}

/// The gradient of `sum(pool(x))` with respect to `x`.
fn pool_gradient(x: &Tensor, max: bool) -> Tensor {
    let mut tape = Tape::new();
    let mut params = Params::new();
    let id = params.add(x.clone(), ParamRole::Other);
    let input = tape.parameter(&params, id).unwrap();
    let pooled = if max {
        tape.max_pool2d(input, 2, 2).unwrap()
    } else {
        tape.avg_pool2d(input, 2, 2).unwrap()
    };
    let loss = tape.sum(pooled).unwrap();
    tape.forward(&params).unwrap();
    tape.backward(loss, &mut params).unwrap();
    params.grad(id).clone()
}

#[test]
fn pooling_backward_routes_or_splits_the_gradient() {
    // Max: all of it to the winner of each window (the first one on a tie, like PyTorch: the 4s
    // of the first window and the 3s of the second).
    let max = pool_gradient(&course_pooling_input(), true);
    assert_eq!(
        max.data(),
        &[
            1., 0., 0., 1., //
            0., 0., 0., 0., //
            0., 1., 1., 0., //
            0., 0., 0., 0.,
        ]
    );
    // Average: a quarter to each of the four elements of every window.
    let average = pool_gradient(&course_pooling_input(), false);
    assert!(average.data().iter().all(|&g| g == 0.25), "{average:?}");
}

#[test]
fn output_size_formula() {
    // n_out = (n_in + 2p - k)/s + 1
    assert_eq!(output_side(28, 5, 1, Some(2)), Ok(28)); // LeNet-5 C1
    assert_eq!(output_side(28, 2, 2, None), Ok(14)); // S2
    assert_eq!(output_side(14, 5, 1, Some(0)), Ok(10)); // C3
    assert_eq!(output_side(6, 3, 1, Some(1)), Ok(6)); // the course's padded 6x6 image
    assert_eq!(output_side(5, 3, 2, Some(1)), Ok(3));
    assert_eq!(output_side(7, 7, 1, Some(0)), Ok(1));
    assert_eq!(
        output_side(28, 5, 2, Some(0)),
        Err("(28 + 0 - 5)/2 + 1 = 12.5 is not a whole number".to_string())
    );
}

fn conv_error(input: &[usize], weights: &[usize], bias: &[usize], s: usize, p: usize) -> String {
    let mut tape = Tape::new();
    let mut params = Params::new();
    let x = tape.input(input);
    let w = parameter(&mut tape, &mut params, Tensor::zeros(weights));
    let b = parameter(&mut tape, &mut params, Tensor::zeros(bias));
    let error: EngineError = tape.conv2d(x, w, b, s, p).unwrap_err();
    error.to_string()
}

#[test]
fn impossible_shapes_are_refused_with_the_reason() {
    assert_eq!(
        conv_error(&[1, 1, 28, 28], &[6, 1, 5, 5], &[6], 2, 0),
        "conv2d: a 5x5 kernel with stride 2 and padding 0 does not fit a 28x28 input: \
         (28 + 0 - 5)/2 + 1 = 12.5 is not a whole number"
    );
    assert_eq!(
        conv_error(&[1, 1, 3, 3], &[1, 1, 5, 5], &[1], 1, 0),
        "conv2d: a 5x5 kernel with stride 1 and padding 0 does not fit a 3x3 input: \
         (3 + 0 - 5)/1 + 1 = -1: the window is larger than the input"
    );
    assert_eq!(
        conv_error(&[1, 1, 28, 27], &[1, 1, 5, 5], &[1], 2, 0),
        "conv2d: a 5x5 kernel with stride 2 and padding 0 does not fit a 28x27 input: \
         along the height, (28 + 0 - 5)/2 + 1 = 12.5 is not a whole number"
    );
    let channels = conv_error(&[1, 3, 8, 8], &[4, 1, 3, 3], &[4], 1, 0);
    assert!(
        channels.contains("1 channels") && channels.contains("3 channels"),
        "{channels}"
    );
    let bias = conv_error(&[1, 1, 8, 8], &[4, 1, 3, 3], &[3], 1, 0);
    assert!(bias.contains("one bias per output channel"), "{bias}");
    let flat = conv_error(&[1, 64], &[4, 1, 3, 3], &[4], 1, 0);
    assert!(flat.contains("[batch, channels, height, width]"), "{flat}");
    let stride = conv_error(&[1, 1, 8, 8], &[4, 1, 3, 3], &[4], 0, 0);
    assert!(stride.contains("at least 1"), "{stride}");

    let mut tape = Tape::new();
    let x = tape.input(&[1, 6, 28, 28]);
    assert_eq!(
        tape.max_pool2d(x, 3, 2).unwrap_err().to_string(),
        "max_pool2d: a 3x3 window with stride 2 does not fit a 28x28 input: \
         (28 - 3)/2 + 1 = 13.5 is not a whole number"
    );
    assert!(tape.avg_pool2d(x, 2, 2).is_ok());
    let flat = tape.flatten(x).unwrap();
    assert!(tape.max_pool2d(flat, 2, 2).is_err());
}

#[test]
fn the_same_tape_serves_any_batch_size() {
    let mut rng = SeededRng::new(11);
    let mut tape = Tape::new();
    let mut params = Params::new();
    let x = tape.input(&[4, 1, 8, 8]);
    let w_id = params.add(random_tensor(&[2, 1, 3, 3], &mut rng), ParamRole::Other);
    let b_id = params.add(random_tensor(&[2], &mut rng), ParamRole::Other);
    let w = tape.parameter(&params, w_id).unwrap();
    let b = tape.parameter(&params, b_id).unwrap();
    let y = tape.conv2d(x, w, b, 1, 1).unwrap();
    let pooled = tape.max_pool2d(y, 2, 2).unwrap();
    let flat = tape.flatten(pooled).unwrap();
    let loss = tape.mean(flat).unwrap();
    for batch in [4, 1, 3] {
        let input = random_tensor(&[batch, 1, 8, 8], &mut rng);
        tape.set_input(x, &input).unwrap();
        tape.forward(&params).unwrap();
        tape.backward(loss, &mut params).unwrap();
        assert_eq!(tape.value(flat).shape(), &[batch, 32]);
        let expected = naive_conv(&input, params.value(w_id), params.value(b_id), 1, 1);
        let found = tape.value(y);
        assert_eq!(found.shape(), expected.shape());
        let worst = found
            .data()
            .iter()
            .zip(expected.data())
            .map(|(f, e)| (f - e).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-4, "batch {batch}: off by {worst}");
        assert!(params.grad(w_id).is_finite() && params.grad(b_id).is_finite());
        assert!(params.grad(b_id).data().iter().all(|&g| g > 0.0));
    }
}
