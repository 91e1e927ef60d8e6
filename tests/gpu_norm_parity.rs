//! CPU–GPU parity of batch normalisation and dropout (`src/gpu/norm_kernels.rs`,
//! `shaders/batch_norm.wgsl`, `shaders/dropout.wgsl`) against the engine's tape
//! (`Tape::batch_norm`, `batch_norm_with_running_statistics`, `dropout`) and the running
//! statistics' update (`BatchNormNodes::update_running_statistics`).
//!
//! The cases live in `gpu_common::norm_cases` (the browser runs them too, through
//! `tests/web_gpu_parity.rs`): forward, then backward of `sum(y * r)` with a random `r`, on both
//! engines; BatchNorm1d on vectors and BatchNorm2d on feature maps, odd sizes, one value per
//! feature, more features and more values per feature than a workgroup has invocations. The error
//! of a comparison is `max |gpu - cpu| / max |cpu|`; every one must be under 1e-4. The table
//! prints with `-- --nocapture`. Without a GPU adapter the suite fails, it never skips.

use neural_playground::gpu::{GpuNormStatistics, GpuTensor, NormKernels};

mod gpu_common;

#[test]
fn batch_norm_and_dropout_kernels_match_the_cpu_engine() {
    let context = gpu_common::open_context();
    pollster::block_on(gpu_common::norm_cases::check(context));
}

#[test]
fn shapes_the_engine_refuses_are_refused_in_its_words() {
    let context = gpu_common::open_context();
    let kernels = NormKernels::new_blocking(&context).expect("the norm kernels compile");
    let zeros = |shape: &[usize]| GpuTensor::zeros(&context, shape);
    let (x, three) = (zeros(&[4, 3, 5, 5]), zeros(&[3]));
    let saved = GpuNormStatistics::new(&context, 3);
    let mut commands = kernels.begin(&context);

    let error = commands
        .batch_norm_training_forward(&x, &zeros(&[4]), &three, &saved, &x)
        .unwrap_err();
    assert!(
        error.to_string().contains("a gamma of shape [3]"),
        "{error}"
    );

    let error = commands
        .batch_norm_training_forward(&zeros(&[4, 3, 5]), &three, &three, &saved, &x)
        .unwrap_err();
    assert!(error.to_string().contains("[batch, features]"), "{error}");

    let four = GpuNormStatistics::new(&context, 4);
    let error = commands
        .batch_norm_training_forward(&x, &three, &three, &four, &x)
        .unwrap_err();
    assert!(error.to_string().contains("4 features for 3"), "{error}");

    let error = commands
        .dropout_forward(&x, &zeros(&[4, 3, 5, 4]), &x)
        .unwrap_err();
    assert!(
        error.to_string().contains("a mask of the input's shape"),
        "{error}"
    );
}
