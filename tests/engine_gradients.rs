//! Finite-difference gradient checks: for every op, every activation, every loss and a whole
//! 2-3-2 network, the tape's backward pass must agree with central differences of its forward.

use neural_playground::engine::{
    Activation, Described, Initializer, LayerSpec, Loss, Model, ModelConfig, NodeId, ParamId,
    ParamRole, Params, SeededRng, Tape, Tensor,
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

/// Values at least 0.2 away from 0, so that kinks (ReLU, |x|) are never inside a difference step.
fn away_from_zero(shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut t = random_tensor(shape, rng);
    t.data_mut()
        .iter_mut()
        .for_each(|v| *v = v.signum() * (0.2 + v.abs()));
    t
}

/// Reduces a node to a scalar with random weights, so that its backward gets a non-uniform
/// upstream gradient: `sum(x * r)`.
fn weighted_sum(tape: &mut Tape, x: NodeId, shape: &[usize], rng: &mut SeededRng) -> NodeId {
    let weights = tape.input(shape);
    tape.set_input(weights, &random_tensor(shape, rng)).unwrap();
    let product = tape.mul(x, weights).unwrap();
    tape.sum(product).unwrap()
}

fn parameter(tape: &mut Tape, params: &mut Params, value: Tensor) -> (ParamId, NodeId) {
    let id = params.add(value, ParamRole::Other);
    (id, tape.parameter(params, id).unwrap())
}

#[test]
fn matmul_with_every_transpose() {
    let mut rng = SeededRng::new(1);
    let (m, k, n) = (3, 4, 2);
    for (transpose_a, transpose_b) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let a_shape = if transpose_a { [k, m] } else { [m, k] };
        let b_shape = if transpose_b { [n, k] } else { [k, n] };
        let (_, a) = parameter(&mut tape, &mut params, random_tensor(&a_shape, &mut rng));
        let (_, b) = parameter(&mut tape, &mut params, random_tensor(&b_shape, &mut rng));
        let product = tape
            .matmul_transposed(a, transpose_a, b, transpose_b)
            .unwrap();
        assert_eq!(tape.value(product).shape(), &[m, n]);
        let loss = weighted_sum(&mut tape, product, &[m, n], &mut rng);
        check(
            &format!("matmul {transpose_a} {transpose_b}"),
            &mut tape,
            &mut params,
            loss,
        );
    }
}

/// Gradients are not zeroed before a backward pass: the first contribution overwrites (the
/// products) or lands on zeros, later ones add. A weight used by three products (two matmuls
/// and a dense node) gets all three, an input's gradient read by two ops sums both, and a
/// parameter the loss does not reach ends at zero, whatever the gradients held before.
#[test]
fn gradients_are_replaced_not_accumulated_across_passes() {
    let mut rng = SeededRng::new(12);
    let mut params = Params::new();
    let mut tape = Tape::new();
    let (weights, w) = parameter(&mut tape, &mut params, random_tensor(&[3, 2], &mut rng));
    let (_, b) = parameter(&mut tape, &mut params, random_tensor(&[2], &mut rng));
    let (unused, u) = parameter(&mut tape, &mut params, random_tensor(&[2, 2], &mut rng));
    let (_, x) = parameter(&mut tape, &mut params, random_tensor(&[4, 3], &mut rng));
    let ignored = tape.scale(u, 3.0).unwrap();
    let doubled = tape.scale(x, 2.0).unwrap();
    let first = tape.matmul(x, w).unwrap();
    let second = tape.matmul(doubled, w).unwrap();
    let third = tape.dense(x, w, b).unwrap();
    let both = tape.add(first, second).unwrap();
    let all = tape.add(both, third).unwrap();
    let loss = weighted_sum(&mut tape, all, &[4, 2], &mut rng);
    // Stale gradients, from an earlier pass and by hand.
    tape.forward(&params).unwrap();
    tape.backward(loss, &mut params).unwrap();
    params.grad_mut(weights).fill(7.0);
    params.grad_mut(unused).fill(-3.0);
    check("a weight in three products", &mut tape, &mut params, loss);
    assert!(params.grad(unused).data().iter().all(|&g| g == 0.0));
    assert_eq!(
        tape.grad(ignored).data(),
        &[0.0; 4],
        "a node the loss ignores"
    );
}

#[test]
fn add_bias() {
    let mut rng = SeededRng::new(2);
    let mut params = Params::new();
    let mut tape = Tape::new();
    let (_, x) = parameter(&mut tape, &mut params, random_tensor(&[3, 4], &mut rng));
    let (_, b) = parameter(&mut tape, &mut params, random_tensor(&[4], &mut rng));
    let y = tape.add_bias(x, b).unwrap();
    let loss = weighted_sum(&mut tape, y, &[3, 4], &mut rng);
    check("add_bias", &mut tape, &mut params, loss);
}

