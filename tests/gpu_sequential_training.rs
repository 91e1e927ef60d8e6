//! Image networks trained step by step on the CPU engine and on the GPU, compared: one table of
//! cases (network, loss, optimiser, penalty), each trained from the same initial weights with the
//! same seed and the same batches (one of them smaller) by `engine::Trainer<Sequential>` and by
//! `gpu::GpuTrainer`, with a cosine learning-rate decay and an optimiser reset midway.
//!
//! Per case: every step's loss (relative error; the last steps read as one mean), the final
//! weights and running statistics (error relative to the largest CPU value), `predict` from the
//! CPU's weights against the CPU's evaluation tape (more images than one prediction chunk), and
//! the exact round trip of the parameters through the GPU. Like the kernel parity suites it needs
//! an adapter (lavapipe natively) and fails without one.

use std::rc::Rc;

use neural_playground::engine::{
    Activation, LayerConfig, Loss, OptimizerConfig, OptimizerKind, Pooling, Regularization,
    SeededRng, SequentialConfig, Tensor, TrainConfig, Trainer,
};
use neural_playground::engine::{AvgPool2d, Conv2d, Dropout, Gru, Lstm, MaxPool2d, Rnn};
use neural_playground::gpu::{GpuContext, GpuTrainer};

mod gpu_common;

use gpu_common::training_table::{self, Outcome};
use gpu_common::{difference, open_context, random};

const CLASSES: usize = 10;
/// Batch sizes of the steps: the fourth and the last are smaller, as an epoch's last batch is.
const BATCHES: [usize; 10] = [16, 16, 16, 7, 16, 16, 16, 16, 16, 5];
/// Steps whose losses are read one by one; the rest are read as one mean.
const READ_ONE_BY_ONE: usize = 7;
/// The optimiser state is forgotten (on both sides) before this step.
const RESET_BEFORE: usize = 5;
/// Images given to `predict`: more than one chunk of 256.
const PREDICTED: usize = 300;

struct Case {
    name: &'static str,
    network: SequentialConfig,
    loss: Loss,
    optimizer: OptimizerConfig,
    regularization: Regularization,
    regularization_rate: f32,
    clip_norm: Option<f32>,
    truncation: Option<usize>,
}

fn conv(
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    activation: Activation,
) -> LayerConfig {
    LayerConfig::Conv2d(Conv2d {
        out_channels,
        kernel,
        stride,
        padding,
        activation,
    })
}

/// LeNet-like on odd-sized 13x13 maps: conv (padding 1) ReLU, max pool 3/2, conv stride 2 tanh,
/// average pool 2/1, flatten, dense ReLU, dense.
fn lenet_like() -> SequentialConfig {
    SequentialConfig {
        input: vec![1, 13, 13],
        layers: vec![
            conv(4, 3, 1, 1, Activation::Relu),
            LayerConfig::MaxPool2d(MaxPool2d { size: 3, stride: 2 }),
            conv(6, 2, 2, 0, Activation::Tanh),
            LayerConfig::AvgPool2d(AvgPool2d { size: 2, stride: 1 }),
            LayerConfig::FLATTEN,
            LayerConfig::dense(16, Activation::Relu),
            LayerConfig::dense(CLASSES, Activation::Linear),
        ],
        seed: 11,
        initializer: None,
        padded: false,
    }
}

/// Conv ReLU + BatchNorm2d, max pool, flatten, dense tanh + BatchNorm1d, dropout 0.3, dense.
///
/// Not ReLU before the BatchNorm1d: a unit positive for the whole batch makes ReLU the identity,
/// and a bias followed by a batch normalisation with nothing nonlinear between has a gradient of
/// zero in exact arithmetic, so each engine computes rounding noise there, which Adam divides by
/// its own size: the bias would move by ±learning rate per step, differently on each engine.
fn normalised() -> SequentialConfig {
    SequentialConfig {
        input: vec![1, 12, 12],
        layers: vec![
            conv(6, 3, 1, 0, Activation::Relu),
            LayerConfig::BATCH_NORM,
            LayerConfig::pool(Pooling::Max, 2),
            LayerConfig::FLATTEN,
            LayerConfig::dense(32, Activation::Tanh),
            LayerConfig::BATCH_NORM,
            LayerConfig::Dropout(Dropout { rate: 0.3 }),
            LayerConfig::dense(CLASSES, Activation::Linear),
        ],
        seed: 12,
        initializer: None,
        padded: false,
    }
}

