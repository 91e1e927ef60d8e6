//! Batch normalisation over the features of vectors `[batch, features]` or the channels of
//! feature maps `[batch, channels, height, width]`: shape rule, forward and backward.
//!
//! Each feature's `m` values (the batch, or batch·height·width) are normalised,
//! `x̂ = (x - μ) / sqrt(σ² + ε)`, then scaled and shifted, `y = γ x̂ + β`. With the batch's own
//! statistics (training), μ and σ² (the biased variance) depend on every value of the feature,
//! so the input's gradient carries their derivatives too:
//! `dx = γ / sqrt(σ² + ε) · (dy - mean(dy) - x̂ · mean(dy · x̂))`.
//! With running statistics (evaluation) they are constants and the two means drop out:
//! `dx = γ dy / sqrt(σ² + ε)`. Either way `dγ = Σ dy · x̂` and `dβ = Σ dy`.
//!
//! GPU twin: shader `shaders/batch_norm.wgsl`; launcher `gpu::NormCommands`
//! (`src/gpu/norm_kernels.rs`); parity cases: `tests/gpu_common/norm_cases.rs`.

use serde::{Deserialize, Serialize};

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

/// Added to the variance so that a feature whose values are all equal does not divide by zero
/// (PyTorch's default).
pub const EPSILON: f32 = 1e-5;

/// Which mean and variance a batch normalisation divides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NormStatistics {
    /// The batch's own, per feature (training); inputs `[x, gamma, beta]`.
    Batch,
    /// Averages kept from training batches (evaluation); inputs `[x, gamma, beta, running_mean,
    /// running_variance]`.
    Running,
}

impl NormStatistics {
    pub fn arity(self) -> usize {
        match self {
            NormStatistics::Batch => 3,
            NormStatistics::Running => 5,
        }
    }
}

/// What the forward pass keeps, per feature, for the backward pass and the running averages.
#[derive(Clone, Debug, Default)]
pub struct BatchNormScratch {
    /// Values per feature in the last forward pass (the batch, or batch·height·width).
    pub count: usize,
    /// The mean the last forward pass normalised with.
    pub mean: Vec<f32>,
    /// The variance the last forward pass normalised with (with batch statistics, the biased
    /// one: divided by `count`).
    pub variance: Vec<f32>,
    /// `1 / sqrt(variance + ε)`.
    pub inverse_std: Vec<f32>,
    /// Per-feature sums in f64 (a channel of a batch of 28x28 maps has tens of thousands of
    /// values): of `x`, then of `(x - μ)²`, in forward; of `dy` in backward.
    sum: Vec<f64>,
    /// Backward: `Σ dy · x̂` per feature.
    weighted_sum: Vec<f64>,
}

/// Where the values of a feature lie: runs of `spread` contiguous values (1 for vectors,
/// height·width for feature maps), run `i` belonging to feature `i % features`.
#[derive(Clone, Copy, Debug)]
struct Layout {
    features: usize,
    spread: usize,
}

impl Layout {
    fn of(x: &Tensor) -> Layout {
        let shape = x.shape();
        Layout {
            features: shape.get(1).copied().unwrap_or(0).max(1),
            spread: shape
                .get(2..)
                .map_or(1, |rest| rest.iter().product::<usize>().max(1)),
        }
    }

    /// Every run of `data` with the feature it belongs to, in memory order.
    fn runs<'a>(&self, data: &'a [f32]) -> impl Iterator<Item = (usize, &'a [f32])> {
        let features = self.features;
        data.chunks_exact(self.spread)
            .enumerate()
            .map(move |(index, run)| (index % features, run))
    }
}

pub fn output_shape(inputs: &[&[usize]]) -> Result<OutputShape, EngineError> {
    let x = inputs[0];
    let features = match *x {
        [_, features] | [_, features, _, _] => features,
        _ => {
            return Err(EngineError::shape(
                "batch_norm",
                "a batch of feature vectors [batch, features] or of feature maps [batch, channels, height, width]",
                format!("{x:?}"),
            ));
        }
    };
    let names = ["gamma", "beta", "running mean", "running variance"];
    for (shape, name) in inputs[1..].iter().zip(names) {
        if *shape != [features] {
            return Err(EngineError::shape(
                "batch_norm",
                format!("a {name} of shape [{features}] (one per feature of {x:?})"),
                format!("{shape:?}"),
            ));
        }
    }
    Ok(OutputShape::SameAs(0))
}

