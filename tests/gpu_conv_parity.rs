//! CPU–GPU parity of the image layers: Conv2d forward and its input, kernel and bias gradients,
//! MaxPool2d and AvgPool2d forward and backward (`src/gpu/conv_kernels.rs`, `shaders/conv.wgsl`,
//! `shaders/pool.wgsl`) against the engine's tape (`Tape::conv2d`, `max_pool2d`, `avg_pool2d`).
//!
//! The cases live in `gpu_common::conv_cases` (the browser runs them too, through
//! `tests/web_gpu_parity.rs`): forward, then backward of `sum(y * r)` with a random `r`, on both
//! engines, from GPU gradient buffers that start at random values. The error of a comparison is
//! `max |gpu - cpu| / max |cpu|`; every one must be under 1e-4. The table of worst errors prints
//! with `-- --nocapture`. Without a GPU adapter the suite fails, it never skips.

use neural_playground::engine::Tensor;
use neural_playground::gpu::{ConvKernels, GpuContext, GpuTensor};

mod gpu_common;

struct Gpu {
    context: GpuContext,
    kernels: ConvKernels,
}

impl Gpu {
    fn open() -> Gpu {
        let context = gpu_common::open_context();
        let kernels =
            ConvKernels::new_blocking(&context).expect("the conv and pool kernels compile");
        Gpu { context, kernels }
    }

    fn upload(&self, tensor: &Tensor) -> GpuTensor {
        GpuTensor::upload(&self.context, tensor)
    }

    fn zeros(&self, shape: &[usize]) -> GpuTensor {
        GpuTensor::zeros(&self.context, shape)
    }

    fn read(&self, tensor: &GpuTensor) -> Tensor {
        tensor.read_blocking(&self.context).expect("readback")
    }
}

#[test]
fn conv_and_pooling_kernels_match_the_cpu_engine() {
    let context = gpu_common::open_context();
    pollster::block_on(gpu_common::conv_cases::check(context));
}

#[test]
fn shapes_the_engine_refuses_are_refused_in_its_words() {
    let gpu = Gpu::open();
    let x = gpu.zeros(&[1, 2, 8, 8]);
    let mut commands = gpu.kernels.begin(&gpu.context);

    let w = gpu.zeros(&[4, 2, 3, 3]);
    let (b, out) = (gpu.zeros(&[4]), gpu.zeros(&[1, 4, 3, 3]));
    let error = commands.conv2d_forward(&x, &w, &b, 2, 0, &out).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("(8 + 0 - 3)/2 + 1 = 3.5 is not a whole number"),
        "{error}"
    );

    let three_channels = gpu.zeros(&[4, 3, 3, 3]);
    let out = gpu.zeros(&[1, 4, 8, 8]);
    let error = commands
        .conv2d_forward(&x, &three_channels, &b, 1, 1, &out)
        .unwrap_err();
    assert!(error.to_string().contains("3 channels"), "{error}");

    let wrong_out = gpu.zeros(&[1, 4, 7, 7]);
    let error = commands
        .conv2d_forward(&x, &w, &b, 1, 0, &wrong_out)
        .unwrap_err();
    assert!(
        error.to_string().contains("should be [1, 4, 6, 6]"),
        "{error}"
    );

    let error = commands
        .max_pool2d_forward(3, 2, &x, &gpu.zeros(&[1, 2, 3, 3]))
        .unwrap_err();
    assert!(
        error.to_string().contains("is not a whole number"),
        "{error}"
    );

    let upstream = gpu.zeros(&[1, 2, 4, 4]);
    let error = commands
        .average_pool2d_backward(2, 2, &upstream, &gpu.zeros(&[1, 2, 8, 10]))
        .unwrap_err();
    assert!(
        error.to_string().contains("should be [1, 2, 4, 5]"),
        "{error}"
    );
}

/// More than 65,535 workgroups of 256 invocations: the launch spills into y and every element is
/// still written once (a 1x1 average is the identity; its backward adds the upstream once).
#[test]
fn launches_past_the_workgroup_limit_cover_every_element() {
    let gpu = Gpu::open();
    // 4100² = 16,810,000 invocations > 65,535 · 256 = 16,776,960.
    let shape = [1, 1, 4100, 4100];
    let count = 4100 * 4100;
    let x = Tensor::from_vec(&shape, (0..count).map(|i| (i % 1000) as f32).collect()).unwrap();
    let (gx, out, grad_x) = (gpu.upload(&x), gpu.zeros(&shape), gpu.upload(&x));
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands.average_pool2d_forward(1, 1, &gx, &out).unwrap();
    commands
        .average_pool2d_backward(1, 1, &gx, &grad_x)
        .unwrap();
    commands.submit();
    assert!(gpu.read(&out).data() == x.data(), "forward missed elements");
    let doubled: Vec<f32> = x.data().iter().map(|v| 2.0 * v).collect();
    assert!(
        gpu.read(&grad_x).data() == doubled,
        "backward missed elements"
    );

    // The bias gradient runs a workgroup per channel: 66,000 channels spill into y.
    let channels = 66_000;
    let upstream = (0..channels)
        .map(|i| (i % 997) as f32)
        .collect::<Vec<f32>>();
    let upstream = Tensor::from_vec(&[1, channels, 1, 1], upstream).unwrap();
    let grad_bias = gpu.upload(&Tensor::from_vec(&[channels], vec![1.0; channels]).unwrap());
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands
        .conv2d_bias_grad(&gpu.upload(&upstream), &grad_bias)
        .unwrap();
    commands.submit();
    let expected: Vec<f32> = upstream.data().iter().map(|v| v + 1.0).collect();
    assert!(
        gpu.read(&grad_bias).data() == expected,
        "the bias gradient missed channels"
    );
}
