//! Recurrent layers (RNN, LSTM, GRU) in the one network definition: finite-difference gradient
//! checks through time for each cell, PyTorch's numbers for given weights
//! (`tests/data/recurrent_reference.py` made `recurrent_reference.json`: whole, truncated through
//! time, and clipped by global norm), and a network that
//! learns the course's bit counting through the same trainer as every other network.

mod common;

use neural_playground::data::sequences::SequenceTask;
use neural_playground::engine::{
    Activation, Gru, LayerConfig, Loss, Lstm, Mode, Optimizer, OptimizerConfig, OptimizerKind,
    OutputTransform, Regularization, Rnn, SeededRng, Sequential, SequentialConfig, Tensor,
    TrainConfig, Trainable, Trainer, clip_gradients,
};

fn cells(hidden: usize) -> [LayerConfig; 3] {
    [
        LayerConfig::Rnn(Rnn::new(hidden)),
        LayerConfig::Lstm(Lstm {
            hidden,
            every_step: false,
        }),
        LayerConfig::Gru(Gru {
            hidden,
            every_step: false,
        }),
    ]
}

fn random(shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut tensor = Tensor::zeros(shape);
    for value in tensor.data_mut() {
        *value = rng.uniform_range(-1.0, 1.0);
    }
    tensor
}

/// Checks every parameter's gradient of a squared error on `config`'s two outputs (random
/// sequences and targets for `rows` examples) against finite differences, the parameters moved
/// away from the initial biases' round values so that every path carries gradient; returns how
/// many recurrent layers the tape holds.
fn check_gradients(
    name: &str,
    config: &SequentialConfig,
    rows: usize,
    rng: &mut SeededRng,
) -> usize {
    let mut model = config.init().unwrap();
    for id in model.params().ids().collect::<Vec<_>>() {
        for value in model.params_mut().value_mut(id).data_mut() {
            *value += rng.uniform_range(-0.3, 0.3);
        }
    }
    let mut recorded = model
        .network()
        .record_for(
            Mode::Training,
            rows,
            OutputTransform::None,
            Some(Loss::MeanSquaredError),
        )
        .unwrap();
    let mut shape = vec![rows];
    shape.extend(&config.input);
    let inputs = random(&shape, rng);
    let targets = random(&[rows, 2], rng);
    recorded.tape.set_input(recorded.input, &inputs).unwrap();
    let target = recorded.target.unwrap();
    recorded.tape.set_input(target, &targets).unwrap();
    let loss = recorded.loss.unwrap();
    common::check(name, &mut recorded.tape, model.params_mut(), loss);
    recorded.recurrent_layers().count()
}

#[test]
fn gradients_through_time_match_finite_differences() {
    let mut rng = SeededRng::new(5);
    // (steps, features, hidden, rows): one step, a long-ish sequence, a batch of one.
    for (steps, features, hidden, rows) in [(1, 2, 3, 2), (3, 1, 2, 4), (6, 2, 2, 1)] {
        for cell in cells(hidden) {
            let config = SequentialConfig {
                seed: 9,
                ..SequentialConfig::new(
                    &[steps, features],
                    vec![cell, LayerConfig::dense(2, Activation::Linear)],
                )
            };
            let name = format!("{} on {steps}x{features}, batch {rows}", cell.token());
            check_gradients(&name, &config, rows, &mut rng);
        }
    }
    // The RNN with another activation than tanh (the counter the page has built by hand).
    for activation in [
        Activation::Linear,
        Activation::LeakyRelu,
        Activation::Sigmoid,
    ] {
        let cell = LayerConfig::Rnn(Rnn {
            activation,
            ..Rnn::new(3)
        });
        let config = SequentialConfig::new(
            &[4, 2],
            vec![cell, LayerConfig::dense(2, Activation::Linear)],
        );
        check_gradients(&cell.token(), &config, 3, &mut rng);
    }
}

