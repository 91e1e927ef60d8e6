//! The backprop stepper shows the engine's own numbers: every step is checked against the chain
//! rule recomputed by hand from the model's weights, and the gradients against finite
//! differences of the loss.

use neural_playground::engine::{
    Activation, Initializer, LayerSpec, Loss, Model, ModelConfig, Tensor,
};
use neural_playground::playground::backprop::{Focus, Phase, Trace, trace};

fn model(inputs: usize, layers: &[(usize, Activation)], seed: u64) -> Model {
    Model::new(&ModelConfig {
        inputs,
        layers: layers
            .iter()
            .map(|&(neurons, activation)| LayerSpec {
                neurons,
                activation,
            })
            .collect(),
        initializer: Initializer::XavierUniform,
        seed,
    })
    .unwrap()
}

fn names(layer: usize, neuron: usize) -> String {
    format!("n{layer}.{neuron}")
}

/// The loss of `model` on one example, computed from scratch (forward pass + loss value).
fn loss_of(model: &mut Model, loss: Loss, inputs: &[f32], targets: &[f32]) -> f64 {
    let x = Tensor::from_vec(&[1, inputs.len()], inputs.to_vec()).unwrap();
    model.set_output_transform(neural_playground::engine::OutputTransform::None);
    model.forward(&x).unwrap();
    let last = model.layer_count() - 1;
    // Under a cross-entropy the loss takes the logits, i.e. the last layer's weighted sums.
    let out = if loss.takes_logits() {
        model.layer_pre_activation(last)
    } else {
        model.layer_output(last)
    };
    loss.value(out.data(), targets, targets.len())
}

fn assert_close(what: &str, shown: f32, expected: f64) {
    let tolerance = 1e-4 * (1.0 + expected.abs());
    assert!(
        (f64::from(shown) - expected).abs() <= tolerance,
        "{what}: shown {shown}, expected {expected}"
    );
}

/// Checks every traced number against the chain rule recomputed from the weights.
fn check_chain_rule(model: &Model, trace: &Trace, loss: Loss) {
    let sizes = model.layer_sizes();
    let mut inputs: Vec<f32> = trace.inputs.clone();
    for l in 0..model.layer_count() {
        for j in 0..sizes[l + 1] {
            let sum: f64 = (0..sizes[l])
                .map(|i| f64::from(model.weight(l, i, j)) * f64::from(inputs[i]))
                .sum::<f64>()
                + f64::from(model.bias(l, j));
            assert_close(
                &format!("a of {l}.{j}"),
                trace.neurons[l][j].weighted_sum,
                sum,
            );
        }
        inputs = trace.neurons[l].iter().map(|n| n.output).collect();
    }
    let last = model.layer_count() - 1;
    for l in (0..model.layer_count()).rev() {
        let layer_inputs: Vec<f32> = if l == 0 {
            trace.inputs.clone()
        } else {
            trace.neurons[l - 1].iter().map(|n| n.output).collect()
        };
        for j in 0..sizes[l + 1] {
            let neuron = trace.neurons[l][j];
            if l < last {
                let through_paths: f64 = (0..sizes[l + 2])
                    .map(|k| {
                        f64::from(model.weight(l + 1, j, k))
                            * f64::from(trace.neurons[l + 1][k].delta)
                    })
                    .sum();
                assert_close(
                    &format!("dL/dh of {l}.{j}"),
                    neuron.output_gradient,
                    through_paths,
                );
            }
            if !(l == last && loss.takes_logits()) {
                let local = model.layers()[l]
                    .activation()
                    .derivative(neuron.weighted_sum, neuron.output);
                let delta = f64::from(neuron.output_gradient) * f64::from(local);
                assert_close(&format!("delta of {l}.{j}"), neuron.delta, delta);
            }
            for (i, &h) in layer_inputs.iter().enumerate() {
                let gradient = trace.weight_gradients[l][i * sizes[l + 1] + j];
                assert_close(
                    &format!("dL/dw {l}:{i}->{j}"),
                    gradient,
                    f64::from(neuron.delta) * f64::from(h),
                );
            }
            assert_close(
                &format!("dL/db {l}.{j}"),
                trace.bias_gradients[l][j],
                f64::from(neuron.delta),
            );
        }
    }
}

/// Checks the traced weight gradients against central finite differences of the loss.
fn check_finite_differences(model: &Model, trace: &Trace, loss: Loss) {
    let sizes = model.layer_sizes();
    let epsilon = 1e-3_f32;
    for l in 0..model.layer_count() {
        for i in 0..sizes[l] {
            for j in 0..sizes[l + 1] {
                let mut probe = model.clone();
                let w = model.weight(l, i, j);
                probe.set_weight(l, i, j, w + epsilon).unwrap();
                let up = loss_of(&mut probe, loss, &trace.inputs, &trace.targets);
                probe.set_weight(l, i, j, w - epsilon).unwrap();
                let down = loss_of(&mut probe, loss, &trace.inputs, &trace.targets);
                let numeric = (up - down) / (2.0 * f64::from(epsilon));
                let shown = trace.weight_gradients[l][i * sizes[l + 1] + j];
                assert!(
                    (f64::from(shown) - numeric).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "dL/dw {l}:{i}->{j}: shown {shown}, finite differences {numeric}"
                );
            }
        }
    }
}

