//! Image networks (`Sequential`): LeNet-5's shapes and parameter count worked out by hand, a
//! finite-difference gradient check through a tiny conv net trained by the `Trainer`, a tiny CNN
//! learning bars, and impossible shapes refused with the reason.

use neural_playground::engine::{
    Activation, LayerConfig, Loss, OptimizerConfig, OptimizerKind, Pooling, Regularization,
    SeededRng, Sequential, SequentialConfig, Tensor, TrainConfig, Trainable, Trainer,
};
use neural_playground::engine::{Conv2d, Dropout, MaxPool2d};

fn train_config(kind: OptimizerKind, learning_rate: f32, batch_size: usize) -> TrainConfig {
    TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(kind, learning_rate),
        batch_size,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 3,
        clip_norm: None,
        truncation: None,
    }
}

#[test]
fn lenet5_shapes_and_parameter_count() {
    let config = SequentialConfig::lenet5(Activation::Tanh, Pooling::Average);
    let summary = config.summary().unwrap();
    let shapes: Vec<Vec<usize>> = summary.iter().map(|l| l.output_shape.clone()).collect();
    assert_eq!(
        shapes,
        vec![
            vec![6, 28, 28],
            vec![6, 14, 14],
            vec![16, 10, 10],
            vec![16, 5, 5],
            vec![400],
            vec![120],
            vec![84],
            vec![10],
        ]
    );
    let c1 = 6 * (25 + 1);
    let c3 = 16 * (6 * 25 + 1);
    let c5 = 120 * (16 * 5 * 5 + 1);
    let f6 = 84 * (120 + 1);
    let output = 10 * (84 + 1);
    let per_layer: Vec<usize> = summary.iter().map(|l| l.parameters).collect();
    assert_eq!(per_layer, vec![c1, 0, c3, 0, 0, c5, f6, output]);
    assert_eq!(c1 + c3 + c5 + f6 + output, 61_706);
    assert_eq!(config.parameter_count().unwrap(), 61_706);

    let model = config.init().unwrap();
    assert_eq!(model.parameter_count(), 61_706);
    let mut tape = model
        .record_training_tape(3, Loss::SoftmaxCrossEntropy)
        .unwrap();
    tape.tape
        .set_input(tape.input, &Tensor::full(&[3, 1, 28, 28], 0.5))
        .unwrap();
    tape.tape.forward(model.params()).unwrap();
    let prediction = tape.tape.value(tape.prediction);
    assert_eq!(prediction.shape(), &[3, 10]);
    let row_sum: f32 = prediction.row(0).iter().sum();
    assert!(
        (row_sum - 1.0).abs() < 1e-5,
        "softmax rows sum to 1, got {row_sum}"
    );
}

fn tiny_conv_net(pooling: Pooling) -> SequentialConfig {
    SequentialConfig {
        input: vec![2, 6, 6],
        layers: vec![
            LayerConfig::Conv2d(Conv2d {
                out_channels: 3,
                kernel: 3,
                stride: 1,
                padding: 1,
                activation: Activation::Tanh,
            }),
            LayerConfig::pool(pooling, 2),
            LayerConfig::FLATTEN,
            LayerConfig::dense(3, Activation::Linear),
        ],
        seed: 7,
        initializer: None,
        padded: false,
    }
}

fn random_images(n: usize, shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut t = Tensor::zeros(&[n, shape[0], shape[1], shape[2]]);
    t.data_mut()
        .iter_mut()
        .for_each(|v| *v = rng.uniform_range(-1.0, 1.0));
    t
}

fn loss_of(model: &Sequential, inputs: &Tensor, targets: &Tensor) -> f64 {
    let mut recorded = model
        .record_training_tape(inputs.rows(), Loss::SoftmaxCrossEntropy)
        .unwrap();
    recorded.tape.set_input(recorded.input, inputs).unwrap();
    recorded
        .tape
        .set_input(recorded.target.unwrap(), targets)
        .unwrap();
    recorded.tape.forward(model.params()).unwrap();
    f64::from(recorded.loss_value())
}

