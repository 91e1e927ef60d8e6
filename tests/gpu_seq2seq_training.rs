//! Encoder-decoders trained step by step on the CPU engine and on the GPU, compared, as
//! `tests/gpu_sequential_training.rs` compares the other networks: from the same initial weights
//! and seed, the same batches of padded translations (inputs of random lengths, one batch
//! smaller), `engine::Trainer<Sequential>` and `gpu::GpuTrainer`, a decaying rate and an
//! optimiser reset midway.
//!
//! Per case: every step's loss (relative error; the last steps read as one mean), the final
//! weights (relative to the largest CPU weight), `predict` from the CPU's weights (greedy
//! decoding, each step reading back its own argmax) against the CPU's evaluation tape, and the
//! exact round trip of the parameters. Needs an adapter (lavapipe natively); fails without one.

use std::rc::Rc;

use neural_playground::data::translation::{TranslationSet, TranslationTask};
use neural_playground::engine::{
    Activation, Attention, Cell, LayerConfig, Loss, OptimizerConfig, OptimizerKind, Regularization,
    Seq2Seq, SequentialConfig, TrainConfig, Trainer,
};
use neural_playground::gpu::{GpuContext, GpuTrainer};

mod gpu_common;

use gpu_common::training_table::{self, Outcome};
use gpu_common::{difference, open_context};

/// Batch sizes of the steps: the fourth is smaller, as an epoch's last batch is.
const BATCHES: [usize; 8] = [12, 12, 12, 5, 12, 12, 12, 12];
/// Steps whose losses are read one by one; the rest are read as one mean.
const READ_ONE_BY_ONE: usize = 6;
/// The optimiser state is forgotten (on both sides) before this step.
const RESET_BEFORE: usize = 4;
/// The longest input; shorter ones are padded.
const LONGEST: usize = 4;
/// Translations given to `predict`.
const PREDICTED: usize = 40;

struct Case {
    name: &'static str,
    task: TranslationTask,
    layer: Seq2Seq,
    optimizer: OptimizerConfig,
    clip_norm: Option<f32>,
}

/// `count` translations of `task` of 1 to [`LONGEST`] input tokens.
fn translations(task: TranslationTask, count: usize, seed: u64) -> TranslationSet {
    let examples = task.generate(count, (1, LONGEST), seed).unwrap();
    task.encode(&examples, LONGEST)
}

fn layer(task: TranslationTask, cell: Cell, hidden: usize, attention: Attention) -> Seq2Seq {
    let set = task.encode(&[], LONGEST);
    Seq2Seq {
        cell,
        hidden,
        embedding: 5,
        source_tokens: task.input_tokens(),
        target_tokens: task.output_vocabulary().size(),
        output_steps: set.output_steps,
        attention,
        teacher_forcing: true,
    }
}

fn table() -> Vec<Case> {
    let adam = OptimizerConfig::new(OptimizerKind::Adam, 0.02);
    let momentum = OptimizerConfig::new(OptimizerKind::Momentum, 0.1);
    let reverse = TranslationTask::Reverse;
    let case = |name, layer, optimizer| Case {
        name,
        task: reverse,
        layer,
        optimizer,
        clip_norm: None,
    };
    vec![
        case(
            "GRU 8, dot attention, teacher forcing, Adam",
            layer(reverse, Cell::Gru, 8, Attention::Dot),
            adam,
        ),
        case(
            "GRU 8, additive attention, teacher forcing, Adam",
            layer(reverse, Cell::Gru, 8, Attention::Additive),
            adam,
        ),
        case(
            "LSTM 6, no attention, teacher forcing, momentum",
            layer(reverse, Cell::Lstm, 6, Attention::None),
            momentum,
        ),
        Case {
            name: "RNN 7, dot, greedy while training, sort, clipped",
            task: TranslationTask::Sort,
            clip_norm: Some(1.0),
            ..case(
                "",
                Seq2Seq {
                    teacher_forcing: false,
                    ..layer(
                        TranslationTask::Sort,
                        Cell::Rnn(Activation::Tanh),
                        7,
                        Attention::Dot,
                    )
                },
                adam,
            )
        },
    ]
}

/// The cosine decay of `tests/gpu_sequential_training.rs`.
fn learning_rate(base: f32, step: usize) -> f32 {
    let progress = step as f32 / (BATCHES.len() - 1) as f32;
    base * (0.1 + 0.9 * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos()))
}

#[test]
fn encoder_decoder_training_on_the_gpu_follows_the_cpu_trainer() {
    let context = Rc::new(open_context());
    training_table::check(
        &format!(
            "GPU encoder-decoder training parity on {}",
            context.description()
        ),
        &table(),
        |case| case.name,
        |index, case| run(&context, case, 700 + index as u64),
    );
}

fn run(context: &Rc<GpuContext>, case: &Case, seed: u64) -> Outcome {
    let shape = case.task.encode(&[], LONGEST).inputs.shape()[1..].to_vec();
    let network = SequentialConfig {
        seed,
        padded: true,
        ..SequentialConfig::new(&shape, vec![LayerConfig::Seq2Seq(case.layer)])
    };
    let model = network.init().unwrap();
    let config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: case.optimizer,
        batch_size: BATCHES[0],
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: seed + 1,
        clip_norm: case.clip_norm,
        truncation: None,
    };
    let mut cpu = Trainer::new(model.clone(), config).unwrap();
    let mut gpu = GpuTrainer::new_blocking(context.clone(), &model, config).unwrap();

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

        let set = translations(case.task, rows, seed * 100 + step as u64);
        cpu_losses.push(cpu.train_step(&set.inputs, &set.targets).unwrap());
        gpu.train_step(&set.inputs, &set.targets).unwrap();
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
    let weights = difference(&trained.params().to_flat(), &cpu_model.params().to_flat());

    // Greedy decoding from the CPU's weights, loaded into the trainer.
    let set = translations(case.task, PREDICTED, seed * 100 + 99);
    let predict = training_table::predictions_from_the_cpu_weights(
        &mut gpu,
        cpu_model,
        &set.inputs,
        case.name,
    );

    Outcome {
        loss,
        weights,
        predict,
        first_loss: cpu_losses[0],
        last_loss: cpu_losses[BATCHES.len() - 1],
    }
}
