//! Recurrent layers (RNN, LSTM, GRU) in the one network definition: finite-difference gradient
//! checks through time for each cell, PyTorch's numbers for given weights
//! (`tests/data/recurrent_reference.py` made `recurrent_reference.json`), and a network that
//! learns the course's bit counting through the same trainer as every other network.

mod common;

use neural_playground::data::sequences::SequenceTask;
use neural_playground::engine::{
    Activation, Gru, LayerConfig, Loss, Lstm, Mode, OptimizerConfig, OptimizerKind,
    OutputTransform, Regularization, Rnn, SeededRng, SequentialConfig, Tensor, TrainConfig,
    Trainable, Trainer,
};

fn cells(hidden: usize) -> [LayerConfig; 3] {
    [
        LayerConfig::Rnn(Rnn { hidden }),
        LayerConfig::Lstm(Lstm { hidden }),
        LayerConfig::Gru(Gru { hidden }),
    ]
}

fn random(shape: &[usize], rng: &mut SeededRng) -> Tensor {
    let mut tensor = Tensor::zeros(shape);
    for value in tensor.data_mut() {
        *value = rng.uniform_range(-1.0, 1.0);
    }
    tensor
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
            let mut model = config.init().unwrap();
            // Away from the initial biases' round values, so every path carries gradient.
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
            let inputs = random(&[rows, steps, features], &mut rng);
            let targets = random(&[rows, 2], &mut rng);
            recorded.tape.set_input(recorded.input, &inputs).unwrap();
            let target = recorded.target.unwrap();
            recorded.tape.set_input(target, &targets).unwrap();
            let loss = recorded.loss.unwrap();
            let name = format!("{} on {steps}x{features}, batch {rows}", cell.token());
            common::check(&name, &mut recorded.tape, model.params_mut(), loss);
        }
    }
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
    let zero = SequentialConfig::new(&[7, 3], vec![LayerConfig::Lstm(Lstm { hidden: 0 })]);
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
    let classes = targets.shape()[1];
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
    let right = (0..rows)
        .filter(|&n| {
            let row = n * classes..(n + 1) * classes;
            argmax(&predicted[row.clone()]) == argmax(&targets.data()[row])
        })
        .count();
    right as f32 / rows as f32
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
            LayerConfig::Lstm(Lstm { hidden: 16 }),
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
