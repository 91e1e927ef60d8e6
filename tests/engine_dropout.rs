//! Dropout: a finite-difference gradient check with a fixed mask, masks that drop about `rate`
//! of the values and keep the mean, redrawn every step from the seed, and the identity at
//! evaluation.

use neural_playground::engine::Dropout;
use neural_playground::engine::{
    Activation, LayerConfig, Loss, OptimizerConfig, OptimizerKind, OutputTransform, ParamRole,
    Params, Regularization, SeededRng, SequentialConfig, Tape, Tensor, TrainConfig, Trainable,
    Trainer,
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

#[test]
fn gradient_with_a_fixed_mask_matches_finite_differences() {
    let mut rng = SeededRng::new(3);
    let (mut tape, mut params) = (Tape::new(), Params::new());
    let id = params.add(random_tensor(&[4, 5], &mut rng), ParamRole::Other);
    let x = tape.parameter(&params, id).unwrap();
    // Rate 0.5: dropped values are 0, kept ones doubled.
    let mask_values: Vec<f32> = (0..20)
        .map(|i| if i % 3 == 0 { 0.0 } else { 2.0 })
        .collect();
    let mask = tape.input(&[4, 5]);
    tape.set_input(
        mask,
        &Tensor::from_vec(&[4, 5], mask_values.clone()).unwrap(),
    )
    .unwrap();
    let dropped = tape.dropout(x, mask).unwrap();
    let weights = tape.input(&[4, 5]);
    tape.set_input(weights, &random_tensor(&[4, 5], &mut rng))
        .unwrap();
    let product = tape.mul(dropped, weights).unwrap();
    let loss = tape.sum(product).unwrap();
    check("dropout", &mut tape, &mut params, loss);
    for (index, (&g, &m)) in params.grad(id).data().iter().zip(&mask_values).enumerate() {
        assert_eq!(
            g == 0.0,
            m == 0.0,
            "element {index}: gradient {g}, mask {m}"
        );
    }
}

/// Flattened 10x10 images through dropout then a dense layer.
fn dropout_network(rate: f32) -> SequentialConfig {
    SequentialConfig {
        input: vec![1, 10, 10],
        layers: vec![
            LayerConfig::FLATTEN,
            LayerConfig::Dropout(Dropout { rate }),
            LayerConfig::dense(3, Activation::Linear),
        ],
        seed: 4,
        initializer: None,
        padded: false,
    }
}

/// The output of the dropout layer of a training tape on 100 images of ones, after drawing
/// masks from `rng`.
fn dropped_ones(rate: f32, rng: &mut SeededRng) -> Tensor {
    let model = dropout_network(rate).init().unwrap();
    let mut recorded = model
        .record_training_tape(100, Loss::SoftmaxCrossEntropy)
        .unwrap();
    let ones = Tensor::full(&[100, 1, 10, 10], 1.0);
    recorded.tape.set_input(recorded.input, &ones).unwrap();
    recorded.draw_dropout_masks(rng).unwrap();
    recorded.tape.forward(model.params()).unwrap();
    recorded
        .tape
        .value(recorded.dropouts().next().unwrap().output)
        .clone()
}

#[test]
fn training_drops_about_rate_of_the_values_and_keeps_the_mean() {
    for rate in [0.0, 0.3, 0.5, 0.8] {
        let mut rng = SeededRng::new(17);
        let output = dropped_ones(rate, &mut rng);
        let values = output.data();
        let n = values.len() as f32;
        let zeros = values.iter().filter(|&&v| v == 0.0).count() as f32 / n;
        let mean = values.iter().sum::<f32>() / n;
        assert!((zeros - rate).abs() < 0.02, "rate {rate}: {zeros} zeroed");
        assert!((mean - 1.0).abs() < 0.05, "rate {rate}: mean {mean}");
        let kept = 1.0 / (1.0 - rate);
        assert!(
            values.iter().all(|&v| v == 0.0 || v == kept),
            "rate {rate}: survivors are scaled by {kept}"
        );
        // The same seed gives the same mask; the next draw gives another.
        assert_eq!(dropped_ones(rate, &mut SeededRng::new(17)), output);
        if rate > 0.0 {
            assert_ne!(dropped_ones(rate, &mut rng), output);
        }
    }
}

#[test]
fn evaluation_is_the_identity() {
    let mut rng = SeededRng::new(6);
    let images = random_tensor(&[5, 1, 10, 10], &mut rng);
    let without = SequentialConfig {
        layers: vec![
            LayerConfig::FLATTEN,
            LayerConfig::dense(3, Activation::Linear),
        ],
        ..dropout_network(0.5)
    };
    let predict = |config: SequentialConfig| {
        let model = config.init().unwrap();
        let mut recorded = model.record(5, OutputTransform::Softmax, None).unwrap();
        assert!(recorded.dropouts().next().is_none());
        recorded.tape.set_input(recorded.input, &images).unwrap();
        recorded.tape.forward(model.params()).unwrap();
        recorded.tape.value(recorded.prediction).clone()
    };
    assert_eq!(predict(dropout_network(0.5)), predict(without));
}

#[test]
fn trainer_draws_a_new_mask_every_step_from_its_seed() {
    let mut rng = SeededRng::new(8);
    let images = random_tensor(&[6, 1, 10, 10], &mut rng);
    let mut targets = Tensor::zeros(&[6, 3]);
    (0..6).for_each(|row| targets.set(row, row % 3, 1.0));
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Sgd, 1e-9),
        batch_size: 6,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 2,
        clip_norm: None,
        truncation: None,
    };
    let losses = || {
        let mut trainer = Trainer::new(dropout_network(0.5).init().unwrap(), config).unwrap();
        let losses: Vec<f32> = (0..3)
            .map(|_| trainer.train_step(&images, &targets).unwrap())
            .collect();
        let evaluation = trainer.evaluate(&images, &targets).unwrap();
        (losses, evaluation.loss)
    };
    let (first, evaluation) = losses();
    assert_eq!(losses(), (first.clone(), evaluation), "same seed, same run");
    // With a learning rate too small to matter, only the masks change the loss between steps.
    assert_ne!(first[0], first[1]);
    assert_ne!(first[1], first[2]);
    // Evaluation is deterministic: no mask at all.
    let mut trainer = Trainer::new(dropout_network(0.5).init().unwrap(), config).unwrap();
    let once = trainer.evaluate(&images, &targets).unwrap();
    assert_eq!(trainer.evaluate(&images, &targets).unwrap(), once);
}
