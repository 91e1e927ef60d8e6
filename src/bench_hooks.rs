//! The benchmark workloads of `cargo xtask bench`, defined once: `benches/engine.rs` times them
//! natively, and on wasm32 they are exported to JavaScript (`window.wasmBindings.bench_mlp_step`,
//! `bench_lenet_step`, `bench_recurrent_step`, `bench_grid`, `bench_gemm_gflops`) so that the
//! browser benchmark times the very same code.
//! `benches/gpu.rs` trains the same workloads on the GPU (settings and batches from
//! [`mlp_train_config`], [`lenet_config`], [`lenet_train_config`], [`random_batch`]) and checks its
//! products against [`GemmCase::rows_of_product`].
//! The GEMM figures set our kernel beside `matrixmultiply`, the crate it replaced; before timing,
//! [`GemmCase::verify`] checks our product against the portable kernel and against
//! `matrixmultiply`, and the benchmark fails loudly if they differ.

use crate::data::Feature;
use crate::data::digits::CLASSES;
use crate::engine::gemm::{self, Operand};
use crate::engine::{
    Activation, EngineError, Initializer, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig,
    OptimizerKind, Pooling, Regularization, SeededRng, Sequential, SequentialConfig, Tensor,
    TrainConfig, Trainer,
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
        let (inputs, targets) = random_batch(&[MLP_BATCH, inputs], classes)?;
        Ok(MlpStep {
            trainer: Trainer::new(model, mlp_train_config())?,
            inputs,
            targets,
        })
    }

    /// One forward, backward and optimizer update; returns the loss before the update.
    pub fn run(&mut self) -> Result<f32, EngineError> {
        self.trainer.train_step(&self.inputs, &self.targets)
    }
}

/// The matrix products of one [`MlpStep`] and nothing else, on the same shapes, transposes and
/// accumulation as the tape's: each layer's forward product with its bias, then backward each
/// layer's weight gradient and (but the first) its input gradient. Timed beside the step, it
/// splits the step into the products and the rest (activations, loss, optimiser, bookkeeping).
pub struct MlpProducts {
    /// The layers' inputs (the batch, then each hidden layer's output), `[MLP_BATCH, width]`.
    activations: Vec<Vec<f32>>,
    weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
    /// Each layer's weighted sums, and their gradients.
    sums: Vec<Vec<f32>>,
    sum_gradients: Vec<Vec<f32>>,
    input_gradients: Vec<Vec<f32>>,
    weight_gradients: Vec<Vec<f32>>,
}

impl MlpProducts {
    pub fn new() -> MlpProducts {
        let mut rng = SeededRng::new(3);
        let mut random = |len: usize| (0..len).map(|_| rng.uniform_range(-0.1, 0.1)).collect();
        let pairs: Vec<(usize, usize)> = MLP_LAYERS.windows(2).map(|w| (w[0], w[1])).collect();
        MlpProducts {
            activations: pairs.iter().map(|&(i, _)| random(MLP_BATCH * i)).collect(),
            weights: pairs.iter().map(|&(i, o)| random(i * o)).collect(),
            biases: pairs.iter().map(|&(_, o)| random(o)).collect(),
            sums: pairs
                .iter()
                .map(|&(_, o)| vec![0.0; MLP_BATCH * o])
                .collect(),
            sum_gradients: pairs.iter().map(|&(_, o)| random(MLP_BATCH * o)).collect(),
            input_gradients: pairs
                .iter()
                .map(|&(i, _)| vec![0.0; MLP_BATCH * i])
                .collect(),
            weight_gradients: pairs.iter().map(|&(i, o)| vec![0.0; i * o]).collect(),
        }
    }

    /// The step's products in the tape's order: forward layer by layer, then backward from the
    /// last layer, its weight gradient before its input gradient.
    pub fn order() -> Vec<MlpProduct> {
        let layers = MLP_LAYERS.len() - 1;
        let forward = (0..layers).map(MlpProduct::Forward);
        let backward = (0..layers).rev().flat_map(|layer| {
            let input = (layer > 0).then_some(MlpProduct::InputGradient(layer));
            std::iter::once(MlpProduct::WeightGradient(layer)).chain(input)
        });
        forward.chain(backward).collect()
    }

