//! End-to-end learning: the networks of the course learn what they should, fail where they
//! should, reproducibly, and bad settings give readable errors instead of panics.

use neural_playground::engine::{
    Activation, Described, EngineError, Initializer, LayerSpec, Loss, Model, ModelConfig,
    OptimizerConfig, OptimizerKind, Regularization, SeededRng, Tape, Tensor, TrainConfig, Trainer,
};

fn model(inputs: usize, layers: &[(usize, Activation)], seed: u64) -> Model {
    let config = ModelConfig {
        inputs,
        layers: layers.iter().map(|&(n, a)| LayerSpec::new(n, a)).collect(),
        initializer: Initializer::XavierUniform,
        seed,
    };
    Model::new(&config).unwrap()
}

fn train_config(
    loss: Loss,
    kind: OptimizerKind,
    learning_rate: f32,
    batch_size: usize,
) -> TrainConfig {
    TrainConfig {
        loss,
        optimizer: OptimizerConfig::new(kind, learning_rate),
        batch_size,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 42,
        clip_norm: None,
        truncation: None,
    }
}

fn xor() -> (Tensor, Tensor) {
    let x = Tensor::from_vec(&[4, 2], vec![0., 0., 0., 1., 1., 0., 1., 1.]).unwrap();
    let y = Tensor::from_vec(&[4, 1], vec![0., 1., 1., 0.]).unwrap();
    (x, y)
}

/// Problem 3 of the course: points uniform in [-1, 1]^2, label 1 when f1 * f2 > 0.
fn problem_3(count: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = SeededRng::new(seed);
    let mut x = Tensor::zeros(&[count, 2]);
    let mut y = Tensor::zeros(&[count, 1]);
    for i in 0..count {
        let (f1, f2) = (rng.uniform_range(-1.0, 1.0), rng.uniform_range(-1.0, 1.0));
        x.set(i, 0, f1);
        x.set(i, 1, f2);
        y.set(i, 0, if f1 * f2 > 0.0 { 1.0 } else { 0.0 });
    }
    (x, y)
}

/// y = 2 x1 - 3 x2 + 1 on random points.
fn linear_regression(count: usize) -> (Tensor, Tensor) {
    let mut rng = SeededRng::new(17);
    let mut x = Tensor::zeros(&[count, 2]);
    let mut y = Tensor::zeros(&[count, 1]);
    for i in 0..count {
        let (a, b) = (rng.uniform_range(-1.0, 1.0), rng.uniform_range(-1.0, 1.0));
        x.set(i, 0, a);
        x.set(i, 1, b);
        y.set(i, 0, 2.0 * a - 3.0 * b + 1.0);
    }
    (x, y)
}

#[test]
fn a_2_2_1_sigmoid_network_learns_xor() {
    let (x, y) = xor();
    // 2-2-1 XOR has local minima; with this seed (and most others) Adam finds the solution.
    let network = model(2, &[(2, Activation::Sigmoid), (1, Activation::Sigmoid)], 0);
    let mut trainer = Trainer::new(
        network,
        train_config(Loss::BinaryCrossEntropy, OptimizerKind::Adam, 0.05, 4),
    )
    .unwrap();
    let first = trainer.evaluate(&x, &y).unwrap();
    for _ in 0..3000 {
        trainer.train_epoch(&x, &y).unwrap();
    }
    let last = trainer.evaluate(&x, &y).unwrap();
    assert_eq!(last.accuracy, 1.0, "loss {} -> {}", first.loss, last.loss);
    assert!(last.loss < 0.1 * first.loss);
    assert_eq!(trainer.epoch(), 3000);
    // The model shows probabilities for the BCE-trained output.
    let p = trainer.model_mut().predict(&x).unwrap();
    assert!(p.data()[1] > 0.8 && p.data()[0] < 0.2, "{:?}", p.data());
}

#[test]
fn problem_3_needs_a_hidden_layer() {
    let (x, y) = problem_3(400, 5);
    let config = train_config(Loss::BinaryCrossEntropy, OptimizerKind::Adam, 0.03, 16);

    let single = model(2, &[(1, Activation::Sigmoid)], 1);
    let mut trainer = Trainer::new(single, config).unwrap();
    for _ in 0..150 {
        trainer.train_epoch(&x, &y).unwrap();
    }
    let single_layer = trainer.evaluate(&x, &y).unwrap();
    assert!(
        single_layer.accuracy < 0.75,
        "a single layer reached {}",
        single_layer.accuracy
    );

    let hidden = model(2, &[(8, Activation::Tanh), (1, Activation::Sigmoid)], 1);
    let mut trainer = Trainer::new(hidden, config).unwrap();
    for _ in 0..150 {
        trainer.train_epoch(&x, &y).unwrap();
    }
    let with_hidden = trainer.evaluate(&x, &y).unwrap();
    assert!(
        with_hidden.accuracy > 0.95,
        "one hidden layer reached only {}",
        with_hidden.accuracy
    );
}