/// `x · W + b` in one op, on a shape for each GEMM path: the skinny loops (a depth of 2, as the
/// playground's first layer) and the blocked one.
#[test]
fn dense() {
    let mut rng = SeededRng::new(11);
    for (rows, inputs, outputs) in [(5, 2, 8), (3, 4, 1), (12, 10, 45)] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let x_value = random_tensor(&[rows, inputs], &mut rng);
        let (_, x) = parameter(&mut tape, &mut params, x_value);
        let weights_value = random_tensor(&[inputs, outputs], &mut rng);
        let (_, weights) = parameter(&mut tape, &mut params, weights_value);
        let (_, bias) = parameter(&mut tape, &mut params, random_tensor(&[outputs], &mut rng));
        let y = tape.dense(x, weights, bias).unwrap();
        assert_eq!(tape.value(y).shape(), &[rows, outputs]);
        let loss = weighted_sum(&mut tape, y, &[rows, outputs], &mut rng);
        let name = format!("dense {rows}x{inputs}x{outputs}");
        check(&name, &mut tape, &mut params, loss);
    }
}

#[test]
fn sum_and_mean() {
    let mut rng = SeededRng::new(3);
    for mean in [false, true] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, x) = parameter(&mut tape, &mut params, random_tensor(&[3, 5], &mut rng));
        let reduced = if mean {
            tape.mean(x).unwrap()
        } else {
            tape.sum(x).unwrap()
        };
        // Square the scalar so that the upstream gradient of the reduction is not 1.
        let loss = tape.square(reduced).unwrap();
        check(
            if mean { "mean" } else { "sum" },
            &mut tape,
            &mut params,
            loss,
        );
    }
}

#[test]
fn binary_elementwise_ops() {
    let mut rng = SeededRng::new(4);
    for name in ["add", "mul", "mul_same"] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, a) = parameter(&mut tape, &mut params, random_tensor(&[2, 3], &mut rng));
        let (_, b) = parameter(&mut tape, &mut params, random_tensor(&[2, 3], &mut rng));
        let y = match name {
            "add" => tape.add(a, b).unwrap(),
            "mul" => tape.mul(a, b).unwrap(),
            _ => tape.mul(a, a).unwrap(),
        };
        let loss = weighted_sum(&mut tape, y, &[2, 3], &mut rng);
        check(name, &mut tape, &mut params, loss);
    }
}

/// Slices of every axis of a rank-3 tensor, and a slice of a concatenation of the same tensor
/// with itself: the gradient of the shared input must gather both halves' gradients.
#[test]
fn slice_and_concat_along_every_axis() {
    let mut rng = SeededRng::new(13);
    let shape = [2, 3, 4];
    for axis in 0..3 {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, x) = parameter(&mut tape, &mut params, random_tensor(&shape, &mut rng));
        let (_, y) = parameter(&mut tape, &mut params, random_tensor(&shape, &mut rng));
        let joined = tape.concat(x, y, axis).unwrap();
        let mut joined_shape = shape;
        joined_shape[axis] *= 2;
        assert_eq!(tape.value(joined).shape(), &joined_shape);
        // Across the seam: the last entry of `x` and the first of `y` along the axis.
        let middle = tape.slice(joined, axis, shape[axis] - 1, 2).unwrap();
        let mut middle_shape = shape;
        middle_shape[axis] = 2;
        let loss = weighted_sum(&mut tape, middle, &middle_shape, &mut rng);
        check(
            &format!("slice of concat, axis {axis}"),
            &mut tape,
            &mut params,
            loss,
        );

        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, x) = parameter(&mut tape, &mut params, random_tensor(&shape, &mut rng));
        let doubled = tape.concat(x, x, axis).unwrap();
        let loss = weighted_sum(&mut tape, doubled, &joined_shape, &mut rng);
        check(
            &format!("concat of x with x, axis {axis}"),
            &mut tape,
            &mut params,
            loss,
        );
    }
}

#[test]
fn unary_elementwise_ops() {
    let mut rng = SeededRng::new(5);
    for name in ["square", "add_scalar", "scale"] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, x) = parameter(&mut tape, &mut params, random_tensor(&[4, 2], &mut rng));
        let y = match name {
            "square" => tape.square(x).unwrap(),
            "add_scalar" => tape.add_scalar(x, 3.0).unwrap(),
            _ => tape.scale(x, -1.7).unwrap(),
        };
        let loss = weighted_sum(&mut tape, y, &[4, 2], &mut rng);
        check(name, &mut tape, &mut params, loss);
    }
}