    /// Every product of the step.
    pub fn run(&mut self) {
        for product in MlpProducts::order() {
            self.run_one(product);
        }
    }

    /// One product, on the same operands as in the step.
    pub fn run_one(&mut self, product: MlpProduct) {
        let layer = product.layer();
        let (inputs, outputs) = (MLP_LAYERS[layer], MLP_LAYERS[layer + 1]);
        let upstream = Operand::new(&self.sum_gradients[layer], MLP_BATCH, outputs, false);
        match product {
            MlpProduct::Forward(_) => gemm::matmul_plus_bias(
                Operand::new(&self.activations[layer], MLP_BATCH, inputs, false),
                Operand::new(&self.weights[layer], inputs, outputs, false),
                &self.biases[layer],
                &mut self.sums[layer],
            ),
            MlpProduct::WeightGradient(_) => gemm::matmul(
                Operand::new(&self.activations[layer], MLP_BATCH, inputs, true),
                upstream,
                &mut self.weight_gradients[layer],
                true,
            ),
            MlpProduct::InputGradient(_) => gemm::matmul(
                upstream,
                Operand::new(&self.weights[layer], inputs, outputs, true),
                &mut self.input_gradients[layer],
                true,
            ),
        }
    }
}

/// One matrix product of the MLP step, by layer (0 is the first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MlpProduct {
    /// `X · W + b`.
    Forward(usize),
    /// `dW += Xᵀ · dZ`.
    WeightGradient(usize),
    /// `dX += dZ · Wᵀ`.
    InputGradient(usize),
}

impl MlpProduct {
    fn layer(self) -> usize {
        match self {
            MlpProduct::Forward(layer)
            | MlpProduct::WeightGradient(layer)
            | MlpProduct::InputGradient(layer) => layer,
        }
    }

    /// Floating-point operations (two per multiply-add).
    pub fn flops(self) -> f64 {
        let layer = self.layer();
        2.0 * (MLP_BATCH * MLP_LAYERS[layer] * MLP_LAYERS[layer + 1]) as f64
    }

    /// E.g. `dX 512x512 (dZ·Wᵀ)`: the layer's inputs and outputs.
    pub fn describe(self) -> String {
        let layer = self.layer();
        let sizes = format!("{}x{}", MLP_LAYERS[layer], MLP_LAYERS[layer + 1]);
        match self {
            MlpProduct::Forward(_) => format!("forward {sizes} (X·W+b)"),
            MlpProduct::WeightGradient(_) => format!("dW {sizes} (Xᵀ·dZ)"),
            MlpProduct::InputGradient(_) => format!("dX {sizes} (dZ·Wᵀ)"),
        }
    }
}

/// Repetitions of a product per timing in [`mlp_product_times`]: browsers round
/// `performance.now()` to 0.1 ms, too coarse for one.
const PRODUCT_REPEATS: u32 = 10;

/// Each product of [`MlpProducts`] timed alone (median of `runs` timings of 10 repetitions,
/// after 5 warm-up timings), as `describe ms (GFLOP/s)` parts of one line.
pub fn mlp_product_times(runs: u32, now_ms: impl Fn() -> f64) -> String {
    let mut products = MlpProducts::new();
    let parts: Vec<String> = MlpProducts::order()
        .into_iter()
        .map(|product| {
            let repeated = median_ms(5, runs, &now_ms, || {
                for _ in 0..PRODUCT_REPEATS {
                    products.run_one(product);
                }
            });
            let ms = repeated / f64::from(PRODUCT_REPEATS);
            let gflops = product.flops() / (ms * 1e6);
            format!("{} {ms:.3} ms ({gflops:.1} GFLOP/s)", product.describe())
        })
        .collect();
    parts.join(", ")
}

impl Default for MlpProducts {
    fn default() -> Self {
        MlpProducts::new()
    }
}

/// Examples per LeNet-5 training step, as on the Images page.
pub const LENET_BATCH: usize = 64;
/// Adam's learning rate on the Images page (`RunSettings::default`).
const LENET_LEARNING_RATE: f32 = 0.002;

