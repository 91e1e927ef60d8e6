//! CPU–GPU parity: one table of cases, each run on the GPU kernels (`src/gpu`, `shaders/`) and
//! through the CPU engine's own functions, compared with a relative error under 1e-4.
//!
//! The error of a case is `max |gpu - cpu| / max |cpu|` over the compared values (for the
//! optimisers: over the change the steps made to the parameters). The suite needs a GPU adapter;
//! natively `cargo xtask test` points wgpu at lavapipe (software Vulkan). Without an adapter it
//! fails rather than skips, so a CI machine that lost its driver cannot pass silently.

use neural_playground::engine::gemm::{Operand, matmul};
use neural_playground::engine::{
    Activation, Loss, Optimizer, OptimizerConfig, OptimizerKind, ParamRole, Params, Regularization,
    SeededRng, Tape, Tensor,
};
use neural_playground::gpu::{
    GpuContext, GpuError, GpuOptimizer, GpuParam, GpuTensor, Kernels, MatmulOperand,
};

const TOLERANCE: f64 = 1e-4;

struct Gpu {
    context: GpuContext,
    kernels: Kernels,
}

impl Gpu {
    fn upload(&self, tensor: &Tensor) -> GpuTensor {
        GpuTensor::upload(&self.context, tensor)
    }

