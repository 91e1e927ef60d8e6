//! Export to PyTorch, as a page offers it: the script `engine::pytorch_script` writes, the
//! model file of the weights it loads and the examples it reads, in one zip. The playground's
//! examples are its points (`split,x1,x2,label`, as `data::points_csv` writes them); the
//! Seq2seq page's, its translations (`split,input,answer`, tokens separated by spaces).

use std::fmt::Write as _;
use std::io::Write;

use zip::write::SimpleFileOptions;

use super::config::ProblemType;
use super::images::training::{RunData, RunSettings, held_out};
use super::model_files::page_file;
use super::sequences::SequenceSettings;
use super::sequences::seq2seq_settings::Seq2SeqSettings;
use super::session::Session;
use crate::data::Feature;
use crate::data::digits::{DigitSet, MAX_SHIFT, SIDE};
use crate::data::examples::Examples;
use crate::data::idx::write_idx;
use crate::data::points_csv::write_points_csv;
use crate::data::translation::Translation;
use crate::engine::pytorch_script::{
    DATA_FILE, DIGIT_FILES, SCRIPT_FILE, Script, ScriptData, WEIGHTS_FILE, write_script,
};
use crate::engine::{Described, Sequential, Tensor};

/// Epochs the exported script trains by default.
pub const EPOCHS: usize = 10;

/// What an export holds: the script, the weights it loads and the data it reads (each data
/// file's name and bytes).
#[derive(Clone, Debug)]
pub struct Export {
    pub script: String,
    pub weights: Vec<u8>,
    pub data: Vec<(String, Vec<u8>)>,
}

impl Export {
    /// The three files in one zip, in a folder named `folder`.
    pub fn zip(&self, folder: &str) -> Result<Vec<u8>, String> {
        let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default();
        let files = [
            (SCRIPT_FILE, self.script.as_bytes()),
            (WEIGHTS_FILE, self.weights.as_slice()),
        ];
        let data = self
            .data
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()));
        let failed = |error: &dyn std::fmt::Display| format!("the zip cannot be written: {error}");
        for (name, bytes) in files.into_iter().chain(data) {
            archive
                .start_file(format!("{folder}/{name}"), options)
                .map_err(|error| failed(&error))?;
            archive.write_all(bytes).map_err(|error| failed(&error))?;
        }
        let cursor = archive.finish().map_err(|error| failed(&error))?;
        Ok(cursor.into_inner())
    }
}

/// A feature as the script names and computes it from `x1` and `x2`.
fn feature_code(feature: Feature) -> (&'static str, &'static str) {
    match feature {
        Feature::X1 => ("x1", "x1"),
        Feature::X2 => ("x2", "x2"),
        Feature::X1Squared => ("x1²", "x1 * x1"),
        Feature::X2Squared => ("x2²", "x2 * x2"),
        Feature::X1TimesX2 => ("x1·x2", "x1 * x2"),
        Feature::SinX1 => ("sin(x1)", "torch.sin(x1)"),
        Feature::SinX2 => ("sin(x2)", "torch.sin(x2)"),
    }
}

/// The playground's network, its weights and its points, as an export.
pub fn playground_export(session: &Session) -> Result<Export, String> {
    let config = session.config();
    let network = session.model().network();
    let training = config.train_config();
    let settings = serde_json::to_string(config)
        .map_err(|error| format!("the set-up cannot be written: {error}"))?;
    let title = match session.data_file() {
        Some(file) => format!("the playground's network on the points of {file}"),
        None => format!(
            "the playground's network on the {} data set",
            config.dataset.title().to_lowercase()
        ),
    };
    let script = write_script(&Script {
        title: &title,
        network: network.config(),
        training: &training,
        data: ScriptData::Points {
            features: config.features.iter().map(|&f| feature_code(f)).collect(),
            outputs: config.output_count(),
        },
        epochs: EPOCHS,
        settings: Some(&settings),
        classification: config.problem == ProblemType::Classification,
        cosine_decay: false,
    })?;
    Ok(Export {
        script,
        weights: page_file(network, config)?,
        data: vec![csv_file(write_points_csv(
            session.train_points(),
            session.test_points(),
        ))],
    })
}

/// Examples as the network reads them, as CSV: `split`, every input value (`x0`, `x1`, ...),
/// then every target value (`y0`, ...); the training examples (`train`: inputs and targets,
/// one example per leading index) first.
pub fn table_csv(train: (&Tensor, &Tensor), test: (&Tensor, &Tensor)) -> String {
    let width =
        |tensor: &Tensor| tensor.len() / tensor.shape().first().copied().unwrap_or(1).max(1);
    let (inputs, targets) = (width(train.0), width(train.1));
    let mut csv = String::from("split");
    csv.extend((0..inputs).map(|i| format!(",x{i}")));
    csv.extend((0..targets).map(|i| format!(",y{i}")));
    csv.push('\n');
    for (split, (x, y)) in [("train", train), ("test", test)] {
        let rows = x
            .data()
            .chunks(inputs.max(1))
            .zip(y.data().chunks(targets.max(1)));
        for (x, y) in rows {
            csv.push_str(split);
            for value in x.iter().chain(y) {
                csv.push_str(&format!(",{value}"));
            }
            csv.push('\n');
        }
    }
    csv
}