/// `y = γ (x - μ) / sqrt(σ² + ε) + β` with μ and σ² taken from the batch or from `inputs[3..5]`.
pub fn forward(
    statistics: NormStatistics,
    inputs: &[&Tensor],
    out: &mut Tensor,
    scratch: &mut BatchNormScratch,
) {
    let x = inputs[0];
    let layout = Layout::of(x);
    scratch.count = x.len() / layout.features;
    match statistics {
        NormStatistics::Batch => batch_statistics(x, layout, scratch),
        NormStatistics::Running => {
            scratch.mean.clear();
            scratch.mean.extend_from_slice(inputs[3].data());
            scratch.variance.clear();
            scratch.variance.extend_from_slice(inputs[4].data());
        }
    }
    scratch.inverse_std.clear();
    let inverse_std = scratch.variance.iter().map(|v| 1.0 / (v + EPSILON).sqrt());
    scratch.inverse_std.extend(inverse_std);
    let (gamma, beta) = (inputs[1].data(), inputs[2].data());
    let out_runs = out.data_mut().chunks_exact_mut(layout.spread);
    for ((feature, run), out_run) in layout.runs(x.data()).zip(out_runs) {
        let (mean, inverse_std) = (scratch.mean[feature], scratch.inverse_std[feature]);
        let (scale, shift) = (gamma[feature], beta[feature]);
        for (y, &x) in out_run.iter_mut().zip(run) {
            *y = scale * (x - mean) * inverse_std + shift;
        }
    }
}

/// Each feature's mean, then its biased variance `Σ (x - μ)² / m` (two passes: subtracting the
/// mean first keeps the squares small).
fn batch_statistics(x: &Tensor, layout: Layout, scratch: &mut BatchNormScratch) {
    let count = scratch.count.max(1) as f64;
    scratch.sum.clear();
    scratch.sum.resize(layout.features, 0.0);
    for (feature, run) in layout.runs(x.data()) {
        scratch.sum[feature] += run.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    scratch.mean.clear();
    scratch
        .mean
        .extend(scratch.sum.iter().map(|&sum| (sum / count) as f32));
    scratch.sum.fill(0.0);
    for (feature, run) in layout.runs(x.data()) {
        let mean = f64::from(scratch.mean[feature]);
        let squares = run.iter().map(|&v| (f64::from(v) - mean).powi(2));
        scratch.sum[feature] += squares.sum::<f64>();
    }
    scratch.variance.clear();
    scratch
        .variance
        .extend(scratch.sum.iter().map(|&sum| (sum / count) as f32));
}

/// Adds the gradient of input `slot` (0: x, 1: gamma, 2: beta; none flows into the running
/// statistics). Reads the statistics the forward pass left in `scratch`.
pub fn backward(
    slot: usize,
    statistics: NormStatistics,
    inputs: &[&Tensor],
    upstream: &Tensor,
    grad: &mut Tensor,
    scratch: &mut BatchNormScratch,
) {
    let x = inputs[0];
    let layout = Layout::of(x);
    upstream_sums(x, upstream, layout, scratch);
    match slot {
        0 => {
            let count = scratch.count.max(1) as f64;
            let gamma = inputs[1].data();
            let upstream_runs = upstream.data().chunks_exact(layout.spread);
            let grad_runs = grad.data_mut().chunks_exact_mut(layout.spread);
            for (((feature, run), upstream_run), grad_run) in
                layout.runs(x.data()).zip(upstream_runs).zip(grad_runs)
            {
                let (mean, inverse_std) = (scratch.mean[feature], scratch.inverse_std[feature]);
                // Through μ and σ², every value of the feature moves every output of it.
                let (mean_upstream, mean_weighted) = match statistics {
                    NormStatistics::Batch => (
                        (scratch.sum[feature] / count) as f32,
                        (scratch.weighted_sum[feature] / count) as f32,
                    ),
                    NormStatistics::Running => (0.0, 0.0),
                };
                let scale = gamma[feature] * inverse_std;
                for ((g, &x), &dy) in grad_run.iter_mut().zip(run).zip(upstream_run) {
                    let normalized = (x - mean) * inverse_std;
                    *g += scale * (dy - mean_upstream - normalized * mean_weighted);
                }
            }
        }
        1 => {
            for (g, &sum) in grad.data_mut().iter_mut().zip(&scratch.weighted_sum) {
                *g += sum as f32;
            }
        }
        2 => {
            for (g, &sum) in grad.data_mut().iter_mut().zip(&scratch.sum) {
                *g += sum as f32;
            }
        }
        _ => {}
    }
}

/// `Σ dy` into `scratch.sum` and `Σ dy · x̂` into `scratch.weighted_sum`, per feature.
fn upstream_sums(x: &Tensor, upstream: &Tensor, layout: Layout, scratch: &mut BatchNormScratch) {
    scratch.sum.clear();
    scratch.sum.resize(layout.features, 0.0);
    scratch.weighted_sum.clear();
    scratch.weighted_sum.resize(layout.features, 0.0);
    let upstream_runs = upstream.data().chunks_exact(layout.spread);
    for ((feature, run), upstream_run) in layout.runs(x.data()).zip(upstream_runs) {
        let (mean, inverse_std) = (scratch.mean[feature], scratch.inverse_std[feature]);
        for (&x, &dy) in run.iter().zip(upstream_run) {
            let normalized = (x - mean) * inverse_std;
            scratch.sum[feature] += f64::from(dy);
            scratch.weighted_sum[feature] += f64::from(dy * normalized);
        }
    }
}
