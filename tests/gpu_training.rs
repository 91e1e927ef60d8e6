//! Whole training runs on the CPU engine and on the GPU, compared: one table of cases (model,
//! loss, optimiser, penalty, data), each trained from the same initial weights with the same seed
//! by `engine::Trainer` and by `gpu::GpuEpochTrainer` (the one GPU trainer, driven an epoch at a
//! time with the data on the GPU).
//!
//! Per case: the per-epoch loss curves (relative error per epoch), the final weights (error
//! relative to the largest CPU weight), `predict` on the CPU model's weights against
//! `Model::predict`, and the exact round trip of the weights through the GPU. Like the kernel
//! parity suite it needs an adapter (lavapipe natively) and fails without one.

use std::rc::Rc;

use neural_playground::engine::{
    Activation, Initializer, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig, OptimizerKind,
    Regularization, SeededRng, Tensor, TrainConfig, Trainer, TrainingEngine,
};
use neural_playground::gpu::{GpuContext, GpuEpochTrainer, GpuError, GpuTrainer, KernelFamilies};

mod gpu_common;

use gpu_common::training_table::{self, Outcome};

/// The data sets of the table: rows chosen so that every epoch ends with a smaller batch.
#[derive(Clone, Copy, Debug)]
enum Data {
    /// 2-D points in [-1, 1]², label 1 inside a circle.
    Circle,
    /// 10 features, 3 classes (one-hot) from a fixed random linear map.
    ThreeClasses,
    /// 3 features, 2 targets in (0, 1) from smooth functions.
    Regression,
}

struct Case {
    name: &'static str,
    data: Data,
    layers: Vec<LayerSpec>,
    loss: Loss,
    optimizer: OptimizerConfig,
    batch_size: usize,
    regularization: Regularization,
    regularization_rate: f32,
    epochs: usize,
}

fn layers(widths: &[(usize, Activation)]) -> Vec<LayerSpec> {
    widths
        .iter()
        .map(|&(neurons, activation)| LayerSpec::new(neurons, activation))
        .collect()
}

fn table() -> Vec<Case> {
    use Activation::*;
    let sgd = |rate| OptimizerConfig::new(OptimizerKind::Sgd, rate);
    let momentum = |rate| OptimizerConfig::new(OptimizerKind::Momentum, rate);
    let adam = |rate| OptimizerConfig::new(OptimizerKind::Adam, rate);
    let classifier = layers(&[(8, Tanh), (8, Tanh), (1, Sigmoid)]);
    vec![
        Case {
            name: "2-8-8-1 tanh, BCE, SGD",
            data: Data::Circle,
            layers: classifier.clone(),
            loss: Loss::BinaryCrossEntropy,
            optimizer: sgd(0.1),
            batch_size: 10,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            epochs: 25,
        },
        Case {
            name: "2-8-8-1 tanh, BCE, momentum, L2",
            data: Data::Circle,
            layers: classifier.clone(),
            loss: Loss::BinaryCrossEntropy,
            optimizer: momentum(0.03),
            batch_size: 16,
            regularization: Regularization::L2,
            regularization_rate: 0.003,
            epochs: 25,
        },
        Case {
            name: "2-8-8-1 tanh, BCE, Adam, L1",
            data: Data::Circle,
            layers: classifier,
            loss: Loss::BinaryCrossEntropy,
            optimizer: adam(0.01),
            batch_size: 32,
            regularization: Regularization::L1,
            regularization_rate: 0.001,
            epochs: 25,
        },
        Case {
            name: "10-16-16-3 ReLU, softmax CE, Adam",
            data: Data::ThreeClasses,
            layers: layers(&[(16, Relu), (16, Relu), (3, Linear)]),
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: adam(0.005),
            batch_size: 16,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            epochs: 20,
        },
        Case {
            name: "10-16-16-3 ReLU, softmax CE, SGD, L2",
            data: Data::ThreeClasses,
            layers: layers(&[(16, Relu), (16, Relu), (3, Linear)]),
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: sgd(0.05),
            batch_size: 25,
            regularization: Regularization::L2,
            regularization_rate: 0.001,
            epochs: 20,
        },
        Case {
            name: "3-8-2 sigmoid, MSE, momentum",
            data: Data::Regression,
            layers: layers(&[(8, Sigmoid), (2, Sigmoid)]),
            loss: Loss::MeanSquaredError,
            optimizer: momentum(0.1),
            batch_size: 8,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            epochs: 20,
        },
        Case {
            name: "3-8-8-2 GELU/leaky ReLU/linear, half SE, AdaGrad",
            data: Data::Regression,
            layers: layers(&[(8, Gelu), (8, LeakyRelu), (2, Linear)]),
            loss: Loss::HalfSquaredError,
            optimizer: OptimizerConfig::new(OptimizerKind::AdaGrad, 0.03),
            batch_size: 12,
            regularization: Regularization::L2,
            regularization_rate: 0.001,
            epochs: 20,
        },
        Case {
            name: "3-8-2 tanh/sigmoid, MAE, RMSprop",
            data: Data::Regression,
            layers: layers(&[(8, Tanh), (2, Sigmoid)]),
            loss: Loss::MeanAbsoluteError,
            optimizer: OptimizerConfig::new(OptimizerKind::RmsProp, 0.003),
            batch_size: 10,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            epochs: 20,
        },
    ]
}

