//! The Images page's training run on the GPU (`TrainingRun::use_gpu`): it learns like the CPU
//! run, its losses come back through `sync`, its weights through `pull_model`, and a diverging
//! run puts back the weights of the last test, on the GPU too. Needs an adapter (lavapipe
//! natively), like the other GPU suites.

use std::rc::Rc;

use neural_playground::data::digits::DigitSet;
use neural_playground::engine::{Activation, LayerConfig, OptimizerKind, SequentialConfig};
use neural_playground::engine::{Conv2d, MaxPool2d};
use neural_playground::playground::backend::Backend;
use neural_playground::playground::images::training::{RunData, RunSettings, TrainingRun};

mod gpu_common;

fn settings() -> RunSettings {
    RunSettings {
        model: SequentialConfig {
            input: vec![1, 28, 28],
            layers: vec![
                LayerConfig::Conv2d(Conv2d {
                    out_channels: 4,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    activation: Activation::Relu,
                }),
                LayerConfig::MaxPool2d(MaxPool2d { size: 2, stride: 2 }),
                LayerConfig::FLATTEN,
                LayerConfig::dense(10, Activation::Linear),
            ],
            seed: 3,
            initializer: None,
            padded: false,
        },
        epochs: 2,
        batch_size: 16,
        optimizer: OptimizerKind::Adam,
        learning_rate: 0.01,
        cosine_decay: true,
        augment: true,
        seed: 5,
        backend: Backend::Gpu,
        data: RunData::Digits,
        clip_norm: None,
        truncation: None,
    }
}

/// Steps until the run is finished, reading the losses back every `sync_every` steps.
fn train(run: &mut TrainingRun, sync_every: usize) -> Vec<f32> {
    let mut losses = Vec::new();
    let mut steps = 0;
    while !run.is_finished() {
        run.step().unwrap();
        steps += 1;
        if steps % sync_every == 0 || run.is_finished() {
            pollster::block_on(run.sync()).unwrap();
            losses.push(run.take_progress().train_loss);
        }
    }
    losses
}

#[test]
fn a_gpu_run_learns_like_the_cpu_run() {
    let context = Rc::new(gpu_common::open_context());
    let mut on_gpu = TrainingRun::new(DigitSet::halves(200), settings()).unwrap();
    pollster::block_on(on_gpu.use_gpu(Rc::clone(&context))).unwrap();
    assert!(on_gpu.on_gpu());
    let before = on_gpu.evaluate().unwrap();
    let gpu_losses = train(&mut on_gpu, 4);
    assert!(on_gpu.on_gpu(), "{:?}", on_gpu.take_notice());
    pollster::block_on(on_gpu.pull_model());
    let after = on_gpu.evaluate().unwrap();
    assert!(after.accuracy > 0.9, "accuracy {}", after.accuracy);
    assert!(
        after.loss < before.loss,
        "{} -> {}",
        before.loss,
        after.loss
    );

    // The same run on the CPU: same batches, same shifts, so the same mean losses.
    let mut on_cpu = TrainingRun::new(DigitSet::halves(200), settings()).unwrap();
    let cpu_losses = train(&mut on_cpu, 4);
    assert_eq!(gpu_losses.len(), cpu_losses.len());
    for (step, (gpu, cpu)) in gpu_losses.iter().zip(&cpu_losses).enumerate() {
        let error = (gpu - cpu).abs() / cpu.abs().max(1e-3);
        assert!(error < 1e-3, "losses {step}: GPU {gpu}, CPU {cpu}");
    }
    let cpu_after = on_cpu.evaluate().unwrap();
    assert!((cpu_after.loss - after.loss).abs() < 1e-3 * cpu_after.loss.max(1e-3) + 1e-5);
}

#[test]
fn a_diverging_gpu_run_puts_back_the_weights_of_the_last_test() {
    let context = Rc::new(gpu_common::open_context());
    let mut run = TrainingRun::new(
        DigitSet::halves(200),
        RunSettings {
            optimizer: OptimizerKind::Sgd,
            learning_rate: 1e30,
            cosine_decay: false,
            ..settings()
        },
    )
    .unwrap();
    pollster::block_on(run.use_gpu(context)).unwrap();
    run.evaluate().unwrap();
    let checkpoint = run.model().params().to_flat();
    for _ in 0..4 {
        run.step().unwrap();
    }
    let error = pollster::block_on(run.sync()).unwrap_err().to_string();
    assert!(error.contains("learning rate"), "{error}");
    assert!(run.on_gpu(), "divergence is not a GPU failure");
    // Both copies hold the checkpoint again: the CPU one at once, the GPU one when read back.
    assert_eq!(run.model().params().to_flat(), checkpoint);
    pollster::block_on(run.pull_model());
    assert_eq!(run.model().params().to_flat(), checkpoint);
}

/// The largest difference between two runs' weights.
fn largest_difference(a: &TrainingRun, b: &TrainingRun) -> f32 {
    let (a, b) = (a.model().params().to_flat(), b.model().params().to_flat());
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// A run saved while it trains on the GPU keeps what it read back last: the weights, Adam's
/// moments and its place in the epoch, all of one moment (steps taken after it are not
/// saved). Opened again and put on the GPU, it takes the steps a run that was never saved
/// takes from there.
#[test]
fn a_run_saved_on_the_gpu_goes_on_with_its_optimiser() {
    use neural_playground::engine::checkpoint::read_checkpoint;

    let context = Rc::new(gpu_common::open_context());
    let digits = DigitSet::halves(200);
    let on_gpu = |steps: usize| {
        let mut run = TrainingRun::new(digits.clone(), settings()).unwrap();
        pollster::block_on(run.use_gpu(Rc::clone(&context))).unwrap();
        for _ in 0..steps {
            run.step().unwrap();
        }
        pollster::block_on(run.sync()).unwrap();
        run
    };
    let mut saved = on_gpu(7);
    pollster::block_on(saved.pull_model());
    for _ in 0..3 {
        saved.step().unwrap();
    }
    let bytes = saved.save("{}").unwrap();
    let trainer = read_checkpoint(&bytes)
        .unwrap()
        .trainer
        .expect("the optimiser's state");
    assert_eq!(trainer.optimizer.steps, 7);
    assert!(
        trainer
            .optimizer
            .moments
            .iter()
            .any(|moments| moments.second.iter().any(|&v| v > 0.0)),
        "Adam's moments were read back"
    );

    let (mut opened, _) = TrainingRun::open_saved(&bytes, Some(&digits)).unwrap();
    assert_eq!(opened.take_notice(), None);
    assert_eq!(opened.take_progress().steps, 7);
    pollster::block_on(opened.use_gpu(Rc::clone(&context))).unwrap();
    assert_eq!(opened.take_notice(), None);
    let mut never_saved = on_gpu(7);
    for _ in 0..5 {
        opened.step().unwrap();
        never_saved.step().unwrap();
    }
    for run in [&mut opened, &mut never_saved] {
        pollster::block_on(run.sync()).unwrap();
        pollster::block_on(run.pull_model());
    }
    let difference = largest_difference(&opened, &never_saved);
    assert!(difference <= 1e-5, "the weights differ by {difference}");
}
