//! The benchmark workloads of `cargo xtask bench`, defined once: `benches/engine.rs` times them
//! natively, and on wasm32 they are exported to JavaScript (`window.wasmBindings.bench_mlp_step`,
//! `window.wasmBindings.bench_grid`) so that the browser benchmark times the very same code.

use crate::data::Feature;
use crate::engine::{
    Activation, EngineError, Initializer, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig,
    OptimizerKind, Regularization, SeededRng, Tensor, TrainConfig, Trainer,
};
use crate::playground::session::OUTPUT_RESOLUTION;
use crate::playground::{Grid, PlaygroundConfig};

/// Inputs, hidden layers and classes of the MNIST-sized MLP.
pub const MLP_LAYERS: [usize; 4] = [784, 512, 512, 10];
/// Examples per training step of the MLP.
pub const MLP_BATCH: usize = 64;

/// One training step of a 784-512-512-10 ReLU MLP on a batch of 64: softmax cross-entropy, SGD
/// with momentum 0.9 and learning rate 0.01 (the PyTorch and TensorFlow.js references do the same).
pub struct MlpStep {
    trainer: Trainer,
    inputs: Tensor,
    targets: Tensor,
}

impl MlpStep {
    pub fn new() -> Result<MlpStep, EngineError> {
        let [inputs, hidden_1, hidden_2, classes] = MLP_LAYERS;
        let model = Model::new(&ModelConfig {
            inputs,
            layers: vec![
                LayerSpec::new(hidden_1, Activation::Relu),
                LayerSpec::new(hidden_2, Activation::Relu),
                LayerSpec::new(classes, Activation::Linear),
            ],
            initializer: Initializer::HeUniform,
            seed: 1,
        })?;
        let trainer = Trainer::new(
            model,
            TrainConfig {
                loss: Loss::SoftmaxCrossEntropy,
                optimizer: OptimizerConfig::new(OptimizerKind::Momentum, 0.01),
                batch_size: MLP_BATCH,
                regularization: Regularization::None,
                regularization_rate: 0.0,
                seed: 1,
            },
        )?;
        // Pixel-like inputs in [0, 1) and one random class per example.
        let mut rng = SeededRng::new(7);
        let pixels = (0..MLP_BATCH * inputs).map(|_| rng.uniform()).collect();
        let mut one_hot = vec![0.0; MLP_BATCH * classes];
        for row in one_hot.chunks_exact_mut(classes) {
            row[rng.below(classes)] = 1.0;
        }
        Ok(MlpStep {
            trainer,
            inputs: Tensor::from_vec(&[MLP_BATCH, inputs], pixels)?,
            targets: Tensor::from_vec(&[MLP_BATCH, classes], one_hot)?,
        })
    }

    /// One forward, backward and optimizer update; returns the loss before the update.
    pub fn run(&mut self) -> Result<f32, EngineError> {
        self.trainer.train_step(&self.inputs, &self.targets)
    }
}

/// The decision-boundary heatmap as the app computes it: the 100x100 grid through a 2-8-8-1 tanh
/// network (sigmoid output under binary cross-entropy), one `Model::forward`.
pub struct DecisionGrid {
    model: Model,
    grid: Grid,
}

impl DecisionGrid {
    pub fn new() -> Result<DecisionGrid, EngineError> {
        let config = PlaygroundConfig {
            features: vec![Feature::X1, Feature::X2],
            hidden_layers: vec![8, 8],
            activations: vec![Activation::Tanh, Activation::Tanh],
            ..PlaygroundConfig::default()
        };
        let mut model = Model::new(&config.model_config())?;
        model.set_output_transform(config.loss.output_activation());
        Ok(DecisionGrid {
            model,
            grid: Grid::new(OUTPUT_RESOLUTION, &config.features)?,
        })
    }

    pub fn run(&mut self) -> Result<(), EngineError> {
        self.model.forward(&self.grid.inputs)
    }
}

/// The median of `runs` timings of `work` in milliseconds, after `warm_up` untimed calls;
/// `now_ms` is the clock (`Instant` natively, `performance.now()` in the browser).
pub fn median_ms(warm_up: u32, runs: u32, now_ms: impl Fn() -> f64, mut work: impl FnMut()) -> f64 {
    for _ in 0..warm_up {
        work();
    }
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = now_ms();
            work();
            now_ms() - start
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Median milliseconds per MLP training step over `steps` steps, after 5 warm-up steps.
pub fn mlp_step_ms(steps: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut step = MlpStep::new().expect("the benchmark MLP builds");
    median_ms(5, steps, now_ms, || {
        step.run().expect("the benchmark MLP trains");
    })
}

/// Grid passes per timing: browsers round `performance.now()` to 0.1 ms, too coarse for one.
const GRID_PASSES_PER_TIMING: u32 = 10;

/// Median milliseconds per decision-boundary grid over `runs` timings of 10 passes each.
pub fn grid_ms(runs: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut grid = DecisionGrid::new().expect("the benchmark grid builds");
    let batch_ms = median_ms(2, runs, now_ms, || {
        for _ in 0..GRID_PASSES_PER_TIMING {
            grid.run().expect("the benchmark grid runs");
        }
    });
    batch_ms / f64::from(GRID_PASSES_PER_TIMING)
}

#[cfg(target_arch = "wasm32")]
mod exports {
    use wasm_bindgen::prelude::wasm_bindgen;

    fn now_ms() -> f64 {
        let window = web_sys::window().expect("the benchmarks run in a window");
        window.performance().expect("window.performance").now()
    }

    /// [`super::mlp_step_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_mlp_step(steps: u32) -> f64 {
        super::mlp_step_ms(steps, now_ms)
    }

    /// [`super::grid_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_grid(runs: u32) -> f64 {
        super::grid_ms(runs, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mlp_step_lowers_the_loss_on_its_batch() {
        let mut step = MlpStep::new().unwrap();
        let first = step.run().unwrap();
        for _ in 0..5 {
            step.run().unwrap();
        }
        let later = step.run().unwrap();
        assert!(later < first, "loss went from {first} to {later}");
    }

    #[test]
    fn the_grid_fills_every_cell() {
        let mut grid = DecisionGrid::new().unwrap();
        grid.run().unwrap();
        let output = grid.model.output();
        assert_eq!(output.shape(), &[OUTPUT_RESOLUTION * OUTPUT_RESOLUTION, 1]);
    }

    #[test]
    fn the_median_is_the_middle_timing() {
        let clock = std::cell::Cell::new(0.0);
        let mut call = 0.0;
        let median = median_ms(
            1,
            3,
            || {
                clock.set(clock.get() + 0.5);
                clock.get()
            },
            || {
                call += 1.0;
                clock.set(clock.get() + call);
            },
        );
        // Timed calls take 2, 3 and 4 ms (plus the clock's own 0.5).
        assert_eq!(median, 3.5);
    }
}
