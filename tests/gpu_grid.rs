//! The playground's decision-boundary grid and neuron thumbnails computed on the GPU
//! (`GpuEpochTrainer::layer_outputs`, drawn with `Session::snapshot_with_grid`) against the same
//! snapshot computed by the CPU engine from the same weights; and the playground's trainer state
//! going to the GPU and back. Needs an adapter (lavapipe natively), like the other GPU suites.

use std::rc::Rc;

use neural_playground::data::DatasetKind;
use neural_playground::engine::{Activation, Loss};
use neural_playground::gpu::{GpuEpochTrainer, KernelFamilies};
use neural_playground::playground::{PlaygroundConfig, Session};

mod gpu_common;

/// Largest difference of a heatmap value (they lie in [-1, 1]).
const TOLERANCE: f32 = 1e-4;

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn compare(config: PlaygroundConfig) {
    let context = Rc::new(gpu_common::open_context());
    let kernels = Rc::new(KernelFamilies::new_blocking(&context).unwrap());
    let mut session = Session::new(config).unwrap();
    let mut trainer = GpuEpochTrainer::new(
        Rc::clone(&context),
        kernels,
        session.model(),
        session.config().train_config(),
    )
    .unwrap();
    let (inputs, targets) = session.training_data();
    trainer.set_data(&inputs.clone(), &targets.clone()).unwrap();
    trainer.train_epochs(3).unwrap();
    let losses = pollster::block_on(trainer.read_losses()).unwrap();
    let model = pollster::block_on(trainer.read_model()).unwrap();
    let grid = trainer
        .layer_outputs_blocking(&session.grid_inputs().clone())
        .unwrap();
    session.adopt_trained(&model, &losses).unwrap();

    let on_gpu = session.snapshot_with_grid(&grid).unwrap();
    let on_cpu = session.snapshot().unwrap();
    assert!(on_gpu.grid_on_gpu && !on_cpu.grid_on_gpu);
    let output = largest_difference(&on_gpu.output_heatmap, &on_cpu.output_heatmap);
    assert!(output < TOLERANCE, "output heatmap differs by {output}");
    for (layer, (gpu, cpu)) in on_gpu
        .neuron_heatmaps
        .iter()
        .zip(&on_cpu.neuron_heatmaps)
        .enumerate()
    {
        assert_eq!(gpu.len(), cpu.len());
        for (neuron, (gpu, cpu)) in gpu.iter().zip(cpu).enumerate() {
            let difference = largest_difference(gpu, cpu);
            assert!(
                difference < TOLERANCE,
                "layer {layer} neuron {neuron}: thumbnails differ by {difference}"
            );
        }
    }
    // A grid of the wrong shape is refused in words.
    let error = session
        .snapshot_with_grid(&grid[1..])
        .unwrap_err()
        .to_string();
    assert!(error.contains("one ["), "{error}");
}

#[test]
fn a_tanh_classifier_grid_matches_the_cpu() {
    compare(PlaygroundConfig {
        dataset: DatasetKind::Spiral,
        hidden_layers: vec![8, 5],
        activations: vec![Activation::Tanh, Activation::Relu],
        ..PlaygroundConfig::default()
    });
}

#[test]
fn a_softmax_classifier_grid_matches_the_cpu() {
    compare(PlaygroundConfig {
        dataset: DatasetKind::Circle,
        hidden_layers: vec![6],
        activations: vec![Activation::Sigmoid],
        loss: Loss::SoftmaxCrossEntropy,
        ..PlaygroundConfig::default()
    });
}

#[test]
fn a_regression_grid_matches_the_cpu() {
    compare(PlaygroundConfig {
        dataset: DatasetKind::RegressionPlane,
        problem: neural_playground::playground::ProblemType::Regression,
        loss: Loss::MeanSquaredError,
        hidden_layers: vec![4, 4],
        activations: vec![Activation::Gelu, Activation::LeakyRelu],
        ..PlaygroundConfig::default()
    });
}

/// The playground switching to the GPU and back mid-run keeps its optimiser (Adam's moments),
/// generator and row order: two CPU epochs, three on the GPU and two more on the CPU end where
/// seven CPU epochs end.
#[test]
fn the_optimiser_goes_to_the_gpu_and_comes_back() {
    use neural_playground::engine::OptimizerKind;

    let config = PlaygroundConfig {
        dataset: DatasetKind::Spiral,
        optimizer: OptimizerKind::Adam,
        ..PlaygroundConfig::default()
    };
    let context = Rc::new(gpu_common::open_context());
    let kernels = Rc::new(KernelFamilies::new_blocking(&context).unwrap());
    let mut switching = Session::new(config.clone()).unwrap();
    let mut on_cpu = Session::new(config).unwrap();
    for _ in 0..7 {
        on_cpu.train_epoch().unwrap();
    }
    for _ in 0..2 {
        switching.train_epoch().unwrap();
    }
    let mut trainer = GpuEpochTrainer::new(
        Rc::clone(&context),
        kernels,
        switching.model(),
        switching.config().train_config(),
    )
    .unwrap();
    let (inputs, targets) = switching.training_data();
    trainer.set_data(&inputs.clone(), &targets.clone()).unwrap();
    trainer.resume(switching.trainer_state()).unwrap();
    trainer.train_epochs(3).unwrap();
    let losses = pollster::block_on(trainer.read_losses()).unwrap();
    let model = pollster::block_on(trainer.read_model()).unwrap();
    let state = pollster::block_on(trainer.read_state()).unwrap();
    assert_eq!(state.epoch, 3);
    switching.adopt_trained(&model, &losses).unwrap();
    switching.adopt_trainer_state(state).unwrap();
    for _ in 0..2 {
        switching.train_epoch().unwrap();
    }
    assert_eq!(switching.epoch(), 7);
    let difference = largest_difference(&switching.parameters(), &on_cpu.parameters());
    assert!(difference < 1e-4, "the weights differ by {difference}");
}