/// Batch normalisation of the raw input (no gradient flows into it), a sigmoid conv, dropout of
/// feature maps, average pool, flatten, dense.
fn normalised_input() -> SequentialConfig {
    SequentialConfig {
        input: vec![2, 8, 8],
        layers: vec![
            LayerConfig::BATCH_NORM,
            conv(3, 3, 1, 1, Activation::Sigmoid),
            LayerConfig::Dropout(Dropout { rate: 0.25 }),
            LayerConfig::pool(Pooling::Average, 2),
            LayerConfig::FLATTEN,
            LayerConfig::dense(CLASSES, Activation::Linear),
        ],
        seed: 13,
        initializer: None,
        padded: false,
    }
}

/// A perceptron on flattened images (the first dense layer reads the input itself): GELU,
/// dropout, leaky ReLU + BatchNorm1d, dense.
fn perceptron() -> SequentialConfig {
    SequentialConfig {
        input: vec![1, 10, 10],
        layers: vec![
            LayerConfig::FLATTEN,
            LayerConfig::dense(32, Activation::Gelu),
            LayerConfig::Dropout(Dropout { rate: 0.2 }),
            LayerConfig::dense(16, Activation::LeakyRelu),
            LayerConfig::BATCH_NORM,
            LayerConfig::dense(CLASSES, Activation::Linear),
        ],
        seed: 14,
        initializer: None,
        padded: false,
    }
}

/// Sequences of 7 steps of 2 features through a recurrent cell, then a dense layer.
fn recurrent(cell: LayerConfig) -> SequentialConfig {
    SequentialConfig {
        seed: 15,
        ..SequentialConfig::new(
            &[7, 2],
            vec![cell, LayerConfig::dense(CLASSES, Activation::Linear)],
        )
    }
}

