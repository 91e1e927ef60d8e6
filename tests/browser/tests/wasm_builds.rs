//! The page's two WebAssembly builds: Chromium has relaxed SIMD, so the page loads the build
//! whose GEMM kernel uses fused multiply-adds; `?simd=simd128` loads the SIMD128 build, the
//! one browsers without relaxed SIMD get. In both, the GEMM agrees with the portable kernel and
//! with `matrixmultiply` (the benchmark's check, which throws on a mismatch), tanh and sigmoid
//! over slices agree with the scalar functions (NaN included), and XOR trains.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

const SETTLE: Duration = Duration::from_secs(10);

/// Opens `path`, checks which kernel the page runs (in the engine badge's tooltip too), that its
/// products are right, and that XOR trains with it.
async fn runs_and_trains_with(path: &str, kernel: &str) {
    let page = Page::launch().await;
    page.open(path).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
    let name = page
        .execute("return window.wasmBindings.gemm_kernel_name();")
        .await;
    assert_eq!(name.as_str(), Some(kernel), "the kernel loaded from {path}");
    let title = page
        .execute("return document.querySelector('[data-testid=\"backend\"]').title;")
        .await;
    let title = title.as_str().unwrap_or_default();
    assert!(title.contains(kernel), "the badge says: {title}");

    // Case 0 is the MLP's first layer; the call checks the product before it times it.
    let check = "try { return window.wasmBindings.bench_gemm_gflops(0, false, 1); } \
                 catch (error) { return String(error); }";
    let gflops = page.execute(check).await;
    assert!(
        gflops.as_f64().is_some_and(|value| value > 0.0),
        "the GEMM check from {path} says: {gflops}"
    );

    // Tanh and sigmoid over a slice against the same functions one value at a time, NaN kept
    // NaN: equal bit for bit in the SIMD128 build, within rounding with the relaxed build's
    // fused multiply-adds.
    let difference = page
        .execute("return window.wasmBindings.activation_slices_max_difference();")
        .await;
    let difference = difference.as_f64().unwrap_or(f64::NAN);
    let tolerance = if kernel.contains("relaxed") {
        1e-6
    } else {
        0.0
    };
    assert!(
        difference <= tolerance,
        "activations over slices from {path} differ from the scalar functions by {difference}"
    );

    page.click("dataset-xor").await;
    page.wait_until(
        "dataset-xor is selected",
        SETTLE,
        async || page.has_class("dataset-xor", "selected").await,
        |selected| *selected,
    )
    .await;
    page.click("play").await;
    page.wait_until(
        "the test loss is below 0.05",
        Duration::from_secs(60),
        async || page.number("loss-test").await,
        |loss| *loss < 0.05,
    )
    .await;
}

#[tokio::test]
async fn a_browser_with_relaxed_simd_gets_the_fused_multiply_add_build() {
    runs_and_trains_with("/", "wasm relaxed-SIMD 4x8").await;
}

#[tokio::test]
async fn the_simd128_build_still_serves_browsers_without_it() {
    runs_and_trains_with("/?simd=simd128", "wasm SIMD128 4x8").await;
}