/// A one-unit linear RNN with `w_x = 1`, `w_h = 1`, `b = 0` counts the ones of any sequence
/// exactly, step by step; its token names the activation and reads back.
#[test]
fn a_linear_rnn_with_unit_weights_counts() {
    let every_step = LayerConfig::Rnn(Rnn {
        activation: Activation::Linear,
        every_step: true,
        ..Rnn::new(1)
    });
    assert_eq!(every_step.token(), "rnn1seq-linear");
    assert_eq!(LayerConfig::from_token("rnn1seq-linear"), Some(every_step));
    // Ending with every step's state, the network gives a value at every step.
    let per_step = SequentialConfig::new(&[6, 1], vec![every_step])
        .init()
        .unwrap();
    assert_eq!(per_step.output_shape(), &[6, 1]);
    let cell = LayerConfig::Rnn(Rnn {
        activation: Activation::Linear,
        ..Rnn::new(1)
    });
    let mut model = SequentialConfig::new(&[6, 1], vec![cell]).init().unwrap();
    let ids: Vec<_> = model.params().ids().collect();
    // W is [[w_h], [w_x]]: the state's row first.
    *model.params_mut().value_mut(ids[0]) = Tensor::from_vec(&[2, 1], vec![1.0, 1.0]).unwrap();
    *model.params_mut().value_mut(ids[1]) = Tensor::from_vec(&[1], vec![0.0]).unwrap();
    let bits = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    let mut recorded = model.record(1, OutputTransform::None, None).unwrap();
    let inputs = Tensor::from_vec(&[1, 6, 1], bits.to_vec()).unwrap();
    recorded.tape.set_input(recorded.input, &inputs).unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let layer = recorded.recurrent_layers().next().unwrap();
    let states: Vec<f32> = layer
        .steps
        .iter()
        .map(|step| recorded.tape.value(step.state).data()[0])
        .collect();
    assert_eq!(states, [1.0, 1.0, 2.0, 3.0, 3.0, 4.0]);
    assert_eq!(recorded.tape.value(recorded.prediction).data(), &[4.0]);
}

/// Two and three recurrent layers stacked: the lower ones give every step's state
/// (`[batch, steps, hidden]`) to the next, and the gradient flows back through both in time.
#[test]
fn stacked_recurrent_layers_pass_gradients_through_every_step() {
    let mut rng = SeededRng::new(8);
    let every = |cell: LayerConfig| {
        cell.with_setting(neural_playground::engine::Setting {
            key: "every_step",
            value: neural_playground::engine::SettingValue::Switch(true),
        })
        .unwrap()
    };
    let stacks = [
        vec![every(cells(3)[1]), cells(2)[2]],
        vec![every(cells(2)[0]), every(cells(3)[2]), cells(2)[1]],
    ];
    for (index, stack) in stacks.into_iter().enumerate() {
        let (steps, rows) = (4, 3);
        let mut layers = stack.clone();
        layers.push(LayerConfig::dense(2, Activation::Linear));
        let config = SequentialConfig {
            seed: 4,
            ..SequentialConfig::new(&[steps, 2], layers)
        };
        let summary = config.summary().unwrap();
        assert_eq!(
            summary[0].output_shape.len(),
            2,
            "every step: [steps, hidden]"
        );
        assert_eq!(summary[0].output_shape[0], steps);
        let name = format!("stack {index}");
        let recurrent = check_gradients(&name, &config, rows, &mut rng);
        assert_eq!(recurrent, stack.len());
        for cell in &stack {
            assert_eq!(LayerConfig::from_token(&cell.token()), Some(*cell));
        }
    }
    assert_eq!(every(cells(8)[1]).token(), "lstm8seq");
}

