//! Two steps of every optimizer on `f(p) = p^2` from `p = 1` (lr 0.1), against values worked out
//! by hand from PyTorch's update rules (written out in `engine::optimizer`).

use neural_playground::engine::{
    Optimizer, OptimizerConfig, OptimizerKind, ParamRole, Params, Tape, Tensor,
};

fn two_steps(kind: OptimizerKind) -> [f32; 2] {
    let mut params = Params::new();
    let p = params.add(
        Tensor::from_vec(&[1], vec![1.0]).unwrap(),
        ParamRole::Weight,
    );
    let mut tape = Tape::new();
    let node = tape.parameter(&params, p).unwrap();
    let squared = tape.square(node).unwrap();
    let loss = tape.sum(squared).unwrap();
    let mut optimizer = Optimizer::new(OptimizerConfig::new(kind, 0.1));
    let mut after = [0.0; 2];
    for value in &mut after {
        tape.forward(&params).unwrap();
        tape.backward(loss, &mut params).unwrap();
        optimizer.step(&mut params);
        *value = params.value(p).data()[0];
    }
    after
}

#[test]
fn sgd() {
    // p1 = 1 - 0.1 * 2 = 0.8; p2 = 0.8 - 0.1 * 1.6 = 0.64.
    assert_close(two_steps(OptimizerKind::Sgd), [0.8, 0.64]);
}

#[test]
fn momentum() {
    // v1 = 2, p1 = 0.8; v2 = 0.9 * 2 + 1.6 = 3.4, p2 = 0.8 - 0.34 = 0.46.
    assert_close(two_steps(OptimizerKind::Momentum), [0.8, 0.46]);
}

#[test]
fn adagrad() {
    // s1 = 4, p1 = 1 - 0.1 * 2 / 2 = 0.9; s2 = 4 + 1.8^2 = 7.24, p2 = 0.9 - 0.18 / sqrt(7.24).
    assert_close(
        two_steps(OptimizerKind::AdaGrad),
        [0.9, 0.9 - 0.18 / 7.24f32.sqrt()],
    );
    assert_close(two_steps(OptimizerKind::AdaGrad), [0.9, 0.833_103_5]);
}

#[test]
fn rmsprop() {
    // s1 = 0.1 * 4 = 0.4, p1 = 1 - 0.2 / sqrt(0.4);
    // s2 = 0.9 * 0.4 + 0.1 * (2 p1)^2, p2 = p1 - 0.1 * 2 p1 / sqrt(s2).
    let p1 = 1.0 - 0.2 / 0.4f32.sqrt();
    let s2 = 0.36 + 0.1 * (2.0 * p1) * (2.0 * p1);
    assert_close(
        two_steps(OptimizerKind::RmsProp),
        [p1, p1 - 0.2 * p1 / s2.sqrt()],
    );
    assert_close(
        two_steps(OptimizerKind::RmsProp),
        [0.683_772_2, 0.498_870_6],
    );
}

#[test]
fn adam() {
    // t = 1: m = 0.2, v = 0.004, m^ = 2, v^ = 4, p1 = 1 - 0.1 * 2 / 2 = 0.9.
    // t = 2: g = 1.8, m = 0.36, v = 0.007236, m^ = 0.36 / 0.19, v^ = 0.007236 / (1 - 0.999^2).
    let m_hat = 0.36 / 0.19;
    let v_hat: f32 = 0.007236 / (1.0 - 0.999f32 * 0.999);
    assert_close(
        two_steps(OptimizerKind::Adam),
        [0.9, 0.9 - 0.1 * m_hat / v_hat.sqrt()],
    );
    assert_close(two_steps(OptimizerKind::Adam), [0.9, 0.800_412_2]);
}

fn assert_close(found: [f32; 2], expected: [f32; 2]) {
    for (f, e) in found.iter().zip(&expected) {
        assert!(
            (f - e).abs() < 2e-5,
            "found {found:?}, expected {expected:?}"
        );
    }
}
