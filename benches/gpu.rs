//! GPU benchmarks for `cargo xtask bench gpu` (run alone with `cargo bench --bench gpu`): our WGSL
//! matmul (`gpu::Commands::matmul`, on the tile it picks; the other tile, where the device has
//! both, as `<name>_square64` or `<name>_wide128`) in GFLOP/s, and the MLP 784-512-512-10 and LeNet-5 training
//! steps through `gpu::GpuTrainer`, on the default adapter (`WGPU_BACKEND=vulkan`
//! narrows the choice to Vulkan).
//!
//! Prints `name value` lines (GFLOP/s, or milliseconds per step) and `# ` lines of context, as
//! `benches/engine.rs` does. Every timing ends by waiting for the GPU (a blocking poll after the
//! products, the loss readback after the steps), so it measures the GPU's work, not only its
//! submission. The work per timing adapts to the adapter: it doubles from one product or step
//! until a timing lasts `TIMING_MS`, then up to `TIMINGS` timings fit in `BUDGET_MS` and their
//! median counts. So lavapipe (software Vulkan on two cores) times a 1024³ product once, and a
//! real GPU runs thousands of the small ones per timing; a product expected to take over
//! `LONGEST_PRODUCT_MS` (4096³ on lavapipe) is left out with a note saying why.
//!
//! With `--quick` (`cargo xtask bench quick`, which checks that every figure is printed), each
//! figure is one timing of one product or step.
//!
//! Before any timing, each product is checked against the CPU GEMM (`engine::gemm`, on sampled
//! rows of the large ones) and each network's first GPU step against the CPU trainer's loss: a
//! wrong kernel fails the benchmark instead of reporting a speed.

use std::rc::Rc;
use std::time::Instant;

use neural_playground::bench_hooks::{
    GEMM_CASES, GemmCase, LENET_BATCH, MLP_BATCH, lenet_config, lenet_train_config,
    mlp_train_config, random_batch,
};
use neural_playground::data::digits::CLASSES;
use neural_playground::engine::{SequentialConfig, Tensor, TrainConfig, Trainer};
use neural_playground::gpu::{
    GpuContext, GpuTensor, GpuTrainer, Kernels, MatmulOperand, MatmulTile,
};

/// A timing lasts at least this long (once the work per timing has been found).
const TIMING_MS: f64 = 200.0;
/// At most this many timings per figure, the median kept...
const TIMINGS: usize = 5;
/// ...and fewer when they would take longer than this in all.
const BUDGET_MS: f64 = 3_000.0;
/// Products recorded into one command buffer (bounding what one submission holds).
const PRODUCTS_PER_SUBMISSION: u32 = 256;
/// Largest relative difference from the CPU: a product's (as the parity suite), a first loss's.
const GEMM_TOLERANCE: f64 = 1e-4;
const LOSS_TOLERANCE: f64 = 1e-3;
/// Rows of a product checked against the CPU GEMM, at most (evenly spread, and the last).
const CHECKED_ROWS: usize = 256;

/// A product expected to take longer than this (at the speed of the product before it) is not
/// timed: on lavapipe a 4096³ product would take most of an hour.
const LONGEST_PRODUCT_MS: f64 = 60_000.0;