#[test]
fn recurrent_layers_read_sequences_only_and_say_so() {
    for cell in cells(4) {
        let on_vectors = SequentialConfig::new(&[5], vec![cell]);
        let error = on_vectors.summary().unwrap_err().to_string();
        assert!(error.contains("[time, features]"), "{error}");
        let config = SequentialConfig::new(
            &[7, 3],
            vec![cell, LayerConfig::dense(2, Activation::Linear)],
        );
        let summary = config.summary().unwrap();
        assert_eq!(summary[0].output_shape, vec![4]);
        let gates = match cell {
            LayerConfig::Rnn(_) => 1,
            LayerConfig::Lstm(_) => 4,
            _ => 3,
        };
        assert_eq!(summary[0].parameters, (4 + 3 + 1) * gates * 4);
        assert_eq!(LayerConfig::from_token(&cell.token()), Some(cell));
    }
    let zero = SequentialConfig::new(
        &[7, 3],
        vec![LayerConfig::Lstm(Lstm {
            hidden: 0,
            every_step: false,
        })],
    );
    let error = zero.summary().unwrap_err().to_string();
    assert!(error.contains("values of state"), "{error}");
}

/// Accuracy of `model` on `inputs`, the class being the largest output.
fn accuracy(
    trainer: &mut Trainer<neural_playground::engine::Sequential>,
    set: (&Tensor, &Tensor),
) -> f32 {
    let (inputs, targets) = set;
    let rows = inputs.shape()[0];
    // One answer per sequence, or one per step (a row of the last dimension each).
    let classes = *targets.shape().last().unwrap();
    let model = trainer.model();
    let mut recorded = model
        .network()
        .record_for(Mode::Evaluation, rows, OutputTransform::Softmax, None)
        .unwrap();
    recorded.tape.set_input(recorded.input, inputs).unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let predicted = recorded.tape.value(recorded.prediction).data();
    let argmax = |row: &[f32]| {
        (0..row.len())
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap()
    };
    let answers = targets.len() / classes;
    let right = (0..answers)
        .filter(|&n| {
            let row = n * classes..(n + 1) * classes;
            argmax(&predicted[row.clone()]) == argmax(&targets.data()[row])
        })
        .count();
    right as f32 / answers as f32
}

#[test]
fn an_lstm_learns_to_count_bits_through_the_trainer() {
    let length = 8;
    let task = SequenceTask::BitCount;
    let train = task.generate(1000, length, 1).unwrap();
    let test = task.generate(300, length, 2).unwrap();
    let config = SequentialConfig::new(
        &[length, 1],
        vec![
            LayerConfig::Lstm(Lstm {
                hidden: 16,
                every_step: false,
            }),
            LayerConfig::dense(task.outputs(length), Activation::Linear),
        ],
    );
    let train_config = TrainConfig {
        loss: task.loss(),
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.02),
        batch_size: 32,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 3,
        clip_norm: None,
        truncation: None,
    };
    let mut trainer = Trainer::new(config.init().unwrap(), train_config).unwrap();
    let mut last = f32::NAN;
    for _ in 0..40 {
        last = trainer.train_epoch(&train.inputs, &train.targets).unwrap();
        if accuracy(&mut trainer, (&test.inputs, &test.targets)) == 1.0 {
            break;
        }
    }
    let test_accuracy = accuracy(&mut trainer, (&test.inputs, &test.targets));
    assert_eq!(
        test_accuracy,
        1.0,
        "after {} epochs (last loss {last}) the test accuracy is {test_accuracy}",
        trainer.epoch()
    );
}

/// One cell's numbers from `tests/data/recurrent_reference.json`.
#[derive(serde::Deserialize)]
struct TorchCase {
    weights: Vec<f32>,
    bias: Vec<f32>,
    last_state: Vec<f32>,
    weights_grad: Vec<f32>,
    bias_grad: Vec<f32>,
    truncated_weights_grad: Vec<f32>,
    truncated_bias_grad: Vec<f32>,
    clipped_weights: Vec<f32>,
    clipped_bias: Vec<f32>,
}

#[derive(serde::Deserialize)]
struct TorchReference {
    rows: usize,
    steps: usize,
    features: usize,
    hidden: usize,
    inputs: Vec<f32>,
    loss_weights: Vec<f32>,
    truncation: usize,
    clip_norm: f32,
    learning_rate: f32,
    cases: std::collections::BTreeMap<String, TorchCase>,
}

fn assert_close(what: &str, found: &[f32], expected: &[f32]) {
    assert_eq!(found.len(), expected.len(), "{what}: length");
    for (index, (&f, &e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= 1e-5 + 1e-5 * e.abs(),
            "{what}[{index}]: {f}, PyTorch {e}"
        );
    }
}

