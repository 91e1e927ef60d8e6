//! The batch normalisation layer, over the features of vectors (BatchNorm1d) or the channels of
//! feature maps (BatchNorm2d): the [op](super::ops::NormStatistics) normalises, this file keeps
//! its parameters and running statistics.
//!
//! γ (starts at 1) and β (starts at 0) are learned. The running mean (starts at 0) and running
//! variance (starts at 1) live in the same [`Params`] with the role
//! [`ParamRole::RunningStatistic`], so they are copied, saved and restored with the weights while
//! the optimizers leave them alone. A training tape normalises with each batch's statistics and
//! folds them into the running ones, `running = (1 - momentum) · running + momentum · batch`, with
//! the batch variance unbiased as in PyTorch; an evaluation tape normalises with the running ones.

use super::error::EngineError;
use super::model_tape::Mode;
use super::ops::{NormStatistics, Op};
use super::params::{ParamId, ParamRole, Params};
use super::tape::{NodeId, Tape};
use super::tensor::Tensor;

/// How far each training batch moves the running statistics (PyTorch's default).
pub const MOMENTUM: f32 = 0.1;

/// A batch normalisation: ids of its tensors in a [`Params`] store, one value per feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchNorm {
    gamma: ParamId,
    beta: ParamId,
    running_mean: ParamId,
    running_variance: ParamId,
}

/// The tape nodes of one batch normalisation, with the running statistics it reads or updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchNormNodes {
    /// `γ x̂ + β`.
    pub output: NodeId,
    pub running_mean: ParamId,
    pub running_variance: ParamId,
}

impl BatchNorm {
    /// Adds γ, β and the running statistics of `features` features to `params`.
    pub fn init(features: usize, params: &mut Params) -> BatchNorm {
        BatchNorm {
            // γ is a scale, not a weight: an L1/L2 penalty would pull it towards 0 and shrink
            // the normalised values, so it takes the role that regularization skips.
            gamma: params.add(Tensor::full(&[features], 1.0), ParamRole::Other),
            beta: params.add(Tensor::zeros(&[features]), ParamRole::Bias),
            running_mean: params.add(Tensor::zeros(&[features]), ParamRole::RunningStatistic),
            running_variance: params
                .add(Tensor::full(&[features], 1.0), ParamRole::RunningStatistic),
        }
    }

    /// The scale γ, `[features]`.
    pub fn gamma(&self) -> ParamId {
        self.gamma
    }

    /// The shift β, `[features]`.
    pub fn beta(&self) -> ParamId {
        self.beta
    }

    pub fn running_mean(&self) -> ParamId {
        self.running_mean
    }

    /// The running (unbiased) variance.
    pub fn running_variance(&self) -> ParamId {
        self.running_variance
    }

    /// Records the normalisation of `x` (`[n, features]` or `[n, channels, h, w]`) for `mode`.
    pub fn record(
        &self,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        mode: Mode,
    ) -> Result<BatchNormNodes, EngineError> {
        let gamma = tape.parameter(params, self.gamma)?;
        let beta = tape.parameter(params, self.beta)?;
        let output = match mode {
            Mode::Training => tape.batch_norm(x, gamma, beta)?,
            Mode::Evaluation => {
                let mean = tape.parameter(params, self.running_mean)?;
                let variance = tape.parameter(params, self.running_variance)?;
                tape.batch_norm_with_running_statistics(x, gamma, beta, mean, variance)?
            }
        };
        Ok(BatchNormNodes {
            output,
            running_mean: self.running_mean,
            running_variance: self.running_variance,
        })
    }
}

impl BatchNormNodes {
    /// Moves the running statistics towards those of the batch the last forward pass normalised
    /// (nothing when it normalised with the running statistics themselves). A batch with one
    /// value per feature says nothing about the variance, so the running variance then stays.
    pub fn update_running_statistics(&self, tape: &Tape, params: &mut Params) {
        let node = tape.node(self.output);
        if node.op() != Op::BatchNorm(NormStatistics::Batch) {
            return;
        }
        let batch = &node.scratch().batch_norm;
        let keep = 1.0 - MOMENTUM;
        let running_mean = params.value_mut(self.running_mean).data_mut();
        for (running, &mean) in running_mean.iter_mut().zip(&batch.mean) {
            *running = keep * *running + MOMENTUM * mean;
        }
        if batch.count < 2 {
            return;
        }
        let bessel = batch.count as f32 / (batch.count - 1) as f32;
        let running_variance = params.value_mut(self.running_variance).data_mut();
        for (running, &variance) in running_variance.iter_mut().zip(&batch.variance) {
            *running = keep * *running + MOMENTUM * variance * bessel;
        }
    }
}
