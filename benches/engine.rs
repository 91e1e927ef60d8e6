//! Native engine benchmarks for `cargo xtask bench` (run alone with `cargo bench --bench engine`,
//! `cargo bench --bench engine -- mnist` for the MNIST figures only, `-- seq` for the recurrent
//! steps only, or `-- mlp-step` for the MLP step alone, as xtask's paired rounds beside PyTorch run it; `-- quick` with any of these times
//! each figure over two runs only, for `cargo xtask bench quick`, which checks that every figure
//! is printed).
//!
//! Prints one `name value` line per figure (milliseconds, median after warm-up, one thread; the
//! GEMM lines in GFLOP/s, ours and `matrixmultiply`'s as `<name>_reference`) and `# ` lines of
//! context; `xtask` reads the figures and sets them beside their references.

use neural_playground::bench_hooks::{
    GEMM_CASES, GemmEngine, LENET_BATCH, MLP_BATCH, MLP_LAYERS, RECURRENT_BATCH, RECURRENT_SIZES,
    SEQ2SEQ_SIZE, grid_ms, lenet_step_ms, median_ms, mlp_product_times, mlp_products_ms,
    mlp_step_flops, mlp_step_ms, recurrent_step_ms, seq2seq_step_ms,
};
use neural_playground::engine::gemm;
use std::time::Instant;

const MLP_STEPS: u32 = 50;
const LENET_STEPS: u32 = 50;
const GRID_RUNS: u32 = 50;
const GEMM_RUNS: u32 = 30;
const RECURRENT_STEPS: u32 = 30;
const PEAK_RUNS: u32 = 9;
/// Runs of every figure with `quick`.
const QUICK_RUNS: u32 = 2;

fn main() {
    // `cargo bench` passes `--bench` too; our own arguments are `mnist`, `mlp-step` and `quick`.
    let asked = |name: &str| std::env::args().skip(1).any(|arg| arg == name);
    let mnist_only = asked("mnist");
    let quick = asked("quick");
    let runs = |full: u32| if quick { QUICK_RUNS } else { full };
    let epoch = Instant::now();
    let now_ms = || epoch.elapsed().as_secs_f64() * 1e3;
    if asked("mlp-step") {
        println!(
            "mlp_step_native_ms {:.4}",
            mlp_step_ms(runs(MLP_STEPS), now_ms)
        );
        return;
    }
    if asked("seq") {
        return recurrent_figures(runs(RECURRENT_STEPS), now_ms);
    }
    println!(
        "# native: LeNet-5 (ReLU, max pooling, Adam), batch {LENET_BATCH}, median of \
         {} training steps",
        runs(LENET_STEPS)
    );
    println!(
        "lenet_step_native_ms {:.4}",
        lenet_step_ms(runs(LENET_STEPS), now_ms)
    );
    if mnist_only {
        return;
    }
    recurrent_figures(runs(RECURRENT_STEPS), now_ms);
    println!(
        "# native: MLP {MLP_LAYERS:?}, batch {MLP_BATCH}, median of {} training steps; grid \
         median of {} timings of 10 passes",
        runs(MLP_STEPS),
        runs(GRID_RUNS)
    );
    println!(
        "mlp_step_native_ms {:.4}",
        mlp_step_ms(runs(MLP_STEPS), now_ms)
    );
    println!(
        "# native: the MLP step's products alone, each timed alone: {}",
        mlp_product_times(runs(MLP_STEPS), now_ms)
    );
    println!(
        "mlp_step_native_products_ms {:.4}",
        mlp_products_ms(runs(MLP_STEPS), now_ms)
    );
    ceiling_figures(runs(PEAK_RUNS), now_ms);
    println!("grid_native_ms {:.4}", grid_ms(runs(GRID_RUNS), now_ms));
    println!(
        "# native GEMM: {} kernel, median of {} products; checked against the portable \
         kernel and matrixmultiply first",
        gemm::kernel_name(),
        runs(GEMM_RUNS)
    );
    for case in GEMM_CASES {
        if let Err(message) = case.verify() {
            panic!("{message}");
        }
        let ours = case.gflops(GemmEngine::Ours, runs(GEMM_RUNS), now_ms);
        let reference = case.gflops(GemmEngine::Matrixmultiply, runs(GEMM_RUNS), now_ms);
        println!("{} {ours:.4}", case.name);
        println!("{}_reference {reference:.4}", case.name);
    }
}

/// A training step of each recurrent cell on bit counting at each size (`RecurrentStep`).
fn recurrent_figures(steps: u32, now_ms: impl Fn() -> f64 + Copy) {
    println!(
        "# native: one cell (RNN, LSTM, GRU) and a dense layer on {RECURRENT_BATCH} random bit \
         sequences, softmax cross-entropy, Adam; median of {steps} training steps"
    );
    for (length, hidden) in RECURRENT_SIZES {
        for kind in ["rnn", "lstm", "gru"] {
            let ms = recurrent_step_ms(kind, length, hidden, steps, now_ms);
            println!("{kind}_{length}x{hidden}_step_native_ms {ms:.4}");
        }
    }
    let (length, hidden) = SEQ2SEQ_SIZE;
    println!(
        "# native: the Seq2seq page's encoder-decoder (LSTM, embeddings of 16, dot-product \
         attention, teacher forcing) reversing {RECURRENT_BATCH} random digit sequences of \
         {length}, Adam; median of {steps} training steps"
    );
    let ms = seq2seq_step_ms(steps, now_ms);
    println!("seq2seq_{length}x{hidden}_step_native_ms {ms:.4}");
}

/// The ceiling of the native kernel on this CPU: the AVX2+FMA microkernel's multiply-add alone
/// on independent registers, and the MLP step's matrix products at that speed with nothing else
/// to do (no loads, packing, activations or optimiser).
fn ceiling_figures(peak_runs: u32, now_ms: impl Fn() -> f64) {
    use gemm::x86_ceiling::{
        PEAK_CHAINS, PEAK_LANES, PEAK_ROUNDS, available, independent_multiply_adds,
    };
    if !available() {
        return println!("# native multiply-add ceiling n/a: this CPU lacks AVX2 or FMA");
    }
    const CALLS: usize = 64;
    let ms = median_ms(3, peak_runs, now_ms, || {
        for _ in 0..CALLS {
            std::hint::black_box(independent_multiply_adds(std::hint::black_box(0.999_999)));
        }
    });
    let peak = (CALLS * PEAK_ROUNDS * PEAK_CHAINS * PEAK_LANES * 2) as f64 / (ms * 1e6);
    let gflop = mlp_step_flops() / 1e9;
    println!(
        "# native multiply-add ceiling: the AVX2+FMA microkernel's instruction on \
         {PEAK_CHAINS} independent 8-float registers, median of {peak_runs} timings; the MLP \
         step's {gflop:.3} GFLOP of products at that speed"
    );
    println!("native_multiply_add_peak_gflops {peak:.4}");
    println!("mlp_step_native_floor_ms {:.4}", gflop / peak * 1e3);
}