/// With PyTorch's weights, each cell's last state and the gradients of `(h_T · r).sum()` are
/// PyTorch's (`torch.nn.RNN`, `torch.nn.LSTM`, and the course's GRU written out in torch): whole,
/// under truncated backpropagation through time (PyTorch's state detached between chunks), and
/// one SGD step after clipping by global norm (`clip_grad_norm_`).
#[test]
fn cells_with_given_weights_give_pytorchs_states_and_gradients() {
    let text = include_str!("data/recurrent_reference.json");
    let reference: TorchReference = serde_json::from_str(text).unwrap();
    assert_eq!(reference.cases.len(), 3);
    for cell in cells(reference.hidden) {
        let name = cell.name();
        let case = &reference.cases[name];
        let config = SequentialConfig::new(&[reference.steps, reference.features], vec![cell]);
        let mut model = config.init().unwrap();
        let ids: Vec<_> = model.params().ids().collect();
        let [weights, bias] = ids[..] else {
            panic!("a cell has one weight matrix and one bias");
        };
        let shape = model.params().value(weights).shape().to_vec();
        *model.params_mut().value_mut(weights) =
            Tensor::from_vec(&shape, case.weights.clone()).unwrap();
        *model.params_mut().value_mut(bias) =
            Tensor::from_vec(&[case.bias.len()], case.bias.clone()).unwrap();

        let truncation = Some(reference.truncation);
        let last_state = weighted_state_gradients(&mut model, &reference, truncation);
        assert_close(&format!("{name} last state"), &last_state, &case.last_state);
        let grads = |model: &Sequential| {
            let params = model.params();
            (params.grad(weights).clone(), params.grad(bias).clone())
        };
        let (weights_grad, bias_grad) = grads(&model);
        assert_close(
            &format!("{name} truncated dL/dW"),
            weights_grad.data(),
            &case.truncated_weights_grad,
        );
        assert_close(
            &format!("{name} truncated dL/db"),
            bias_grad.data(),
            &case.truncated_bias_grad,
        );
        assert_ne!(weights_grad.data(), &case.weights_grad[..]);

        weighted_state_gradients(&mut model, &reference, None);
        let (weights_grad, bias_grad) = grads(&model);
        assert_close(
            &format!("{name} dL/dW"),
            weights_grad.data(),
            &case.weights_grad,
        );
        assert_close(&format!("{name} dL/db"), bias_grad.data(), &case.bias_grad);

        let clip = reference.clip_norm;
        let norm = clip_gradients(model.params_mut(), clip);
        assert!(
            norm > 2.0 * clip,
            "{name}: the gradient's norm {norm} is clipped"
        );
        let sgd = OptimizerConfig::new(OptimizerKind::Sgd, reference.learning_rate);
        Optimizer::new(sgd).step(model.params_mut());
        let params = model.params();
        let clipped = (params.value(weights).data(), params.value(bias).data());
        assert_close(
            &format!("{name} clipped W"),
            clipped.0,
            &case.clipped_weights,
        );
        assert_close(&format!("{name} clipped b"), clipped.1, &case.clipped_bias);
    }
}

/// Runs `(h_T · r).sum()` forward and backward on the reference's sequences (backpropagation
/// through time cut every `truncation` steps); returns `h_T`, the gradients in `model`.
fn weighted_state_gradients(
    model: &mut Sequential,
    reference: &TorchReference,
    truncation: Option<usize>,
) -> Vec<f32> {
    let (rows, steps, features, hidden) = (
        reference.rows,
        reference.steps,
        reference.features,
        reference.hidden,
    );
    let mut recorded = model
        .network()
        .record_truncated(
            Mode::Training,
            rows,
            OutputTransform::None,
            None,
            truncation,
        )
        .unwrap();
    let tape = &mut recorded.tape;
    let loss_weights = tape.input(&[rows, hidden]);
    let weighted = tape.mul(recorded.prediction, loss_weights).unwrap();
    let loss = tape.sum(weighted).unwrap();
    let inputs = Tensor::from_vec(&[rows, steps, features], reference.inputs.clone()).unwrap();
    tape.set_input(recorded.input, &inputs).unwrap();
    let r = Tensor::from_vec(&[rows, hidden], reference.loss_weights.clone()).unwrap();
    tape.set_input(loss_weights, &r).unwrap();
    tape.forward(model.params()).unwrap();
    tape.backward(loss, model.params_mut()).unwrap();
    tape.value(recorded.prediction).data().to_vec()
}

