//! Export to PyTorch, run under real PyTorch: the exported script rebuilds the network with
//! torch.nn and loads its weights with `strict=True`; on the same inputs its outputs equal the
//! engine's within 1e-5; it prints the test loss and accuracy the page shows; it trains an epoch;
//! and the weights it saves open back in the engine.
//!
//! PyTorch comes from `NEURAL_PLAYGROUND_PYTHON`, a Python with torch, safetensors and numpy, which
//! `cargo xtask test` installs and sets (as `cargo xtask bench` does for its references). Without
//! it, only the checks that need no Python run, and the test says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use neural_playground::data::features_to_tensor;
use neural_playground::engine::pytorch_script::{
    DATA_FILE, SCRIPT_FILE, Script, ScriptData, TRAINED_FILE, WEIGHTS_FILE, write_script,
};
use neural_playground::engine::{
    LayerConfig, Loss, Mode, OptimizerConfig, OptimizerKind, OutputTransform, Regularization,
    SeededRng, Sequential, SequentialConfig, Tensor, TrainConfig, read_model, write_model,
};
use neural_playground::playground::PlaygroundConfig;
use neural_playground::playground::model_files::{
    open_images_file, open_playground_file, open_sequences_file,
};
use neural_playground::playground::pytorch_export::{
    Export, csv_file, playground_export, table_csv,
};
use neural_playground::playground::session::Session;

fn python() -> Option<PathBuf> {
    let python = std::env::var_os("NEURAL_PLAYGROUND_PYTHON").map(PathBuf::from);
    if python.is_none() {
        eprintln!("NEURAL_PLAYGROUND_PYTHON is not set: the exported scripts are not run here");
    }
    python
}

/// A fresh folder for one export.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("np-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_export(dir: &Path, export: &Export) {
    std::fs::write(dir.join(SCRIPT_FILE), &export.script).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), &export.weights).unwrap();
    for (name, bytes) in &export.data {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The lines of the export's CSV file.
fn csv_lines(export: &Export) -> usize {
    let (name, bytes) = &export.data[0];
    assert_eq!(name, DATA_FILE);
    String::from_utf8_lossy(bytes).lines().count()
}

/// Runs `python` with `args` in `dir`; its standard output, or a panic with its errors.
fn run(python: &Path, dir: &Path, args: &[&str]) -> String {
    let output = Command::new(python)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    );
    assert!(
        output.status.success(),
        "python {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// The exported network's outputs on the test inputs the script reads, computed by PyTorch.
fn pytorch_outputs(python: &Path, dir: &Path) -> Vec<f32> {
    pytorch_outputs_in(python, dir, "eval")
}

/// [`pytorch_outputs`] with the network in `mode`: `eval`, or `train` (as it trains).
fn pytorch_outputs_in(python: &Path, dir: &Path, mode: &str) -> Vec<f32> {
    let harness = format!(
        "import json, sys, torch\n\
         sys.path.insert(0, '.')\n\
         import train\n\
         from safetensors.torch import load_file\n\
         (_, _), (inputs, _) = train.read_data()\n\
         model = train.build_network()\n\
         model.load_state_dict(load_file('{WEIGHTS_FILE}'), strict=True)\n\
         model.{mode}()\n\
         with torch.no_grad():\n    \
             print(json.dumps(model(inputs).reshape(-1).tolist()))\n"
    );
    let printed = run(python, dir, &["-c", &harness]);
    serde_json::from_str(printed.trim()).expect("a list of numbers")
}

/// The engine's outputs (before any sigmoid or softmax) of `network` on `inputs`.
fn engine_outputs(network: &Sequential, inputs: &Tensor) -> Vec<f32> {
    let rows = inputs.shape()[0];
    let mut recorded = network.record(rows, OutputTransform::None, None).unwrap();
    recorded.tape.set_input(recorded.input, inputs).unwrap();
    recorded.tape.forward(network.params()).unwrap();
    recorded.tape.value(recorded.prediction).data().to_vec()
}

fn assert_close(theirs: &[f32], ours: &[f32], what: &str) {
    assert_eq!(theirs.len(), ours.len(), "{what}: how many outputs");
    for (index, (a, b)) in theirs.iter().zip(ours).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{what}: output {index} is {a} in PyTorch and {b} here"
        );
    }
}

