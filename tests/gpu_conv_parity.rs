//! CPU–GPU parity of the image layers: Conv2d forward and its input, kernel and bias gradients,
//! MaxPool2d and AvgPool2d forward and backward (`src/gpu/conv_kernels.rs`, `shaders/conv.wgsl`,
//! `shaders/pool.wgsl`) against the engine's tape (`Tape::conv2d`, `max_pool2d`, `avg_pool2d`).
//!
//! Each case runs forward, then backward of `sum(y * r)` with a random `r` (so the output
//! gradient is `r`), on both engines. The GPU gradient buffers start at random values, so a
//! kernel that overwrote instead of adding (the engine adds) would fail. The error of a
//! comparison is `max |gpu - cpu| / max |cpu|`; every one must be under 1e-4. The table of worst
//! errors prints with `-- --nocapture`. Without a GPU adapter the suite fails, it never skips.

use neural_playground::engine::{Params, SeededRng, Tape, Tensor};
use neural_playground::gpu::{ConvKernels, GpuContext, GpuError, GpuTensor};

mod gpu_common;

use gpu_common::{compare, open_context, parameter, plus, random, weighted_sum_backward};

const TOLERANCE: f64 = 1e-4;

struct Gpu {
    context: GpuContext,
    kernels: ConvKernels,
}

impl Gpu {
    fn open() -> Gpu {
        let context = open_context();
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

/// A convolution: input shape, output channels, kernel side, stride, padding.
#[derive(Clone, Copy, Debug)]
struct ConvCase {
    input: [usize; 4],
    out_channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

const CONV_CASES: [ConvCase; 7] = [
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
struct PoolCase {
    max: bool,
    input: [usize; 4],
    size: usize,
    stride: usize,
    integers: bool,
}

fn pool_cases() -> Vec<PoolCase> {
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

#[test]
fn conv_and_pooling_kernels_match_the_cpu_engine() {
    let gpu = Gpu::open();
    eprintln!("GPU conv/pool parity on {}", gpu.context.description());
    eprintln!(
        "{:>4}  {:>9} {:>9} {:>9} {:>9}  case",
        "", "forward", "dx", "dw", "db"
    );
    let mut failures = Vec::new();
    let mut report = |name: String, errors: &[f64]| {
        let ok = errors.iter().all(|&error| error < TOLERANCE);
        let shown: Vec<String> = errors.iter().map(|e| format!("{e:>9.2e}")).collect();
        eprintln!(
            "{:>4}  {}  {name}",
            if ok { "ok" } else { "FAIL" },
            shown.join(" ")
        );
        if !ok {
            failures.push(format!("{name}: {}", shown.join(" ")));
        }
    };
    for (index, case) in CONV_CASES.into_iter().enumerate() {
        let mut rng = SeededRng::new(2000 + index as u64);
        let errors = conv_case(&gpu, case, &mut rng).unwrap_or_else(|error| panic!("{error}"));
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
        report(name, &errors);
    }
    for (index, case) in pool_cases().into_iter().enumerate() {
        let mut rng = SeededRng::new(3000 + index as u64);
        let errors = pool_case(&gpu, case, &mut rng).unwrap_or_else(|error| panic!("{error}"));
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
        report(name, &errors);
    }
    assert!(
        failures.is_empty(),
        "{} cases differ from the CPU engine by more than {TOLERANCE}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Errors of the forward output and of the input, kernel and bias gradients.
fn conv_case(gpu: &Gpu, case: ConvCase, rng: &mut SeededRng) -> Result<[f64; 4], GpuError> {
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
    Ok([
        compare(&gpu.read(&out), &expected_y),
        compare(&gpu.read(&grad_x), &plus(start_x, params.grad(x_id))),
        compare(&gpu.read(&grad_w), &plus(start_w, params.grad(w_id))),
        compare(&gpu.read(&grad_b), &plus(start_b, params.grad(b_id))),
    ])
}

/// Errors of the forward output and of the input gradient.
fn pool_case(gpu: &Gpu, case: PoolCase, rng: &mut SeededRng) -> Result<Vec<f64>, GpuError> {
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
        compare(&gpu.read(&out), &expected_y),
        compare(&gpu.read(&grad_x), &plus(&start, params.grad(x_id))),
    ])
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
}