/// Inputs and targets of a data set, always the same for a seed.
fn data(kind: Data, seed: u64) -> (Tensor, Tensor) {
    let mut rng = SeededRng::new(seed);
    let mut uniform =
        |count: usize| -> Vec<f32> { (0..count).map(|_| rng.uniform_range(-1.0, 1.0)).collect() };
    match kind {
        Data::Circle => {
            let rows = 203;
            let inputs = uniform(rows * 2);
            let labels = inputs
                .chunks_exact(2)
                .map(|p| f32::from(p[0] * p[0] + p[1] * p[1] < 0.5))
                .collect();
            tensors(&[rows, 2], inputs, &[rows, 1], labels)
        }
        Data::ThreeClasses => {
            let (rows, features, classes) = (157, 10, 3);
            let map = uniform(features * classes);
            let inputs = uniform(rows * features);
            let mut targets = vec![0.0; rows * classes];
            for (row, x) in inputs.chunks_exact(features).enumerate() {
                let score = |class: usize| -> f32 {
                    (0..features).map(|f| x[f] * map[f * classes + class]).sum()
                };
                let best = (0..classes)
                    .max_by(|&a, &b| score(a).total_cmp(&score(b)))
                    .unwrap();
                targets[row * classes + best] = 1.0;
            }
            tensors(&[rows, features], inputs, &[rows, classes], targets)
        }
        Data::Regression => {
            let rows = 101;
            let inputs = uniform(rows * 3);
            let targets = inputs
                .chunks_exact(3)
                .flat_map(|x| {
                    [
                        0.5 + 0.4 * (x[0] + x[1]).sin(),
                        0.5 + 0.3 * x[2] * x[0] - 0.1 * x[1],
                    ]
                })
                .collect();
            tensors(&[rows, 3], inputs, &[rows, 2], targets)
        }
    }
}

fn tensors(
    input_shape: &[usize],
    inputs: Vec<f32>,
    target_shape: &[usize],
    targets: Vec<f32>,
) -> (Tensor, Tensor) {
    (
        Tensor::from_vec(input_shape, inputs).unwrap(),
        Tensor::from_vec(target_shape, targets).unwrap(),
    )
}