/// Records `cell` on `[steps, 2]` sequences for `rows` examples, runs it forward (and backward
/// through a squared error on a dense layer after it) on random data.
fn run_cell(
    cell: LayerConfig,
    steps: usize,
    rows: usize,
    seed: u64,
) -> (
    neural_playground::engine::ModelTape,
    neural_playground::engine::Sequential,
) {
    let config = SequentialConfig {
        seed,
        ..SequentialConfig::new(
            &[steps, 2],
            vec![cell, LayerConfig::dense(1, Activation::Linear)],
        )
    };
    let mut model = config.init().unwrap();
    let mut recorded = model
        .network()
        .record_for(
            Mode::Training,
            rows,
            OutputTransform::None,
            Some(Loss::MeanSquaredError),
        )
        .unwrap();
    let mut rng = SeededRng::new(seed);
    let inputs = random(&[rows, steps, 2], &mut rng);
    let targets = random(&[rows, 1], &mut rng);
    recorded.tape.set_input(recorded.input, &inputs).unwrap();
    recorded
        .tape
        .set_input(recorded.target.unwrap(), &targets)
        .unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let loss = recorded.loss.unwrap();
    recorded.tape.backward(loss, model.params_mut()).unwrap();
    (recorded, model)
}

#[test]
fn every_time_step_is_on_the_tape_with_its_named_gates() {
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    for cell in cells(3) {
        let (recorded, _) = run_cell(cell, 6, 4, 2);
        let layers: Vec<_> = recorded.recurrent_layers().collect();
        assert_eq!(layers.len(), 1);
        let steps = &layers[0].steps;
        assert_eq!(steps.len(), 6);
        let names = |t: usize| -> Vec<&str> { steps[t].gates.iter().map(|g| g.name).collect() };
        let value = |id| recorded.tape.value(id).data().to_vec();
        let gate = |t: usize, name: &str| {
            let gate = steps[t].gates.iter().find(|g| g.name == name).unwrap();
            gate.value.read(&recorded.tape)
        };
        match cell {
            LayerConfig::Rnn(_) => assert!(names(0).is_empty() && names(5).is_empty()),
            LayerConfig::Lstm(_) => {
                assert_eq!(names(0), ["i", "o", "C~"]);
                assert_eq!(names(1), ["f", "i", "o", "C~"]);
                // h_t = o · tanh(C_t), C_t = f · C_{t-1} + i · C~, read back from the nodes.
                for t in 1..6 {
                    let (h, c) = (value(steps[t].state), value(steps[t].cell.unwrap()));
                    let previous = value(steps[t - 1].cell.unwrap());
                    let (f, i, o, g) = (gate(t, "f"), gate(t, "i"), gate(t, "o"), gate(t, "C~"));
                    for k in 0..h.len() {
                        assert!(close(h[k], o[k] * c[k].tanh()), "h at step {t}");
                        assert!(close(c[k], f[k] * previous[k] + i[k] * g[k]), "C at {t}");
                    }
                }
            }
            _ => {
                assert_eq!(names(0), ["z", "h~"]);
                assert_eq!(names(1), ["z", "r", "h~"]);
                // h_t = (1 − z) · h_{t-1} + z · h~.
                for t in 1..6 {
                    let (h, previous) = (value(steps[t].state), value(steps[t - 1].state));
                    let (z, proposal) = (gate(t, "z"), gate(t, "h~"));
                    for k in 0..h.len() {
                        let expected = (1.0 - z[k]) * previous[k] + z[k] * proposal[k];
                        assert!(close(h[k], expected), "h at step {t}");
                    }
                }
            }
        }
        assert_eq!(layers[0].output, steps[5].state);
    }
}