/// The Sequences page's network (`model`, with the weights the page holds) and the sequences
/// its run of `settings` trains and tests on, drawn again from the run's seed, as an export.
pub fn sequences_export(settings: &SequenceSettings, model: &Sequential) -> Result<Export, String> {
    let run = settings.run_settings();
    let sequences = run
        .sequences()
        .ok_or("the Sequences page's run trains on sequences")?
        .map_err(|error| error.to_string())?;
    let split = held_out(sequences.len(), run.seed);
    let examples = |indices: &[usize]| {
        let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
        sequences.write_inputs(indices, &mut inputs);
        sequences.write_targets(indices, &mut targets);
        (inputs, targets)
    };
    let (train, test) = (examples(&split.train), examples(&split.test));
    let page_settings = serde_json::to_string(settings)
        .map_err(|error| format!("the set-up cannot be written: {error}"))?;
    let title = format!(
        "the Sequences page's {} on {}",
        settings.cell.to_uppercase(),
        settings.task.title().to_lowercase()
    );
    let training = run.train_config();
    let script = write_script(&Script {
        title: &title,
        network: model.config(),
        training: &training,
        data: ScriptData::Table {
            input_shape: model.config().input.clone(),
            target_shape: train.1.shape()[1..].to_vec(),
        },
        epochs: run.epochs,
        settings: Some(&page_settings),
        classification: !run.is_regression(),
        cosine_decay: run.cosine_decay,
    })?;
    Ok(Export {
        script,
        weights: page_file(model, settings)?,
        data: vec![csv_file(table_csv(
            (&train.0, &train.1),
            (&test.0, &test.1),
        ))],
    })
}

/// The Seq2seq page's encoder-decoder (`model`, with the weights the page holds) and the
/// translations its run of `settings` trains and tests on, drawn again from the run's seed and
/// split as the run splits them, as an export.
pub fn seq2seq_export(settings: &Seq2SeqSettings, model: &Sequential) -> Result<Export, String> {
    let run = settings.run_settings();
    let RunData::Translations {
        task,
        shortest,
        longest,
        count,
    } = run.data
    else {
        return Err("the Seq2seq page's run trains on translations".to_string());
    };
    let examples = task
        .generate(count, (shortest, longest), run.seed)
        .map_err(|error| error.to_string())?;
    let split = held_out(examples.len(), run.seed);
    let vocabulary = task.output_vocabulary();
    let page_settings = serde_json::to_string(settings)
        .map_err(|error| format!("the set-up cannot be written: {error}"))?;
    // "the Seq2seq page's LSTM encoder-decoder with dot-product attention (reverse the digits)"
    let title = format!(
        "the Seq2seq page's {} encoder-decoder with {} ({})",
        settings.cell.key().to_uppercase(),
        settings.attention.describe().short,
        task.title().to_lowercase()
    );
    let training = run.train_config();
    let script = write_script(&Script {
        title: &title,
        network: model.config(),
        training: &training,
        data: ScriptData::Translations {
            source_steps: longest,
            output_steps: task.output_steps(longest),
            tokens: vocabulary.size(),
            start: vocabulary.start(),
            end: vocabulary.end(),
        },
        epochs: run.epochs,
        settings: Some(&page_settings),
        classification: true,
        cosine_decay: run.cosine_decay,
    })?;
    Ok(Export {
        script,
        weights: page_file(model, settings)?,
        data: vec![csv_file(translations_csv(
            &examples,
            (&split.train, &split.test),
        ))],
    })
}

/// Translations as CSV: `split`, the input's tokens, the answer's (each separated by spaces,
/// the answer without the decoder's end); the training examples first, each set in the order
/// of its indices.
pub fn translations_csv(examples: &[Translation], (train, test): (&[usize], &[usize])) -> String {
    let tokens = |tokens: &[u8]| {
        let tokens: Vec<String> = tokens.iter().map(u8::to_string).collect();
        tokens.join(" ")
    };
    let mut csv = String::from("split,input,answer\n");
    for (split, indices) in [("train", train), ("test", test)] {
        for example in indices.iter().map(|&index| &examples[index]) {
            let _ = writeln!(
                csv,
                "{split},{},{}",
                tokens(&example.input),
                tokens(&example.output)
            );
        }
    }
    csv
}

/// The CSV file the script reads.
pub fn csv_file(csv: String) -> (String, Vec<u8>) {
    (DATA_FILE.to_string(), csv.into_bytes())
}

/// The Images page's network (`model`, with the weights the page holds) and its digits, split
/// as its run of `settings` splits them, as an export: the digits in MNIST's IDX files, and the
/// script shifting the training digits as the page does when its augmentation is on.
pub fn images_export(
    settings: &RunSettings,
    model: &Sequential,
    digits: &DigitSet,
) -> Result<Export, String> {
    let split = held_out(digits.len(), settings.seed);
    let mut data = Vec::new();
    for (indices, [images, labels]) in [(&split.train, [0, 1]), (&split.test, [2, 3])] {
        let subset = digits.subset(indices);
        let sizes = [subset.len(), SIDE, SIDE];
        data.push((
            DIGIT_FILES[images].to_string(),
            write_idx(&sizes, &subset.pixels),
        ));
        data.push((
            DIGIT_FILES[labels].to_string(),
            write_idx(&[subset.len()], &subset.labels),
        ));
    }
    let page_settings = serde_json::to_string(settings)
        .map_err(|error| format!("the set-up cannot be written: {error}"))?;
    let title = format!("the Images page's network on {}", digits.name);
    let training = settings.train_config();
    let script = write_script(&Script {
        title: &title,
        network: model.config(),
        training: &training,
        data: ScriptData::Digits {
            shift: settings.augment.then_some(MAX_SHIFT),
        },
        epochs: settings.epochs,
        settings: Some(&page_settings),
        classification: true,
        cosine_decay: settings.cosine_decay,
    })?;
    Ok(Export {
        script,
        weights: page_file(model, settings)?,
        data,
    })
}
