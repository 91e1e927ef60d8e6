//! The browser half of `cargo xtask bench`: times the built app (`dist/`) in headless Chromium,
//! and the TensorFlow.js reference page when given one.
//!
//! `browser_bench [--tfjs-page DIR]` prints one `name value` line per figure (milliseconds) and
//! `# ` lines of context; xtask sets the figures beside their references. `DIR` holds the page
//! that xtask builds from `bench/tfjs_mlp.html` and the tfjs files from npm.

use std::path::PathBuf;
use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};
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
/// Training frames to record; the first `WARM_UP_FRAMES` are left out of the figure.
const FRAMES: usize = 600;
const WARM_UP_FRAMES: usize = 20;
/// Runs of the exported workloads (median taken in the page).
const GRID_RUNS: u32 = 50;
const MLP_STEPS: u32 = 50;
const GEMM_RUNS: u32 = 30;
/// `bench_hooks::GEMM_CASES[0]`, the 64x784x512 product, and the name of its figure.
const GEMM_CASE: (u32, &str) = (0, "gemm_64x784x512_wasm_gflops");

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tfjs_page = match args.as_slice() {
        [] => None,
        [flag, dir] if flag == "--tfjs-page" => Some(PathBuf::from(dir)),
        _ => {
            eprintln!("usage: browser_bench [--tfjs-page DIR]");
            std::process::exit(2);
        }
    };
    app_figures().await;
    if let Some(dir) = tfjs_page {
        tfjs_figures(dir).await;
    }
}

/// The engine's workloads through `window.wasmBindings`, then real frames of the app training.
async fn app_figures() {
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    let grid_ms = call_export(&page, "bench_grid", GRID_RUNS).await;
    println!(
        "# wasm (SIMD128): grid median of {GRID_RUNS} timings of 10 passes, MLP step median of \
         {MLP_STEPS} steps"
    );
    println!("grid_wasm_ms {grid_ms:.4}");
    let mlp_ms = call_export(&page, "bench_mlp_step", MLP_STEPS).await;
    println!("mlp_step_wasm_ms {mlp_ms:.4}");
    gemm_figures(&page).await;
    for (hash, figure) in SPIRALS {
        open_app(&page, hash).await;
        training_frames(&page, hash, figure).await;
    }
}

/// GFLOP/s of our wasm GEMM and of matrixmultiply compiled to wasm, on the same product. The
/// export first checks our products (this one and the grid's skinny ones) against the portable
/// kernel and matrixmultiply and throws (failing this benchmark) if they differ.
async fn gemm_figures(page: &Page) {
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
                vec![case.into(), reference.into(), GEMM_RUNS.into()],
            )
            .await;
        *value = result
            .as_f64()
            .unwrap_or_else(|| panic!("bench_gemm_gflops returned {result}"));
    }
    println!(
        "# wasm GEMM: {} kernel, checked against the portable kernel and matrixmultiply; median \
         of {GEMM_RUNS} products",
        kernel.as_str().unwrap_or("?")
    );
    println!("{figure} {:.4}", gflops[0]);
    println!("{figure}_reference {:.4}", gflops[1]);
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

/// Presses Play, records `FRAMES` frames as the app times them, and prints their p95.
async fn training_frames(page: &Page, hash: &str, figure: &str) {
    let epoch_before = page.integer("epoch").await;
    page.click("play").await;
    let times = page
        .wait_until(
            &format!("{FRAMES} training frames are recorded"),
            Duration::from_secs(120),
            async || frame_times(page).await,
            |times| times.len() >= FRAMES,
        )
        .await;
    page.click("play").await;
    let epochs = page.integer("epoch").await - epoch_before;
    let mut frames = times[WARM_UP_FRAMES..].to_vec();
    frames.sort_by(f64::total_cmp);
    println!(
        "# {figure} ({hash}): {} frames after {WARM_UP_FRAMES} warm-up, {epochs} epochs; \
         median {:.2} ms, max {:.2} ms",
        frames.len(),
        percentile(&frames, 0.5),
        frames[frames.len() - 1]
    );
    println!("{figure} {:.4}", percentile(&frames, 0.95));
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
async fn tfjs_figures(dir: PathBuf) {
    let page = Page::launch_serving(dir, &[]).await;
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