#[test]
fn every_optimizer_reduces_the_loss() {
    let (x, y) = linear_regression(64);
    for kind in OptimizerKind::ALL {
        let learning_rate = match kind {
            OptimizerKind::AdaGrad => 0.3,
            OptimizerKind::Adam | OptimizerKind::RmsProp => 0.02,
            _ => 0.05,
        };
        let network = model(2, &[(1, Activation::Linear)], 7);
        let mut trainer = Trainer::new(
            network,
            train_config(Loss::MeanSquaredError, kind, learning_rate, 8),
        )
        .unwrap();
        let before = trainer.evaluate(&x, &y).unwrap().loss;
        for _ in 0..30 {
            trainer.train_epoch(&x, &y).unwrap();
        }
        let after = trainer.evaluate(&x, &y).unwrap().loss;
        assert!(after < 0.5 * before, "{}: {before} -> {after}", kind.key());
    }
}

#[test]
fn softmax_cross_entropy_learns_problem_2() {
    // Class 0 when f1 > f2 + f3, else class 1; one-hot targets, two softmax outputs.
    let mut rng = SeededRng::new(23);
    let count = 200;
    let mut x = Tensor::zeros(&[count, 3]);
    let mut y = Tensor::zeros(&[count, 2]);
    for i in 0..count {
        let f: Vec<f32> = (0..3).map(|_| rng.uniform_range(0.0, 1.0)).collect();
        (0..3).for_each(|j| x.set(i, j, f[j]));
        y.set(i, if f[0] > f[1] + f[2] { 0 } else { 1 }, 1.0);
    }
    let network = model(3, &[(2, Activation::Linear)], 2);
    let mut trainer = Trainer::new(
        network,
        train_config(Loss::SoftmaxCrossEntropy, OptimizerKind::Adam, 0.05, 10),
    )
    .unwrap();
    for _ in 0..200 {
        trainer.train_epoch(&x, &y).unwrap();
    }
    let evaluation = trainer.evaluate(&x, &y).unwrap();
    assert!(evaluation.accuracy > 0.95, "{evaluation:?}");
    let probabilities = trainer.model_mut().predict(&x).unwrap();
    for row in probabilities.data().chunks(2) {
        assert!((row[0] + row[1] - 1.0).abs() < 1e-5);
    }
}

fn weight_norm(model: &Model) -> f32 {
    model
        .layers()
        .iter()
        .map(|layer| {
            model
                .params()
                .value(layer.weights())
                .data()
                .iter()
                .map(|w| w * w)
                .sum::<f32>()
        })
        .sum()
}

#[test]
fn l2_shrinks_the_weights() {
    let (x, y) = problem_3(200, 9);
    let mut norms = Vec::new();
    for (regularization, rate) in [
        (Regularization::None, 0.0),
        (Regularization::L2, 0.01),
        (Regularization::L1, 0.01),
    ] {
        let network = model(2, &[(8, Activation::Tanh), (1, Activation::Sigmoid)], 4);
        let mut config = train_config(Loss::BinaryCrossEntropy, OptimizerKind::Adam, 0.03, 16);
        config.regularization = regularization;
        config.regularization_rate = rate;
        let mut trainer = Trainer::new(network, config).unwrap();
        for _ in 0..100 {
            trainer.train_epoch(&x, &y).unwrap();
        }
        norms.push(weight_norm(trainer.model()));
    }
    assert!(
        norms[1] < 0.8 * norms[0],
        "L2 {} vs none {}",
        norms[1],
        norms[0]
    );
    assert!(
        norms[2] < 0.8 * norms[0],
        "L1 {} vs none {}",
        norms[2],
        norms[0]
    );
}

fn loss_curve(model_seed: u64, train_seed: u64) -> Vec<f32> {
    let (x, y) = problem_3(100, 1);
    let network = model(
        2,
        &[(4, Activation::Relu), (1, Activation::Sigmoid)],
        model_seed,
    );
    let mut config = train_config(Loss::BinaryCrossEntropy, OptimizerKind::Momentum, 0.05, 7);
    config.seed = train_seed;
    let mut trainer = Trainer::new(network, config).unwrap();
    (0..20)
        .map(|_| trainer.train_epoch(&x, &y).unwrap())
        .collect()
}