#[test]
fn every_number_follows_the_chain_rule_for_every_loss() {
    for loss in Loss::ALL {
        let outputs = if loss == Loss::SoftmaxCrossEntropy {
            2
        } else {
            1
        };
        let output_activation = if loss.takes_logits() {
            Activation::Linear
        } else {
            Activation::Sigmoid
        };
        let model = model(
            2,
            &[
                (3, Activation::Tanh),
                (2, Activation::Relu),
                (outputs, output_activation),
            ],
            3,
        );
        let targets: Vec<f32> = if outputs == 2 {
            vec![0.0, 1.0]
        } else {
            vec![1.0]
        };
        let trace = trace(&model, loss, &[0.7, -1.3], &targets, 0.1, &names).unwrap();
        check_chain_rule(&model, &trace, loss);
        check_finite_differences(&model, &trace, loss);
    }
}

#[test]
fn the_course_example_gives_dj_dw2_as_its_chain() {
    // A 2-layer sigmoid network with J = 1/2 (A2 - Y)^2: dJ/dW2 = (A2 - Y) * A2 (1 - A2) * A1.
    let model = model(2, &[(2, Activation::Sigmoid), (1, Activation::Sigmoid)], 7);
    let y = 1.0;
    let trace = trace(
        &model,
        Loss::HalfSquaredError,
        &[0.05, 0.10],
        &[y],
        0.5,
        &names,
    )
    .unwrap();
    let a2 = f64::from(trace.neurons[1][0].output);
    for hidden in 0..2 {
        let a1 = f64::from(trace.neurons[0][hidden].output);
        let chain = (a2 - y as f64) * a2 * (1.0 - a2) * a1;
        assert_close("dJ/dW2", trace.weight_gradients[1][hidden], chain);
    }
    assert_close("J", trace.loss, 0.5 * (a2 - 1.0).powi(2));
}

#[test]
fn the_update_is_gradient_descent_and_the_steps_come_in_order() {
    let model = model(2, &[(2, Activation::Tanh), (1, Activation::Sigmoid)], 1);
    let trace = trace(
        &model,
        Loss::MeanSquaredError,
        &[1.0, 2.0],
        &[0.0],
        0.5,
        &names,
    )
    .unwrap();
    let new = trace.new_weights[0][1];
    assert_close(
        "w ← w − η g",
        new,
        f64::from(model.weight(0, 0, 1)) - 0.5 * f64::from(trace.weight_gradients[0][1]),
    );
    let phases: Vec<Phase> = trace.steps.iter().map(|s| s.phase).collect();
    let mut sorted = phases.clone();
    sorted.sort_by_key(|p| Phase::ALL.iter().position(|q| q == p));
    assert_eq!(phases, sorted, "forward, loss, backward, update");
    // Forward: a weighted sum and an activation per neuron; one loss step; backward: four steps
    // per neuron that is not a fused output; one update per neuron.
    assert_eq!(
        trace
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Forward)
            .count(),
        2 * 3
    );
    assert_eq!(
        trace
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Loss)
            .count(),
        1
    );
    assert_eq!(
        trace
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Backward)
            .count(),
        4 * 3
    );
    assert_eq!(
        trace
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Update)
            .count(),
        3
    );
    assert_eq!(
        trace.steps[0].focus,
        Focus::Incoming {
            layer: 1,
            neuron: 0
        }
    );
    assert!(
        trace.steps[0].substituted[0].starts_with("a = "),
        "{:?}",
        trace.steps[0]
    );
}

#[test]
fn the_single_layer_example_of_the_course_shows_11_5_and_9_3() {
    // c = f·W + b with f = [1, 2], W11 = 3, W12 = 4, W21 = 7, W22 = 1, b = [0.5, 0.3].
    let mut single = model(2, &[(2, Activation::Linear)], 0);
    for (from, to, w) in [(0, 0, 3.0), (1, 0, 4.0), (0, 1, 7.0), (1, 1, 1.0)] {
        single.set_weight(0, from, to, w).unwrap();
    }
    single.set_bias(0, 0, 0.5).unwrap();
    single.set_bias(0, 1, 0.3).unwrap();
    let trace = trace(
        &single,
        Loss::MeanSquaredError,
        &[1.0, 2.0],
        &[0.0, 0.0],
        0.1,
        &names,
    )
    .unwrap();
    assert_eq!(
        trace.steps[0].substituted[0],
        "a = 3.0000·1.0000 + 4.0000·2.0000 + 0.5000 = 11.5000"
    );
    assert_eq!(
        trace.steps[2].substituted[0],
        "a = 7.0000·1.0000 + 1.0000·2.0000 + 0.3000 = 9.3000"
    );
}

