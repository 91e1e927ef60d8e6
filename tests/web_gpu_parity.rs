//! The GPU kernel parity suites inside a browser: the same cases as `tests/gpu_parity.rs`,
//! `tests/gpu_conv_parity.rs` and `tests/gpu_norm_parity.rs` (`tests/gpu_common/`), run on
//! WebGPU in headless Chromium (SwiftShader with `--enable-unsafe-webgpu`, from `webdriver.json`)
//! against the CPU engine compiled to wasm, each value within a relative error of 1e-4.
//!
//! `cargo xtask test` runs it with
//! `cargo test --target wasm32-unknown-unknown --test web_gpu_parity` (wasm-bindgen-test-runner
//! drives Chromium through chromedriver). Without a WebGPU adapter every test fails, none skips.

#![cfg(target_arch = "wasm32")]

mod gpu_common;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn dense_kernels_match_the_cpu_engine() {
    gpu_common::kernel_cases::check(gpu_common::request_context().await).await;
}

#[wasm_bindgen_test]
async fn conv_and_pooling_kernels_match_the_cpu_engine() {
    gpu_common::conv_cases::check(gpu_common::request_context().await).await;
}

#[wasm_bindgen_test]
async fn batch_norm_and_dropout_kernels_match_the_cpu_engine() {
    gpu_common::norm_cases::check(gpu_common::request_context().await).await;
}

#[wasm_bindgen_test]
async fn token_and_attention_kernels_match_the_cpu_engine() {
    gpu_common::sequence_cases::check(gpu_common::request_context().await).await;
}
