//! CPU–GPU parity of the dense kernels: one table of cases (`gpu_common::kernel_cases`: matmul
//! with every transpose, bias, activations, losses, optimisers), each run on the GPU kernels
//! (`src/gpu`, `shaders/`) and through the CPU engine's own functions, compared with a relative
//! error under 1e-4. A second table (`gpu_common::sequence_cases`) holds the encoder-decoder's
//! ops: embedding, argmax and attention.
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

/// The encoder-decoder's ops (`gpu_common::sequence_cases`): embedding (ids outside the table,
/// a scatter-added gradient), argmax, and attention's scores, mix and sums over steps, alone and
/// as one masked attention step with its softmax.
#[test]
fn token_and_attention_kernels_match_the_cpu_engine() {
    let context = gpu_common::open_context();
    pollster::block_on(gpu_common::sequence_cases::check(context));
}

/// Products with at least one 128x128 block of outputs get the wide tile where the device has
/// the 16 KiB of workgroup memory it needs (lavapipe has; every WebGPU adapter has) and every
/// stored row holds a multiple of four floats (it reads `vec4`s); others the 64x64 tile, and the
/// wide tile refuses them with the reason.
#[test]
fn large_aligned_products_take_the_wide_tile() {
    use neural_playground::gpu::{GpuTensor, Kernels, MatmulOperand, MatmulTile};

    let context = gpu_common::open_context();
    let kernels = Kernels::new_blocking(&context).unwrap();
    let has_wide = context.limits().max_compute_workgroup_storage_size >= 16384;
    assert_eq!(kernels.has_tile(MatmulTile::Wide128), has_wide);
    assert!(has_wide, "lavapipe offers 32 KiB of workgroup memory");
    let matrix = |rows: usize, cols: usize| GpuTensor::zeros(&context, &[rows, cols]);
    let tile = |a: &GpuTensor, a_t: bool, b: &GpuTensor, b_t: bool| {
        let operand = |tensor, transposed| MatmulOperand { tensor, transposed };
        kernels.tile_for(operand(a, a_t), operand(b, b_t))
    };
    let (x, w) = (matrix(64, 784), matrix(784, 512));
    assert_eq!(tile(&x, false, &w, false), MatmulTile::Wide128);
    // X^T · dY (the weight gradient), dY · W^T (the input gradient).
    let dy = matrix(64, 512);
    assert_eq!(tile(&x, true, &dy, false), MatmulTile::Wide128);
    assert_eq!(tile(&dy, false, &w, true), MatmulTile::Wide128);
    // Fewer outputs than one block: the 2-D playground's layers, the MLP's last one.
    assert_eq!(
        tile(&dy, false, &matrix(512, 10), false),
        MatmulTile::Square64
    );
    assert_eq!(
        tile(&matrix(500, 2), false, &matrix(2, 8), false),
        MatmulTile::Square64
    );
    // Rows that are not a multiple of four floats, in a, in b or in the output.
    let (odd_a, odd_b) = (matrix(256, 33), matrix(33, 256));
    assert_eq!(tile(&odd_a, false, &odd_b, false), MatmulTile::Square64);
    assert_eq!(
        tile(&matrix(256, 36), false, &matrix(36, 258), false),
        MatmulTile::Square64
    );
    assert_eq!(
        tile(&matrix(256, 130), true, &matrix(256, 256), false),
        MatmulTile::Square64
    );
    // Any depth, where the vec4s run along the rows of op(a) and the columns of op(b).
    assert_eq!(
        tile(&matrix(33, 256), true, &odd_b, false),
        MatmulTile::Wide128
    );

    let out = matrix(256, 256);
    let mut commands = kernels.begin(&context);
    let operand = |tensor| MatmulOperand {
        tensor,
        transposed: false,
    };
    let refused = commands
        .matmul_tiled(
            operand(&odd_a),
            operand(&odd_b),
            &out,
            false,
            MatmulTile::Wide128,
        )
        .unwrap_err()
        .to_string();
    assert!(refused.contains("multiple of four"), "{refused}");
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