/// A grid of `side`² points over [-1.2, 1.2]^features' first two axes (the others at 0.3), like
/// the decision-boundary heatmap.
fn grid(features: usize, side: usize) -> Tensor {
    let mut points = Vec::with_capacity(side * side * features);
    let coordinate = |i: usize| -1.2 + 2.4 * i as f32 / (side - 1) as f32;
    for row in 0..side {
        for col in 0..side {
            points.push(coordinate(col));
            points.push(coordinate(row));
            points.extend(std::iter::repeat_n(0.3, features - 2));
        }
    }
    Tensor::from_vec(&[side * side, features], points).unwrap()
}

struct Gpu {
    context: Rc<GpuContext>,
    kernels: Rc<KernelFamilies>,
}

fn gpu() -> Gpu {
    let context = GpuContext::new_blocking().unwrap_or_else(|error| match error {
        GpuError::NoAdapter(reason) => panic!(
            "no GPU adapter: install mesa-vulkan-drivers (cargo xtask setup does) or run on a \
             machine with a GPU\nwgpu: {reason}"
        ),
        other => panic!("{other}"),
    });
    let kernels = KernelFamilies::new_blocking(&context).expect("the kernels compile");
    Gpu {
        context: Rc::new(context),
        kernels: Rc::new(kernels),
    }
}

#[test]
fn training_on_the_gpu_follows_the_cpu_trainer() {
    let gpu = gpu();
    training_table::check(
        &format!("GPU training parity on {}", gpu.context.description()),
        &table(),
        |case| case.name,
        |index, case| run(&gpu, case, 100 + index as u64),
    );
}

fn run(gpu: &Gpu, case: &Case, seed: u64) -> Outcome {
    let (inputs, targets) = data(case.data, seed);
    let model_config = ModelConfig {
        inputs: inputs.cols(),
        layers: case.layers.clone(),
        initializer: Initializer::XavierUniform,
        seed,
    };
    let model = Model::new(&model_config).unwrap();
    let config = TrainConfig {
        loss: case.loss,
        optimizer: case.optimizer,
        batch_size: case.batch_size,
        regularization: case.regularization,
        regularization_rate: case.regularization_rate,
        seed: seed + 1,
        clip_norm: None,
        truncation: None,
    };

    let mut cpu = Trainer::new(model.clone(), config).unwrap();
    let cpu_losses: Vec<f32> = (0..case.epochs)
        .map(|_| cpu.train_epoch(&inputs, &targets).unwrap())
        .collect();

    let (context, kernels) = (gpu.context.clone(), gpu.kernels.clone());
    let mut trainer = GpuEpochTrainer::new(context, kernels, &model, config).unwrap();
    trainer.set_data(&inputs, &targets).unwrap();
    // Read in two parts: the losses of the epochs not yet read, oldest first.
    let first_part = 3.min(case.epochs);
    trainer.train_epochs(first_part).unwrap();
    let mut gpu_losses = trainer.read_losses_blocking().unwrap();
    trainer.train_epochs(case.epochs - first_part).unwrap();
    gpu_losses.extend(trainer.read_losses_blocking().unwrap());
    assert!(trainer.read_losses_blocking().unwrap().is_empty());
    assert_eq!(gpu_losses.len(), case.epochs, "{}", case.name);
    assert_eq!(trainer.epoch(), cpu.epoch());
    assert_eq!(trainer.steps(), cpu.steps());

    let loss = cpu_losses
        .iter()
        .zip(&gpu_losses)
        .map(|(&c, &g)| relative(f64::from(g), f64::from(c)))
        .fold(0.0, f64::max);

    let trained = trainer.read_model_blocking().unwrap();
    let cpu_model = cpu.model();
    assert_eq!(trained.output_transform(), cpu_model.output_transform());
    let weights = difference(&trained.params().to_flat(), &cpu_model.params().to_flat());

    // Predictions from the CPU's weights, loaded into the trainer (the switch path).
    trainer.load_model(cpu_model).unwrap();
    let points = grid(inputs.cols(), 100);
    let expected = cpu.model_mut().predict(&points).unwrap().clone();
    let predicted = trainer.predict_blocking(&points).unwrap();
    assert_eq!(predicted.shape(), expected.shape());
    let predict = difference(predicted.data(), expected.data());

    // The weights go to the GPU and come back bit for bit.
    let round_trip = trainer.read_model_blocking().unwrap();
    assert_eq!(
        round_trip.params().to_flat(),
        cpu.model().params().to_flat(),
        "{}: load_model then read_model changed the weights",
        case.name
    );

    Outcome {
        loss,
        weights,
        predict,
        first_loss: cpu_losses[0],
        last_loss: cpu_losses[case.epochs - 1],
    }
}

