//! Trains an image network on MNIST digits natively with the Images page's own training run and
//! reports the accuracy on a test set of its own; `cargo xtask mnist` fetches the training
//! digits and runs it.
//!
//! cargo run --release --example mnist -- --model lenet5|mlp|cnn --epochs N
//!     (--train-bin FILE | --train-idx DIR) --test-idx DIR [--limit K] [--lr R] [--seed S]
//!     [--batch B] [--no-augment] [--activation relu|tanh] [--pool max|avg]
//!     [--optimizer adam|momentum]
//!
//! The defaults are the page's (docs/benchmarks.md, MNIST): batch 64, Adam from 0.002 with a
//! cosine decay over the run, every training digit shifted by up to 2 pixels each time it is used.
//! The last line reads `test accuracy: NN.NN%`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use neural_playground::data::digits::DigitSet;
use neural_playground::engine::{
    Activation, Described, OptimizerKind, Pooling, SeededRng, SequentialConfig,
};
use neural_playground::playground::images::training::{RunSettings, TrainingRun};

struct Options {
    model: String,
    activation: Activation,
    pooling: Pooling,
    train_bin: Option<PathBuf>,
    train_idx: Option<PathBuf>,
    test_idx: PathBuf,
    limit: Option<usize>,
    learning_rate: Option<f32>,
    settings: RunSettings,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mnist: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut options = parse(std::env::args().skip(1))?;
    let train = match (&options.train_idx, &options.train_bin) {
        (Some(dir), _) => load_idx_dir(dir, "train")?,
        (None, Some(file)) => {
            let bytes =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            DigitSet::from_npm_file(&bytes, &file.display().to_string())?
        }
        (None, None) => return Err("give --train-bin FILE or --train-idx DIR".to_string()),
    };
    let test = load_idx_dir(&options.test_idx, "t10k")?;
    let (train, test) = match options.limit {
        // A seeded sample of the training digits (the npm file lists them class by class), and
        // the first digits of the test set.
        Some(limit) => {
            let mut order: Vec<usize> = (0..train.len()).collect();
            SeededRng::new(options.settings.seed).shuffle(&mut order);
            order.truncate(limit);
            let first: Vec<usize> = (0..test.len().min(limit)).collect();
            (train.subset(&order), test.subset(&first))
        }
        None => (train, test),
    };
    options.settings.model = match options.model.as_str() {
        "mlp" => SequentialConfig::mlp(),
        "lenet5" => SequentialConfig::lenet5(options.activation, options.pooling),
        "cnn" => SequentialConfig::small_cnn(),
        other => return Err(format!("unknown model {other:?}: use lenet5, mlp or cnn")),
    };
    options.settings.model.seed = options.settings.seed;
    options.settings.learning_rate =
        options
            .learning_rate
            .unwrap_or(match options.settings.optimizer {
                OptimizerKind::Adam => 0.002,
                _ => 0.05,
            });
    let settings = options.settings;
    let (train_count, test_count) = (train.len(), test.len());
    let (data, split) = train.with_test_set(test);
    let mut run =
        TrainingRun::with_split(data, split, settings.clone()).map_err(|e| e.to_string())?;
    println!(
        "model {}: {} parameters; {train_count} training digits, {test_count} test digits; batch \
         {}, {} from lr {}, cosine decay, augmentation {}",
        options.model,
        run.model().parameter_count(),
        settings.batch_size,
        settings.optimizer.key(),
        settings.learning_rate,
        if settings.augment {
            "shifts of up to 2 px"
        } else {
            "off"
        },
    );
    let mut total_seconds = 0.0;
    let mut accuracy = 0.0;
    while !run.is_finished() {
        let epoch = run.epoch();
        let start = Instant::now();
        while run.epoch() == epoch {
            run.step().map_err(|e| e.to_string())?;
        }
        let seconds = start.elapsed().as_secs_f64();
        total_seconds += seconds;
        let progress = run.take_progress();
        let report = run.evaluate().map_err(|e| e.to_string())?;
        accuracy = report.accuracy;
        println!(
            "epoch {}/{}: loss {:.4}, {seconds:.1} s, {:.0} examples/s, test accuracy {:.2}%",
            progress.epoch,
            progress.epochs,
            progress.train_loss,
            train_count as f64 / seconds,
            accuracy * 100.0
        );
    }
    println!("training time: {total_seconds:.1} s");
    println!("test accuracy: {:.2}%", accuracy * 100.0);
    Ok(())
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        model: "lenet5".to_string(),
        activation: Activation::Relu,
        pooling: Pooling::Max,
        train_bin: None,
        train_idx: None,
        test_idx: PathBuf::new(),
        limit: None,
        learning_rate: None,
        settings: RunSettings::default(),
    };
    let mut test_idx = None;
    while let Some(flag) = args.next() {
        if flag == "--no-augment" {
            options.settings.augment = false;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| {
            value
                .parse::<usize>()
                .map_err(|_| format!("{what} must be a whole number, got {value:?}"))
        };
        match flag.as_str() {
            "--model" => options.model = value.clone(),
            "--epochs" => options.settings.epochs = number("--epochs")?,
            "--limit" => options.limit = Some(number("--limit")?),
            "--batch" => options.settings.batch_size = number("--batch")?,
            "--seed" => options.settings.seed = number("--seed")? as u64,
            "--train-bin" => options.train_bin = Some(value.into()),
            "--train-idx" => options.train_idx = Some(value.into()),
            "--test-idx" => test_idx = Some(PathBuf::from(value)),
            "--lr" => {
                options.learning_rate = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--lr must be a number, got {value:?}"))?,
                )
            }
            "--activation" => {
                options.activation = match value.as_str() {
                    "relu" => Activation::Relu,
                    "tanh" => Activation::Tanh,
                    _ => return Err(format!("--activation: relu or tanh, got {value:?}")),
                }
            }
            "--pool" => {
                options.pooling = match value.as_str() {
                    "max" => Pooling::Max,
                    "avg" => Pooling::Average,
                    _ => return Err(format!("--pool: max or avg, got {value:?}")),
                }
            }
            "--optimizer" => {
                options.settings.optimizer = match value.as_str() {
                    "adam" => OptimizerKind::Adam,
                    "momentum" => OptimizerKind::Momentum,
                    _ => return Err(format!("--optimizer: adam or momentum, got {value:?}")),
                }
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    options.test_idx =
        test_idx.ok_or("--test-idx DIR is required (e.g. ../shared/data/mnist-t10k)")?;
    if options.settings.epochs == 0 {
        return Err("--epochs must be at least 1".to_string());
    }
    if options.settings.batch_size == 0 {
        return Err("--batch must be at least 1".to_string());
    }
    if options.limit == Some(0) {
        return Err("--limit must be at least 1".to_string());
    }
    Ok(options)
}

/// The digits of the images and labels IDX files in `dir` (when it holds several sets, the one
/// whose name starts with `prefer`, e.g. "train" or "t10k").
fn load_idx_dir(dir: &Path, prefer: &str) -> Result<DigitSet, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut images: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.contains("images-idx3"))
        .collect();
    images.sort();
    let chosen = match images.as_slice() {
        [] => {
            return Err(format!(
                "no *-images-idx3-ubyte[.gz] file in {}",
                dir.display()
            ));
        }
        [only] => only.clone(),
        several => several
            .iter()
            .find(|name| name.starts_with(prefer))
            .unwrap_or(&several[0])
            .clone(),
    };
    let labels = chosen.replace("images-idx3", "labels-idx1");
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    DigitSet::from_idx(&read(&chosen)?, &read(&labels)?, &chosen)
        .map_err(|e| format!("{}: {e}", dir.display()))
}