/// The square product that only a GPU can do often; the others are the CPU benchmark's.
const GEMM_4096: GemmCase = GemmCase {
    name: "gemm_4096_gflops",
    m: 4096,
    k: 4096,
    n: 4096,
    transpose_a: false,
    transpose_b: false,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(message) = run() {
        println!("# GPU benchmark failed: {message}");
        eprintln!("GPU benchmark failed: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result {
    // `cargo bench` passes `--bench`; other arguments pick figures by part of their name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let context = GpuContext::new_blocking().map_err(|error| {
        format!(
            "{error} (this needs a Vulkan driver: the GPU's, or Mesa's software lavapipe from \
             mesa-vulkan-drivers)"
        )
    })?;
    let info = context.adapter_info();
    let software = info.device_type == wgpu::DeviceType::Cpu;
    println!(
        "# adapter: {}, device type {:?}, driver {} {}",
        context.description(),
        info.device_type,
        info.driver,
        info.driver_info
    );
    println!("gpu_adapter_is_software {}", u8::from(software));
    let kernels = Kernels::new_blocking(&context)?;
    let mut last_gflops = None;
    let cases = GEMM_CASES.iter().chain([&GEMM_4096]);
    for case in cases.filter(|case| wanted(&gpu_name(case))) {
        let flops = 2.0 * (case.m * case.k * case.n) as f64;
        let expected_ms = last_gflops.map_or(0.0, |gflops| flops / (gflops * 1e6));
        if expected_ms > LONGEST_PRODUCT_MS {
            println!(
                "# {}: not measured: one product would take about {:.0} s on this adapter (at \
                 the speed of the product before it), over the {:.0} s limit",
                gpu_name(case),
                expected_ms / 1e3,
                LONGEST_PRODUCT_MS / 1e3
            );
            continue;
        }
        let (gflops, tile) = gemm(&context, &kernels, case, None, &gpu_name(case))?;
        last_gflops = Some(gflops);
        // The other tile too, where the device has it: the choice between them is a guess
        // about large GPUs that this figure checks.
        let other = match tile {
            MatmulTile::Square64 => MatmulTile::Wide128,
            MatmulTile::Wide128 => MatmulTile::Square64,
        };
        if kernels.has_tile(other) {
            let name = format!("{}_{}", gpu_name(case), tile_name(other));
            gemm(&context, &kernels, case, Some(other), &name)?;
        }
    }
    let context = Rc::new(context);
    let [_, height, width] = neural_playground::engine::sequential::MNIST_INPUT;
    if wanted("mlp_step_gpu_ms") {
        training_step(
            &context,
            "mlp_step_gpu_ms",
            "MLP 784-512-512-10 (SequentialConfig::mlp: flatten, ReLU), SGD momentum 0.9, lr 0.01",
            SequentialConfig::mlp(),
            mlp_train_config(),
            random_batch(&[MLP_BATCH, 1, height, width], CLASSES)?,
        )?;
    }
    if wanted("lenet_step_gpu_ms") {
        training_step(
            &context,
            "lenet_step_gpu_ms",
            "LeNet-5 (ReLU, max pooling), Adam, lr 0.002",
            lenet_config(),
            lenet_train_config(),
            random_batch(&[LENET_BATCH, 1, height, width], CLASSES)?,
        )?;
    }
    Ok(())
}

/// `gemm_1024_gflops` (the CPU figure's name) becomes `gemm_1024_gpu_gflops`.
fn gpu_name(case: &GemmCase) -> String {
    format!("{}_gpu_gflops", case.name.trim_end_matches("_gflops"))
}

/// `square64` or `wide128`, for the names of the other tile's figures.
fn tile_name(tile: MatmulTile) -> &'static str {
    match tile {
        MatmulTile::Square64 => "square64",
        MatmulTile::Wide128 => "wide128",
    }
}

