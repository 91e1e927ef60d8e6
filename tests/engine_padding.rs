//! Sequences of varying length in one batch: a padded network (`SequentialConfig::padded`)
//! reads `[time, features + 1]`, the last feature 1 on a sequence's steps and 0 on the padding
//! after its end, and its recurrent layers carry their state over the padding. Checked by finite
//! differences, and against the same weights on each sequence alone, unpadded.

mod common;

use neural_playground::engine::{
    Activation, Gru, LayerConfig, Loss, Lstm, Mode, OutputTransform, Rnn, SeededRng,
    SequentialConfig, Setting, SettingValue, Tensor,
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

fn every_step(cell: LayerConfig) -> LayerConfig {
    cell.with_setting(Setting {
        key: "every_step",
        value: SettingValue::Switch(true),
    })
    .unwrap()
}

/// `[lengths.len(), steps, features + 1]`: random features on each sequence's first
/// `lengths[n]` steps with the present flag 1, zeros and flag 0 after them.
fn padded_inputs(lengths: &[usize], steps: usize, features: usize, rng: &mut SeededRng) -> Tensor {
    let mut data = Vec::new();
    for &length in lengths {
        for t in 0..steps {
            for _ in 0..features {
                data.push(if t < length {
                    rng.uniform_range(-1.0, 1.0)
                } else {
                    0.0
                });
            }
            data.push(if t < length { 1.0 } else { 0.0 });
        }
    }
    Tensor::from_vec(&[lengths.len(), steps, features + 1], data).unwrap()
}

fn padded(config: SequentialConfig) -> SequentialConfig {
    SequentialConfig {
        padded: true,
        ..config
    }
}

#[test]
fn gradients_over_padding_match_finite_differences() {
    let mut rng = SeededRng::new(21);
    let (steps, features) = (5, 2);
    let lengths = [5, 1, 3, 4];
    let mut stacks: Vec<Vec<LayerConfig>> = cells(3).iter().map(|&cell| vec![cell]).collect();
    stacks.push(vec![every_step(cells(3)[1]), cells(2)[2]]);
    for stack in stacks {
        let name = stack
            .iter()
            .map(|c| c.token())
            .collect::<Vec<_>>()
            .join(" ");
        let mut layers = stack;
        layers.push(LayerConfig::dense(2, Activation::Linear));
        let config = padded(SequentialConfig::new(&[steps, features + 1], layers));
        let mut model = config.init().unwrap();
        for id in model.params().ids().collect::<Vec<_>>() {
            for value in model.params_mut().value_mut(id).data_mut() {
                *value += rng.uniform_range(-0.3, 0.3);
            }
        }
        let mut recorded = model
            .record_for(
                Mode::Training,
                lengths.len(),
                OutputTransform::None,
                Some(Loss::MeanSquaredError),
            )
            .unwrap();
        let inputs = padded_inputs(&lengths, steps, features, &mut rng);
        let mut targets = Tensor::zeros(&[lengths.len(), 2]);
        for value in targets.data_mut() {
            *value = rng.uniform_range(-1.0, 1.0);
        }
        recorded.tape.set_input(recorded.input, &inputs).unwrap();
        recorded
            .tape
            .set_input(recorded.target.unwrap(), &targets)
            .unwrap();
        let loss = recorded.loss.unwrap();
        common::check(&name, &mut recorded.tape, model.params_mut(), loss);
    }
}

/// Each sequence of a padded batch gives, to the last digit, what the same weights give on it
/// alone and unpadded: its output and its parameters' gradient.
#[test]
fn a_padded_sequence_gives_what_it_gives_alone() {
    let mut rng = SeededRng::new(3);
    let (steps, features) = (6, 1);
    let mut stacks: Vec<Vec<LayerConfig>> = cells(4).iter().map(|&cell| vec![cell]).collect();
    stacks.push(vec![every_step(cells(3)[0]), cells(3)[1]]);
    for stack in stacks {
        let name = stack
            .iter()
            .map(|c| c.token())
            .collect::<Vec<_>>()
            .join(" ");
        let mut layers = stack;
        layers.push(LayerConfig::dense(3, Activation::Linear));
        let config = padded(SequentialConfig::new(
            &[steps, features + 1],
            layers.clone(),
        ));
        let mut model = config.init().unwrap();
        for length in 1..=steps {
            let inputs = padded_inputs(&[length], steps, features, &mut rng);
            let target = Tensor::from_vec(&[1, 3], vec![0.5, -0.25, 1.0]).unwrap();
            let run = |model: &mut neural_playground::engine::Sequential, inputs: &Tensor| {
                let mut recorded = model
                    .record_for(
                        Mode::Training,
                        1,
                        OutputTransform::None,
                        Some(Loss::MeanSquaredError),
                    )
                    .unwrap();
                recorded.tape.set_input(recorded.input, inputs).unwrap();
                recorded
                    .tape
                    .set_input(recorded.target.unwrap(), &target)
                    .unwrap();
                recorded.tape.forward(model.params()).unwrap();
                let output = recorded.tape.value(recorded.prediction).data().to_vec();
                recorded
                    .tape
                    .backward(recorded.loss.unwrap(), model.params_mut())
                    .unwrap();
                let grads: Vec<Vec<f32>> = model
                    .params()
                    .ids()
                    .map(|id| model.params().grad(id).data().to_vec())
                    .collect();
                (output, grads)
            };
            let (padded_output, padded_grads) = run(&mut model, &inputs);
            // The same sequence alone: its first `length` steps, without the flag.
            let alone_config = SequentialConfig::new(&[length, features], layers.clone());
            let mut alone = alone_config.init().unwrap();
            *alone.params_mut() = model.params().clone();
            let values: Vec<f32> = inputs
                .data()
                .chunks(features + 1)
                .take(length)
                .flat_map(|step| step[..features].to_vec())
                .collect();
            let alone_inputs = Tensor::from_vec(&[1, length, features], values).unwrap();
            let (alone_output, alone_grads) = run(&mut alone, &alone_inputs);
            assert_eq!(padded_output, alone_output, "{name}, length {length}");
            assert_eq!(padded_grads, alone_grads, "{name}, length {length}");
        }
    }
}

#[test]
fn a_padded_network_wants_the_flag_feature_and_says_so() {
    let layers = vec![cells(4)[1], LayerConfig::dense(2, Activation::Linear)];
    for input in [vec![8, 1], vec![8], vec![1, 8, 8]] {
        let config = padded(SequentialConfig::new(&input, layers.clone()));
        let error = config.summary().unwrap_err().to_string();
        assert!(error.contains("[time, features + 1]"), "{input:?}: {error}");
    }
    let config = padded(SequentialConfig::new(&[8, 2], layers));
    let summary = config.summary().unwrap();
    assert_eq!(summary[1].output_shape, vec![2]);
    // The layers read one feature: the same parameters as on unpadded sequences of one.
    let unpadded = SequentialConfig::new(&[8, 1], config.layers.clone());
    assert_eq!(
        config.parameter_count().unwrap(),
        unpadded.parameter_count().unwrap()
    );
}

/// The Sequences page's default run on sequences of 2 to 8 bits instead of 8: the padded LSTM
/// counts them all, and with its own weights counts longer ones than it ever saw better than
/// the same network trained on 8 bits only.
#[test]
fn an_lstm_trained_on_varying_lengths_counts_them_all() {
    use neural_playground::playground::images::training::TrainingRun;
    use neural_playground::playground::sequences::SequenceSettings;
    let train = |shortest: Option<usize>| {
        let settings = SequenceSettings {
            shortest,
            ..SequenceSettings::default()
        };
        settings.validate().unwrap();
        let mut run = TrainingRun::from_settings(settings.run_settings(), None).unwrap();
        while !run.is_finished() {
            run.step().unwrap();
        }
        run.evaluate().unwrap()
    };
    let varying = train(Some(2));
    assert!(varying.accuracy >= 0.97, "accuracy {}", varying.accuracy);
    let at = |report: &neural_playground::playground::images::training::TestReport, length| {
        report
            .length_accuracy
            .iter()
            .find(|probe| probe.length == length)
            .map(|probe| probe.accuracy)
            .unwrap()
    };
    assert!(at(&varying, 8) >= 0.97, "{:?}", varying.length_accuracy);
    let fixed = train(None);
    // Measured: 78% against 0% at 12 bits (95% of which have a class to be right with).
    let (varying_12, fixed_12) = (at(&varying, 12), at(&fixed, 12));
    assert!(
        varying_12 >= 0.5 && varying_12 > fixed_12 + 0.3,
        "{:?} against {:?}",
        varying.length_accuracy,
        fixed.length_accuracy
    );
}
