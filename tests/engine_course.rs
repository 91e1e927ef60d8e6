//! The course's worked examples, reproduced by the engine to the digits printed on the slides.

use neural_playground::engine::{
    Activation, Initializer, LayerSpec, Loss, Model, ModelConfig, Optimizer, OptimizerConfig,
    OptimizerKind, ParamRole, Params, Tape, Tensor,
};

fn round4(x: f32) -> f32 {
    (x * 1e4).round() / 1e4
}

/// A single layer of `outputs` linear neurons with all weights and biases 0.
fn linear_layer(inputs: usize, outputs: usize) -> Model {
    let config = ModelConfig {
        inputs,
        layers: vec![LayerSpec::new(outputs, Activation::Linear)],
        initializer: Initializer::Zeros,
        seed: 0,
    };
    Model::new(&config).unwrap()
}

#[test]
fn single_layer_c_equals_f_w_plus_b() {
    // Slides: f = [1, 2]; W11 = 3, W12 = 4 (into c1), W21 = 7, W22 = 1 (into c2); b = [0.5, 0.3].
    // Rows of our W are inputs, so W = [[3, 7], [4, 1]].
    let mut model = linear_layer(2, 2);
    for (from, row) in [[3.0, 7.0], [4.0, 1.0]].iter().enumerate() {
        for (to, &w) in row.iter().enumerate() {
            model.set_weight(0, from, to, w).unwrap();
        }
    }
    model.set_bias(0, 0, 0.5).unwrap();
    model.set_bias(0, 1, 0.3).unwrap();
    let f = Tensor::from_vec(&[1, 2], vec![1.0, 2.0]).unwrap();
    let c = model.predict(&f).unwrap();
    assert_eq!(c.shape(), &[1, 2]);
    assert!((c.get(0, 0) - 11.5).abs() < 1e-6, "c1 = {}", c.get(0, 0));
    assert!((c.get(0, 1) - 9.3).abs() < 1e-6, "c2 = {}", c.get(0, 1));
}

#[test]
fn softmax_cross_entropy_table_of_problem_2() {
    // c1 = f1, c2 = f2 + f3: W = [[1, 0], [0, 1], [0, 1]], no bias; every example is class 0.
    let mut model = linear_layer(3, 2);
    for (from, to) in [(0, 0), (1, 1), (2, 1)] {
        model.set_weight(0, from, to, 1.0).unwrap();
    }
    let table = [(4.0, 0.6444), (5.0, 0.2873), (6.0, 0.1155), (10.0, 0.0022)];
    let mut recorded = model
        .record_training_tape(1, Loss::SoftmaxCrossEntropy)
        .unwrap();
    let class_0 = Tensor::from_vec(&[1, 2], vec![1.0, 0.0]).unwrap();
    recorded
        .tape
        .set_input(recorded.target.unwrap(), &class_0)
        .unwrap();
    for (f1, expected) in table {
        let f = Tensor::from_vec(&[1, 3], vec![f1, 2.0, 1.9]).unwrap();
        recorded.tape.set_input(recorded.input, &f).unwrap();
        recorded.tape.forward(model.params()).unwrap();
        assert_eq!(round4(recorded.loss_value()), expected, "f1 = {f1}");
    }
    // The same four rows at once: the loss is their mean.
    let mut batch = model
        .record_training_tape(4, Loss::SoftmaxCrossEntropy)
        .unwrap();
    let rows: Vec<Vec<f32>> = table.iter().map(|&(f1, _)| vec![f1, 2.0, 1.9]).collect();
    batch
        .tape
        .set_input(batch.input, &Tensor::from_rows(&rows).unwrap())
        .unwrap();
    batch
        .tape
        .set_input(
            batch.target.unwrap(),
            &Tensor::from_rows(&vec![vec![1.0, 0.0]; 4]).unwrap(),
        )
        .unwrap();
    batch.tape.forward(model.params()).unwrap();
    let mean = table.iter().map(|&(_, loss)| loss).sum::<f32>() / 4.0;
    assert!((batch.loss_value() - mean).abs() < 1e-4);
}

#[test]
fn backprop_through_softmax_gives_probability_minus_one_hot() {
    // First row of the table: logits c = (4, 3.9); dLoss/dc = softmax(c) - (1, 0).
    let mut model = linear_layer(3, 2);
    for (from, to) in [(0, 0), (1, 1), (2, 1)] {
        model.set_weight(0, from, to, 1.0).unwrap();
    }
    let mut recorded = model
        .record_training_tape(1, Loss::SoftmaxCrossEntropy)
        .unwrap();
    recorded
        .tape
        .set_input(
            recorded.input,
            &Tensor::from_vec(&[1, 3], vec![4.0, 2.0, 1.9]).unwrap(),
        )
        .unwrap();
    recorded
        .tape
        .set_input(
            recorded.target.unwrap(),
            &Tensor::from_vec(&[1, 2], vec![1.0, 0.0]).unwrap(),
        )
        .unwrap();
    recorded.tape.forward(model.params()).unwrap();
    recorded
        .tape
        .backward(recorded.loss.unwrap(), model.params_mut())
        .unwrap();
    let p0 = 1.0 / (1.0 + (-0.1f32).exp());
    let logits = recorded.dense_layer(0).unwrap().pre_activation;
    let grad = recorded.tape.grad(logits);
    assert!((grad.data()[0] - (p0 - 1.0)).abs() < 1e-6);
    assert!((grad.data()[1] - (1.0 - p0)).abs() < 1e-6);
    // The prediction node shows the probabilities.
    assert!((recorded.tape.value(recorded.prediction).data()[0] - p0).abs() < 1e-6);
    // dLoss/dW13... : the weight gradient is f^T · dLoss/dc.
    let weights = model.layers()[0].weights();
    assert!((model.params().grad(weights).get(0, 0) - 4.0 * (p0 - 1.0)).abs() < 1e-5);
}

#[test]
fn gradient_descent_on_x_squared_plus_3() {
    let mut params = Params::new();
    let x = params.add(Tensor::scalar(2.0), ParamRole::Other);
    let mut tape = Tape::new();
    let x_node = tape.parameter(&params, x).unwrap();
    let squared = tape.square(x_node).unwrap();
    let loss = tape.add_scalar(squared, 3.0).unwrap();
    let mut sgd = Optimizer::new(OptimizerConfig::new(OptimizerKind::Sgd, 0.01));

    tape.forward(&params).unwrap();
    assert_eq!(tape.value(loss).data(), &[7.0]);
    tape.backward(loss, &mut params).unwrap();
    assert_eq!(params.grad(x).data(), &[4.0]);
    sgd.step(&mut params);
    assert!((params.value(x).data()[0] - 1.96).abs() < 1e-6);
    tape.forward(&params).unwrap();
    assert_eq!(round4(tape.value(loss).data()[0]), 6.8416);

    // A few hundred more steps bring x close to 0 and the loss close to 3.
    for _ in 0..500 {
        tape.forward(&params).unwrap();
        tape.backward(loss, &mut params).unwrap();
        sgd.step(&mut params);
    }
    assert!(params.value(x).data()[0].abs() < 1e-3);
}
