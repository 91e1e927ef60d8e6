//! Shared by the engine's integration tests: the finite-difference gradient check.

use neural_playground::engine::{NodeId, Params, Tape, Tensor};

/// The step of the central differences.
pub const STEP: f32 = 1e-2;

fn loss_value(tape: &mut Tape, params: &Params, loss: NodeId) -> f64 {
    tape.forward(params).unwrap();
    f64::from(tape.value(loss).data()[0])
}

/// Compares the tape's gradient of `loss` with respect to every element of every trainable
/// parameter with a central difference (running statistics take no gradient).
pub fn check(name: &str, tape: &mut Tape, params: &mut Params, loss: NodeId) {
    tape.forward(params).unwrap();
    tape.backward(loss, params).unwrap();
    let analytic: Vec<Tensor> = params.ids().map(|id| params.grad(id).clone()).collect();
    let mut checked = 0;
    let trainable: Vec<_> = params
        .ids()
        .filter(|&id| params.role(id).is_trainable())
        .collect();
    for id in trainable {
        for index in 0..params.value(id).len() {
            let original = params.value(id).data()[index];
            params.value_mut(id).data_mut()[index] = original + STEP;
            let plus = loss_value(tape, params, loss);
            params.value_mut(id).data_mut()[index] = original - STEP;
            let minus = loss_value(tape, params, loss);
            params.value_mut(id).data_mut()[index] = original;
            let numeric = (plus - minus) / (2.0 * f64::from(STEP));
            let exact = f64::from(analytic[id.0].data()[index]);
            let tolerance = 2e-3 + 1e-2 * numeric.abs().max(exact.abs());
            assert!(
                (numeric - exact).abs() <= tolerance,
                "{name}: parameter {} element {index}: numeric {numeric} vs backward {exact}",
                id.0
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "{name}: nothing was checked");
}