/// One training step of LeNet-5 (ReLU, max pooling: the Images page's default model) on a batch
/// of 64 random 28x28 images: softmax cross-entropy, Adam with learning rate 0.002, like the
/// page's default run; `bench/pytorch_lenet.py` does the same in PyTorch.
pub struct LenetStep {
    trainer: Trainer<Sequential>,
    inputs: Tensor,
    targets: Tensor,
}

impl LenetStep {
    pub fn new() -> Result<LenetStep, EngineError> {
        let config = lenet_config();
        let batch: Vec<usize> = std::iter::once(LENET_BATCH)
            .chain(config.input.clone())
            .collect();
        let (inputs, targets) = random_batch(&batch, CLASSES)?;
        Ok(LenetStep {
            trainer: Trainer::new(config.init()?, lenet_train_config())?,
            inputs,
            targets,
        })
    }

    /// One forward, backward and optimizer update; returns the loss before the update.
    pub fn run(&mut self) -> Result<f32, EngineError> {
        self.trainer.train_step(&self.inputs, &self.targets)
    }
}

/// The MLP step's settings: softmax cross-entropy, SGD with momentum 0.9 and learning rate 0.01,
/// batches of 64 (the GPU benchmark trains with them too).
pub fn mlp_train_config() -> TrainConfig {
    step_config(
        OptimizerConfig::new(OptimizerKind::Momentum, 0.01),
        MLP_BATCH,
    )
}

/// The Images page's default network: LeNet-5 with ReLU and max pooling.
pub fn lenet_config() -> SequentialConfig {
    SequentialConfig::lenet5(Activation::Relu, Pooling::Max)
}

/// The LeNet-5 step's settings: softmax cross-entropy, Adam with learning rate 0.002, batches
/// of 64, as the Images page's default run.
pub fn lenet_train_config() -> TrainConfig {
    step_config(
        OptimizerConfig::new(OptimizerKind::Adam, LENET_LEARNING_RATE),
        LENET_BATCH,
    )
}

fn step_config(optimizer: OptimizerConfig, batch_size: usize) -> TrainConfig {
    TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer,
        batch_size,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 1,
        clip_norm: None,
        truncation: None,
    }
}