#[test]
fn same_seed_same_loss_curve() {
    let curve = loss_curve(1, 2);
    assert_eq!(curve, loss_curve(1, 2));
    assert_ne!(
        curve,
        loss_curve(1, 3),
        "the shuffling seed changes the curve"
    );
    assert_ne!(curve, loss_curve(5, 2), "the model seed changes the curve");
}

#[test]
fn a_huge_learning_rate_gives_a_non_finite_error() {
    let (x, y) = linear_regression(32);
    let network = model(2, &[(16, Activation::Relu), (1, Activation::Linear)], 1);
    let mut trainer = Trainer::new(
        network,
        train_config(Loss::MeanSquaredError, OptimizerKind::Sgd, 1e6, 8),
    )
    .unwrap();
    let mut outcome = Ok(0.0);
    for _ in 0..100 {
        outcome = trainer.train_epoch(&x, &y);
        if outcome.is_err() {
            break;
        }
    }
    match outcome {
        Err(EngineError::NonFinite(message)) => {
            assert!(message.contains("learning rate 1000000"), "{message}");
            assert!(message.contains("epoch"), "{message}");
        }
        other => panic!("expected a NonFinite error, got {other:?}"),
    }
}

#[test]
fn bad_configs_are_refused_with_readable_messages() {
    let zero = ModelConfig {
        inputs: 2,
        layers: vec![
            LayerSpec::new(0, Activation::Tanh),
            LayerSpec::new(1, Activation::Sigmoid),
        ],
        initializer: Initializer::XavierUniform,
        seed: 0,
    };
    let message = Model::new(&zero).unwrap_err().to_string();
    assert!(
        message.contains("hidden layer 1 has 0 neurons"),
        "{message}"
    );

    let huge = ModelConfig {
        inputs: 2,
        layers: vec![LayerSpec::new(5000, Activation::Relu); 3],
        ..zero.clone()
    };
    assert!(matches!(
        Model::new(&huge),
        Err(EngineError::InvalidConfig(_))
    ));
    let no_layers = ModelConfig {
        layers: vec![],
        ..zero
    };
    assert!(
        Model::new(&no_layers)
            .unwrap_err()
            .to_string()
            .contains("at least one layer")
    );

    let network = model(2, &[(1, Activation::Sigmoid)], 0);
    let message = Trainer::new(
        network.clone(),
        train_config(Loss::SoftmaxCrossEntropy, OptimizerKind::Sgd, 0.1, 4),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("at least two output neurons"), "{message}");
    let message = Trainer::new(
        network.clone(),
        train_config(Loss::MeanSquaredError, OptimizerKind::Sgd, 0.1, 0),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("batch size"), "{message}");
    let message = Trainer::new(
        network.clone(),
        train_config(Loss::MeanSquaredError, OptimizerKind::Sgd, -1.0, 4),
    )
    .unwrap_err()
    .to_string();
    assert!(message.contains("learning rate"), "{message}");

    // Data of the wrong shape.
    let mut trainer = Trainer::new(
        network,
        train_config(Loss::MeanSquaredError, OptimizerKind::Sgd, 0.1, 4),
    )
    .unwrap();
    let three_features = Tensor::zeros(&[4, 3]);
    let error = trainer
        .train_epoch(&three_features, &Tensor::zeros(&[4, 1]))
        .unwrap_err();
    assert!(matches!(error, EngineError::ShapeMismatch { .. }));
    assert!(error.to_string().contains("2 columns"), "{error}");
    let error = trainer
        .train_epoch(&Tensor::zeros(&[4, 2]), &Tensor::zeros(&[3, 1]))
        .unwrap_err();
    assert!(error.to_string().contains("[4, 1]"), "{error}");
    let error = trainer.model_mut().forward(&three_features).unwrap_err();
    assert!(error.to_string().contains("[4, 3]"), "{error}");
}

#[test]
fn tape_builder_explains_shape_errors() {
    let mut tape = Tape::new();
    let a = tape.input(&[4, 3]);
    let b = tape.input(&[2, 5]);
    let message = tape.matmul(a, b).unwrap_err().to_string();
    assert_eq!(
        message,
        "matmul: expected the left matrix to have as many columns as the right one has rows, \
         found [4, 3] by [2, 5]: inner dimensions 3 and 2 differ"
    );
    let message = tape.add(a, b).unwrap_err().to_string();
    assert!(message.contains("same shape"), "{message}");
    let bias = tape.input(&[2]);
    assert!(
        tape.add_bias(a, bias)
            .unwrap_err()
            .to_string()
            .contains("length 3")
    );
}