#[test]
fn weights_round_trip_exactly_and_the_data_is_checked() {
    let gpu = gpu();
    let config = ModelConfig {
        inputs: 5,
        layers: layers(&[(7, Activation::Gelu), (3, Activation::Linear)]),
        initializer: Initializer::HeNormal,
        seed: 9,
    };
    let model = Model::new(&config).unwrap();
    let train = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        ..TrainConfig::default()
    };
    let (context, kernels) = (gpu.context.clone(), gpu.kernels.clone());
    let mut trainer = GpuEpochTrainer::new(context, kernels, &model, train).unwrap();
    let back = trainer.read_model_blocking().unwrap();
    assert_eq!(back.params(), model.params());
    assert_eq!(back.config(), model.config());

    // Training before any data, and data of the wrong shape, are refused with the CPU's words.
    assert!(trainer.train_epochs(1).is_err());
    let wrong = Tensor::zeros(&[4, 2]);
    let error = trainer
        .set_data(&wrong, &Tensor::zeros(&[4, 3]))
        .unwrap_err();
    assert!(error.to_string().contains("5 columns") || error.to_string().contains(", 5]"));
    // A model of other layers cannot lend its weights.
    let other = Model::new(&ModelConfig::default()).unwrap();
    assert!(trainer.load_model(&other).is_err());
    // Softmax cross-entropy needs two outputs, as on the CPU.
    let single = Model::new(&ModelConfig::default()).unwrap();
    let (context, kernels) = (gpu.context.clone(), gpu.kernels.clone());
    assert!(GpuEpochTrainer::new(context, kernels, &single, train).is_err());
}

/// The same code drives the CPU trainer and the GPU trainer through `TrainingEngine`, batch by
/// batch: the losses of each stretch of steps, a learning rate changed mid-run, a checkpoint put
/// back, the optimiser reset, and the weights at the end agree.
#[test]
fn the_dense_gpu_trainer_is_a_training_engine_like_the_cpu_one() {
    let gpu = gpu();
    let (inputs, targets) = data(Data::ThreeClasses, 31);
    let model = Model::new(&ModelConfig {
        inputs: inputs.cols(),
        layers: layers(&[(9, Activation::Relu), (3, Activation::Linear)]),
        initializer: Initializer::HeNormal,
        seed: 31,
    })
    .unwrap();
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
        batch_size: 20,
        regularization: Regularization::L2,
        regularization_rate: 0.001,
        seed: 32,
        clip_norm: None,
        truncation: None,
    };
    let mut cpu: Box<dyn TrainingEngine<Model>> =
        Box::new(Trainer::new(model.clone(), config).unwrap());
    let (context, kernels) = (gpu.context.clone(), gpu.kernels.clone());
    let mut on_gpu: Box<dyn TrainingEngine<Model>> =
        Box::new(GpuTrainer::with_kernels(context, kernels, &model, config).unwrap());
    assert!(
        on_gpu.model().is_none(),
        "the GPU's network lives on the GPU"
    );

    let cpu_run = drive(cpu.as_mut(), &inputs, &targets);
    let gpu_run = drive(on_gpu.as_mut(), &inputs, &targets);
    assert_eq!(cpu_run.losses.len(), gpu_run.losses.len());
    for (stretch, (&c, &g)) in cpu_run.losses.iter().zip(&gpu_run.losses).enumerate() {
        assert!(
            relative(f64::from(g), f64::from(c)) < 1e-4,
            "stretch {stretch}: mean loss {g} on the GPU, {c} on the CPU"
        );
    }
    let weights = difference(&gpu_run.weights, &cpu_run.weights);
    assert!(weights < 1e-4, "final weights differ by {weights:.2e}");
    assert_eq!(on_gpu.config().optimizer.learning_rate, 0.003);

    // Nothing queued since the last read; another network's parameters are refused.
    assert!(pollster::block_on(on_gpu.take_mean_loss()).is_err());
    let other = Model::new(&ModelConfig::default()).unwrap();
    let error = on_gpu.load_params(other.params()).unwrap_err();
    assert!(error.to_string().contains("another network"), "{error}");
    // Data of the wrong shape is refused in the CPU's words.
    let error = on_gpu
        .train_step(&Tensor::zeros(&[4, 2]), &Tensor::zeros(&[4, 3]))
        .unwrap_err();
    assert!(error.to_string().contains("10 columns"), "{error}");
}

