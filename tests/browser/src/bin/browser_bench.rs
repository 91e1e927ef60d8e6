//! The browser half of `cargo xtask bench`: times the built app (`dist/`) in headless Chromium,
//! and the TensorFlow.js reference pages when given them.
//!
//! `browser_bench [--mnist-only | --mlp-only | --mlp-step-only] [--quick] [--tfjs-page DIR]`
//! prints one `name value` line per figure (milliseconds, or seconds where the name says so)
//! and `# ` lines of context; xtask sets the figures beside their references. `DIR` holds the pages that xtask builds from
//! `bench/tfjs_mlp.html` and `bench/tfjs_lenet.html` and the tfjs files from npm. With
//! `--mnist-only`, only the MNIST figures: the LeNet-5 step, the Images page's time to 97% and
//! tfjs's LeNet-5 step; with `--mlp-only`, only the wasm MLP step, its products, the GEMM and
//! the multiply-add ceiling (a quick check while working on the kernels); with
//! `--mlp-step-only`, the wasm MLP step alone (xtask's paired rounds beside PyTorch). With
//! `--quick`, each figure from a few runs ([`QUICK`]): `cargo xtask bench quick` checks that
//! every figure is printed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use browser_tests::{LOAD_TIMEOUT, Page, first_number, selector};
use serde_json::Value;

/// The app's spiral with the default 2-4-2-1 tanh network, half of the points for training:
/// (hash, figure). The figure trains 500 points per frame; the 500-point link trains 250.
const SPIRALS: [(&str, &str); 2] = [
    ("/#dataset=spiral&points=1000", "spiral_frame_p95_ms"),
    (
        "/#dataset=spiral&points=500",
        "spiral_250_train_points_frame_p95_ms",
    ),
];
/// How much each figure measures: [`FULL`], or [`QUICK`] with `--quick`.
struct Counts {
    /// Training frames to record; the first `warm_up_frames` are left out of the figure.
    frames: usize,
    warm_up_frames: usize,
    /// Runs of the exported workloads (median taken in the page).
    grid_runs: u32,
    mlp_steps: u32,
    gemm_runs: u32,
    /// Timings of the multiply-add ceiling (each ~0.2 s).
    peak_runs: u32,
    lenet_steps: u32,
    /// Test accuracy (percent) the Images page's default LeNet-5 run must reach, and how long
    /// it may train before the benchmark gives up (the budget is 60 s).
    target_accuracy: f64,
    training_limit: Duration,
}

const FULL: Counts = Counts {
    frames: 600,
    warm_up_frames: 20,
    grid_runs: 50,
    mlp_steps: 50,
    gemm_runs: 30,
    peak_runs: 9,
    lenet_steps: 30,
    target_accuracy: 97.0,
    training_limit: Duration::from_secs(120),
};

/// `cargo xtask bench quick`: every figure printed, each from a few runs (the time to 97%
/// measured to a lower accuracy), to check that they are all produced and read.
const QUICK: Counts = Counts {
    frames: 30,
    warm_up_frames: 5,
    grid_runs: 2,
    mlp_steps: 2,
    gemm_runs: 2,
    peak_runs: 1,
    lenet_steps: 2,
    target_accuracy: 80.0,
    training_limit: Duration::from_secs(60),
};

static COUNTS: OnceLock<&'static Counts> = OnceLock::new();

fn counts() -> &'static Counts {
    COUNTS.get_or_init(|| &FULL)
}

/// `bench_hooks::GEMM_CASES[0]`, the 64x784x512 product, and the name of its figure.
const GEMM_CASE: (u32, &str) = (0, "gemm_64x784x512_wasm_gflops");
/// Time for the 1.6 MB of digits to load and the worker to start.
const DIGITS_READY: Duration = Duration::from_secs(60);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut mnist_only = false;
    let mut mlp_only = false;
    let mut mlp_step_only = false;
    let mut tfjs_page = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mnist-only" => mnist_only = true,
            "--mlp-only" => mlp_only = true,
            "--mlp-step-only" => mlp_step_only = true,
            "--quick" => {
                COUNTS.set(&QUICK).ok();
            }
            "--tfjs-page" => tfjs_page = Some(PathBuf::from(args.next().unwrap_or_else(usage))),
            _ => usage(),
        }
    }
    if mlp_step_only {
        let page = Page::launch().await;
        open_app(&page, SPIRALS[0].0).await;
        let mlp_ms = call_export(&page, "bench_mlp_step", counts().mlp_steps).await;
        return println!("mlp_step_wasm_ms {mlp_ms:.4}");
    }
    if mlp_only {
        let page = Page::launch().await;
        open_app(&page, SPIRALS[0].0).await;
        return mlp_figures(&page).await;
    }
    if !mnist_only {
        app_figures().await;
    }
    mnist_figures().await;
    if let Some(dir) = tfjs_page {
        if !mnist_only {
            tfjs_figures(&dir).await;
        }
        tfjs_lenet_figures(&dir).await;
    }
}