/// A benchmark batch: pixel-like inputs in [0, 1) filling `shape` (examples first) and one
/// random class per example, one-hot over `classes` (`[examples, classes]`). Always the same
/// numbers for the same shape, whichever engine trains on them.
pub fn random_batch(shape: &[usize], classes: usize) -> Result<(Tensor, Tensor), EngineError> {
    let mut rng = SeededRng::new(7);
    let pixels = (0..shape.iter().product()).map(|_| rng.uniform()).collect();
    let mut one_hot = vec![0.0; shape[0] * classes];
    for row in one_hot.chunks_exact_mut(classes) {
        row[rng.below(classes)] = 1.0;
    }
    Ok((
        Tensor::from_vec(shape, pixels)?,
        Tensor::from_vec(&[shape[0], classes], one_hot)?,
    ))
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

/// Floating-point operations of the matrix products of one MLP training step (two per
/// multiply-add): every layer's forward product and weight gradient, and the input gradient
/// of every layer but the first. The rest of the step (activations, loss, optimiser) is
/// linear in the sizes and left out.
pub fn mlp_step_flops() -> f64 {
    let products: usize = MLP_LAYERS
        .windows(2)
        .enumerate()
        .map(|(layer, pair)| {
            let weights = pair[0] * pair[1];
            let passes = if layer == 0 { 2 } else { 3 };
            passes * MLP_BATCH * weights
        })
        .sum();
    2.0 * products as f64
}

/// Median milliseconds per MLP training step over `steps` steps, after 5 warm-up steps.
pub fn mlp_step_ms(steps: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut step = MlpStep::new().expect("the benchmark MLP builds");
    median_ms(5, steps, now_ms, || {
        step.run().expect("the benchmark MLP trains");
    })
}

/// Median milliseconds of [`MlpProducts`] (the MLP step's products alone) over `steps` timings,
/// after 5 warm-up ones.
pub fn mlp_products_ms(steps: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut products = MlpProducts::new();
    median_ms(5, steps, now_ms, || products.run())
}

/// Median milliseconds per LeNet-5 training step over `steps` steps, after 5 warm-up steps.
pub fn lenet_step_ms(steps: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut step = LenetStep::new().expect("the benchmark LeNet-5 builds");
    median_ms(5, steps, now_ms, || {
        step.run().expect("the benchmark LeNet-5 trains");
    })
}

/// Sequences per recurrent training step, as in `bench/pytorch_recurrent.py`.
pub const RECURRENT_BATCH: usize = 64;
/// `(length, hidden)` of the recurrent step figures.
pub const RECURRENT_SIZES: [(usize, usize); 2] = [(20, 64), (50, 128)];

/// One training step of a recurrent network on the course's bit counting: a batch of 64 random
/// bit sequences `[64, length, 1]`, one cell (`kind`: "rnn", "lstm" or "gru") of `hidden`
/// values, its last state through a dense layer to the `length + 1` classes, softmax
/// cross-entropy, Adam with learning rate 0.01; `bench/pytorch_recurrent.py` does the same in
/// PyTorch.
pub struct RecurrentStep {
    trainer: Trainer<Sequential>,
    inputs: Tensor,
    targets: Tensor,
}

impl RecurrentStep {
    pub fn new(kind: &str, length: usize, hidden: usize) -> Result<RecurrentStep, EngineError> {
        let cell = crate::engine::LayerConfig::first_of_kind(kind)
            .and_then(|cell| cell.with_setting(crate::engine::Setting::count("hidden", hidden)))
            .ok_or_else(|| EngineError::InvalidConfig(format!("no recurrent cell `{kind}`")))?;
        let task = crate::data::sequences::SequenceTask::BitCount;
        let set = task.generate(RECURRENT_BATCH, length, 7)?;
        let config = SequentialConfig::new(
            &[length, 1],
            vec![
                cell,
                crate::engine::LayerConfig::dense(task.outputs(length), Activation::Linear),
            ],
        );
        let train = step_config(
            OptimizerConfig::new(OptimizerKind::Adam, 0.01),
            RECURRENT_BATCH,
        );
        Ok(RecurrentStep {
            trainer: Trainer::new(config.init()?, train)?,
            inputs: set.inputs,
            targets: set.targets,
        })
    }

    /// One forward, backward through time and optimizer update; returns the loss before it.
    pub fn run(&mut self) -> Result<f32, EngineError> {
        self.trainer.train_step(&self.inputs, &self.targets)
    }
}

/// Median milliseconds of `steps` recurrent training steps (after 3 warm-up ones).
pub fn recurrent_step_ms(
    kind: &str,
    length: usize,
    hidden: usize,
    steps: u32,
    now_ms: impl Fn() -> f64,
) -> f64 {
    let mut step =
        RecurrentStep::new(kind, length, hidden).expect("the benchmark recurrent network builds");
    median_ms(3, steps, now_ms, || {
        step.run().expect("the benchmark recurrent network trains");
    })
}

/// `(length, hidden)` of the encoder-decoder step figure.
pub const SEQ2SEQ_SIZE: (usize, usize) = (10, 128);

/// One training step of the Seq2seq page's default encoder-decoder at [`SEQ2SEQ_SIZE`]: a batch
/// of 64 random digit sequences of 10 to reverse, LSTM encoder and decoder of 128 values over
/// embeddings of 16, dot-product attention, teacher forcing, softmax cross-entropy over the 11
/// output steps, Adam with learning rate 0.01; `bench/pytorch_recurrent.py` does the same in
/// PyTorch.
pub struct Seq2SeqStep {
    trainer: Trainer<Sequential>,
    inputs: Tensor,
    targets: Tensor,
}

impl Seq2SeqStep {
    pub fn new() -> Result<Seq2SeqStep, EngineError> {
        use crate::playground::sequences::seq2seq_settings::Seq2SeqSettings;
        let (length, hidden) = SEQ2SEQ_SIZE;
        let settings = Seq2SeqSettings {
            shortest: length,
            longest: length,
            hidden,
            ..Seq2SeqSettings::default()
        };
        let task = settings.task;
        let set = task.encode(
            &task.generate(RECURRENT_BATCH, (length, length), 7)?,
            length,
        );
        let train = step_config(
            OptimizerConfig::new(OptimizerKind::Adam, 0.01),
            RECURRENT_BATCH,
        );
        Ok(Seq2SeqStep {
            trainer: Trainer::new(settings.model().init()?, train)?,
            inputs: set.inputs,
            targets: set.targets,
        })
    }

    /// One forward, backward through both networks and the attention, and update; returns
    /// the loss before it.
    pub fn run(&mut self) -> Result<f32, EngineError> {
        self.trainer.train_step(&self.inputs, &self.targets)
    }
}

/// Median milliseconds of `steps` encoder-decoder training steps (after 3 warm-up ones).
pub fn seq2seq_step_ms(steps: u32, now_ms: impl Fn() -> f64) -> f64 {
    let mut step = Seq2SeqStep::new().expect("the benchmark encoder-decoder builds");
    median_ms(3, steps, now_ms, || {
        step.run().expect("the benchmark encoder-decoder trains");
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

/// One product `op(A) · op(B)` of the GEMM benchmark, `[m, k] · [k, n]`.
#[derive(Clone, Copy, Debug)]
pub struct GemmCase {
    pub name: &'static str,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub transpose_a: bool,
    pub transpose_b: bool,
}

/// The MLP's first layer forward (`X · W`), its weight gradient (`X^T · dY`, the transposed
/// backward shape) and a square product.
pub const GEMM_CASES: [GemmCase; 3] = [
    GemmCase {
        name: "gemm_64x784x512_gflops",
        m: 64,
        k: 784,
        n: 512,
        transpose_a: false,
        transpose_b: false,
    },
    GemmCase {
        name: "gemm_784x64x512_gflops",
        m: 784,
        k: 64,
        n: 512,
        transpose_a: true,
        transpose_b: false,
    },
    GemmCase {
        name: "gemm_1024_gflops",
        m: 1024,
        k: 1024,
        n: 1024,
        transpose_a: false,
        transpose_b: false,
    },
];

/// The decision grid's skinny products (direct loops, not the blocked GEMM), checked with
/// [`GemmCase::verify`] before the GEMM is timed, so that their wasm SIMD path is checked in
/// the browser too.
pub const SKINNY_CHECKS: [GemmCase; 3] = [
    GemmCase {
        name: "skinny_1000x2x8",
        m: 1000,
        k: 2,
        n: 8,
        transpose_a: false,
        transpose_b: false,
    },
    GemmCase {
        name: "skinny_1000x8x8",
        m: 1000,
        k: 8,
        n: 8,
        transpose_a: false,
        transpose_b: false,
    },
    GemmCase {
        name: "skinny_1000x8x1",
        m: 1000,
        k: 8,
        n: 1,
        transpose_a: false,
        transpose_b: false,
    },
];

/// Whose GEMM a benchmark runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmEngine {
    /// `engine::gemm::matmul`.
    Ours,
    /// `matrixmultiply::sgemm`, the crate the engine used before.
    Matrixmultiply,
}

/// A case's operands (stored as used by the case) and its output.
struct GemmOperands {
    a: Vec<f32>,
    b: Vec<f32>,
    out: Vec<f32>,
}

impl GemmCase {
    fn operands(&self) -> GemmOperands {
        let (a, b) = self.random_operands();
        GemmOperands {
            a,
            b,
            out: vec![0.0; self.m * self.n],
        }
    }

    /// The operands `a` and `b` (values in [-1, 1), seeded), each stored as
    /// [`GemmCase::stored_shapes`] says.
    pub fn random_operands(&self) -> (Vec<f32>, Vec<f32>) {
        let mut rng = SeededRng::new(11);
        let mut random = |len: usize| (0..len).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
        (random(self.m * self.k), random(self.k * self.n))
    }

    /// The row-major shapes `a` and `b` are stored in: `[k, m]` for an `a` read transposed,
    /// `[n, k]` for such a `b`.
    pub fn stored_shapes(&self) -> ([usize; 2], [usize; 2]) {
        let a = if self.transpose_a {
            [self.k, self.m]
        } else {
            [self.m, self.k]
        };
        let b = if self.transpose_b {
            [self.n, self.k]
        } else {
            [self.k, self.n]
        };
        (a, b)
    }

    /// Rows `rows` of `op(a) · op(b)` through the engine's GEMM, row after row: the reference a
    /// GPU product is checked against without multiplying the whole of a large case.
    pub fn rows_of_product(&self, a: &[f32], b: &[f32], rows: &[usize]) -> Vec<f32> {
        let (m, k) = (self.m, self.k);
        let transposed = self.transpose_a;
        let picked: Vec<f32> = rows
            .iter()
            .flat_map(|&i| {
                (0..k).map(move |p| {
                    if transposed {
                        a[p * m + i]
                    } else {
                        a[i * k + p]
                    }
                })
            })
            .collect();
        let mut out = vec![0.0; rows.len() * self.n];
        gemm::matmul(
            Operand::new(&picked, rows.len(), self.k, false),
            self.right(b),
            &mut out,
            false,
        );
        out
    }

    fn left<'a>(&self, data: &'a [f32]) -> Operand<'a> {
        let (m, k) = (self.m, self.k);
        match self.transpose_a {
            false => Operand::new(data, m, k, false),
            true => Operand::new(data, k, m, true),
        }
    }

    fn right<'a>(&self, data: &'a [f32]) -> Operand<'a> {
        let (k, n) = (self.k, self.n);
        match self.transpose_b {
            false => Operand::new(data, k, n, false),
            true => Operand::new(data, n, k, true),
        }
    }

    /// `out = op(a) · op(b)` with `engine`.
    fn multiply(&self, engine: GemmEngine, operands: &mut GemmOperands) {
        let (a, b) = (self.left(&operands.a), self.right(&operands.b));
        match engine {
            GemmEngine::Ours => gemm::matmul(a, b, &mut operands.out, false),
            GemmEngine::Matrixmultiply => matrixmultiply_product(a, b, &mut operands.out),
        }
    }

    /// Multiplies with our kernel, the portable kernel and `matrixmultiply`, and says how far
    /// apart they are (largest difference relative to the largest magnitude); an error when
    /// above 1e-5.
    pub fn verify(&self) -> Result<f64, String> {
        let mut operands = self.operands();
        let (a, b) = (self.left(&operands.a), self.right(&operands.b));
        let mut portable = vec![0.0; self.m * self.n];
        gemm::matmul_portable(a, b, &mut portable, false);
        let mut reference = vec![0.0; self.m * self.n];
        matrixmultiply_product(a, b, &mut reference);
        self.multiply(GemmEngine::Ours, &mut operands);
        let scale = reference.iter().fold(0.0f32, |max, v| max.max(v.abs()));
        let mut worst = 0.0f64;
        for (other, what) in [
            (&portable, "the portable kernel"),
            (&reference, "matrixmultiply"),
        ] {
            let difference = (operands.out.iter().zip(other.iter()))
                .fold(0.0f32, |max, (x, y)| max.max((x - y).abs()));
            let relative = f64::from(difference / scale.max(f32::MIN_POSITIVE));
            // (Written so that a NaN fails too.)
            if relative.is_nan() || relative >= 1e-5 {
                return Err(format!(
                    "{}: the {} kernel differs from {what} by {relative:e} (relative)",
                    self.name,
                    gemm::kernel_name()
                ));
            }
            worst = worst.max(relative);
        }
        Ok(worst)
    }

    /// GFLOP/s of `engine` on this case: `2 m k n` over the median of `runs` timings.
    pub fn gflops(&self, engine: GemmEngine, runs: u32, now_ms: impl Fn() -> f64) -> f64 {
        let mut operands = self.operands();
        let ms = median_ms(2, runs, now_ms, || self.multiply(engine, &mut operands));
        2.0 * (self.m * self.k * self.n) as f64 / (ms * 1e6)
    }
}