/// Checks one product on `tile` (by default the one `Kernels::tile_for` picks) against the CPU,
/// then prints its GFLOP/s as `name` (and returns them, with the tile).
fn gemm(
    context: &GpuContext,
    kernels: &Kernels,
    case: &GemmCase,
    tile: Option<MatmulTile>,
    name: &str,
) -> Result<(f64, MatmulTile)> {
    let (a_data, b_data) = case.random_operands();
    let (a_shape, b_shape) = case.stored_shapes();
    let upload = |shape: [usize; 2], data: &[f32]| -> Result<GpuTensor> {
        let tensor = Tensor::from_vec(&shape, data.to_vec())?;
        Ok(GpuTensor::upload(context, &tensor))
    };
    let (a, b) = (upload(a_shape, &a_data)?, upload(b_shape, &b_data)?);
    let out = GpuTensor::zeros(context, &[case.m, case.n]);
    let operand = |tensor, transposed| MatmulOperand { tensor, transposed };
    let (left, right) = (operand(&a, case.transpose_a), operand(&b, case.transpose_b));
    let tile = tile.unwrap_or_else(|| kernels.tile_for(left, right));

    let products = |count: u32| -> Result<Elapsed> {
        let start = Instant::now();
        let mut left_to_record = count;
        while left_to_record > 0 {
            let chunk = left_to_record.min(PRODUCTS_PER_SUBMISSION);
            let mut commands = kernels.begin(context);
            for _ in 0..chunk {
                commands.matmul_tiled(left, right, &out, false, tile)?;
            }
            commands.submit();
            left_to_record -= chunk;
        }
        let waiting = Instant::now();
        context.poll()?;
        Ok(Elapsed::since(start, waiting))
    };

    // The first product: checked, and the warm-up of the timings.
    products(1)?;
    let gpu = out.read_blocking(context)?;
    let step = case.m.div_ceil(CHECKED_ROWS);
    let mut rows: Vec<usize> = (0..case.m).step_by(step).collect();
    if rows.last() != Some(&(case.m - 1)) {
        rows.push(case.m - 1);
    }
    let cpu = case.rows_of_product(&a_data, &b_data, &rows);
    let picked: Vec<f32> = rows
        .iter()
        .flat_map(|&i| &gpu.data()[i * case.n..(i + 1) * case.n])
        .copied()
        .collect();
    let error = relative_difference(&picked, &cpu);
    if error.is_nan() || error >= GEMM_TOLERANCE {
        return Err(format!(
            "{name}: the GPU product differs from engine::gemm by {error:e} (relative)"
        )
        .into());
    }

    let timing = time_per_unit(products)?;
    let gflops = 2.0 * (case.m * case.k * case.n) as f64 / (timing.ms_per_unit * 1e6);
    let (m, k, n) = (case.m, case.k, case.n);
    let transposed = |yes: bool| if yes { ", read transposed" } else { "" };
    println!(
        "# {name}: [{m}, {k}] x [{k}, {n}] (a stored {a_shape:?}{}, b {b_shape:?}{}), {} tile; {}; \
         matches engine::gemm on {} of {m} rows ({error:.1e} relative)",
        transposed(case.transpose_a),
        transposed(case.transpose_b),
        tile_name(tile),
        timing.describe("product"),
        rows.len(),
    );
    println!("{name} {gflops:.4}");
    Ok((gflops, tile))
}

/// Checks the first GPU step's loss against the CPU trainer's, then prints the milliseconds per
/// step of `config` trained on `inputs` as `name`.
fn training_step(
    context: &Rc<GpuContext>,
    name: &str,
    what: &str,
    config: SequentialConfig,
    train: TrainConfig,
    (inputs, targets): (Tensor, Tensor),
) -> Result {
    let model = config.init()?;
    let mut cpu = Trainer::new(model.clone(), train)?;
    let cpu_loss = cpu.train_step(&inputs, &targets)?;
    let mut trainer = GpuTrainer::new_blocking(Rc::clone(context), &model, train)?;

    let mut steps = |count: u32| -> Result<(Elapsed, f32)> {
        let start = Instant::now();
        for _ in 0..count {
            trainer.train_step(&inputs, &targets)?;
        }
        let waiting = Instant::now();
        let loss = trainer.take_mean_loss_blocking()?;
        Ok((Elapsed::since(start, waiting), loss))
    };

    // The first step: checked, and the warm-up of the timings.
    let (_, gpu_loss) = steps(1)?;
    let error = relative_difference(&[gpu_loss], &[cpu_loss]);
    if error.is_nan() || error >= LOSS_TOLERANCE {
        return Err(format!(
            "{name}: the first GPU step's loss {gpu_loss} differs from the CPU trainer's \
             {cpu_loss}"
        )
        .into());
    }
    let mut last_loss = gpu_loss;
    let timing = time_per_unit(|count| {
        let (elapsed, loss) = steps(count)?;
        last_loss = loss;
        Ok(elapsed)
    })?;
    if !last_loss.is_finite() {
        return Err(format!("{name}: training went from loss {gpu_loss} to {last_loss}").into());
    }
    println!(
        "# {name}: {what}, batch {}; {}, each timing ended by one loss readback; first step's loss \
         {gpu_loss:.4} (CPU trainer {cpu_loss:.4}), later {last_loss:.4}",
        inputs.shape()[0],
        timing.describe("step"),
    );
    println!("{name} {:.4}", timing.ms_per_unit);
    // What the CPU spends recording and submitting a step, whatever the GPU: on a fast GPU
    // this, not the kernels, bounds a small network's step.
    println!(
        "{}_recording_ms {:.4}",
        name.trim_end_matches("_ms"),
        timing.recording_ms_per_unit
    );
    Ok(())
}

