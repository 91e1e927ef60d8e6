//! The image layers' cases (`src/gpu/conv_kernels.rs`, `shaders/conv.wgsl`, `shaders/pool.wgsl`):
//! Conv2d forward and its input, kernel and bias gradients, MaxPool2d and AvgPool2d forward and
//! backward, against the engine's tape (`Tape::conv2d`, `max_pool2d`, `avg_pool2d`).
//!
//! Each case runs forward, then backward of `sum(y * r)` with a random `r` (so the output
//! gradient is `r`), on both engines. The GPU gradient buffers start at random values, so a
//! kernel that overwrote instead of adding (the engine adds) would fail.

use neural_playground::engine::{Params, SeededRng, Tape, Tensor};
use neural_playground::gpu::{ConvKernels, GpuContext, GpuError};

use super::{Gpu, Report, compare, parameter, plus, random, weighted_sum_backward};

/// A convolution: input shape, output channels, kernel side, stride, padding.
#[derive(Clone, Copy, Debug)]
pub struct ConvCase {
    pub input: [usize; 4],
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

pub const CONV_CASES: [ConvCase; 7] = [
    // Odd sizes, same padding.
    conv([2, 3, 7, 9], 5, 3, 1, 1),
    conv([2, 3, 7, 9], 5, 3, 2, 0),
    conv([2, 3, 7, 9], 5, 3, 2, 1),
    // LeNet-5's C1 on MNIST (padding 2 keeps 28x28) and C3.
    conv([2, 1, 28, 28], 6, 5, 1, 2),
    conv([2, 6, 14, 14], 16, 5, 1, 0),
    // Kernels larger than the input, which fit only thanks to the padding.
    conv([2, 2, 3, 4], 3, 5, 1, 2),
    conv([3, 2, 2, 2], 4, 4, 1, 1),
];

const fn conv(
    input: [usize; 4],
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> ConvCase {
    ConvCase {
        input,
        out_channels,
        kernel,
        stride,
        padding,
    }
}

/// A pooling: max or average, input shape, window size, stride, and whether the input holds
/// small integers (many ties: max pooling must pick the first maximum, as the engine does).
#[derive(Clone, Copy, Debug)]
pub struct PoolCase {
    pub max: bool,
    pub input: [usize; 4],
    pub size: usize,
    pub stride: usize,
    pub integers: bool,
}

pub fn pool_cases() -> Vec<PoolCase> {
    let mut cases = Vec::new();
    for max in [true, false] {
        for (input, size, stride) in [
            ([2, 3, 8, 8], 2, 2),
            ([2, 3, 7, 9], 3, 2),
            ([2, 3, 7, 9], 2, 1),
            ([2, 6, 28, 28], 2, 2),
            ([1, 2, 5, 5], 5, 1),
        ] {
            for integers in [false, true] {
                cases.push(PoolCase {
                    max,
                    input,
                    size,
                    stride,
                    integers,
                });
            }
        }
    }
    cases
}

/// Runs every convolution and pooling case on `context` and panics listing those over the
/// tolerance.
pub async fn check(context: GpuContext) {
    let kernels = ConvKernels::new(&context)
        .await
        .expect("the conv and pool kernels compile");
    let gpu = Gpu { context, kernels };
    let columns = ["forward", "dx", "dw", "db"];
    let mut report = Report::new("GPU conv/pool parity", &gpu.context, &columns);
    for (index, case) in CONV_CASES.into_iter().enumerate() {
        let mut rng = SeededRng::new(2000 + index as u64);
        let ConvCase {
            input,
            out_channels,
            kernel,
            stride,
            padding,
        } = case;
        let name = format!(
            "conv2d {input:?} -> {out_channels} channels, k {kernel}, stride {stride}, \
             padding {padding}"
        );
        report.case(name, conv_case(&gpu, case, &mut rng).await);
    }
    for (index, case) in pool_cases().into_iter().enumerate() {
        let mut rng = SeededRng::new(3000 + index as u64);
        let PoolCase {
            max,
            input,
            size,
            stride,
            integers,
        } = case;
        let name = format!(
            "{} {input:?}, size {size}, stride {stride}{}",
            if max { "max_pool2d" } else { "avg_pool2d" },
            if integers {
                ", integer values (ties)"
            } else {
                ""
            }
        );
        report.case(name, pool_case(&gpu, case, &mut rng).await);
    }
    report.finish();
}

/// Errors of the forward output and of the input, kernel and bias gradients.
async fn conv_case(
    gpu: &Gpu<ConvKernels>,
    case: ConvCase,
    rng: &mut SeededRng,
) -> Result<Vec<f64>, GpuError> {
    let ConvCase {
        input,
        out_channels,
        kernel,
        stride,
        padding,
    } = case;
    let x = random(rng, &input, -1.0, 1.0);
    let w = random(rng, &[out_channels, input[1], kernel, kernel], -1.0, 1.0);
    let b = random(rng, &[out_channels], -1.0, 1.0);

    // The engine: forward, then backward of sum(y * r).
    let mut tape = Tape::new();
    let mut params = Params::new();
    let (x_id, x_node) = parameter(&mut tape, &mut params, &x);
    let (w_id, w_node) = parameter(&mut tape, &mut params, &w);
    let (b_id, b_node) = parameter(&mut tape, &mut params, &b);
    let y = tape
        .conv2d(x_node, w_node, b_node, stride, padding)
        .unwrap();
    let r = weighted_sum_backward(&mut tape, &mut params, y, rng);
    let expected_y = tape.value(y).clone();

    // The GPU, from gradient buffers that already hold something.
    let starts =
        [input.as_slice(), w.shape(), b.shape()].map(|shape| random(rng, shape, -0.5, 0.5));
    let [grad_x, grad_w, grad_b] = starts.each_ref().map(|start| gpu.upload(start));
    let (gx, gw, gb) = (gpu.upload(&x), gpu.upload(&w), gpu.upload(&b));
    let out = gpu.zeros(expected_y.shape());
    let upstream = gpu.upload(&r);
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands.conv2d_forward(&gx, &gw, &gb, stride, padding, &out)?;
    commands.conv2d_input_grad(&gw, &upstream, stride, padding, &grad_x)?;
    commands.conv2d_weight_grad(&gx, &upstream, stride, padding, &grad_w)?;
    commands.conv2d_bias_grad(&upstream, &grad_b)?;
    commands.submit();

    let [start_x, start_w, start_b] = &starts;
    Ok(vec![
        compare(&gpu.read(&out).await?, &expected_y),
        compare(&gpu.read(&grad_x).await?, &plus(start_x, params.grad(x_id))),
        compare(&gpu.read(&grad_w).await?, &plus(start_w, params.grad(w_id))),
        compare(&gpu.read(&grad_b).await?, &plus(start_b, params.grad(b_id))),
    ])
}

/// Errors of the forward output and of the input gradient.
async fn pool_case(
    gpu: &Gpu<ConvKernels>,
    case: PoolCase,
    rng: &mut SeededRng,
) -> Result<Vec<f64>, GpuError> {
    let PoolCase {
        max,
        input,
        size,
        stride,
        integers,
    } = case;
    let x = if integers {
        let count = input.iter().product();
        let values = (0..count).map(|_| rng.below(4) as f32).collect();
        Tensor::from_vec(&input, values).unwrap()
    } else {
        random(rng, &input, -1.0, 1.0)
    };

    let mut tape = Tape::new();
    let mut params = Params::new();
    let (x_id, x_node) = parameter(&mut tape, &mut params, &x);
    let y = if max {
        tape.max_pool2d(x_node, size, stride).unwrap()
    } else {
        tape.avg_pool2d(x_node, size, stride).unwrap()
    };
    let r = weighted_sum_backward(&mut tape, &mut params, y, rng);
    let expected_y = tape.value(y).clone();

    let start = random(rng, &input, -0.5, 0.5);
    let grad_x = gpu.upload(&start);
    let gx = gpu.upload(&x);
    let out = gpu.zeros(expected_y.shape());
    let upstream = gpu.upload(&r);
    let mut commands = gpu.kernels.begin(&gpu.context);
    if max {
        commands.max_pool2d_forward(size, stride, &gx, &out)?;
        commands.max_pool2d_backward(size, stride, &gx, &upstream, &grad_x)?;
    } else {
        commands.average_pool2d_forward(size, stride, &gx, &out)?;
        commands.average_pool2d_backward(size, stride, &upstream, &grad_x)?;
    }
    commands.submit();
    Ok(vec![
        compare(&gpu.read(&out).await?, &expected_y),
        compare(&gpu.read(&grad_x).await?, &plus(&start, params.grad(x_id))),
    ])
}
