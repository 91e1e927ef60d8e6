//! The trainer updates dense weights during the backward pass (`Tape::backward_fused`); here it
//! is set against the plain sequence, backward then the penalty then `Optimizer::step`, which
//! it must equal bit for bit: every optimizer, every penalty, on a network large enough for the
//! banded GEMM and on a playground-sized one (skinny products), over several steps. The large
//! weights are trained packed (`PackedWeights`): a weight changed through `model_mut` between
//! steps is trained from its new value, and evaluation reads the trained values.

use neural_playground::engine::{
    Activation, Described, Initializer, LayerSpec, Loss, Model, ModelConfig, Optimizer,
    OptimizerConfig, OptimizerKind, Regularization, SeededRng, Tensor, TrainConfig, Trainer,
};

fn batch(rows: usize, inputs: usize, classes: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = SeededRng::new(seed);
    let x = (0..rows * inputs)
        .map(|_| rng.uniform_range(-1.0, 1.0))
        .collect();
    let mut y = vec![0.0; rows * classes];
    for row in y.chunks_exact_mut(classes) {
        row[rng.below(classes)] = 1.0;
    }
    (
        Tensor::from_vec(&[rows, inputs], x).unwrap(),
        Tensor::from_vec(&[rows, classes], y).unwrap(),
    )
}

/// Trains `layers` (inputs first) for a few steps both ways and compares every parameter.
fn compare(layers: &[usize], rows: usize, kind: OptimizerKind, penalty: Regularization) {
    let specs = layers[1..]
        .iter()
        .enumerate()
        .map(|(i, &width)| {
            let last = i == layers.len() - 2;
            LayerSpec::new(
                width,
                if last {
                    Activation::Linear
                } else {
                    Activation::Relu
                },
            )
        })
        .collect();
    let model = Model::new(&ModelConfig {
        inputs: layers[0],
        layers: specs,
        initializer: Initializer::HeUniform,
        seed: 5,
    })
    .unwrap();
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(kind, 0.01),
        batch_size: rows,
        regularization: penalty,
        regularization_rate: 0.003,
        seed: 1,
        clip_norm: None,
        truncation: None,
    };
    let classes = *layers.last().unwrap();
    let mut plain = model.clone();
    let mut trainer = Trainer::new(model, config).unwrap();
    let mut optimizer = Optimizer::new(config.optimizer);
    let mut recorded = plain.record_training_tape(rows, config.loss).unwrap();
    let what = format!(
        "{layers:?}, batch {rows}, {}, {}",
        kind.key(),
        penalty.key()
    );
    for step in 0..3 {
        let (x, y) = batch(rows, layers[0], classes, step);
        if step == 2 {
            // A weight dragged between steps (the packed copy must be refreshed from it).
            let first_weights = plain.layers()[0].weights();
            plain.params_mut().value_mut(first_weights).data_mut()[1] = 0.25;
            let weights = trainer.model_mut().params_mut().value_mut(first_weights);
            weights.data_mut()[1] = 0.25;
        }
        let fused_loss = trainer.train_step(&x, &y).unwrap();

        recorded.tape.set_input(recorded.input, &x).unwrap();
        recorded
            .tape
            .set_input(recorded.target.unwrap(), &y)
            .unwrap();
        recorded.tape.forward(plain.params()).unwrap();
        let loss = recorded.loss_value() + penalty.penalty(plain.params(), 0.003);
        recorded
            .tape
            .backward(recorded.loss.unwrap(), plain.params_mut())
            .unwrap();
        penalty.add_gradient(plain.params_mut(), 0.003);
        optimizer.step(plain.params_mut());

        assert_eq!(
            fused_loss.to_bits(),
            loss.to_bits(),
            "{what}: loss at step {step}"
        );
        // Proof that the banded path ran where it should: it never stores the gradient.
        let first_weights = trainer.model().layers()[0].weights();
        let untouched = trainer
            .model()
            .params()
            .grad(first_weights)
            .data()
            .iter()
            .all(|&g| g == 0.0);
        assert_eq!(
            untouched,
            rows * layers[1] >= 64 * 100,
            "{what}: first layer's gradient"
        );
        // Evaluation reads the weights as trained, as a trainer of the model as read does.
        let mut reader = Trainer::new(trainer.model().clone(), config).unwrap();
        assert_eq!(
            trainer.evaluate(&x, &y).unwrap(),
            reader.evaluate(&x, &y).unwrap(),
            "{what}: evaluation after step {step}"
        );
        for id in plain.params().ids() {
            let (got, expected) = (trainer.model().params().value(id), plain.params().value(id));
            assert!(
                got.data()
                    .iter()
                    .zip(expected.data())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{what}: parameter {} after step {step}",
                id.0
            );
        }
    }
}

#[test]
fn every_optimizer_and_penalty_equals_the_plain_step() {
    for kind in OptimizerKind::ALL {
        for penalty in Regularization::ALL {
            compare(&[300, 130, 70, 10], 64, kind, penalty);
            compare(&[2, 8, 3], 10, kind, penalty);
        }
    }
}

/// The MLP of the benchmark, once: 784-512-512-10, batch 64, momentum.
#[test]
fn the_benchmark_mlp_equals_the_plain_step() {
    compare(
        &[784, 512, 512, 10],
        64,
        OptimizerKind::Momentum,
        Regularization::None,
    );
}
