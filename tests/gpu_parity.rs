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

/// Large products get the 128x128 tile where the device has the 16 KiB of workgroup memory it
/// needs (lavapipe has; every WebGPU adapter has), small ones the 64x64 tile, whose four times
/// as many workgroups keep a large GPU busy.
#[test]
fn large_products_take_the_wide_tile() {
    use neural_playground::gpu::{Kernels, MatmulTile};

    let context = gpu_common::open_context();
    let kernels = Kernels::new_blocking(&context).unwrap();
    let has_wide = context.limits().max_compute_workgroup_storage_size >= 16384;
    assert_eq!(kernels.has_tile(MatmulTile::Wide128), has_wide);
    assert!(has_wide, "lavapipe offers 32 KiB of workgroup memory");
    assert_eq!(kernels.tile_for(4096, 4096), MatmulTile::Wide128);
    assert_eq!(kernels.tile_for(2048, 2048), MatmulTile::Wide128);
    assert_eq!(kernels.tile_for(1024, 1024), MatmulTile::Square64);
    assert_eq!(kernels.tile_for(64, 512), MatmulTile::Square64);
    assert_eq!(kernels.tile_for(784, 512), MatmulTile::Square64);
}

/// Consecutive dispatches are recorded into one compute pass (a copy between them opens a new
/// one), and each still sees what the dispatch before it wrote: `relu(tanh(a · b) · w)`, with
/// the intermediate copied once, against f64 loops.
#[test]
fn dispatches_share_a_compute_pass_and_see_each_others_results() {
    use neural_playground::engine::{Activation, SeededRng, Tensor};
    use neural_playground::gpu::{GpuTensor, Kernels, MatmulOperand, TrainingKernels};

    let context = gpu_common::open_context();
    let kernels = Kernels::new_blocking(&context).unwrap();
    let training = pollster::block_on(TrainingKernels::new(&context)).unwrap();
    let mut rng = SeededRng::new(5);
    let mut random = |rows: usize, cols: usize| {
        let values = (0..rows * cols)
            .map(|_| rng.uniform_range(-1.0, 1.0))
            .collect();
        Tensor::from_vec(&[rows, cols], values).unwrap()
    };
    let (a, b, w) = (random(33, 17), random(17, 29), random(29, 5));
    let upload = |tensor: &Tensor| GpuTensor::upload(&context, tensor);
    let (a_gpu, b_gpu, w_gpu) = (upload(&a), upload(&b), upload(&w));
    let product = GpuTensor::zeros(&context, &[33, 29]);
    let squashed = GpuTensor::zeros(&context, &[33, 29]);
    let copied = GpuTensor::zeros(&context, &[33, 29]);
    let second = GpuTensor::zeros(&context, &[33, 5]);
    let out = GpuTensor::zeros(&context, &[33, 5]);

    let plain = MatmulOperand::plain;
    let mut commands = kernels.begin(&context);
    commands
        .matmul(plain(&a_gpu), plain(&b_gpu), &product, false)
        .unwrap();
    commands
        .activation_forward(Activation::Tanh, &product, &squashed)
        .unwrap();
    let encoder = commands.into_encoder();
    assert_eq!(encoder.passes(), 1, "two dispatches, one pass");
    let mut bookkeeping = training.resume(&context, encoder);
    bookkeeping.copy(&squashed, &copied, 0).unwrap();
    let mut commands = kernels.resume(&context, bookkeeping.into_encoder());
    commands
        .matmul(plain(&copied), plain(&w_gpu), &second, false)
        .unwrap();
    commands
        .activation_forward(Activation::Relu, &second, &out)
        .unwrap();
    let encoder = commands.into_encoder();
    assert_eq!(encoder.passes(), 2, "the copy ends the first pass");
    context.queue.submit([encoder.finish()]);
    let got = out.read_blocking(&context).unwrap();

    let (a, b, w) = (a.data(), b.data(), w.data());
    let mut worst: f64 = 0.0;
    for i in 0..33 {
        let hidden: Vec<f64> = (0..29)
            .map(|j| {
                let sum: f64 = (0..17)
                    .map(|p| f64::from(a[i * 17 + p]) * f64::from(b[p * 29 + j]))
                    .sum();
                sum.tanh()
            })
            .collect();
        for j in 0..5 {
            let sum: f64 = (0..29).map(|p| hidden[p] * f64::from(w[p * 5 + j])).sum();
            let expected = sum.max(0.0);
            worst = worst.max((f64::from(got.data()[i * 5 + j]) - expected).abs());
        }
    }
    assert!(worst < 1e-4, "largest difference {worst:.2e}");
}