    fn read(&self, tensor: &GpuTensor) -> Result<Tensor, GpuError> {
        tensor.read_blocking(&self.context)
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
enum Case {
    Matmul {
        m: usize,
        k: usize,
        n: usize,
        a_transposed: bool,
        b_transposed: bool,
        accumulate: bool,
    },
    ActivationForward(Activation),
    ActivationBackward(Activation),
    BiasAdd {
        rows: usize,
        cols: usize,
    },
    ColumnSums {
        rows: usize,
        cols: usize,
    },
    LossValue(Loss),
    LossGradient(Loss),
    Optimizer(OptimizerKind, Regularization),
}

fn table() -> Vec<Case> {
    let mut cases = Vec::new();
    for (m, k, n) in [(1, 1, 1), (33, 17, 29), (64, 784, 512), (7, 40, 3)] {
        for a_transposed in [false, true] {
            for b_transposed in [false, true] {
                for accumulate in [false, true] {
                    cases.push(Case::Matmul {
                        m,
                        k,
                        n,
                        a_transposed,
                        b_transposed,
                        accumulate,
                    });
                }
            }
        }
    }
    for activation in Activation::ALL {
        cases.push(Case::ActivationForward(activation));
        cases.push(Case::ActivationBackward(activation));
    }
    for (rows, cols) in [(1, 1), (33, 17), (64, 512)] {
        cases.push(Case::BiasAdd { rows, cols });
        cases.push(Case::ColumnSums { rows, cols });
    }
    for loss in Loss::ALL {
        cases.push(Case::LossValue(loss));
        cases.push(Case::LossGradient(loss));
    }
    for kind in OptimizerKind::ALL {
        for regularization in [Regularization::L1, Regularization::L2] {
            cases.push(Case::Optimizer(kind, regularization));
        }
    }
    cases
}

#[test]
fn every_kernel_matches_the_cpu_engine() {
    let context = GpuContext::new_blocking().unwrap_or_else(|error| match error {
        GpuError::NoAdapter(reason) => panic!(
            "no GPU adapter: install mesa-vulkan-drivers (cargo xtask setup does) or run on a \
             machine with a GPU\nwgpu: {reason}"
        ),
        other => panic!("{other}"),
    });
    let kernels = Kernels::new_blocking(&context).expect("the kernels compile");
    let gpu = Gpu { context, kernels };
    eprintln!("GPU parity on {}", gpu.context.description());

    let mut failures = Vec::new();
    for (index, case) in table().into_iter().enumerate() {
        let mut rng = SeededRng::new(1000 + index as u64);
        let outcome = run(&gpu, case, &mut rng);
        let status = match &outcome {
            Ok(error) if *error < TOLERANCE => "ok",
            _ => "FAIL",
        };
        let shown = match &outcome {
            Ok(error) => format!("{error:.2e}"),
            Err(error) => error.to_string(),
        };
        eprintln!("{status:>4}  {shown:>9}  {case:?}");
        if status != "ok" {
            failures.push(format!("{case:?}: {shown}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} GPU kernels differ from the CPU engine by more than {TOLERANCE}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run(gpu: &Gpu, case: Case, rng: &mut SeededRng) -> Result<f64, GpuError> {
    match case {
        Case::Matmul {
            m,
            k,
            n,
            a_transposed,
            b_transposed,
            accumulate,
        } => {
            let a_shape = if a_transposed { [k, m] } else { [m, k] };
            let b_shape = if b_transposed { [n, k] } else { [k, n] };
            let a = random(rng, &a_shape, -1.0, 1.0);
            let b = random(rng, &b_shape, -1.0, 1.0);
            let mut expected = random(rng, &[m, n], -1.0, 1.0);
            let out = gpu.upload(&expected);
            matmul(
                Operand::new(a.data(), a_shape[0], a_shape[1], a_transposed),
                Operand::new(b.data(), b_shape[0], b_shape[1], b_transposed),
                expected.data_mut(),
                accumulate,
            );
            let (a, b) = (gpu.upload(&a), gpu.upload(&b));
            let operand = |tensor, transposed| MatmulOperand { tensor, transposed };
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.matmul(
                operand(&a, a_transposed),
                operand(&b, b_transposed),
                &out,
                accumulate,
            )?;
            commands.submit();
            compare(&gpu.read(&out)?, &expected)
        }
        Case::ActivationForward(activation) => {
            let x = random(rng, &[1031], -4.0, 4.0);
            let mut expected = Tensor::zeros(&[1031]);
            activation.apply_slice(x.data(), expected.data_mut());
            let (x, y) = (gpu.upload(&x), GpuTensor::zeros(&gpu.context, &[1031]));
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.activation_forward(activation, &x, &y)?;
            commands.submit();
            compare(&gpu.read(&y)?, &expected)
        }
        Case::ActivationBackward(activation) => {
            let x = random(rng, &[1031], -4.0, 4.0);
            let mut y = Tensor::zeros(&[1031]);
            activation.apply_slice(x.data(), y.data_mut());
            let grad_y = random(rng, &[1031], -1.0, 1.0);
            // A non-zero starting gradient: the backward pass accumulates.
            let mut expected = random(rng, &[1031], -1.0, 1.0);
            let grad_x = gpu.upload(&expected);
            activation.backward_slice(x.data(), y.data(), grad_y.data(), expected.data_mut());
            let (x, y, grad_y) = (gpu.upload(&x), gpu.upload(&y), gpu.upload(&grad_y));
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.activation_backward(activation, &x, &y, &grad_y, &grad_x)?;
            commands.submit();
            compare(&gpu.read(&grad_x)?, &expected)
        }
        Case::BiasAdd { rows, cols } | Case::ColumnSums { rows, cols } => {
            let x = random(rng, &[rows, cols], -1.0, 1.0);
            let bias = random(rng, &[cols], -1.0, 1.0);
            let upstream = random(rng, &[rows, cols], -1.0, 1.0);
            let (sum, grad_bias) = bias_add_on_the_tape(&x, &bias, &upstream);
            let out = GpuTensor::zeros(&gpu.context, &[rows, cols]);
            let gpu_grad_bias = GpuTensor::zeros(&gpu.context, &[cols]);
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.add_bias(&gpu.upload(&x), &gpu.upload(&bias), &out)?;
            commands.column_sums(&gpu.upload(&upstream), &gpu_grad_bias)?;
            commands.submit();
            if matches!(case, Case::BiasAdd { .. }) {
                compare(&gpu.read(&out)?, &sum)
            } else {
                compare(&gpu.read(&gpu_grad_bias)?, &grad_bias)
            }
        }
        Case::LossValue(loss) | Case::LossGradient(loss) => {
            let (prediction, target) = loss_inputs(rng, loss, 33, 7);
            let (gpu_prediction, gpu_target) = (gpu.upload(&prediction), gpu.upload(&target));
            let mut commands = gpu.kernels.begin(&gpu.context);
            if matches!(case, Case::LossValue(_)) {
                let expected = loss.value(prediction.data(), target.data(), 7) as f32;
                let value = GpuTensor::zeros(&gpu.context, &[1]);
                commands.loss_value(loss, &gpu_prediction, &gpu_target, &value)?;
                commands.submit();
                compare(&gpu.read(&value)?, &Tensor::scalar(expected))
            } else {
                let upstream = 0.7;
                let mut expected = random(rng, &[33, 7], -0.1, 0.1);
                let grad = gpu.upload(&expected);
                let (p, y) = (prediction.data(), target.data());
                loss.gradient(p, y, 7, upstream, expected.data_mut());
                commands.loss_gradient(loss, &gpu_prediction, &gpu_target, upstream, &grad)?;
                commands.submit();
                compare(&gpu.read(&grad)?, &expected)
            }
        }
        Case::Optimizer(kind, regularization) => optimizer_case(gpu, rng, kind, regularization),
    }
}

/// `x + bias` and the bias gradient of `sum((x + bias) * upstream)` (the column sums of
/// `upstream`), by the engine's tape.
fn bias_add_on_the_tape(x: &Tensor, bias: &Tensor, upstream: &Tensor) -> (Tensor, Tensor) {
    let mut params = Params::new();
    let bias_id = params.add(bias.clone(), ParamRole::Bias);
    let mut tape = Tape::new();
    let x_node = tape.input(x.shape());
    let upstream_node = tape.input(upstream.shape());
    let bias_node = tape.parameter(&params, bias_id).unwrap();
    let sum = tape.add_bias(x_node, bias_node).unwrap();
    let product = tape.mul(sum, upstream_node).unwrap();
    let total = tape.sum(product).unwrap();
    tape.set_input(x_node, x).unwrap();
    tape.set_input(upstream_node, upstream).unwrap();
    tape.forward(&params).unwrap();
    tape.backward(total, &mut params).unwrap();
    (tape.value(sum).clone(), params.grad(bias_id).clone())
}

/// Predictions (or logits) and targets of the kind each loss is used with.
fn loss_inputs(rng: &mut SeededRng, loss: Loss, rows: usize, cols: usize) -> (Tensor, Tensor) {
    let prediction = random(rng, &[rows, cols], -3.0, 3.0);
    let target = match loss {
        Loss::BinaryCrossEntropy => {
            let labels = (0..rows * cols).map(|_| rng.below(2) as f32).collect();
            Tensor::from_vec(&[rows, cols], labels).unwrap()
        }
        Loss::SoftmaxCrossEntropy => {
            let mut one_hot = Tensor::zeros(&[rows, cols]);
            for row in 0..rows {
                one_hot.set(row, rng.below(cols), 1.0);
            }
            one_hot
        }
        _ => random(rng, &[rows, cols], -3.0, 3.0),
    };
    (prediction, target)
}

/// Three steps of `kind` with a weight penalty on a weight matrix and a bias, from the same
/// gradients on both engines.
fn optimizer_case(
    gpu: &Gpu,
    rng: &mut SeededRng,
    kind: OptimizerKind,
    regularization: Regularization,
) -> Result<f64, GpuError> {
    let config = OptimizerConfig::new(kind, 0.05);
    let rate = 0.01;
    let shapes: [(&[usize], ParamRole); 2] =
        [(&[17, 9], ParamRole::Weight), (&[9], ParamRole::Bias)];
    let mut params = Params::new();
    for (shape, role) in shapes {
        params.add(random(rng, shape, -1.0, 1.0), role);
    }
    let initial = params.clone();
    let values: Vec<GpuTensor> = params
        .ids()
        .map(|id| gpu.upload(params.value(id)))
        .collect();
    let grads: Vec<GpuTensor> = params.ids().map(|id| gpu.upload(params.grad(id))).collect();
    let mut cpu = Optimizer::new(config);
    let mut gpu_optimizer = GpuOptimizer::new(config);
    for _ in 0..3 {
        for (id, grad) in params.ids().zip(&grads) {
            let gradient = random(rng, params.value(id).shape(), -1.0, 1.0);
            grad.write(&gpu.context, &gradient)?;
            params.grad_mut(id).copy_from(&gradient);
        }
        regularization.add_gradient(&mut params, rate);
        cpu.step(&mut params);

        let gpu_params: Vec<GpuParam<'_>> = params
            .ids()
            .map(|id| GpuParam {
                value: &values[id.0],
                grad: &grads[id.0],
                role: params.role(id),
            })
            .collect();
        let mut commands = gpu.kernels.begin(&gpu.context);
        gpu_optimizer.step(
            &gpu.context,
            &mut commands,
            &gpu_params,
            regularization,
            rate,
        )?;
        commands.submit();
    }
    // Compare the change the steps made (the parameters themselves are much larger).
    let mut worst: f64 = 0.0;
    for (id, value) in params.ids().zip(&values) {
        let start = initial.value(id).data();
        let change = |data: &[f32]| -> Tensor {
            let delta = data.iter().zip(start).map(|(v, s)| v - s).collect();
            Tensor::from_vec(&[start.len()], delta).unwrap()
        };
        let got = change(gpu.read(value)?.data());
        let expected = change(params.value(id).data());
        worst = worst.max(compare(&got, &expected)?);
    }
    Ok(worst)
}

fn random(rng: &mut SeededRng, shape: &[usize], low: f32, high: f32) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| rng.uniform_range(low, high)).collect();
    Tensor::from_vec(shape, data).unwrap()
}

/// `max |got - expected| / max |expected|`.
fn compare(got: &Tensor, expected: &Tensor) -> Result<f64, GpuError> {
    if got.len() != expected.len() {
        return Err(GpuError::Shape(format!(
            "read back {:?}, expected {:?}",
            got.shape(),
            expected.shape()
        )));
    }
    let pairs = got.data().iter().zip(expected.data());
    let difference = pairs
        .map(|(&g, &e)| (f64::from(g) - f64::from(e)).abs())
        .fold(0.0, f64::max);
    let scale = expected
        .data()
        .iter()
        .map(|&e| f64::from(e).abs())
        .fold(0.0, f64::max);
    if got.data().iter().any(|v| !v.is_finite()) {
        return Ok(f64::INFINITY);
    }
    Ok(difference / scale.max(f64::MIN_POSITIVE))
}