/// How long a timed call took, and how much of it went on waiting for the GPU at the end (the
/// rest is recording and submitting on the CPU).
#[derive(Clone, Copy)]
struct Elapsed {
    total_ms: f64,
    waiting_ms: f64,
}

impl Elapsed {
    fn since(start: Instant, waiting: Instant) -> Elapsed {
        Elapsed {
            total_ms: start.elapsed().as_secs_f64() * 1e3,
            waiting_ms: waiting.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// What [`time_per_unit`] found.
struct Timing {
    ms_per_unit: f64,
    units: u32,
    timings: usize,
    /// Of the median timing, the share spent waiting for the GPU.
    waiting_share: f64,
    /// Of the median timing, the milliseconds per unit spent recording and submitting.
    recording_ms_per_unit: f64,
}

impl Timing {
    fn describe(&self, units: &str) -> String {
        format!(
            "median of {} of {}, {:.0}% of the time spent waiting for the GPU",
            plural(self.timings, "timing"),
            plural(self.units as usize, units),
            self.waiting_share * 100.0
        )
    }
}

/// `1 step`, `8 steps`.
fn plural(count: usize, what: &str) -> String {
    match count {
        1 => format!("1 {what}"),
        _ => format!("{count} {what}s"),
    }
}

/// Milliseconds per unit of `work(units)`, which does that many units and waits for the GPU.
/// Call it after a first, untimed call (pipelines and buffers are made on first use).
fn time_per_unit(mut work: impl FnMut(u32) -> Result<Elapsed>) -> Result<Timing> {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (timing_ms, most_timings) = if quick {
        (0.0, 1)
    } else {
        (TIMING_MS, TIMINGS)
    };
    let mut units = 1u32;
    let mut timings = loop {
        let elapsed = work(units)?;
        if elapsed.total_ms >= timing_ms || units >= 1 << 16 {
            break vec![elapsed];
        }
        units *= 2;
    };
    let mut spent = timings[0].total_ms;
    while timings.len() < most_timings && spent + timings[0].total_ms <= BUDGET_MS {
        let elapsed = work(units)?;
        spent += elapsed.total_ms;
        timings.push(elapsed);
    }
    timings.sort_by(|a, b| a.total_ms.total_cmp(&b.total_ms));
    let median = timings[timings.len() / 2];
    Ok(Timing {
        ms_per_unit: median.total_ms / f64::from(units),
        units,
        timings: timings.len(),
        waiting_share: median.waiting_ms / median.total_ms,
        recording_ms_per_unit: (median.total_ms - median.waiting_ms) / f64::from(units),
    })
}

/// `max |got − expected| / max |expected|` (NaN if anything is NaN).
fn relative_difference(got: &[f32], expected: &[f32]) -> f64 {
    let scale = expected
        .iter()
        .fold(0.0f64, |max, v| max.max(f64::from(v.abs())));
    let difference = got
        .iter()
        .zip(expected)
        .map(|(g, e)| f64::from(g - e).abs())
        .fold(0.0f64, |max, d| {
            if d.is_nan() || max.is_nan() {
                f64::NAN
            } else {
                max.max(d)
            }
        });
    difference / scale.max(f64::from(f32::MIN_POSITIVE))
}