/// An LSTM step's three ops (gates, cell state, state), with and without a previous cell
/// state, under a loss that reads the gates and the cell state as well as the state: each gate's
/// gradient gathers what the loss, the cell and the state send it.
#[test]
fn lstm_step_ops() {
    let mut rng = SeededRng::new(14);
    let (rows, hidden) = (3, 2);
    for first in [false, true] {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, sums) = parameter(
            &mut tape,
            &mut params,
            random_tensor(&[rows, 4 * hidden], &mut rng),
        );
        let (_, previous) = parameter(
            &mut tape,
            &mut params,
            random_tensor(&[rows, hidden], &mut rng),
        );
        let gates = tape.lstm_gates(sums).unwrap();
        let cell = tape.lstm_cell(gates, (!first).then_some(previous)).unwrap();
        let state = tape.lstm_state(gates, cell).unwrap();
        assert_eq!(tape.value(state).shape(), &[rows, hidden]);
        let read = [
            weighted_sum(&mut tape, state, &[rows, hidden], &mut rng),
            weighted_sum(&mut tape, cell, &[rows, hidden], &mut rng),
            weighted_sum(&mut tape, gates, &[rows, 4 * hidden], &mut rng),
        ];
        let partial = tape.add(read[0], read[1]).unwrap();
        let loss = tape.add(partial, read[2]).unwrap();
        check(
            &format!("lstm step, first {first}"),
            &mut tape,
            &mut params,
            loss,
        );
    }
}

#[test]
fn every_activation() {
    let mut rng = SeededRng::new(6);
    for activation in Activation::ALL {
        let mut params = Params::new();
        let mut tape = Tape::new();
        let (_, x) = parameter(&mut tape, &mut params, away_from_zero(&[5, 3], &mut rng));
        let y = tape.activation(x, activation).unwrap();
        let loss = weighted_sum(&mut tape, y, &[5, 3], &mut rng);
        check(activation.key(), &mut tape, &mut params, loss);
    }
}

#[test]
fn softmax() {
    let mut rng = SeededRng::new(7);
    let mut params = Params::new();
    let mut tape = Tape::new();
    let (_, x) = parameter(&mut tape, &mut params, random_tensor(&[4, 5], &mut rng));
    let y = tape.softmax(x).unwrap();
    let loss = weighted_sum(&mut tape, y, &[4, 5], &mut rng);
    check("softmax", &mut tape, &mut params, loss);
}

/// Targets suited to each loss: probabilities for BCE, rows summing to 1 for cross-entropy.
fn targets_for(loss: Loss, shape: &[usize], one_hot: bool, rng: &mut SeededRng) -> Tensor {
    let mut t = Tensor::zeros(shape);
    let cols = shape[1];
    match loss {
        Loss::BinaryCrossEntropy => t.data_mut().iter_mut().for_each(|v| *v = rng.uniform()),
        Loss::SoftmaxCrossEntropy => {
            for row in t.data_mut().chunks_mut(cols) {
                if one_hot {
                    row[rng.below(cols)] = 1.0;
                } else {
                    row.iter_mut().for_each(|v| *v = rng.uniform() + 0.1);
                    let total: f32 = row.iter().sum();
                    row.iter_mut().for_each(|v| *v /= total);
                }
            }
        }
        _ => t
            .data_mut()
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(-2.0, 2.0)),
    }
    t
}

#[test]
fn every_loss() {
    let mut rng = SeededRng::new(8);
    let shape = [4, 3];
    for loss_kind in Loss::ALL {
        for one_hot in [false, true] {
            let mut params = Params::new();
            let mut tape = Tape::new();
            let targets = targets_for(loss_kind, &shape, one_hot, &mut rng);
            // Predictions differ from the targets by at least 0.2 (MAE has a kink at p = y).
            let mut predictions = away_from_zero(&shape, &mut rng);
            predictions
                .data_mut()
                .iter_mut()
                .zip(targets.data())
                .for_each(|(p, y)| *p += y);
            let (_, prediction) = parameter(&mut tape, &mut params, predictions);
            let target = tape.input(&shape);
            tape.set_input(target, &targets).unwrap();
            let value = tape.loss(prediction, target, loss_kind).unwrap();
            let loss = tape.scale(value, 1.3).unwrap();
            check(
                &format!("{} one_hot={one_hot}", loss_kind.key()),
                &mut tape,
                &mut params,
                loss,
            );
        }
    }
}

#[test]
fn whole_network_through_the_training_tape() {
    for loss_kind in Loss::ALL {
        let config = ModelConfig {
            inputs: 2,
            layers: vec![
                LayerSpec::new(3, Activation::Tanh),
                LayerSpec::new(2, Activation::Sigmoid),
            ],
            initializer: Initializer::XavierNormal,
            seed: 11,
        };
        let mut model = Model::new(&config).unwrap();
        let mut recorded = model.record_training_tape(5, loss_kind).unwrap();
        let mut rng = SeededRng::new(9);
        let inputs = random_tensor(&[5, 2], &mut rng);
        let targets = targets_for(loss_kind, &[5, 2], true, &mut rng);
        recorded.tape.set_input(recorded.input, &inputs).unwrap();
        recorded
            .tape
            .set_input(recorded.target.unwrap(), &targets)
            .unwrap();
        let loss = recorded.loss.unwrap();
        check(
            &format!("2-3-2 network, {}", loss_kind.key()),
            &mut recorded.tape,
            model.params_mut(),
            loss,
        );
        // The gradients reached every parameter.
        for id in model.params().ids() {
            assert!(
                model.params().grad(id).data().iter().any(|&g| g != 0.0),
                "{}",
                loss_kind.key()
            );
        }
    }
}