fn usage<T>() -> T {
    eprintln!(
        "usage: browser_bench [--mnist-only | --mlp-only | --mlp-step-only] [--quick] \
         [--tfjs-page DIR]"
    );
    std::process::exit(2);
}

/// The engine's workloads through `window.wasmBindings`, then real frames of the app training.
async fn app_figures() {
    let mlp_steps = counts().mlp_steps;
    let grid_runs = counts().grid_runs;
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    let grid_ms = call_export(&page, "bench_grid", counts().grid_runs).await;
    println!(
        "# wasm (the build Chromium loads: relaxed SIMD): grid median of {grid_runs} timings of \
         10 passes, MLP step median of {mlp_steps} steps"
    );
    println!("grid_wasm_ms {grid_ms:.4}");
    mlp_figures(&page).await;
    // The build that browsers without relaxed SIMD load, on a fresh page: measured on the page
    // that had run the figures above, it read twice its time alone.
    let simd128 = Page::launch().await;
    open_app(&simd128, "/?simd=simd128").await;
    let mlp_ms = call_export(&simd128, "bench_mlp_step", counts().mlp_steps).await;
    println!(
        "# wasm SIMD128 build (browsers without relaxed SIMD, `?simd=simd128`): MLP step median \
         of {mlp_steps} steps"
    );
    println!("mlp_step_wasm_simd128_ms {mlp_ms:.4}");
    drop(simd128);
    for (hash, figure) in SPIRALS {
        open_app(&page, hash).await;
        training_frames(&page, hash, figure).await;
    }
}

/// The MLP step in the page's build, its products alone (together and one by one), the GEMM
/// beside matrixmultiply and the multiply-add ceiling.
async fn mlp_figures(page: &Page) {
    let mlp_steps = counts().mlp_steps;
    let mlp_ms = call_export(page, "bench_mlp_step", counts().mlp_steps).await;
    println!("mlp_step_wasm_ms {mlp_ms:.4}");
    let products_ms = call_export(page, "bench_mlp_products", counts().mlp_steps).await;
    println!(
        "# the MLP step's matrix products alone (bench_hooks::MlpProducts), median of \
         {mlp_steps} timings: the rest of the step took {:.2} ms",
        mlp_ms - products_ms
    );
    println!("mlp_step_wasm_products_ms {products_ms:.4}");
    let product_times = page
        .execute_with(
            "return window.wasmBindings.bench_mlp_product_times(arguments[0]);",
            vec![counts().mlp_steps.into()],
        )
        .await;
    println!(
        "# wasm: the MLP step's products, each timed alone: {}",
        product_times.as_str().unwrap_or("?")
    );
    gemm_figures(page).await;
    ceiling_figures(page).await;
}

/// GFLOP/s of our wasm GEMM and of matrixmultiply compiled to wasm, on the same product. The
/// export first checks our products (this one and the grid's skinny ones) against the portable
/// kernel and matrixmultiply and throws (failing this benchmark) if they differ.
async fn gemm_figures(page: &Page) {
    let gemm_runs = counts().gemm_runs;
    let (case, figure) = GEMM_CASE;
    let kernel = page
        .execute("return window.wasmBindings.gemm_kernel_name();")
        .await;
    let mut gflops = [0.0; 2];
    for (value, reference) in gflops.iter_mut().zip([false, true]) {
        let script = "return window.wasmBindings.bench_gemm_gflops(arguments[0], arguments[1], \
                      arguments[2]);";
        let result = page
            .execute_with(
                script,
                vec![case.into(), reference.into(), counts().gemm_runs.into()],
            )
            .await;
        *value = result
            .as_f64()
            .unwrap_or_else(|| panic!("bench_gemm_gflops returned {result}"));
    }
    println!(
        "# wasm GEMM: {} kernel, checked against the portable kernel and matrixmultiply; median \
         of {gemm_runs} products",
        kernel.as_str().unwrap_or("?")
    );
    println!("{figure} {:.4}", gflops[0]);
    println!("{figure}_reference {:.4}", gflops[1]);
}