/// `test loss L, accuracy A%` from the script's first line.
fn reported(printed: &str) -> (f32, Option<f32>) {
    let first = printed
        .lines()
        .next()
        .expect("the script prints the test figures");
    let loss = first
        .split("loss ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|number| number.trim().parse().ok())
        .unwrap_or_else(|| panic!("no loss in {first:?}"));
    (loss, percentage(first, "accuracy "))
}

/// The percentage after `name` in `line`, as a fraction.
fn percentage(line: &str, name: &str) -> Option<f32> {
    line.split(name)
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .map(|number| number.parse::<f32>().unwrap() / 100.0)
}

#[test]
fn the_playground_exports_a_script_that_pytorch_runs_and_whose_weights_come_back() {
    let config = PlaygroundConfig {
        features: neural_playground::data::Feature::ALL.to_vec(),
        regularization: Regularization::L2,
        regularization_rate: 0.001,
        ..PlaygroundConfig::default()
    };
    let mut session = Session::new(config).unwrap();
    for _ in 0..5 {
        session.train_epoch().unwrap();
    }
    let export = playground_export(&session).unwrap();
    assert!(export.script.contains("strict=True"));
    assert!(
        export.script.contains("Dense(7, 4, nn.Tanh())"),
        "{}",
        export.script
    );
    assert!(export.script.contains("torch.sin(x1)"));
    assert!(export.script.contains("nn.BCEWithLogitsLoss()"));
    let rows = csv_lines(&export) - 1;
    assert_eq!(
        rows,
        session.train_points().len() + session.test_points().len()
    );
    let zipped = export.zip("playground-pytorch").unwrap();
    assert_eq!(&zipped[..2], b"PK", "a zip archive");

    let Some(python) = python() else { return };
    let dir = folder("playground");
    write_export(&dir, &export);
    let features = features_to_tensor(session.test_points(), &session.config().features).unwrap();
    let ours = engine_outputs(session.model().network(), &features);
    assert_close(&pytorch_outputs(&python, &dir), &ours, "playground");

    let printed = run(&python, &dir, &[SCRIPT_FILE, "--epochs", "1"]);
    let (loss, accuracy) = reported(&printed);
    let shown = session.test_evaluation();
    assert!(
        (loss - shown.loss).abs() <= 1e-5 * (1.0 + shown.loss),
        "PyTorch's test loss {loss}, the page's {}",
        shown.loss
    );
    let accuracy = accuracy.expect("a classification reports its accuracy");
    assert!(
        (accuracy - shown.accuracy).abs() < 1e-4,
        "{accuracy} vs {}",
        shown.accuracy
    );
    assert!(printed.contains("epoch 1: test loss"), "{printed}");

    let trained = std::fs::read(dir.join(TRAINED_FILE)).unwrap();
    let (network, config) = open_playground_file(&trained).unwrap();
    assert_eq!(&config, session.config());
    let before = session.model().network().params().to_flat();
    assert_ne!(
        network.params().to_flat(),
        before,
        "an epoch of training moved the weights"
    );
    if std::env::var_os("KEEP_EXPORT").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Random examples for a network on `[steps, features]` sequences with `classes` outputs.
fn sequences(rows: usize, steps: usize, classes: usize, rng: &mut SeededRng) -> (Tensor, Tensor) {
    let mut inputs = Tensor::zeros(&[rows, steps, 1]);
    for value in inputs.data_mut() {
        *value = rng.below(2) as f32;
    }
    let mut targets = Tensor::zeros(&[rows, classes]);
    for row in 0..rows {
        targets.data_mut()[row * classes + rng.below(classes)] = 1.0;
    }
    (inputs, targets)
}

/// Every recurrent cell (an RNN giving every step to an LSTM, then a GRU) exported as the
/// Sequences page's networks are: PyTorch's nn.RNN and nn.LSTM and the script's course GRU
/// compute the engine's outputs from the same file, and train.
#[test]
fn recurrent_networks_export_with_torch_modules_that_compute_the_same() {
    let (steps, classes) = (6, 3);
    let network = SequentialConfig::new(
        &[steps, 1],
        vec![
            LayerConfig::from_token("rnn5seq").unwrap(),
            LayerConfig::from_token("lstm4seq").unwrap(),
            LayerConfig::from_token("gru3").unwrap(),
            LayerConfig::from_token(&format!("dense{classes}")).unwrap(),
        ],
    );
    let model = network.init().unwrap();
    let training = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
        batch_size: 8,
        clip_norm: Some(1.0),
        ..TrainConfig::default()
    };
    let script = write_script(&Script {
        title: "bit counting",
        network: &network,
        training: &training,
        data: ScriptData::Table {
            input_shape: vec![steps, 1],
            target_shape: vec![classes],
        },
        epochs: 2,
        settings: None,
        classification: true,
        cosine_decay: true,
    })
    .unwrap();
    for module in [
        "RNN(1, 5, every_step=True",
        "LSTM(5, 4, every_step=True)",
        "CourseGRU(4, 3",
    ] {
        assert!(script.contains(module), "{module} in\n{script}");
    }
    assert!(script.contains("clip_grad_norm_"));
    let mut rng = SeededRng::new(3);
    let train = sequences(40, steps, classes, &mut rng);
    let test = sequences(10, steps, classes, &mut rng);
    let export = table_export(script, &model, &train, &test);

    let Some(python) = python() else { return };
    let dir = folder("recurrent");
    write_export(&dir, &export);
    let ours = engine_outputs(&model, &test.0);
    assert_close(&pytorch_outputs(&python, &dir), &ours, "recurrent");
    run_script(&python, &dir);
    let trained = read_model(&std::fs::read(dir.join(TRAINED_FILE)).unwrap()).unwrap();
    assert_eq!(trained.network.config(), &network);
    assert_ne!(trained.network.params().to_flat(), model.params().to_flat());
    let _ = std::fs::remove_dir_all(dir);
}

/// A network the script cannot write yet is refused with the reason.
#[test]
fn what_pytorch_has_no_module_for_is_refused_by_name() {
    let network = SequentialConfig::new(&[4, 1], vec![LayerConfig::from_token("rnn2").unwrap()]);
    let mut linear = network.clone();
    if let LayerConfig::Rnn(rnn) = &mut linear.layers[0] {
        rnn.activation = neural_playground::engine::Activation::Linear;
    }
    let script = |network: &SequentialConfig| {
        write_script(&Script {
            title: "t",
            network,
            training: &TrainConfig::default(),
            data: ScriptData::Table {
                input_shape: vec![4, 1],
                target_shape: vec![2],
            },
            epochs: 1,
            settings: None,
            classification: true,
            cosine_decay: false,
        })
    };
    assert!(script(&network).is_ok());
    let error = script(&linear).unwrap_err();
    assert!(error.contains("tanh or ReLU"), "{error}");
}

/// The Sequences page's networks on sequences of varying length (padded, each cell carrying its
/// state over the padding) export with packed sequences: PyTorch's outputs are the engine's at
/// every step, padding included; the script prints the page's test loss and accuracy, which
/// score each sequence on its own steps only; and the trained weights open on the page.
#[test]
fn padded_sequences_export_packed_and_compute_the_same() {
    use neural_playground::data::examples::Examples;
    use neural_playground::data::sequences::SequenceTask;
    use neural_playground::playground::images::training::held_out;
    use neural_playground::playground::pytorch_export::sequences_export;
    use neural_playground::playground::sequences::SequenceSettings;

    let python = python();
    for (cell, task, layers) in [
        ("rnn", SequenceTask::RunningCount, 2),
        ("lstm", SequenceTask::BitCount, 1),
        ("gru", SequenceTask::RunningCount, 1),
    ] {
        let settings = SequenceSettings {
            task,
            cell: cell.to_string(),
            layers,
            hidden: 6,
            length: 8,
            shortest: Some(2),
            count: 200,
            epochs: 1,
            ..SequenceSettings::default()
        };
        let model = settings.model().init().unwrap();
        assert!(model.config().padded);
        let export = sequences_export(&settings, &model).unwrap();
        assert!(
            export.script.contains("class PaddedSequences")
                && (cell == "gru") != export.script.contains("pack_padded_sequence"),
            "{}",
            export.script
        );
        let Some(python) = &python else { continue };
        let run = settings.run_settings();
        let sequences = run.sequences().unwrap().unwrap();
        let split = held_out(sequences.len(), run.seed);
        let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
        sequences.write_inputs(&split.test, &mut inputs);
        sequences.write_targets(&split.test, &mut targets);
        let dir = folder(&format!("padded-{cell}"));
        write_export(&dir, &export);
        let ours = engine_outputs(&model, &inputs);
        assert_close(&pytorch_outputs(python, &dir), &ours, cell);
        let (loss, accuracy) = reported(&run_script(python, &dir));
        let (expected_loss, expected_accuracy) = scored_on_own_steps(&ours, &targets);
        assert!(
            (loss - expected_loss).abs() <= 1e-5 * (1.0 + expected_loss),
            "{cell}: loss {loss} vs {expected_loss}"
        );
        let accuracy = accuracy.expect("an accuracy");
        assert!(
            (accuracy - expected_accuracy).abs() <= 1e-4,
            "{cell}: accuracy {accuracy} vs {expected_accuracy}"
        );
        trained_opens_on_the_sequences_page(&dir, &settings, &model);
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// The weights the script trained and saved open on the Sequences page with `settings`, and
/// differ from `model`'s, which it started from.
fn trained_opens_on_the_sequences_page(
    dir: &Path,
    settings: &neural_playground::playground::sequences::SequenceSettings,
    model: &Sequential,
) {
    let trained = std::fs::read(dir.join(TRAINED_FILE)).unwrap();
    let (network, opened) = open_sequences_file(&trained).unwrap();
    assert_eq!(&opened, settings);
    assert_ne!(network.params().to_flat(), model.params().to_flat());
}

/// The test loss and accuracy as the Sequences page scores padded sequences: each sequence's
/// softmax cross-entropy averaged over its steps that have a class (padding has none), then over
/// the sequences; the accuracy over every step that has a class.
fn scored_on_own_steps(logits: &[f32], targets: &Tensor) -> (f32, f32) {
    let classes = *targets.shape().last().unwrap();
    let per_example = targets.len() / targets.shape()[0];
    let (mut loss, mut right, mut scored) = (0.0f64, 0usize, 0usize);
    for (outputs, truths) in logits
        .chunks_exact(per_example)
        .zip(targets.data().chunks_exact(per_example))
    {
        let (mut sum, mut steps) = (0.0f64, 0usize);
        for (row, truth) in outputs
            .chunks_exact(classes)
            .zip(truths.chunks_exact(classes))
        {
            let Some(class) = truth.iter().position(|&t| t == 1.0) else {
                continue;
            };
            let most = row.iter().copied().fold(f32::MIN, f32::max);
            let total: f64 = row.iter().map(|&v| f64::from(v - most).exp()).sum();
            sum -= f64::from(row[class] - most) - total.ln();
            steps += 1;
            let best = (0..classes).fold(0, |best, k| if row[k] > row[best] { k } else { best });
            right += usize::from(best == class);
        }
        loss += sum / steps as f64;
        scored += steps;
    }
    let examples = targets.shape()[0] as f64;
    ((loss / examples) as f32, right as f32 / scored as f32)
}

/// The Sequences page's export (an LSTM counting bits, the sequences drawn again from the run's
/// seed, the cosine decay of the learning rate): PyTorch's outputs and test loss are the
/// engine's, and the trained weights open on the Sequences page.
#[test]
fn the_sequences_page_exports_its_lstm_with_the_same_sequences() {
    use neural_playground::data::examples::Examples;
    use neural_playground::playground::images::training::held_out;
    use neural_playground::playground::pytorch_export::sequences_export;
    use neural_playground::playground::sequences::SequenceSettings;

    let settings = SequenceSettings {
        count: 300,
        epochs: 2,
        ..SequenceSettings::default()
    };
    let model = settings.model().init().unwrap();
    let export = sequences_export(&settings, &model).unwrap();
    assert!(
        export.script.contains("LSTM(1, 16, every_step=False)"),
        "{}",
        export.script
    );
    assert!(export.script.contains("make_schedule("));
    let run = settings.run_settings();
    let sequences = run.sequences().unwrap().unwrap();
    let split = held_out(sequences.len(), run.seed);
    assert_eq!(csv_lines(&export) - 1, sequences.len());

    let Some(python) = python() else { return };
    let dir = folder("sequences");
    write_export(&dir, &export);
    let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
    sequences.write_inputs(&split.test, &mut inputs);
    sequences.write_targets(&split.test, &mut targets);
    let ours = engine_outputs(&model, &inputs);
    assert_close(&pytorch_outputs(&python, &dir), &ours, "sequences");
    let printed = run_script(&python, &dir);
    let (loss, _) = reported(&printed);
    let classes = targets.shape()[1];
    let expected = Loss::SoftmaxCrossEntropy.value(&ours, targets.data(), classes) as f32;
    assert!(
        (loss - expected).abs() <= 1e-5 * (1.0 + expected),
        "{loss} vs {expected}"
    );
    trained_opens_on_the_sequences_page(&dir, &settings, &model);
    let _ = std::fs::remove_dir_all(dir);
}

/// An export of `script` with `model`'s weights and the examples `train` and `test` as rows.
fn table_export(
    script: String,
    model: &Sequential,
    train: &(Tensor, Tensor),
    test: &(Tensor, Tensor),
) -> Export {
    Export {
        script,
        weights: write_model(model, None).unwrap(),
        data: vec![csv_file(table_csv(
            (&train.0, &train.1),
            (&test.0, &test.1),
        ))],
    }
}

/// The script run for one epoch.
fn run_script(python: &Path, dir: &Path) -> String {
    let printed = run(python, dir, &[SCRIPT_FILE, "--epochs", "1"]);
    assert!(printed.contains("epoch 1: test loss"), "{printed}");
    printed
}

/// A small LeNet-like network with batch normalisation (after a convolution and after a dense
/// layer) and dropout, trained a few steps here so that its running statistics are its own:
/// in evaluation (running statistics, no dropout) PyTorch computes the engine's outputs, with
/// nn.Conv2d, nn.BatchNorm2d / 1d, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout and nn.Flatten.
#[test]
fn convolutions_with_batch_normalisation_and_dropout_compute_the_same_in_pytorch() {
    use neural_playground::engine::{
        Activation, AvgPool2d, BatchNormLayer, Conv2d, DenseLayer, Dropout, Flatten, MaxPool2d,
        Trainer,
    };
    let dense = |outputs, activation| {
        LayerConfig::Dense(DenseLayer {
            outputs,
            activation,
        })
    };
    let network = SequentialConfig::new(
        &[1, 12, 12],
        vec![
            LayerConfig::Conv2d(Conv2d {
                out_channels: 4,
                kernel: 3,
                stride: 1,
                padding: 1,
                activation: Activation::Relu,
            }),
            LayerConfig::BatchNorm(BatchNormLayer),
            LayerConfig::MaxPool2d(MaxPool2d { size: 2, stride: 2 }),
            LayerConfig::Conv2d(Conv2d {
                out_channels: 6,
                kernel: 3,
                stride: 1,
                padding: 0,
                activation: Activation::Tanh,
            }),
            LayerConfig::AvgPool2d(AvgPool2d { size: 2, stride: 2 }),
            LayerConfig::Flatten(Flatten),
            dense(16, Activation::Gelu),
            LayerConfig::BatchNorm(BatchNormLayer),
            LayerConfig::Dropout(Dropout { rate: 0.25 }),
            dense(10, Activation::Linear),
        ],
    );
    let training = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Momentum, 0.05),
        batch_size: 16,
        regularization: Regularization::L1,
        regularization_rate: 0.0001,
        ..TrainConfig::default()
    };
    let mut rng = SeededRng::new(9);
    let mut images = |rows: usize| {
        let mut inputs = Tensor::zeros(&[rows, 1, 12, 12]);
        for value in inputs.data_mut() {
            *value = rng.uniform_range(0.0, 1.0);
        }
        let mut targets = Tensor::zeros(&[rows, 10]);
        for row in 0..rows {
            targets.data_mut()[row * 10 + rng.below(10)] = 1.0;
        }
        (inputs, targets)
    };
    let (train, test) = (images(48), images(12));
    let mut trainer = Trainer::new(network.init().unwrap(), training).unwrap();
    for _ in 0..3 {
        trainer.train_step(&train.0, &train.1).unwrap();
    }
    let model = trainer.into_model();
    let script = write_script(&Script {
        title: "a small convolutional network",
        network: &network,
        training: &training,
        data: ScriptData::Table {
            input_shape: vec![1, 12, 12],
            target_shape: vec![10],
        },
        epochs: 1,
        settings: None,
        classification: true,
        cosine_decay: false,
    })
    .unwrap();
    for module in [
        "nn.BatchNorm2d(4)",
        "nn.BatchNorm1d(16)",
        "nn.Dropout(0.25)",
        "nn.GELU()",
    ] {
        assert!(script.contains(module), "{module} in\n{script}");
    }
    let export = table_export(script, &model, &train, &test);

    let Some(python) = python() else { return };
    let dir = folder("convolution");
    write_export(&dir, &export);
    let ours = engine_outputs(&model, &test.0);
    assert_close(&pytorch_outputs(&python, &dir), &ours, "convolution");
    run_script(&python, &dir);
    let trained = read_model(&std::fs::read(dir.join(TRAINED_FILE)).unwrap()).unwrap();
    assert_ne!(trained.network.params().to_flat(), model.params().to_flat());
    let _ = std::fs::remove_dir_all(dir);
}

/// The Images page's export: a small network with batch normalisation and dropout on digits
/// (random ones here) in MNIST's IDX files, the page's split, its shifting augmentation and its
/// cosine decay: PyTorch reads the files and computes the engine's outputs on the test digits,
/// trains an epoch, and its weights open on the Images page.
#[test]
fn the_images_page_exports_its_network_with_the_digits_in_idx_files() {
    use neural_playground::data::digits::DigitSet;
    use neural_playground::engine::{
        Activation, BatchNormLayer, Conv2d, DenseLayer, Dropout, Flatten, MaxPool2d, Trainer,
    };
    use neural_playground::playground::images::training::{RunSettings, held_out};
    use neural_playground::playground::pytorch_export::images_export;

    let model_config = SequentialConfig::new(
        &[1, 28, 28],
        vec![
            LayerConfig::Conv2d(Conv2d {
                out_channels: 4,
                kernel: 5,
                stride: 1,
                padding: 2,
                activation: Activation::Relu,
            }),
            LayerConfig::BatchNorm(BatchNormLayer),
            LayerConfig::MaxPool2d(MaxPool2d { size: 2, stride: 2 }),
            LayerConfig::Dropout(Dropout { rate: 0.2 }),
            LayerConfig::Flatten(Flatten),
            LayerConfig::Dense(DenseLayer {
                outputs: 10,
                activation: Activation::Linear,
            }),
        ],
    );
    let settings = RunSettings {
        model: model_config,
        epochs: 1,
        batch_size: 32,
        ..RunSettings::default()
    };
    let mut rng = SeededRng::new(4);
    let count = 120;
    let digits = DigitSet {
        name: "random digits".to_string(),
        pixels: (0..count * 784).map(|_| rng.below(256) as u8).collect(),
        labels: (0..count).map(|_| rng.below(10) as u8).collect(),
    };
    let split = held_out(digits.len(), settings.seed);
    let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
    digits.write_inputs(&split.train, &mut inputs);
    digits.write_targets(&split.train, &mut targets);
    let mut trainer =
        Trainer::new(settings.model.init().unwrap(), settings.train_config()).unwrap();
    trainer.train_step(&inputs, &targets).unwrap();
    let model = trainer.into_model();
    let export = images_export(&settings, &model, &digits).unwrap();
    assert!(
        export.script.contains("shifted(inputs[batch], 2)"),
        "{}",
        export.script
    );
    assert!(export.script.contains("def read_idx(name):"));
    let names: Vec<&str> = export.data.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names[0], "train-images-idx3-ubyte");
    assert_eq!(export.data[0].1.len(), 16 + split.train.len() * 784);

    let Some(python) = python() else { return };
    let dir = folder("images");
    write_export(&dir, &export);
    digits.write_inputs(&split.test, &mut inputs);
    let ours = engine_outputs(&model, &inputs);
    assert_close(&pytorch_outputs(&python, &dir), &ours, "images");
    run_script(&python, &dir);
    let trained = std::fs::read(dir.join(TRAINED_FILE)).unwrap();
    let (network, opened) = open_images_file(&trained).unwrap();
    assert_eq!(opened, settings);
    assert_ne!(network.params().to_flat(), model.params().to_flat());
    let _ = std::fs::remove_dir_all(dir);
}