#[test]
fn gradients_through_conv_pool_flatten_dense_match_finite_differences() {
    let mut rng = SeededRng::new(11);
    let config = tiny_conv_net(Pooling::Average);
    let model = config.init().unwrap();
    let inputs = random_images(4, &config.input, &mut rng);
    let targets = Tensor::from_rows(&[
        vec![1.0, 0.0, 0.0],
        vec![0.0, 1.0, 0.0],
        vec![0.0, 0.0, 1.0],
        vec![0.0, 1.0, 0.0],
    ])
    .unwrap();
    // The analytic gradients are the ones the Trainer's own step computes (before its update).
    let mut trainer = Trainer::new(
        model.clone(),
        train_config(OptimizerKind::Sgd, 1e-6, inputs.rows()),
    )
    .unwrap();
    trainer.train_step(&inputs, &targets).unwrap();
    let analytic = trainer.model().params();

    let step = 1e-2f32;
    let mut checked = 0;
    for id in model.params().ids() {
        for index in 0..model.params().value(id).len() {
            let mut shifted = model.clone();
            shifted.params_mut().value_mut(id).data_mut()[index] += step;
            let plus = loss_of(&shifted, &inputs, &targets);
            shifted.params_mut().value_mut(id).data_mut()[index] -= 2.0 * step;
            let minus = loss_of(&shifted, &inputs, &targets);
            let numeric = (plus - minus) / (2.0 * f64::from(step));
            let exact = f64::from(analytic.grad(id).data()[index]);
            let tolerance = 2e-3 + 2e-2 * numeric.abs().max(exact.abs());
            assert!(
                (numeric - exact).abs() <= tolerance,
                "parameter {} element {index}: numeric {numeric}, backward {exact}",
                id.0
            );
            checked += 1;
        }
    }
    // Conv 3·(2·9+1), dense 3·(3·3·3+1).
    assert_eq!(checked, 57 + 84);
}

/// 6x6 images with one bright bar: vertical (class 0) or horizontal (class 1), at a random
/// position, over faint noise.
fn bars(n: usize, rng: &mut SeededRng) -> (Tensor, Tensor) {
    let mut inputs = Tensor::zeros(&[n, 1, 6, 6]);
    let mut targets = Tensor::zeros(&[n, 2]);
    for (example, image) in inputs.data_mut().chunks_exact_mut(36).enumerate() {
        image
            .iter_mut()
            .for_each(|v| *v = rng.uniform_range(0.0, 0.2));
        let vertical = rng.below(2) == 0;
        let at = rng.below(6);
        for along in 0..6 {
            let (y, x) = if vertical { (along, at) } else { (at, along) };
            image[y * 6 + x] = 1.0;
        }
        targets.set(example, usize::from(!vertical), 1.0);
    }
    (inputs, targets)
}

#[test]
fn a_tiny_cnn_tells_vertical_from_horizontal_bars() {
    let mut rng = SeededRng::new(5);
    let (inputs, targets) = bars(64, &mut rng);
    let (test_inputs, test_targets) = bars(64, &mut rng);
    let config = SequentialConfig {
        input: vec![1, 6, 6],
        layers: vec![
            LayerConfig::conv(4, 3, Activation::Relu),
            LayerConfig::pool(Pooling::Max, 2),
            LayerConfig::FLATTEN,
            LayerConfig::dense(2, Activation::Linear),
        ],
        seed: 2,
        initializer: None,
        padded: false,
    };
    let mut trainer = Trainer::new(
        config.init().unwrap(),
        train_config(OptimizerKind::Adam, 0.02, 16),
    )
    .unwrap();
    for _ in 0..40 {
        trainer.train_epoch(&inputs, &targets).unwrap();
    }
    let train = trainer.evaluate(&inputs, &targets).unwrap();
    let test = trainer.evaluate(&test_inputs, &test_targets).unwrap();
    assert_eq!(train.accuracy, 1.0, "training accuracy {}", train.accuracy);
    assert_eq!(test.accuracy, 1.0, "test accuracy {}", test.accuracy);
}

#[test]
fn impossible_shapes_are_refused_with_the_reason() {
    let error = |config: SequentialConfig| config.summary().unwrap_err().to_string();

    // LeNet-5 on 8x8 images: C1 keeps 8x8, S2 gives 4x4, and C3's 5x5 kernel does not fit.
    let mut small = SequentialConfig::lenet5(Activation::Relu, Pooling::Max);
    small.input = vec![1, 8, 8];
    let message = error(small.clone());
    assert!(
        message.starts_with("layer 3 (conv2d) on feature maps 6x4x4:"),
        "{message}"
    );
    assert!(message.contains("(4 + 0 - 5)/1 + 1"), "{message}");
    assert!(small.init().is_err());

    let pool = SequentialConfig {
        input: vec![1, 28, 28],
        layers: vec![
            LayerConfig::MaxPool2d(MaxPool2d { size: 3, stride: 3 }),
            LayerConfig::FLATTEN,
            LayerConfig::dense(10, Activation::Linear),
        ],
        seed: 1,
        initializer: None,
        padded: false,
    };
    let message = error(pool);
    assert!(
        message.contains("(28 - 3)/3 + 1 = 9.33 is not a whole number"),
        "{message}"
    );

    let no_flatten = SequentialConfig {
        input: vec![1, 28, 28],
        layers: vec![LayerConfig::dense(10, Activation::Linear)],
        seed: 1,
        initializer: None,
        padded: false,
    };
    let message = error(no_flatten);
    assert!(message.contains("add a Flatten layer"), "{message}");

    let zero_channels = SequentialConfig {
        input: vec![1, 28, 28],
        layers: vec![LayerConfig::conv(0, 3, Activation::Relu)],
        seed: 1,
        initializer: None,
        padded: false,
    };
    assert!(error(zero_channels).contains("at least one output channel"));

    // Images of the wrong size are refused by the trainer before any step.
    let model = SequentialConfig::mlp().init().unwrap();
    let mut trainer = Trainer::new(model, train_config(OptimizerKind::Adam, 0.001, 4)).unwrap();
    let message = trainer
        .train_epoch(&Tensor::zeros(&[2, 1, 20, 20]), &Tensor::zeros(&[2, 10]))
        .unwrap_err()
        .to_string();
    assert!(message.contains("[examples, 1, 28, 28]"), "{message}");
}

