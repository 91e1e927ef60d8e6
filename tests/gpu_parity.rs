//! CPU–GPU parity of the dense kernels: one table of cases (`gpu_common::kernel_cases`: matmul
//! with every transpose, bias, activations, losses, optimisers), each run on the GPU kernels
//! (`src/gpu`, `shaders/`) and through the CPU engine's own functions, compared with a relative
//! error under 1e-4.
//!
//! The error of a case is `max |gpu - cpu| / max |cpu|` over the compared values (for the
//! optimisers: over the change the steps made to the parameters). The suite needs a GPU adapter;
//! natively `cargo xtask test` points wgpu at lavapipe (software Vulkan). Without an adapter it
//! fails rather than skips, so a CI machine that lost its driver cannot pass silently. The same
//! cases run in headless Chromium's WebGPU through `tests/web_gpu_parity.rs`.

mod gpu_common;

#[test]
fn every_kernel_matches_the_cpu_engine() {
    let context = gpu_common::open_context();
    pollster::block_on(gpu_common::kernel_cases::check(context));
}