/// The ceiling of the wasm kernels in this browser: the microkernel's multiply-add alone on
/// independent registers, and the MLP step's matrix products at that speed with nothing else
/// to do (no loads, packing, activations or optimiser): no 128-bit kernel can train the step
/// faster here.
async fn ceiling_figures(page: &Page) {
    let peak_runs = counts().peak_runs;
    let peak = call_export(page, "bench_multiply_add_peak_gflops", counts().peak_runs).await;
    let gflop = page
        .execute("return window.wasmBindings.mlp_step_gflop();")
        .await
        .as_f64()
        .expect("mlp_step_gflop returns a number");
    println!(
        "# wasm multiply-add ceiling: the GEMM microkernel's instruction on 8 independent f32x4 \
         registers, median of {peak_runs} timings; the MLP step's {gflop:.3} GFLOP of products \
         at that speed"
    );
    println!("wasm_multiply_add_peak_gflops {peak:.4}");
    println!("mlp_step_wasm_floor_ms {:.4}", gflop / peak * 1e3);
}

/// Loads the app afresh and waits until it is drawn and its exports are reachable.
async fn open_app(page: &Page, hash: &str) {
    page.open(hash).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
    page.wait_until(
        "the wasm exports are on window.wasmBindings",
        LOAD_TIMEOUT,
        async || {
            page.execute("return typeof window.wasmBindings?.frame_times_ms === 'function';")
                .await
        },
        |ready| *ready == Value::Bool(true),
    )
    .await;
}

/// Presses Play, records `counts().frames` frames as the app times them, and prints their p95.
async fn training_frames(page: &Page, hash: &str, figure: &str) {
    let warm_up_frames = counts().warm_up_frames;
    let frames = counts().frames;
    let epoch_before = page.integer("epoch").await;
    page.click("play").await;
    let times = page
        .wait_until(
            &format!("{frames} training frames are recorded"),
            Duration::from_secs(120),
            async || frame_times(page).await,
            |times| times.len() >= counts().frames,
        )
        .await;
    page.click("play").await;
    let epochs = page.integer("epoch").await - epoch_before;
    let mut frames = times[counts().warm_up_frames..].to_vec();
    frames.sort_by(f64::total_cmp);
    println!(
        "# {figure} ({hash}): {} frames after {warm_up_frames} warm-up, {epochs} epochs; \
         median {:.2} ms, max {:.2} ms",
        frames.len(),
        percentile(&frames, 0.5),
        frames[frames.len() - 1]
    );
    println!("{figure} {:.4}", percentile(&frames, 0.95));
}

/// The MNIST figures: one LeNet-5 training step through the export (on the playground page, so
/// that the Images page's worker is not training meanwhile), then the Images page's default
/// LeNet-5 run, timed from the click on Train until the page shows 97% test accuracy.
async fn mnist_figures() {
    let lenet_steps = counts().lenet_steps;
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    let lenet_ms = call_export(&page, "bench_lenet_step", counts().lenet_steps).await;
    println!(
        "# wasm (the build Chromium loads: relaxed SIMD): LeNet-5 (ReLU, max pooling, Adam), batch 64, median of {lenet_steps} \
         steps"
    );
    println!("lenet_step_wasm_ms {lenet_ms:.4}");
    seconds_to_target_accuracy(&page).await;
}