/// The gradient reaching early states: ‖∂L/∂h_t‖ for every step, larger towards the end for a
/// plain RNN (it vanishes going back in time), and kept far better by an LSTM.
#[test]
fn state_gradients_vanish_back_through_time_in_a_plain_rnn() {
    let steps = 30;
    let kept = |cell: LayerConfig| {
        let (recorded, _) = run_cell(cell, steps, 16, 7);
        let norms = recorded.state_gradient_norms();
        assert_eq!(norms.len(), 1);
        let norms = &norms[0];
        assert_eq!(norms.len(), steps);
        assert!(norms.iter().all(|n| n.is_finite() && *n > 0.0), "{norms:?}");
        norms[0] / norms[steps - 1]
    };
    let rnn = kept(LayerConfig::Rnn(Rnn::new(8)));
    let lstm = kept(LayerConfig::Lstm(Lstm {
        hidden: 8,
        every_step: false,
    }));
    assert!(
        rnn < 1e-3,
        "a plain RNN keeps {rnn:.2e} of the last step's gradient at the first"
    );
    assert!(
        lstm > 10.0 * rnn,
        "the LSTM keeps {lstm:.2e}, the RNN {rnn:.2e}"
    );
}

/// The trainer's options through time: truncated backpropagation leaves the loss's gradient on
/// the last `truncation` states only, and clipping bounds an SGD step to `rate · clip`, its
/// norm reported before clipping; both can be switched mid-run, keeping the weights.
#[test]
fn the_trainer_truncates_backpropagation_and_clips_gradients() {
    let (length, truncation, clip, rate) = (9, 4, 0.01, 0.5);
    let task = SequenceTask::BitCount;
    let train = task.generate(64, length, 5).unwrap();
    let config = SequentialConfig::new(
        &[length, 1],
        vec![
            LayerConfig::Gru(Gru {
                hidden: 6,
                every_step: false,
            }),
            LayerConfig::dense(task.outputs(length), Activation::Linear),
        ],
    );
    let train_config = TrainConfig {
        loss: task.loss(),
        optimizer: OptimizerConfig::new(OptimizerKind::Sgd, rate),
        batch_size: 64,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 3,
        clip_norm: Some(clip),
        truncation: Some(truncation),
    };
    let mut trainer = Trainer::new(config.init().unwrap(), train_config).unwrap();
    let norms_after_a_step = |trainer: &mut Trainer<Sequential>| {
        let before = trainer.model().params().clone();
        trainer.train_step(&train.inputs, &train.targets).unwrap();
        let after = trainer.model().params();
        let moved: f32 = before
            .ids()
            .map(|id| {
                let (old, new) = (before.value(id).data(), after.value(id).data());
                old.iter()
                    .zip(new)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f32>()
            })
            .sum::<f32>()
            .sqrt();
        let states = trainer.training_tape().unwrap().state_gradient_norms();
        (moved, states.into_iter().next().unwrap())
    };

    let (moved, states) = norms_after_a_step(&mut trainer);
    let norm = trainer.gradient_norm().expect("known while clipping");
    assert!(norm > 10.0 * clip, "the gradient's norm {norm} is clipped");
    assert!(
        (moved - rate * clip).abs() < 1e-3 * rate * clip,
        "an SGD step of norm {moved}, not rate · clip = {}",
        rate * clip
    );
    let cut = length - truncation;
    assert!(states[..cut].iter().all(|&g| g == 0.0), "{states:?}");
    assert!(states[cut..].iter().all(|&g| g > 0.0), "{states:?}");

    trainer
        .set_config(TrainConfig {
            clip_norm: None,
            truncation: None,
            ..train_config
        })
        .unwrap();
    let (moved, states) = norms_after_a_step(&mut trainer);
    assert_eq!(trainer.gradient_norm(), None);
    assert!(
        moved > 10.0 * rate * clip,
        "an unclipped step moves {moved}"
    );
    assert!(states.iter().all(|&g| g > 0.0), "{states:?}");

    for refused in [
        TrainConfig {
            clip_norm: Some(0.0),
            ..train_config
        },
        TrainConfig {
            truncation: Some(0),
            ..train_config
        },
    ] {
        assert!(trainer.set_config(refused).is_err());
    }
}