fn table() -> Vec<Case> {
    let adam = OptimizerConfig::new(OptimizerKind::Adam, 0.01);
    let momentum = OptimizerConfig::new(OptimizerKind::Momentum, 0.05);
    let case = |name, network, optimizer| Case {
        name,
        network,
        loss: Loss::SoftmaxCrossEntropy,
        optimizer,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        clip_norm: None,
        truncation: None,
    };
    vec![
        case("LeNet-like, Adam", lenet_like(), adam),
        case("LeNet-like, momentum", lenet_like(), momentum),
        case("conv+BN2d, tanh+BN1d, dropout, Adam", normalised(), adam),
        case(
            "conv+BN2d, tanh+BN1d, dropout, momentum",
            normalised(),
            momentum,
        ),
        case(
            "BN on the input, conv, dropout, Adam",
            normalised_input(),
            adam,
        ),
        case(
            "perceptron, dropout, BN1d, momentum",
            perceptron(),
            momentum,
        ),
        case(
            "LeNet-5 preset (28x28), Adam",
            SequentialConfig::lenet5(Activation::Relu, Pooling::Max),
            adam,
        ),
        Case {
            name: "LeNet-like, MSE, SGD, L2",
            loss: Loss::MeanSquaredError,
            optimizer: OptimizerConfig::new(OptimizerKind::Sgd, 0.1),
            regularization: Regularization::L2,
            regularization_rate: 0.01,
            ..case("", lenet_like(), adam)
        },
        case(
            "RNN on sequences, Adam",
            recurrent(LayerConfig::Rnn(Rnn::new(6))),
            adam,
        ),
        case(
            "LSTM on sequences, Adam",
            recurrent(LayerConfig::Lstm(Lstm {
                hidden: 5,
                every_step: false,
            })),
            adam,
        ),
        case(
            "LSTM every step, then GRU, Adam",
            SequentialConfig {
                seed: 16,
                ..SequentialConfig::new(
                    &[6, 2],
                    vec![
                        LayerConfig::Lstm(Lstm {
                            hidden: 4,
                            every_step: true,
                        }),
                        LayerConfig::Gru(Gru {
                            hidden: 3,
                            every_step: false,
                        }),
                        LayerConfig::dense(CLASSES, Activation::Linear),
                    ],
                )
            },
            adam,
        ),
        case(
            "GRU on sequences, momentum",
            recurrent(LayerConfig::Gru(Gru {
                hidden: 4,
                every_step: false,
            })),
            momentum,
        ),
        Case {
            name: "LSTM, clipped to norm 0.05, truncated to 3 steps, SGD, L2",
            optimizer: OptimizerConfig::new(OptimizerKind::Sgd, 0.5),
            regularization: Regularization::L2,
            regularization_rate: 0.01,
            clip_norm: Some(0.05),
            truncation: Some(3),
            ..case(
                "",
                recurrent(LayerConfig::Lstm(Lstm {
                    hidden: 5,
                    every_step: false,
                })),
                adam,
            )
        },
        Case {
            name: "GRU every step then RNN, clipped to norm 0.1, truncated to 2 steps, Adam",
            clip_norm: Some(0.1),
            truncation: Some(2),
            ..case(
                "",
                SequentialConfig::new(
                    &[5, 2],
                    vec![
                        LayerConfig::Gru(Gru {
                            hidden: 3,
                            every_step: true,
                        }),
                        LayerConfig::Rnn(Rnn::new(4)),
                        LayerConfig::dense(CLASSES, Activation::Linear),
                    ],
                ),
                adam,
            )
        },
        case(
            "LSTM every step, a dense layer at every step (sequence labelling), Adam",
            SequentialConfig::new(
                &[5, 2],
                vec![
                    LayerConfig::Lstm(Lstm {
                        hidden: 4,
                        every_step: true,
                    }),
                    LayerConfig::dense(CLASSES, Activation::Linear),
                ],
            ),
            adam,
        ),
        case(
            "Sequences of varying length (padded): LSTM every step, then GRU, Adam",
            SequentialConfig {
                padded: true,
                ..SequentialConfig::new(
                    &[6, 3],
                    vec![
                        LayerConfig::Lstm(Lstm {
                            hidden: 4,
                            every_step: true,
                        }),
                        LayerConfig::Gru(Gru {
                            hidden: 3,
                            every_step: false,
                        }),
                        LayerConfig::dense(CLASSES, Activation::Linear),
                    ],
                )
            },
            adam,
        ),
        Case {
            name: "Sequences of varying length (padded): RNN, truncated to 2 steps, momentum",
            truncation: Some(2),
            ..case(
                "",
                SequentialConfig {
                    padded: true,
                    ..SequentialConfig::new(
                        &[5, 2],
                        vec![
                            LayerConfig::Rnn(Rnn::new(5)),
                            LayerConfig::dense(CLASSES, Activation::Linear),
                        ],
                    )
                },
                momentum,
            )
        },
        Case {
            name: "conv+BN2d, tanh+BN1d, dropout, Adam, L1",
            regularization: Regularization::L1,
            regularization_rate: 0.001,
            ..case("", normalised(), adam)
        },
    ]
}

