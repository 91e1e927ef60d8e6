//! The dense kernels' cases (`src/gpu/kernels.rs`, `src/gpu/optimizer.rs`,
//! `src/gpu/tensor_kernels.rs`): matmul with every transpose and both tiles, bias add and column
//! sums, every activation and loss forward and backward, every optimiser with L1 and L2, and the
//! sum, product, slice and concatenation of tensors with their gradients, each against the CPU
//! engine's own function.
//!
//! The error of a case is `max |gpu - cpu| / max |cpu|` over the compared values (for the
//! optimisers: over the change the steps made to the parameters).

use neural_playground::engine::gemm::{Operand, matmul};
use neural_playground::engine::ops::{concat_copy, slice_copy};
use neural_playground::engine::{
    Activation, Loss, Op, Optimizer, OptimizerConfig, OptimizerKind, ParamRole, Params,
    Regularization, Scratch, SeededRng, Tape, Tensor, clip_gradients,
};
use neural_playground::gpu::{
    GpuContext, GpuError, GpuOptimizer, GpuParam, GpuTensor, Kernels, MatmulOperand, MatmulTile,
};

use super::{Gpu, Report, compare, random};

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub enum Case {
    Matmul {
        m: usize,
        k: usize,
        n: usize,
        a_transposed: bool,
        b_transposed: bool,
        accumulate: bool,
        tile: MatmulTile,
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
    /// An update after the gradients are clipped to a global norm (`clip_gradients`).
    ClippedOptimizer(OptimizerKind),
    /// `a + b` and `a * b` (`Op::Add`, `Op::Mul`): the value and both inputs' gradients.
    Add {
        len: usize,
    },
    Multiply {
        len: usize,
    },
    /// `present ? new : previous` row by row (`Op::Carry`) on `rows` rows of `cols`: the value
    /// and both states' gradients.
    Carry {
        rows: usize,
        cols: usize,
    },
    /// An LSTM step's three ops (`Op::LstmGates`, `Op::LstmCell`, `Op::LstmState`) on `rows`
    /// rows of `hidden` values, with or without a previous cell state (`first`): each value and
    /// each gradient.
    Lstm {
        rows: usize,
        hidden: usize,
        first: bool,
    },
    /// `a · factor` and `a + factor` (`Op::Scale`, `Op::AddScalar`): the value and the input's
    /// gradient.
    Scale {
        len: usize,
        factor: f32,
    },
    AddScalar {
        len: usize,
        factor: f32,
    },
    /// `Op::Slice` of a `[2, 3, 5]`-like tensor: the value and the input's gradient.
    Slice {
        shape: [usize; 3],
        axis: usize,
        start: usize,
        len: usize,
    },
    /// `Op::Concat` of `a` and a `b` of `b_len` entries along `axis`: the value and both
    /// gradients.
    Concat {
        a: [usize; 3],
        b_len: usize,
        axis: usize,
    },
}

pub fn table() -> Vec<Case> {
    let mut cases = Vec::new();
    let square = [(1, 1, 1), (33, 17, 29), (64, 784, 512), (7, 40, 3)];
    // The wide tile (where every stored row is a multiple of four floats): smaller than one
    // block, 2 x 3 blocks with ragged edges and a depth that is not a multiple of its step of
    // 16, an odd depth (a read transposed, b not: the only way it fits), and split along k
    // (`SplitAlongK`): into 3 parts, the last ragged, and into 10 (the MLP's first layer).
    let wide = [
        (36, 20, 28),
        (132, 36, 260),
        (132, 37, 260),
        (36, 200, 28),
        (64, 784, 512),
    ];
    let shapes = (square
        .into_iter()
        .map(|shape| (shape, MatmulTile::Square64)))
    .chain(wide.into_iter().map(|shape| (shape, MatmulTile::Wide128)));
    for ((m, k, n), tile) in shapes {
        for a_transposed in [false, true] {
            for b_transposed in [false, true] {
                let a_row = if a_transposed { m } else { k };
                let b_row = if b_transposed { k } else { n };
                let fits = [a_row, b_row, n].iter().all(|cols| cols % 4 == 0);
                if tile == MatmulTile::Wide128 && !fits {
                    continue;
                }
                for accumulate in [false, true] {
                    cases.push(Case::Matmul {
                        m,
                        k,
                        n,
                        a_transposed,
                        b_transposed,
                        accumulate,
                        tile,
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
    for kind in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        cases.push(Case::ClippedOptimizer(kind));
    }
    for len in [1, 1031, 70_000] {
        cases.push(Case::Add { len });
        cases.push(Case::Multiply { len });
        cases.push(Case::Scale { len, factor: -1.0 });
        cases.push(Case::Scale { len, factor: 0.37 });
        cases.push(Case::AddScalar { len, factor: 1.5 });
    }
    for (rows, cols) in [(1, 1), (7, 5), (300, 257)] {
        cases.push(Case::Carry { rows, cols });
    }
    for (rows, hidden, first) in [(1, 1, true), (3, 5, false), (64, 128, false), (7, 3, true)] {
        cases.push(Case::Lstm {
            rows,
            hidden,
            first,
        });
    }
    // Every axis, from the start, the middle and to the end; a run of one entry.
    for (axis, start, len) in [(0, 1, 2), (1, 0, 1), (1, 2, 3), (2, 3, 4), (2, 0, 7)] {
        let shape = [3, 5, 7];
        cases.push(Case::Slice {
            shape,
            axis,
            start,
            len,
        });
    }
    for axis in 0..3 {
        cases.push(Case::Concat {
            a: [4, 3, 6],
            b_len: 5,
            axis,
        });
    }
    // A recurrent cell's `[x_t, h_t-1]`: a batch of 64 rows, 1 input and 128 hidden values.
    cases.push(Case::Concat {
        a: [1, 64, 1],
        b_len: 128,
        axis: 2,
    });
    cases
}

/// Runs every case of the table on `context` and panics listing those over the tolerance.
pub async fn check(context: GpuContext) {
    let kernels = Kernels::new(&context).await.expect("the kernels compile");
    let gpu = Gpu { context, kernels };
    let mut report = Report::new("GPU kernel parity", &gpu.context, &["error"]);
    for (index, case) in table().into_iter().enumerate() {
        let mut rng = SeededRng::new(1000 + index as u64);
        let outcome = run(&gpu, case, &mut rng).await;
        report.case(format!("{case:?}"), outcome.map(|error| vec![error]));
    }
    report.finish();
}

async fn run(gpu: &Gpu<Kernels>, case: Case, rng: &mut SeededRng) -> Result<f64, GpuError> {
    match case {
        Case::Matmul {
            m,
            k,
            n,
            a_transposed,
            b_transposed,
            accumulate,
            tile,
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
            commands.matmul_tiled(
                operand(&a, a_transposed),
                operand(&b, b_transposed),
                &out,
                accumulate,
                tile,
            )?;
            commands.submit();
            Ok(compare(&gpu.read(&out).await?, &expected))
        }
        Case::ActivationForward(activation) => {
            let x = random(rng, &[1031], -4.0, 4.0);
            let mut expected = Tensor::zeros(&[1031]);
            activation.apply_slice(x.data(), expected.data_mut());
            let (x, y) = (gpu.upload(&x), gpu.zeros(&[1031]));
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.activation_forward(activation, &x, &y)?;
            commands.submit();
            Ok(compare(&gpu.read(&y).await?, &expected))
        }
        Case::ActivationBackward(activation) => {
            let x = random(rng, &[1031], -4.0, 4.0);
            let mut y = Tensor::zeros(&[1031]);
            activation.apply_slice(x.data(), y.data_mut());
            let grad_y = random(rng, &[1031], -1.0, 1.0);
            // A non-zero starting gradient: the backward pass accumulates.
            let mut expected = random(rng, &[1031], -1.0, 1.0);
            let grad_x = gpu.upload(&expected);
            activation.backward_slice(
                x.data(),
                y.data(),
                grad_y.data(),
                expected.data_mut(),
                false,
            );
            let (x, y, grad_y) = (gpu.upload(&x), gpu.upload(&y), gpu.upload(&grad_y));
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.activation_backward(activation, &x, &y, &grad_y, &grad_x)?;
            commands.submit();
            Ok(compare(&gpu.read(&grad_x).await?, &expected))
        }
        Case::BiasAdd { rows, cols } | Case::ColumnSums { rows, cols } => {
            let x = random(rng, &[rows, cols], -1.0, 1.0);
            let bias = random(rng, &[cols], -1.0, 1.0);
            let upstream = random(rng, &[rows, cols], -1.0, 1.0);
            let (sum, grad_bias) = bias_add_on_the_tape(&x, &bias, &upstream);
            let out = gpu.zeros(&[rows, cols]);
            let gpu_grad_bias = gpu.zeros(&[cols]);
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.add_bias(&gpu.upload(&x), &gpu.upload(&bias), &out)?;
            commands.column_sums(&gpu.upload(&upstream), &gpu_grad_bias)?;
            commands.submit();
            if matches!(case, Case::BiasAdd { .. }) {
                Ok(compare(&gpu.read(&out).await?, &sum))
            } else {
                Ok(compare(&gpu.read(&gpu_grad_bias).await?, &grad_bias))
            }
        }
        Case::LossValue(loss) | Case::LossGradient(loss) => {
            let (prediction, target) = loss_inputs(rng, loss, 33, 7);
            let (gpu_prediction, gpu_target) = (gpu.upload(&prediction), gpu.upload(&target));
            let mut commands = gpu.kernels.begin(&gpu.context);
            if matches!(case, Case::LossValue(_)) {
                let expected = loss.value(prediction.data(), target.data(), 7) as f32;
                let value = gpu.zeros(&[1]);
                commands.loss_value(loss, &gpu_prediction, &gpu_target, &value)?;
                commands.submit();
                let expected = Tensor::from_vec(&[1], vec![expected]).unwrap();
                Ok(compare(&gpu.read(&value).await?, &expected))
            } else {
                let upstream = 0.7;
                let mut expected = random(rng, &[33, 7], -0.1, 0.1);
                let grad = gpu.upload(&expected);
                let (p, y) = (prediction.data(), target.data());
                loss.gradient(p, y, 7, upstream, expected.data_mut());
                commands.loss_gradient(loss, &gpu_prediction, &gpu_target, upstream, &grad)?;
                commands.submit();
                Ok(compare(&gpu.read(&grad).await?, &expected))
            }
        }
        Case::Optimizer(kind, regularization) => {
            optimizer_case(gpu, rng, kind, regularization, None).await
        }
        Case::ClippedOptimizer(kind) => {
            optimizer_case(gpu, rng, kind, Regularization::L2, Some(0.5)).await
        }
        Case::Add { len } => binary_case(gpu, rng, Op::Add, len).await,
        Case::Multiply { len } => binary_case(gpu, rng, Op::Mul, len).await,
        Case::Carry { rows, cols } => carry_case(gpu, rng, rows, cols).await,
        Case::Lstm {
            rows,
            hidden,
            first,
        } => lstm_case(gpu, rng, rows, hidden, first).await,
        Case::Scale { len, factor } => unary_case(gpu, rng, Op::Scale(factor), len).await,
        Case::AddScalar { len, factor } => unary_case(gpu, rng, Op::AddScalar(factor), len).await,
        Case::Slice {
            shape,
            axis,
            start,
            len,
        } => {
            let x = random(rng, &shape, -1.0, 1.0);
            let op = Op::Slice { axis, start, len };
            let out_shape = op.output_shape(&[&shape]).unwrap();
            let out_shape = out_shape.resolve(&[&shape], &mut [0; 8]).to_vec();
            let upstream = random(rng, &out_shape, -1.0, 1.0);
            let (value, grads) = on_the_engine(op, &[&x], &upstream, rng);
            let copy = slice_copy(axis, start, len, &shape);
            let (gpu_x, out) = (gpu.upload(&x), gpu.zeros(&out_shape));
            let grad = gpu.upload(&grads[0].0);
            let mut commands = gpu.kernels.begin(&gpu.context);
            commands.copy_along_axis(copy, &gpu_x, &out, false)?;
            commands.copy_along_axis(copy.reversed(), &gpu.upload(&upstream), &grad, true)?;
            commands.submit();
            let value_error = compare(&gpu.read(&out).await?, &value);
            Ok(value_error.max(compare(&gpu.read(&grad).await?, &grads[0].1)))
        }
        Case::Concat { a, b_len, axis } => {
            let mut b_shape = a;
            b_shape[axis] = b_len;
            let (a_value, b_value) = (random(rng, &a, -1.0, 1.0), random(rng, &b_shape, -1.0, 1.0));
            let op = Op::Concat { axis };
            let mut out_shape = a;
            out_shape[axis] += b_len;
            let upstream = random(rng, &out_shape, -1.0, 1.0);
            let (value, grads) = on_the_engine(op, &[&a_value, &b_value], &upstream, rng);
            let parts = [gpu.upload(&a_value), gpu.upload(&b_value)];
            let gpu_grads = [gpu.upload(&grads[0].0), gpu.upload(&grads[1].0)];
            let (out, gpu_upstream) = (gpu.zeros(&out_shape), gpu.upload(&upstream));
            let mut commands = gpu.kernels.begin(&gpu.context);
            for slot in 0..2 {
                let copy = concat_copy(axis, slot, &a, &b_shape);
                commands.copy_along_axis(copy, &parts[slot], &out, false)?;
                commands.copy_along_axis(copy.reversed(), &gpu_upstream, &gpu_grads[slot], true)?;
            }
            commands.submit();
            let mut worst = compare(&gpu.read(&out).await?, &value);
            for (gpu_grad, (_, expected)) in gpu_grads.iter().zip(&grads) {
                worst = worst.max(compare(&gpu.read(gpu_grad).await?, expected));
            }
            Ok(worst)
        }
    }
}

/// `op`'s value from `inputs`, and for each input the (starting, final) gradient: a random
/// starting gradient, then the op's backward pass with `upstream` added into it, by the
/// engine's own op.
pub fn on_the_engine(
    op: Op,
    inputs: &[&Tensor],
    upstream: &Tensor,
    rng: &mut SeededRng,
) -> (Tensor, Vec<(Tensor, Tensor)>) {
    let shapes: Vec<&[usize]> = inputs.iter().map(|input| input.shape()).collect();
    let shape = op.output_shape(&shapes).unwrap();
    let mut value = Tensor::zeros(shape.resolve(&shapes, &mut [0; 8]));
    let mut scratch = Scratch::default();
    op.forward(inputs, &mut value, &mut scratch);
    let grads = (0..inputs.len())
        .map(|slot| {
            let start = random(rng, inputs[slot].shape(), -1.0, 1.0);
            let mut grad = start.clone();
            op.backward(
                slot,
                inputs,
                &value,
                upstream,
                &mut grad,
                false,
                &mut scratch,
            );
            (start, grad)
        })
        .collect();
    (value, grads)
}

/// `a + b` or `a * b` on `len` values, and both inputs' gradients added into non-zero ones.
async fn binary_case(
    gpu: &Gpu<Kernels>,
    rng: &mut SeededRng,
    op: Op,
    len: usize,
) -> Result<f64, GpuError> {
    let (a, b) = (
        random(rng, &[len], -2.0, 2.0),
        random(rng, &[len], -2.0, 2.0),
    );
    let upstream = random(rng, &[len], -1.0, 1.0);
    let (value, grads) = on_the_engine(op, &[&a, &b], &upstream, rng);
    let (gpu_a, gpu_b, out) = (gpu.upload(&a), gpu.upload(&b), gpu.zeros(&[len]));
    let gpu_upstream = gpu.upload(&upstream);
    let gpu_grads = [gpu.upload(&grads[0].0), gpu.upload(&grads[1].0)];
    let mut commands = gpu.kernels.begin(&gpu.context);
    if op == Op::Add {
        commands.add(&gpu_a, &gpu_b, &out)?;
        commands.accumulate(&gpu_upstream, &gpu_grads[0])?;
        commands.accumulate(&gpu_upstream, &gpu_grads[1])?;
    } else {
        commands.multiply(&gpu_a, &gpu_b, &out)?;
        commands.accumulate_product(&gpu_upstream, &gpu_b, &gpu_grads[0])?;
        commands.accumulate_product(&gpu_upstream, &gpu_a, &gpu_grads[1])?;
    }
    commands.submit();
    let mut worst = compare(&gpu.read(&out).await?, &value);
    for (gpu_grad, (_, expected)) in gpu_grads.iter().zip(&grads) {
        worst = worst.max(compare(&gpu.read(gpu_grad).await?, expected));
    }
    Ok(worst)
}

/// `present ? new : previous` on `rows` rows of `cols` (about half of them present), and both
/// states' gradients added into non-zero ones.
async fn carry_case(
    gpu: &Gpu<Kernels>,
    rng: &mut SeededRng,
    rows: usize,
    cols: usize,
) -> Result<f64, GpuError> {
    let mut present = Tensor::zeros(&[rows, 1]);
    for flag in present.data_mut() {
        *flag = rng.below(2) as f32;
    }
    let (new, previous) = (
        random(rng, &[rows, cols], -2.0, 2.0),
        random(rng, &[rows, cols], -2.0, 2.0),
    );
    let upstream = random(rng, &[rows, cols], -1.0, 1.0);
    let (value, grads) = on_the_engine(Op::Carry, &[&present, &new, &previous], &upstream, rng);
    let gpu_present = gpu.upload(&present);
    let (gpu_new, gpu_previous) = (gpu.upload(&new), gpu.upload(&previous));
    let (out, gpu_upstream) = (gpu.zeros(&[rows, cols]), gpu.upload(&upstream));
    let gpu_grads = [gpu.upload(&grads[1].0), gpu.upload(&grads[2].0)];
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands.carry(&gpu_present, &gpu_new, &gpu_previous, &out)?;
    commands.accumulate_carried(&gpu_present, &gpu_upstream, &gpu_grads[0], true)?;
    commands.accumulate_carried(&gpu_present, &gpu_upstream, &gpu_grads[1], false)?;
    commands.submit();
    let mut worst = compare(&gpu.read(&out).await?, &value);
    for (gpu_grad, (_, expected)) in gpu_grads.iter().zip(&grads[1..]) {
        worst = worst.max(compare(&gpu.read(gpu_grad).await?, expected));
    }
    Ok(worst)
}

/// An LSTM step, op by op: each kernel reads the engine's values of its inputs, and its value
/// and its gradients (added into non-zero ones) are compared with the engine's.
async fn lstm_case(
    gpu: &Gpu<Kernels>,
    rng: &mut SeededRng,
    rows: usize,
    hidden: usize,
    first: bool,
) -> Result<f64, GpuError> {
    let (gates_shape, state_shape) = ([rows, 4 * hidden], [rows, hidden]);
    let sums = random(rng, &gates_shape, -3.0, 3.0);
    let previous = random(rng, &state_shape, -2.0, 2.0);
    let upstream = |rng: &mut SeededRng, shape: &[usize]| random(rng, shape, -1.0, 1.0);
    let gates_upstream = upstream(rng, &gates_shape);
    let (gates, gates_grads) = on_the_engine(Op::LstmGates, &[&sums], &gates_upstream, rng);
    let cell_inputs: Vec<&Tensor> = match first {
        true => vec![&gates],
        false => vec![&gates, &previous],
    };
    let cell_upstream = upstream(rng, &state_shape);
    let (cell, cell_grads) =
        on_the_engine(Op::LstmCell { first }, &cell_inputs, &cell_upstream, rng);
    let state_upstream = upstream(rng, &state_shape);
    let (state, state_grads) = on_the_engine(Op::LstmState, &[&gates, &cell], &state_upstream, rng);

    let [gpu_sums, gpu_gates, gpu_previous, gpu_cell] =
        [&sums, &gates, &previous, &cell].map(|tensor| gpu.upload(tensor));
    let gpu_previous = (!first).then_some(&gpu_previous);
    let outs = [
        gpu.zeros(&gates_shape),
        gpu.zeros(&state_shape),
        gpu.zeros(&state_shape),
    ];
    let grad = |grads: &[(Tensor, Tensor)], slot: usize| gpu.upload(&grads[slot].0);
    let sums_grad = grad(&gates_grads, 0);
    let cell_gates_grad = grad(&cell_grads, 0);
    let previous_grad = (!first).then(|| grad(&cell_grads, 1));
    let (state_gates_grad, state_cell_grad) = (grad(&state_grads, 0), grad(&state_grads, 1));
    let [gates_up, cell_up, state_up] =
        [&gates_upstream, &cell_upstream, &state_upstream].map(|tensor| gpu.upload(tensor));
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands.lstm_gates(&gpu_sums, &outs[0])?;
    commands.lstm_gates_backward(&gpu_gates, &gates_up, &sums_grad)?;
    commands.lstm_cell(&gpu_gates, gpu_previous, &outs[1])?;
    commands.lstm_cell_backward_gates(&gpu_gates, gpu_previous, &cell_up, &cell_gates_grad)?;
    if let Some(previous_grad) = &previous_grad {
        commands.lstm_cell_backward_previous(&gpu_gates, &cell_up, previous_grad)?;
    }
    commands.lstm_state(&gpu_gates, &gpu_cell, &outs[2])?;
    commands.lstm_state_backward_gates(&gpu_cell, &state_up, &state_gates_grad)?;
    commands.lstm_state_backward_cell(&gpu_gates, &gpu_cell, &state_up, &state_cell_grad)?;
    commands.submit();
    let mut pairs = vec![
        (&outs[0], &gates),
        (&outs[1], &cell),
        (&outs[2], &state),
        (&sums_grad, &gates_grads[0].1),
        (&cell_gates_grad, &cell_grads[0].1),
        (&state_gates_grad, &state_grads[0].1),
        (&state_cell_grad, &state_grads[1].1),
    ];
    if let Some(previous_grad) = &previous_grad {
        pairs.push((previous_grad, &cell_grads[1].1));
    }
    let mut worst: f64 = 0.0;
    for (on_gpu, expected) in pairs {
        worst = worst.max(compare(&gpu.read(on_gpu).await?, expected));
    }
    Ok(worst)
}

/// `a · factor` or `a + factor` on `len` values, and the input's gradient added into a non-zero
/// one.
async fn unary_case(
    gpu: &Gpu<Kernels>,
    rng: &mut SeededRng,
    op: Op,
    len: usize,
) -> Result<f64, GpuError> {
    let a = random(rng, &[len], -2.0, 2.0);
    let upstream = random(rng, &[len], -1.0, 1.0);
    let (value, grads) = on_the_engine(op, &[&a], &upstream, rng);
    let (gpu_a, out) = (gpu.upload(&a), gpu.zeros(&[len]));
    let gpu_upstream = gpu.upload(&upstream);
    let gpu_grad = gpu.upload(&grads[0].0);
    let mut commands = gpu.kernels.begin(&gpu.context);
    match op {
        Op::Scale(factor) => {
            commands.scale(factor, &gpu_a, &out)?;
            commands.accumulate_scaled(factor, &gpu_upstream, &gpu_grad)?;
        }
        Op::AddScalar(factor) => {
            commands.shift(factor, &gpu_a, &out)?;
            commands.accumulate(&gpu_upstream, &gpu_grad)?;
        }
        other => panic!("{} is not a unary case", other.name()),
    }
    commands.submit();
    let worst = compare(&gpu.read(&out).await?, &value);
    Ok(worst.max(compare(&gpu.read(&gpu_grad).await?, &grads[0].1)))
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
async fn optimizer_case(
    gpu: &Gpu<Kernels>,
    rng: &mut SeededRng,
    kind: OptimizerKind,
    regularization: Regularization,
    clip_norm: Option<f32>,
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
        if let Some(clip) = clip_norm {
            // Gradients of about 7 in norm: every step is clipped.
            assert!(clip_gradients(&mut params, clip) > 2.0 * clip);
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
            (regularization, rate),
            clip_norm,
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
        let got = change(gpu.read(value).await?.data());
        let expected = change(params.value(id).data());
        worst = worst.max(compare(&got, &expected));
    }
    Ok(worst)
}