/// The Seq2seq page's export, for each cell and attention: a GRU with dot-product attention
/// trained two epochs here on reversal (teacher forcing), an LSTM with additive attention that
/// decodes its own tokens while training, and an RNN without attention, both as they start.
/// On the run's test translations, read from the data file, PyTorch's logits (greedy decoding)
/// are the engine's; the script prints the page's test loss, accuracy over the answers' tokens
/// and share of answers right; it trains an epoch; and the weights it saves open on the page.
#[test]
fn the_seq2seq_page_exports_its_encoder_decoder_with_the_same_translations() {
    use neural_playground::data::translation::TranslationTask;
    use neural_playground::engine::{Activation, Attention, Cell};
    use neural_playground::playground::images::training::TrainingRun;
    use neural_playground::playground::model_files::open_seq2seq_file;
    use neural_playground::playground::pytorch_export::seq2seq_export;
    use neural_playground::playground::sequences::seq2seq_settings::Seq2SeqSettings;

    let python = python();
    let cases = [
        (Cell::Gru, Attention::Dot, true, true),
        (Cell::Lstm, Attention::Additive, false, false),
        (Cell::Rnn(Activation::Tanh), Attention::None, true, false),
    ];
    for (cell, attention, teacher_forcing, trained) in cases {
        let settings = Seq2SeqSettings {
            task: TranslationTask::Reverse,
            shortest: 1,
            longest: 5,
            cell,
            hidden: 16,
            embedding: 8,
            attention,
            teacher_forcing,
            count: 300,
            epochs: 2,
            batch_size: 32,
            ..Seq2SeqSettings::default()
        };
        let what = format!("{} {attention:?}", cell.key());
        let mut run = TrainingRun::from_settings(settings.run_settings(), None).unwrap();
        while trained && !run.is_finished() {
            run.step().unwrap();
        }
        let report = run.evaluate().unwrap();
        let model = run.model().clone();
        let export = seq2seq_export(&settings, &model).unwrap();
        assert!(
            export.script.contains("EncoderDecoder(") && export.script.contains("def attend("),
            "{}",
            export.script
        );
        assert_eq!(csv_lines(&export) - 1, settings.count);

        let Some(python) = &python else { continue };
        let dir = folder(&format!("seq2seq-{}", cell.key()));
        write_export(&dir, &export);
        let mut inputs = Tensor::empty();
        run.data().write_inputs(&run.split().test, &mut inputs);
        let ours = engine_outputs(&model, &inputs);
        assert_close(&pytorch_outputs(python, &dir), &ours, &what);
        // As it trains: the decoder reads the right tokens with teacher forcing, its own without.
        let rows = inputs.shape()[0];
        let mut recorded = model
            .record_for(Mode::Training, rows, OutputTransform::None, None)
            .unwrap();
        recorded.tape.set_input(recorded.input, &inputs).unwrap();
        recorded.tape.forward(model.params()).unwrap();
        let training = recorded.tape.value(recorded.prediction).data().to_vec();
        assert_eq!(teacher_forcing, training != ours, "{what}");
        let theirs = pytorch_outputs_in(python, &dir, "train");
        assert_close(&theirs, &training, &format!("{what}, training"));
        let printed = run_script(python, &dir);
        let (loss, accuracy) = reported(&printed);
        assert!(
            (loss - report.loss).abs() <= 1e-5 * (1.0 + report.loss),
            "{what}: loss {loss} vs {}",
            report.loss
        );
        let accuracy = accuracy.expect("an accuracy");
        assert!(
            (accuracy - report.accuracy).abs() <= 1e-4,
            "{what}: accuracy {accuracy} vs {}",
            report.accuracy
        );
        let answers = percentage(printed.lines().next().unwrap(), "answers right ").unwrap();
        let expected = report.answers_right.expect("answers right");
        assert!(
            (answers - expected).abs() <= 1e-4,
            "{what}: answers right {answers} vs {expected}"
        );
        eprintln!(
            "{what}: engine loss {} accuracy {} answers {expected}; PyTorch {printed}",
            report.loss, report.accuracy
        );
        let (trained_loss, _) = reported(printed.lines().nth(1).unwrap());
        assert!(
            trained_loss < loss,
            "{what}: an epoch in PyTorch: {printed}"
        );
        let trained = std::fs::read(dir.join(TRAINED_FILE)).unwrap();
        let (network, opened) = open_seq2seq_file(&trained).unwrap();
        assert_eq!(opened, settings);
        assert_ne!(network.params().to_flat(), model.params().to_flat());
        let _ = std::fs::remove_dir_all(dir);
    }
}