/// Batch normalisation after a convolution and after a dense layer, dropout before the output.
fn normalised_cnn() -> SequentialConfig {
    SequentialConfig {
        input: vec![1, 6, 6],
        layers: vec![
            LayerConfig::conv(4, 3, Activation::Relu),
            LayerConfig::BATCH_NORM,
            LayerConfig::pool(Pooling::Max, 2),
            LayerConfig::FLATTEN,
            LayerConfig::dense(8, Activation::Relu),
            LayerConfig::BATCH_NORM,
            LayerConfig::Dropout(Dropout { rate: 0.25 }),
            LayerConfig::dense(2, Activation::Linear),
        ],
        seed: 2,
        initializer: None,
        padded: false,
    }
}

#[test]
fn batch_norm_and_dropout_in_the_summary() {
    let config = normalised_cnn();
    let summary = config.summary().unwrap();
    let names: Vec<&str> = summary.iter().map(|l| l.name).collect();
    assert_eq!(
        names,
        vec![
            "conv2d",
            "batch_norm2d",
            "max_pool2d",
            "flatten",
            "dense",
            "batch_norm1d",
            "dropout",
            "dense"
        ]
    );
    assert_eq!(summary[1].output_shape, vec![4, 4, 4]);
    assert_eq!(summary[6].output_shape, vec![8]);
    let learned: Vec<usize> = summary.iter().map(|l| l.parameters).collect();
    // γ and β per channel, then per feature; running mean and variance counted apart.
    assert_eq!(learned, vec![4 * 10, 8, 0, 0, 8 * 17, 16, 0, 2 * 9]);
    let kept: Vec<usize> = summary.iter().map(|l| l.running_statistics).collect();
    assert_eq!(kept, vec![0, 8, 0, 0, 0, 16, 0, 0]);

    let model = config.init().unwrap();
    let trainable = 40 + 8 + 136 + 16 + 18;
    assert_eq!(config.parameter_count().unwrap(), trainable);
    assert_eq!(model.parameter_count(), trainable);
    assert_eq!(model.params().scalar_count(), trainable + 8 + 16);
}

#[test]
fn dropout_rates_outside_0_to_1_are_refused_in_words() {
    for rate in [1.0, 1.5, -0.1, f32::NAN] {
        let mut config = normalised_cnn();
        config.layers[6] = LayerConfig::Dropout(Dropout { rate });
        let message = config.summary().unwrap_err().to_string();
        assert!(
            message.starts_with("layer 7 (dropout) on 8 features:"),
            "{message}"
        );
        assert!(message.contains("at least 0 and below 1"), "{message}");
        assert!(config.init().is_err());
    }
}

#[test]
fn a_cnn_with_batch_norm_and_dropout_learns_bars_through_the_trainer() {
    let mut rng = SeededRng::new(5);
    let (inputs, targets) = bars(64, &mut rng);
    let (test_inputs, test_targets) = bars(64, &mut rng);
    let mut trainer = Trainer::new(
        normalised_cnn().init().unwrap(),
        train_config(OptimizerKind::Adam, 0.01, 16),
    )
    .unwrap();
    let first = trainer.train_epoch(&inputs, &targets).unwrap();
    let mut last = first;
    for _ in 0..25 {
        last = trainer.train_epoch(&inputs, &targets).unwrap();
    }
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    // Evaluation uses the running statistics and no dropout.
    let test = trainer.evaluate(&test_inputs, &test_targets).unwrap();
    assert!(test.accuracy >= 0.95, "test accuracy {}", test.accuracy);

    // Copying the parameters (as the app does between a worker and the page) carries the
    // running statistics: a fresh network given them evaluates exactly the same.
    let mut copy = normalised_cnn().init().unwrap();
    let trained = trainer.model().params();
    for id in trained.ids() {
        copy.params_mut().value_mut(id).copy_from(trained.value(id));
    }
    let mut copied = Trainer::new(copy, train_config(OptimizerKind::Adam, 0.01, 16)).unwrap();
    assert_eq!(copied.evaluate(&test_inputs, &test_targets).unwrap(), test);
}