/// `out = op(a) · op(b)` through `matrixmultiply::sgemm` (strides express the transposes).
fn matrixmultiply_product(a: Operand<'_>, b: Operand<'_>, out: &mut [f32]) {
    let (m, k) = a.used_shape();
    let (_, n) = b.used_shape();
    let strides = |o: &Operand<'_>| match o.transposed {
        false => (o.cols as isize, 1),
        true => (1, o.cols as isize),
    };
    let ((rsa, csa), (rsb, csb)) = (strides(&a), strides(&b));
    assert!(a.data.len() == m * k && b.data.len() == k * n && out.len() == m * n);
    // SAFETY: the sizes were checked above, so every index derived from m, k, n and the strides
    // lies inside the slices; `out` is borrowed mutably, so it does not alias the inputs.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            rsb,
            csb,
            0.0,
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
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

    /// [`super::mlp_products_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_mlp_products(steps: u32) -> f64 {
        super::mlp_products_ms(steps, now_ms)
    }

    /// [`super::mlp_product_times`] in the browser.
    #[wasm_bindgen]
    pub fn bench_mlp_product_times(runs: u32) -> String {
        super::mlp_product_times(runs, now_ms)
    }

    /// [`super::lenet_step_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_lenet_step(steps: u32) -> f64 {
        super::lenet_step_ms(steps, now_ms)
    }

    /// [`super::recurrent_step_ms`] in the browser (`kind`: "rnn", "lstm" or "gru"; the
    /// figures' sizes are [`super::RECURRENT_SIZES`]).
    #[wasm_bindgen]
    pub fn bench_recurrent_step(kind: &str, length: usize, hidden: usize, steps: u32) -> f64 {
        super::recurrent_step_ms(kind, length, hidden, steps, now_ms)
    }

    /// [`super::seq2seq_step_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_seq2seq_step(steps: u32) -> f64 {
        super::seq2seq_step_ms(steps, now_ms)
    }

    /// [`super::grid_ms`] in the browser.
    #[wasm_bindgen]
    pub fn bench_grid(runs: u32) -> f64 {
        super::grid_ms(runs, now_ms)
    }

    /// GFLOP/s of [`super::GEMM_CASES`]`[case]`, ours (`reference == false`) or
    /// `matrixmultiply`'s; ours is first checked against the portable kernel and
    /// `matrixmultiply`, and a mismatch throws.
    #[wasm_bindgen]
    pub fn bench_gemm_gflops(case: usize, reference: bool, runs: u32) -> f64 {
        let case = super::GEMM_CASES[case];
        for check in super::SKINNY_CHECKS.iter().chain([&case]) {
            if let Err(message) = check.verify() {
                wasm_bindgen::throw_str(&message);
            }
        }
        let engine = match reference {
            false => super::GemmEngine::Ours,
            true => super::GemmEngine::Matrixmultiply,
        };
        case.gflops(engine, runs, now_ms)
    }

    /// GFLOP/s of the GEMM microkernel's multiply-add on independent registers (median of
    /// `runs` timings): the ceiling of any kernel built on it in this browser, on this machine.
    #[wasm_bindgen]
    pub fn bench_multiply_add_peak_gflops(runs: u32) -> f64 {
        use crate::engine::gemm::{PEAK_CHAINS, PEAK_ROUNDS, independent_multiply_adds};
        // Many short calls per timing, and warm-up timings, so that the optimised code runs.
        const CALLS: usize = 256;
        let ms = super::median_ms(8, runs, now_ms, || {
            for _ in 0..CALLS {
                std::hint::black_box(independent_multiply_adds(std::hint::black_box(0.999_999)));
            }
        });
        let flops = (CALLS * PEAK_ROUNDS * PEAK_CHAINS * 4 * 2) as f64;
        flops / (ms * 1e6)
    }

    /// Floating-point operations of one MLP training step ([`super::mlp_step_flops`]).
    #[wasm_bindgen]
    pub fn mlp_step_gflop() -> f64 {
        super::mlp_step_flops() / 1e9
    }

    /// Name of the microkernel the GEMM uses in this build.
    #[wasm_bindgen]
    pub fn gemm_kernel_name() -> String {
        crate::engine::gemm::kernel_name().to_string()
    }

    /// The largest difference between tanh and sigmoid over a slice (the loops the engine
    /// runs: explicit lanes for tanh in the relaxed-SIMD build, the compiler's vectorised loops
    /// otherwise) and the same functions one value at a time, over 100 001 points of [-10, 10],
    /// tanh's clamp edges, infinities and an odd length; `NaN` if a NaN input does not give NaN
    /// or another input does.
    #[wasm_bindgen]
    pub fn activation_slices_max_difference() -> f64 {
        use crate::engine::activation::{Activation, sigmoid, tanh};
        let mut x: Vec<f32> = (0..=100_000).map(|i| i as f32 / 5000.0 - 10.0).collect();
        x.extend([
            7.905_311,
            -7.905_311,
            7.905_312,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
        ]);
        x.extend([f32::NAN, 0.5, f32::NAN]);
        let mut largest = 0.0f64;
        for (activation, one) in [
            (Activation::Tanh, tanh as fn(f32) -> f32),
            (Activation::Sigmoid, sigmoid),
        ] {
            let mut y = vec![0.0; x.len()];
            activation.apply_slice(&x, &mut y);
            for (&x, &y) in x.iter().zip(&y) {
                // One at a time: kept out of a loop the compiler could vectorise.
                let expected = std::hint::black_box(one(std::hint::black_box(x)));
                if x.is_nan() != y.is_nan() || expected.is_nan() != y.is_nan() {
                    return f64::NAN;
                }
                if !x.is_nan() {
                    largest = largest.max(f64::from((y - expected).abs()));
                }
            }
        }
        largest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_benchmark_has_every_product_of_the_step() {
        let order = MlpProducts::order();
        assert_eq!(
            order.len(),
            8,
            "3 forward, 3 weight and 2 input gradients: {order:?}"
        );
        let flops: f64 = order.iter().map(|product| product.flops()).sum();
        assert_eq!(flops, mlp_step_flops());
        assert_eq!(order[3], MlpProduct::WeightGradient(2));
        assert!(!order.contains(&MlpProduct::InputGradient(0)));
    }

    #[test]
    fn the_mlp_step_counts_its_products() {
        // 64 x (784·512 + 512·512 + 512·10) multiply-adds forward, as many for the weight
        // gradients, the last two layers' again for the input gradients.
        let forward = 64.0 * (784.0 * 512.0 + 512.0 * 512.0 + 512.0 * 10.0);
        let inputs = 64.0 * (512.0 * 512.0 + 512.0 * 10.0);
        assert_eq!(mlp_step_flops(), 2.0 * (2.0 * forward + inputs));
    }

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
    fn the_lenet_step_lowers_the_loss_on_its_batch() {
        let mut step = LenetStep::new().unwrap();
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
    fn every_gemm_case_agrees_with_the_references() {
        // The 1024 product is left to the benchmark: in an unoptimised build it takes minutes.
        for case in GEMM_CASES[..2].iter().chain(&SKINNY_CHECKS) {
            case.verify().unwrap();
        }
    }

    #[test]
    fn rows_of_a_product_are_those_of_the_whole_product() {
        // The transposed left operand, the GPU benchmark's hardest case to pick rows from.
        let case = GEMM_CASES[1];
        let mut operands = case.operands();
        case.multiply(GemmEngine::Ours, &mut operands);
        let rows = [0, 5, case.m - 1];
        let picked = case.rows_of_product(&operands.a, &operands.b, &rows);
        // Not bit for bit: a few rows take the skinny kernel, the whole product the blocked one.
        for (row, &i) in picked.chunks_exact(case.n).zip(&rows) {
            let whole = &operands.out[i * case.n..(i + 1) * case.n];
            for (x, y) in row.iter().zip(whole) {
                assert!(
                    (x - y).abs() < 1e-5 * (1.0 + y.abs()),
                    "row {i}: {x} vs {y}"
                );
            }
        }
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