/// A dense layer after every step's state applies the same weights at each step (`[batch,
/// steps, outputs]`), under a softmax cross-entropy at every step: gradients match finite
/// differences, and the targets must have a row per step.
#[test]
fn a_dense_layer_at_every_step_passes_gradients_through_time() {
    let mut rng = SeededRng::new(12);
    let (steps, rows, classes) = (4, 3, 3);
    for cell in cells(3) {
        let every = cell
            .with_setting(neural_playground::engine::Setting {
                key: "every_step",
                value: neural_playground::engine::SettingValue::Switch(true),
            })
            .unwrap();
        let config = SequentialConfig::new(
            &[steps, 2],
            vec![every, LayerConfig::dense(classes, Activation::Linear)],
        );
        let mut model = config.init().unwrap();
        assert_eq!(model.output_shape(), &[steps, classes]);
        assert_eq!(model.output_count(), classes);
        let mut recorded = model
            .network()
            .record_for(
                Mode::Training,
                rows,
                OutputTransform::Softmax,
                Some(Loss::SoftmaxCrossEntropy),
            )
            .unwrap();
        let inputs = random(&[rows, steps, 2], &mut rng);
        let mut targets = Tensor::zeros(&[rows, steps, classes]);
        for row in targets.data_mut().chunks_exact_mut(classes) {
            row[rng.below(classes)] = 1.0;
        }
        recorded.tape.set_input(recorded.input, &inputs).unwrap();
        recorded
            .tape
            .set_input(recorded.target.unwrap(), &targets)
            .unwrap();
        let loss = recorded.loss.unwrap();
        let name = format!("{} then a dense layer at every step", every.token());
        common::check(&name, &mut recorded.tape, model.params_mut(), loss);
        // The shown prediction is a softmax at every step.
        recorded.tape.forward(model.params()).unwrap();
        for row in recorded
            .tape
            .value(recorded.prediction)
            .data()
            .chunks(classes)
        {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        let flat_targets = Tensor::zeros(&[rows, classes]);
        let mut trainer = Trainer::new(model, counting_config(1)).unwrap();
        let error = trainer.train_step(&inputs, &flat_targets).unwrap_err();
        assert!(error.to_string().contains("one per time step"), "{error}");
    }
}

fn counting_config(seed: u64) -> TrainConfig {
    TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.02),
        batch_size: 32,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed,
        clip_norm: None,
        truncation: None,
    }
}

/// Sequence labelling: the running count at every step, learnt by a GRU giving every step's
/// state and a dense layer at each, through the same trainer; accuracy is per step.
#[test]
fn a_gru_learns_the_running_count_at_every_step() {
    let length = 6;
    let task = SequenceTask::RunningCount;
    let train = task.generate(600, length, 1).unwrap();
    let test = task.generate(200, length, 2).unwrap();
    let config = SequentialConfig::new(
        &[length, 1],
        vec![
            LayerConfig::Gru(Gru {
                hidden: 12,
                every_step: true,
            }),
            LayerConfig::dense(task.outputs(length), Activation::Linear),
        ],
    );
    let mut trainer = Trainer::new(config.init().unwrap(), counting_config(4)).unwrap();
    for _ in 0..40 {
        trainer.train_epoch(&train.inputs, &train.targets).unwrap();
        if accuracy(&mut trainer, (&test.inputs, &test.targets)) >= 0.99 {
            break;
        }
    }
    let per_step = accuracy(&mut trainer, (&test.inputs, &test.targets));
    let evaluated = trainer.evaluate(&test.inputs, &test.targets).unwrap();
    assert_eq!(
        evaluated.accuracy, per_step,
        "the trainer scores every step too"
    );
    assert!(
        per_step >= 0.99,
        "after {} epochs the per-step accuracy is {per_step}",
        trainer.epoch()
    );
}