#[test]
fn the_mean_of_per_example_gradients_is_the_batch_gradient() {
    use neural_playground::playground::backprop::mean_gradients;
    let model = model(2, &[(3, Activation::Tanh), (1, Activation::Sigmoid)], 5);
    let examples = [
        ([0.5_f32, -1.0_f32], 1.0_f32),
        ([2.0, 0.3], 0.0),
        ([-1.5, -0.7], 1.0),
    ];
    let traces: Vec<Trace> = examples
        .iter()
        .map(|(x, y)| trace(&model, Loss::MeanSquaredError, x, &[*y], 0.1, &names).unwrap())
        .collect();
    let (weights, biases) = mean_gradients(&traces);

    // The engine's own gradient on the whole batch of three.
    let mut recorded = model
        .record_training_tape(3, Loss::MeanSquaredError)
        .unwrap();
    let mut params = model.params().clone();
    let inputs: Vec<f32> = examples.iter().flat_map(|(x, _)| *x).collect();
    let targets: Vec<f32> = examples.iter().map(|(_, y)| *y).collect();
    recorded
        .tape
        .set_input(recorded.input, &Tensor::from_vec(&[3, 2], inputs).unwrap())
        .unwrap();
    let target = recorded.target.unwrap();
    recorded
        .tape
        .set_input(target, &Tensor::from_vec(&[3, 1], targets).unwrap())
        .unwrap();
    recorded.tape.forward(&params).unwrap();
    recorded
        .tape
        .backward(recorded.loss.unwrap(), &mut params)
        .unwrap();
    for (layer, dense) in model.layers().iter().enumerate() {
        for (k, &g) in params.grad(dense.weights()).data().iter().enumerate() {
            assert_close(
                &format!("batch dL/dw {layer}:{k}"),
                weights[layer][k],
                f64::from(g),
            );
        }
        for (k, &g) in params.grad(dense.bias()).data().iter().enumerate() {
            assert_close(
                &format!("batch dL/db {layer}:{k}"),
                biases[layer][k],
                f64::from(g),
            );
        }
    }
}

#[test]
fn the_course_backprop_lesson_matches_the_well_known_worked_numbers() {
    // The 2-2-1 sigmoid network with w = 0.15, 0.20, 0.25, 0.30, b1 = 0.35, w = 0.40, 0.45,
    // b2 = 0.60 on x = (0.05, 0.10), target 0.01, is the widely published worked example of
    // backpropagation: output 0.75136507, error 0.274811083, dE/dw5 = 0.082167041.
    use neural_playground::playground::{Session, from_hash, lessons};
    let lesson = lessons::find("course-backprop").unwrap();
    let (config, rejected) = from_hash(&lesson.link());
    assert!(rejected.is_empty());
    let trace = Session::new(config).unwrap().backprop_trace(0).unwrap();
    assert_close("A2", trace.neurons[1][0].output, 0.751_365_07);
    assert_close("J", trace.loss, 0.274_811_083);
    assert_close("dJ/dw5", trace.weight_gradients[1][0], 0.082_167_041);
    assert_close("w5 after the update", trace.new_weights[1][0], 0.358_916_48);
}

#[test]
fn large_networks_can_be_stepped_layer_by_layer() {
    use neural_playground::playground::backprop::by_layer;
    let model = model(
        2,
        &[
            (3, Activation::Tanh),
            (2, Activation::Tanh),
            (1, Activation::Sigmoid),
        ],
        2,
    );
    let trace = trace(
        &model,
        Loss::MeanSquaredError,
        &[0.1, 0.2],
        &[1.0],
        0.1,
        &names,
    )
    .unwrap();
    let layered = by_layer(&trace.steps);
    // Forward: sums and activations of 3 layers; the loss; backward: 4 kinds in 3 layers; updates.
    assert_eq!(layered.len(), 6 + 1 + 12 + 3);
    let lines = |steps: &[neural_playground::playground::backprop::Step]| -> usize {
        steps.iter().map(|s| s.substituted.len()).sum()
    };
    assert_eq!(lines(&layered), lines(&trace.steps), "no equation is lost");
    assert_eq!(layered[0].focus, Focus::Layer { layer: 1 });
    assert_eq!(
        layered[0].substituted.len(),
        3,
        "one weighted sum per neuron of layer 1"
    );
    assert_eq!(layered[0].title, "Weighted sums of layer 1");
}