#[test]
fn inference_reuses_its_buffers() {
    // A 10 000-point grid, twice: the second forward must not move any buffer.
    let mut network = model(
        2,
        &[
            (8, Activation::Tanh),
            (8, Activation::Relu),
            (1, Activation::Sigmoid),
        ],
        1,
    );
    let grid = Tensor::zeros(&[10_000, 2]);
    network.forward(&grid).unwrap();
    let pointers: Vec<*const f32> = (0..3)
        .map(|l| network.layer_output(l).data().as_ptr())
        .collect();
    network.forward(&Tensor::zeros(&[100, 2])).unwrap();
    assert_eq!(network.layer_output(1).shape(), &[100, 8]);
    network.forward(&grid).unwrap();
    let again: Vec<*const f32> = (0..3)
        .map(|l| network.layer_output(l).data().as_ptr())
        .collect();
    assert_eq!(pointers, again);
    assert_eq!(network.layer_output(0).shape(), &[10_000, 8]);
}

#[test]
fn set_config_keeps_the_weights() {
    let (x, y) = xor();
    let network = model(2, &[(3, Activation::Tanh), (1, Activation::Sigmoid)], 1);
    let mut trainer = Trainer::new(
        network,
        train_config(Loss::BinaryCrossEntropy, OptimizerKind::Adam, 0.05, 4),
    )
    .unwrap();
    trainer.train_epoch(&x, &y).unwrap();
    let weight = trainer.model().weight(0, 0, 0);
    let mut config = *trainer.config();
    config.optimizer = OptimizerConfig::new(OptimizerKind::Sgd, 0.1);
    config.loss = Loss::MeanSquaredError;
    trainer.set_config(config).unwrap();
    assert_eq!(trainer.model().weight(0, 0, 0), weight);
    assert_eq!(trainer.config().loss, Loss::MeanSquaredError);
    trainer.train_epoch(&x, &y).unwrap();
    assert_ne!(trainer.model().weight(0, 0, 0), weight);
}

/// An epoch trained in slices of any size takes the very steps of an epoch trained at once:
/// the same weights and the same mean loss, and the epoch counts once, at its end.
#[test]
fn an_epoch_in_slices_equals_an_epoch_at_once() {
    let (x, y) = problem_3(103, 5);
    let config = train_config(Loss::BinaryCrossEntropy, OptimizerKind::Adam, 0.03, 10);
    let layers = [(6, Activation::Tanh), (1, Activation::Sigmoid)];
    let mut whole = Trainer::new(model(2, &layers, 3), config).unwrap();
    let mut sliced = Trainer::new(model(2, &layers, 3), config).unwrap();
    for slice in [1usize, 3, 4, 11] {
        let whole_loss = whole.train_epoch(&x, &y).unwrap();
        let mut parts = 0;
        let sliced_loss = loop {
            let mut batches = 0;
            let mut keep_going = || {
                batches += 1;
                batches < slice
            };
            parts += 1;
            match sliced.train_epoch_part(&x, &y, &mut keep_going).unwrap() {
                Some(loss) => break loss,
                None => {
                    assert!(sliced.in_epoch());
                    assert_eq!(sliced.epoch(), whole.epoch() - 1, "counted before its end");
                }
            }
        };
        // 103 rows in batches of 10 are 11 batches.
        assert_eq!(parts, 11usize.div_ceil(slice), "slices of {slice} batches");
        assert!(!sliced.in_epoch());
        assert_eq!(sliced.epoch(), whole.epoch());
        assert_eq!(sliced_loss.to_bits(), whole_loss.to_bits());
        assert_eq!(sliced.model().params(), whole.model().params());
    }
}

/// `train_epoch` finishes an epoch begun in slices rather than beginning another.
#[test]
fn a_whole_epoch_finishes_the_slices_under_way() {
    let (x, y) = problem_3(60, 8);
    let config = train_config(Loss::BinaryCrossEntropy, OptimizerKind::Sgd, 0.1, 10);
    let layers = [(4, Activation::Relu), (1, Activation::Sigmoid)];
    let mut trainer = Trainer::new(model(2, &layers, 1), config).unwrap();
    let steps = |trainer: &Trainer| trainer.steps();
    assert_eq!(
        trainer.train_epoch_part(&x, &y, &mut || false).unwrap(),
        None
    );
    assert_eq!(steps(&trainer), 1);
    trainer.train_epoch(&x, &y).unwrap();
    assert_eq!((trainer.epoch(), steps(&trainer)), (1, 6));
    // Data of another size begin a new epoch.
    let (fewer_x, fewer_y) = problem_3(30, 8);
    trainer.train_epoch_part(&x, &y, &mut || false).unwrap();
    trainer.train_epoch(&fewer_x, &fewer_y).unwrap();
    assert_eq!((trainer.epoch(), steps(&trainer)), (2, 10));
}