/// `rows` random examples of `shape` with random one-hot classes: one per example, or one per
/// time step where the network answers at every step (`outputs` `[steps, classes]`).
fn batch(
    rng: &mut SeededRng,
    (shape, outputs): (&[usize], &[usize]),
    rows: usize,
    padded: bool,
) -> (Tensor, Tensor) {
    let batch: Vec<usize> = std::iter::once(rows).chain(shape.iter().copied()).collect();
    let mut images = random(rng, &batch, 0.0, 1.0);
    if padded {
        // Sequences of random lengths: the last feature of a step says whether it is there.
        let (steps, features) = (shape[0], shape[1]);
        for sequence in images.data_mut().chunks_exact_mut(steps * features) {
            let length = 1 + rng.below(steps);
            for (t, step) in sequence.chunks_exact_mut(features).enumerate() {
                step[features - 1] = f32::from(u8::from(t < length));
            }
        }
    }
    let target_shape: Vec<usize> = std::iter::once(rows)
        .chain(outputs.iter().copied())
        .collect();
    let mut targets = Tensor::zeros(&target_shape);
    for row in targets.data_mut().chunks_exact_mut(CLASSES) {
        row[rng.below(CLASSES)] = 1.0;
    }
    (images, targets)
}

/// The app's cosine decay: from `base` at the first step to a tenth of it at the last.
fn learning_rate(base: f32, step: usize) -> f32 {
    let progress = step as f32 / (BATCHES.len() - 1) as f32;
    base * (0.1 + 0.9 * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos()))
}

#[test]
fn training_steps_on_the_gpu_follow_the_cpu_trainer() {
    let context = Rc::new(open_context());
    training_table::check(
        &format!(
            "GPU image-network training parity on {}",
            context.description()
        ),
        &table(),
        |case| case.name,
        |index, case| run(&context, case, 500 + index as u64),
    );
}

fn run(context: &Rc<GpuContext>, case: &Case, seed: u64) -> Outcome {
    let model = case.network.init().unwrap();
    let config = TrainConfig {
        loss: case.loss,
        optimizer: case.optimizer,
        batch_size: BATCHES[0],
        regularization: case.regularization,
        regularization_rate: case.regularization_rate,
        seed: seed + 1,
        clip_norm: case.clip_norm,
        truncation: case.truncation,
    };
    let mut cpu = Trainer::new(model.clone(), config).unwrap();
    let mut gpu = GpuTrainer::new_blocking(context.clone(), &model, config).unwrap();

    let mut rng = SeededRng::new(seed);
    let (mut cpu_losses, mut gpu_losses) = (Vec::new(), Vec::new());
    for (step, &rows) in BATCHES.iter().enumerate() {
        if step == RESET_BEFORE {
            cpu.reset_optimizer();
            gpu.reset_optimizer();
        }
        let rate = learning_rate(case.optimizer.learning_rate, step);
        let mut cpu_config = *cpu.config();
        cpu_config.optimizer.learning_rate = rate;
        cpu.set_config(cpu_config).unwrap();
        gpu.set_learning_rate(rate);

        let (images, targets) = batch(
            &mut rng,
            (&case.network.input, model.output_shape()),
            rows,
            case.network.padded,
        );
        cpu_losses.push(cpu.train_step(&images, &targets).unwrap());
        gpu.train_step(&images, &targets).unwrap();
        if step < READ_ONE_BY_ONE {
            gpu_losses.push(gpu.take_mean_loss_blocking().unwrap());
        }
    }
    let unread = &cpu_losses[READ_ONE_BY_ONE..];
    let cpu_mean = unread.iter().map(|&l| f64::from(l)).sum::<f64>() / unread.len() as f64;
    let gpu_mean = gpu.take_mean_loss_blocking().unwrap();
    assert_eq!(gpu.steps(), cpu.steps(), "{}", case.name);
    let loss = cpu_losses[..READ_ONE_BY_ONE]
        .iter()
        .zip(&gpu_losses)
        .map(|(&c, &g)| (f64::from(c), f64::from(g)))
        .chain([(cpu_mean, f64::from(gpu_mean))])
        .map(|(c, g)| (g - c).abs() / c.abs().max(f64::MIN_POSITIVE))
        .fold(0.0, f64::max);

    let trained = gpu.read_model_blocking().unwrap();
    let cpu_model = cpu.model();
    assert_eq!(trained.output_transform(), cpu_model.output_transform());
    let weights = difference(&trained.params().to_flat(), &cpu_model.params().to_flat());

    // Predictions from the CPU's weights, loaded into the trainer (a checkpoint put back).
    let (images, _) = batch(
        &mut rng,
        (&case.network.input, &[CLASSES]),
        PREDICTED,
        case.network.padded,
    );
    let predict =
        training_table::predictions_from_the_cpu_weights(&mut gpu, cpu_model, &images, case.name);

    Outcome {
        loss,
        weights,
        predict,
        first_loss: cpu_losses[0],
        last_loss: cpu_losses[BATCHES.len() - 1],
    }
}