struct Driven {
    /// The mean loss of each stretch of steps.
    losses: Vec<f32>,
    weights: Vec<f32>,
}

/// Steps through `inputs` in batches of the engine's size (the last one smaller), in four
/// stretches: the rate drops after the first, the second's start is put back afterwards as a
/// checkpoint, the optimiser is reset before the last.
fn drive(engine: &mut dyn TrainingEngine<Model>, inputs: &Tensor, targets: &Tensor) -> Driven {
    let batch = engine.config().batch_size;
    let rows = inputs.rows();
    let slice = |tensor: &Tensor, start: usize, end: usize| {
        let cols = tensor.cols();
        Tensor::from_vec(
            &[end - start, cols],
            tensor.data()[start * cols..end * cols].to_vec(),
        )
        .unwrap()
    };
    let mut losses = Vec::new();
    let mut checkpoint = None;
    for stretch in 0..4 {
        match stretch {
            1 => {
                engine.set_learning_rate(0.003);
                checkpoint = Some(pollster::block_on(engine.read_model()).unwrap());
            }
            2 => {
                let saved: &Model = checkpoint.as_ref().unwrap();
                engine.load_params(saved.params()).unwrap();
            }
            3 => engine.reset_optimizer(),
            _ => {}
        }
        let mut answered = Vec::new();
        for start in (0..rows).step_by(batch) {
            let end = (start + batch).min(rows);
            let step = engine.train_step(&slice(inputs, start, end), &slice(targets, start, end));
            answered.extend(step.unwrap());
        }
        let mean = if answered.is_empty() {
            pollster::block_on(engine.take_mean_loss()).unwrap()
        } else {
            (answered.iter().map(|&l| f64::from(l)).sum::<f64>() / answered.len() as f64) as f32
        };
        losses.push(mean);
    }
    let trained = pollster::block_on(engine.read_model()).unwrap();
    Driven {
        losses,
        weights: trained.params().to_flat(),
    }
}

/// `|got - expected| / |expected|` (absolute below 1e-6, where a relative error means little).
fn relative(got: f64, expected: f64) -> f64 {
    if got.is_nan() || expected.is_nan() {
        return f64::INFINITY;
    }
    (got - expected).abs() / expected.abs().max(1e-6)
}

/// `max |got - expected| / max |expected|`.
fn difference(got: &[f32], expected: &[f32]) -> f64 {
    assert_eq!(got.len(), expected.len());
    if got.iter().any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    let worst = got
        .iter()
        .zip(expected)
        .map(|(&g, &e)| (f64::from(g) - f64::from(e)).abs())
        .fold(0.0, f64::max);
    let scale = expected
        .iter()
        .map(|&e| f64::from(e).abs())
        .fold(0.0, f64::max);
    worst / scale.max(f64::MIN_POSITIVE)
}