/// Presses Train on the Images page (LeNet-5, the page's default settings) and polls the test
/// accuracy until it reaches the target accuracy or the training time limit passes ([`Counts`]). The page tests
/// every 2 s or so, so the figure is late by up to one test interval.
async fn seconds_to_target_accuracy(page: &Page) {
    let target_accuracy = counts().target_accuracy;
    page.open("/#page=images").await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.wait_until(
        "the Train button is enabled (digits loaded, worker ready)",
        DIGITS_READY,
        async || {
            page.execute(
                "const button = document.querySelector('[data-testid=images-train]'); \
                 return button !== null && !button.disabled;",
            )
            .await
        },
        |enabled| *enabled == Value::Bool(true),
    )
    .await;
    page.click("images-train").await;
    let start = Instant::now();
    let (accuracy, seconds) = loop {
        let accuracy = shown_number(page, "test-accuracy").await;
        let seconds = start.elapsed().as_secs_f64();
        let reached = accuracy.is_some_and(|accuracy| accuracy >= target_accuracy);
        if reached || start.elapsed() >= counts().training_limit {
            break (accuracy, seconds);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let speed = shown_number(page, "examples-per-second").await;
    let epoch = page
        .execute("return document.querySelector('[data-testid=images-epoch]')?.textContent;")
        .await;
    let epoch = epoch.as_str().unwrap_or("not shown");
    let context = format!(
        "Images page (/#page=images), default LeNet-5 run (Adam 0.002, cosine decay over 10 \
         epochs, shifted digits), tested about every 2 s on the 1000 held-out npm digits (from \
         the MNIST training set, not t10k); the page showed {} examples/s at {epoch}",
        speed.map_or("no".to_string(), |speed| format!("{speed:.0}"))
    );
    match accuracy {
        Some(accuracy) if accuracy >= target_accuracy => {
            println!(
                "# lenet_seconds_to_97: {accuracy:.2}% (target {target_accuracy}%) after \
                 {seconds:.1} s; {context}"
            );
            println!("lenet_seconds_to_97 {seconds:.2}");
        }
        _ => println!(
            "# lenet_seconds_to_97 n/a: test accuracy {} after {seconds:.0} s, below \
             {target_accuracy}%; {context}",
            accuracy.map_or("never shown".to_string(), |accuracy| format!(
                "{accuracy:.2}%"
            ))
        ),
    }
}

/// The first number in the element's text now, if the element exists and shows one; unlike
/// [`Page::number`], never waits.
async fn shown_number(page: &Page, test_id: &str) -> Option<f64> {
    let text = page
        .execute_with(
            "return document.querySelector(arguments[0])?.textContent ?? null;",
            vec![Value::String(selector(test_id))],
        )
        .await;
    first_number(text.as_str()?)
}

/// Calls `window.wasmBindings.<name>(count)` and returns its number of milliseconds.
async fn call_export(page: &Page, name: &str, count: u32) -> f64 {
    let script = format!("return window.wasmBindings.{name}(arguments[0]);");
    let value = page.execute_with(&script, vec![count.into()]).await;
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{name} returned {value}"))
}

async fn frame_times(page: &Page) -> Vec<f64> {
    let times = page
        .execute("return Array.from(window.wasmBindings.frame_times_ms());")
        .await;
    let times = times.as_array().cloned().unwrap_or_default();
    times.iter().filter_map(Value::as_f64).collect()
}

/// The `fraction` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The same workloads on tfjs-backend-wasm, in the same headless Chromium.
async fn tfjs_figures(dir: &Path) {
    let page = Page::launch_serving(dir.to_path_buf(), &[]).await;
    page.open("/").await;
    page.wait_until(
        "the tfjs benchmark page has loaded",
        LOAD_TIMEOUT,
        async || {
            page.execute("return typeof runTfjsBench === 'function' && typeof tf === 'object';")
                .await
        },
        |ready| *ready == Value::Bool(true),
    )
    .await;
    page.execute("runTfjsBench(); return true;").await;
    let outcome = page
        .wait_until(
            "the tfjs benchmark has finished",
            Duration::from_secs(300),
            async || {
                page.execute("return window.benchResult || window.benchError || null;")
                    .await
            },
            |outcome| !outcome.is_null(),
        )
        .await;
    let (Some(grid_ms), Some(mlp_ms)) =
        (outcome["grid_ms"].as_f64(), outcome["mlp_step_ms"].as_f64())
    else {
        println!("# tfjs reference failed: {outcome}");
        return;
    };
    println!(
        "# tfjs {} on the {} backend (SIMD {}, threads {}): grid median of 50 runs, MLP step \
         median of 20 steps",
        outcome["version"].as_str().unwrap_or("?"),
        outcome["backend"].as_str().unwrap_or("?"),
        outcome["simd"],
        outcome["threads"]
    );
    println!("tfjs_grid_ms {grid_ms:.4}");
    println!("tfjs_mlp_step_ms {mlp_ms:.4}");
}

/// LeNet-5's training step on tfjs-backend-cpu, and whether tfjs-backend-wasm can train it.
async fn tfjs_lenet_figures(dir: &Path) {
    let page = Page::launch_serving(dir.to_path_buf(), &[]).await;
    page.open("/lenet.html").await;
    page.wait_until(
        "the tfjs LeNet-5 page has loaded",
        LOAD_TIMEOUT,
        async || {
            page.execute("return typeof runTfjsLenet === 'function' && typeof tf === 'object';")
                .await
        },
        |ready| *ready == Value::Bool(true),
    )
    .await;
    page.execute("runTfjsLenet(); return true;").await;
    let outcome = page
        .wait_until(
            "the tfjs LeNet-5 benchmark has finished",
            Duration::from_secs(300),
            async || {
                page.execute("return window.lenetResult || window.lenetError || null;")
                    .await
            },
            |outcome| !outcome.is_null(),
        )
        .await;
    let Some(cpu_ms) = outcome["cpu_step_ms"].as_f64() else {
        println!("# tfjs LeNet-5 reference failed: {outcome}");
        return;
    };
    println!(
        "# tfjs {} LeNet-5 (ReLU, max pooling, Adam), batch 64: cpu backend median of {} steps; \
         wasm backend: {}",
        outcome["version"].as_str().unwrap_or("?"),
        outcome["cpu_steps"],
        outcome["wasm"].as_str().unwrap_or("?")
    );
    println!("tfjs_cpu_lenet_step_ms {cpu_ms:.4}");
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.95), 95.0);
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&[3.0], 0.95), 3.0);
    }
}
