//! Batch normalisation's and dropout's cases (`src/gpu/norm_kernels.rs`,
//! `shaders/batch_norm.wgsl`, `shaders/dropout.wgsl`) against the engine's tape
//! (`Tape::batch_norm`, `batch_norm_with_running_statistics`, `dropout`) and the running
//! statistics' update (`BatchNormNodes::update_running_statistics`).
//!
//! Each case runs forward, then backward of `sum(y * r)` with a random `r`, on both engines;
//! BatchNorm1d on vectors and BatchNorm2d on feature maps, odd sizes, one value per feature,
//! more features and more values per feature than a workgroup has invocations. The GPU gradient
//! buffers start at random values, so a kernel that overwrote instead of adding would fail.

use neural_playground::engine::{
    BatchNormNodes, NormStatistics, ParamRole, Params, SeededRng, Tape, Tensor,
};
use neural_playground::gpu::{GpuContext, GpuError, GpuNormStatistics, NormKernels};

use super::{Gpu, Report, compare, parameter, plus, random, weighted_sum_backward};

/// Vectors `[n, features]` and feature maps `[n, c, h, w]`.
pub const NORM_SHAPES: [&[usize]; 10] = [
    &[5, 3],
    &[7, 13],
    // One value per feature: the batch variance is 0 and the running variance stays.
    &[1, 4],
    // More features than a workgroup has invocations.
    &[3, 300],
    &[64, 10],
    &[2, 3, 5, 7],
    &[1, 2, 1, 1],
    &[2, 5, 3, 1],
    &[4, 6, 14, 14],
    // 12,544 values per channel.
    &[16, 2, 28, 28],
];

pub const DROPOUT_SHAPES: [&[usize]; 3] = [&[5, 3], &[2, 3, 5, 7], &[64, 10]];

/// Runs every batch norm (training and evaluation) and dropout case on `context` and panics
/// listing those over the tolerance.
pub async fn check(context: GpuContext) {
    let kernels = NormKernels::new(&context)
        .await
        .expect("the norm kernels compile");
    let gpu = Gpu { context, kernels };
    let columns = ["forward", "dx", "dgamma", "dbeta", "r.mean", "r.var"];
    let mut report = Report::new("GPU batch norm/dropout parity", &gpu.context, &columns);
    let mut seed = 4000;
    for shape in NORM_SHAPES {
        for statistics in [NormStatistics::Batch, NormStatistics::Running] {
            seed += 1;
            let mut rng = SeededRng::new(seed);
            let outcome = batch_norm_case(&gpu, shape, statistics, &mut rng).await;
            report.case(format!("batch_norm {shape:?}, {statistics:?}"), outcome);
        }
    }
    for shape in DROPOUT_SHAPES {
        seed += 1;
        let mut rng = SeededRng::new(seed);
        let outcome = dropout_case(&gpu, shape, &mut rng).await;
        report.case(format!("dropout {shape:?}, rate 0.3"), outcome);
    }
    report.finish();
}