#[test]
fn parameters_round_trip_exactly_and_bad_input_is_refused_in_the_cpu_words() {
    let context = Rc::new(open_context());
    let model = normalised().init().unwrap();
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        ..TrainConfig::default()
    };
    let mut gpu = GpuTrainer::new_blocking(context.clone(), &model, config).unwrap();
    let back = gpu.read_model_blocking().unwrap();
    assert_eq!(back.params(), model.params());
    assert_eq!(back.config(), model.config());

    // Nothing trained yet: no mean loss to take.
    assert!(gpu.take_mean_loss_blocking().is_err());
    // Data of the wrong shape is refused with the CPU trainer's words.
    let mut cpu = Trainer::new(model.clone(), config).unwrap();
    let (images, targets) = (Tensor::zeros(&[4, 1, 12, 11]), Tensor::zeros(&[4, CLASSES]));
    let gpu_error = gpu.train_step(&images, &targets).unwrap_err();
    let cpu_error = cpu.train_step(&images, &targets).unwrap_err();
    assert_eq!(gpu_error.to_string(), cpu_error.to_string());
    let images = Tensor::zeros(&[4, 1, 12, 12]);
    let gpu_error = gpu
        .train_step(&images, &Tensor::zeros(&[4, 3]))
        .unwrap_err();
    assert!(gpu_error.to_string().contains("[4, 10]"), "{gpu_error}");
    assert!(gpu.predict_blocking(&Tensor::zeros(&[2, 12, 12])).is_err());
    assert_eq!(
        gpu.predict_blocking(&Tensor::zeros(&[0, 1, 12, 12]))
            .unwrap()
            .shape(),
        [0, CLASSES]
    );
    // Another network cannot lend its parameters.
    let other = lenet_like().init().unwrap();
    assert!(gpu.load_model(&other).is_err());
    // Softmax cross-entropy needs two outputs, as on the CPU.
    let mut single = normalised();
    *single.layers.last_mut().unwrap() = LayerConfig::dense(1, Activation::Linear);
    let single = single.init().unwrap();
    assert!(GpuTrainer::new_blocking(context, &single, config).is_err());
    assert!(single.output_count() == 1);
}

#[test]
fn a_step_like_the_last_records_no_new_bind_groups() {
    let context = Rc::new(open_context());
    let model = lenet_like().init().unwrap();
    // Adam with a decaying rate: what changes every step (the rate, the bias corrections) is
    // written into the optimiser's schedule, not into the dispatches' parameters.
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
        ..TrainConfig::default()
    };
    let mut gpu = GpuTrainer::new_blocking(context.clone(), &model, config).unwrap();
    let outputs = model.output_shape().to_vec();
    let (images, targets) = batch(
        &mut SeededRng::new(3),
        (&model.config().input, &outputs),
        8,
        false,
    );
    gpu.train_step(&images, &targets).unwrap();
    let after_one = context.cached_dispatches();
    assert!(after_one > 10, "a step is many dispatches: {after_one}");
    for step in 0..3 {
        gpu.set_learning_rate(0.01 / (step + 2) as f32);
        gpu.train_step(&images, &targets).unwrap();
    }
    assert_eq!(context.cached_dispatches(), after_one);
    assert!(gpu.take_mean_loss_blocking().unwrap().is_finite());
    // A new network's trainer starts the cache afresh, dropping the old buffers.
    let _other = GpuTrainer::new_blocking(context.clone(), &model, config).unwrap();
    assert_eq!(context.cached_dispatches(), 0);
}