/// Errors of the output, the gradients of x, γ and β, and (with batch statistics) the updated
/// running mean and variance.
async fn batch_norm_case(
    gpu: &Gpu<NormKernels>,
    shape: &[usize],
    statistics: NormStatistics,
    rng: &mut SeededRng,
) -> Result<Vec<f64>, GpuError> {
    let features = shape[1];
    // Off-centre values, so that the mean matters.
    let x = random(rng, shape, -1.0, 3.0);
    let gamma = random(rng, &[features], 0.5, 1.5);
    let beta = random(rng, &[features], -0.5, 0.5);
    let mean = random(rng, &[features], -0.5, 1.5);
    let variance = random(rng, &[features], 0.5, 2.0);

    // The engine: forward, backward of sum(y * r), then the running statistics' update.
    let mut tape = Tape::new();
    let mut params = Params::new();
    let (x_id, x_node) = parameter(&mut tape, &mut params, &x);
    let (gamma_id, gamma_node) = parameter(&mut tape, &mut params, &gamma);
    let (beta_id, beta_node) = parameter(&mut tape, &mut params, &beta);
    let mean_id = params.add(mean.clone(), ParamRole::RunningStatistic);
    let variance_id = params.add(variance.clone(), ParamRole::RunningStatistic);
    let y = match statistics {
        NormStatistics::Batch => tape.batch_norm(x_node, gamma_node, beta_node),
        NormStatistics::Running => {
            let mean_node = tape.parameter(&params, mean_id).unwrap();
            let variance_node = tape.parameter(&params, variance_id).unwrap();
            tape.batch_norm_with_running_statistics(
                x_node,
                gamma_node,
                beta_node,
                mean_node,
                variance_node,
            )
        }
    }
    .unwrap();
    let r = weighted_sum_backward(&mut tape, &mut params, y, rng);
    let nodes = BatchNormNodes {
        output: y,
        running_mean: mean_id,
        running_variance: variance_id,
    };
    nodes.update_running_statistics(&tape, &mut params);
    let expected_y = tape.value(y).clone();

    // The GPU, from gradient buffers that already hold something.
    let starts = [shape, &[features], &[features]].map(|shape| random(rng, shape, -0.5, 0.5));
    let [grad_x, grad_gamma, grad_beta] = starts.each_ref().map(|start| gpu.upload(start));
    let (gx, ggamma, gbeta) = (gpu.upload(&x), gpu.upload(&gamma), gpu.upload(&beta));
    let (running_mean, running_variance) = (gpu.upload(&mean), gpu.upload(&variance));
    let saved = GpuNormStatistics::new(&gpu.context, features);
    let out = gpu.zeros(shape);
    let upstream = gpu.upload(&r);
    let mut commands = gpu.kernels.begin(&gpu.context);
    match statistics {
        NormStatistics::Batch => {
            commands.batch_norm_training_forward(&gx, &ggamma, &gbeta, &saved, &out)?;
            commands.batch_norm_update_running(&gx, &saved, &running_mean, &running_variance)?;
        }
        NormStatistics::Running => commands.batch_norm_evaluation_forward(
            &gx,
            &ggamma,
            &gbeta,
            &running_mean,
            &running_variance,
            &saved,
            &out,
        )?,
    }
    commands.batch_norm_backward(
        statistics,
        &gx,
        &upstream,
        &saved,
        Some(&grad_x),
        &grad_gamma,
        &grad_beta,
    )?;
    commands.submit();

    let [start_x, start_gamma, start_beta] = &starts;
    let mut errors = vec![
        compare(&gpu.read(&out).await?, &expected_y),
        compare(&gpu.read(&grad_x).await?, &plus(start_x, params.grad(x_id))),
        compare(
            &gpu.read(&grad_gamma).await?,
            &plus(start_gamma, params.grad(gamma_id)),
        ),
        compare(
            &gpu.read(&grad_beta).await?,
            &plus(start_beta, params.grad(beta_id)),
        ),
    ];
    if statistics == NormStatistics::Batch {
        let updated_mean = gpu.read(&running_mean).await?;
        let updated_variance = gpu.read(&running_variance).await?;
        errors.push(compare(&updated_mean, params.value(mean_id)));
        errors.push(compare(&updated_variance, params.value(variance_id)));
    }
    Ok(errors)
}

/// Errors of the output and of the input gradient, with a mask drawn as the dropout layer draws
/// it (0 or 1 / (1 - rate)).
async fn dropout_case(
    gpu: &Gpu<NormKernels>,
    shape: &[usize],
    rng: &mut SeededRng,
) -> Result<Vec<f64>, GpuError> {
    let rate = 0.3f32;
    let x = random(rng, shape, -1.0, 1.0);
    let count = x.len();
    let kept = 1.0 / (1.0 - rate);
    let mask: Vec<f32> = (0..count)
        .map(|_| if rng.uniform() < rate { 0.0 } else { kept })
        .collect();
    let mask = Tensor::from_vec(shape, mask).unwrap();

    let mut tape = Tape::new();
    let mut params = Params::new();
    let (x_id, x_node) = parameter(&mut tape, &mut params, &x);
    let mask_node = tape.input(shape);
    tape.set_input(mask_node, &mask).unwrap();
    let y = tape.dropout(x_node, mask_node).unwrap();
    let r = weighted_sum_backward(&mut tape, &mut params, y, rng);
    let expected_y = tape.value(y).clone();

    let start = random(rng, shape, -0.5, 0.5);
    let grad_x = gpu.upload(&start);
    let (gx, gmask, upstream) = (gpu.upload(&x), gpu.upload(&mask), gpu.upload(&r));
    let out = gpu.zeros(shape);
    let mut commands = gpu.kernels.begin(&gpu.context);
    commands.dropout_forward(&gx, &gmask, &out)?;
    commands.dropout_backward(&gmask, &upstream, &grad_x)?;
    commands.submit();
    Ok(vec![
        compare(&gpu.read(&out).await?, &expected_y),
        compare(&gpu.read(&grad_x).await?, &plus(&start, params.grad(x_id))),
    ])
}
