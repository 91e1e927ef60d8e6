//! `StepLosses`: the losses of single training steps, summed on the GPU by the steps themselves
//! and read back, as their mean, only when asked: one readback for any number of steps.

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::trainer::GpuTrainingError;
use crate::engine::{EngineError, Tensor};

#[derive(Debug)]
pub(super) struct StepLosses {
    /// The sum the steps' `accumulate_loss` dispatches add to.
    total: GpuTensor,
    /// Steps added to `total` since the last take.
    unread: u64,
}

impl StepLosses {
    pub(super) fn new(context: &GpuContext) -> StepLosses {
        StepLosses {
            total: GpuTensor::zeros(context, &[1]),
            unread: 0,
        }
    }

    /// The one-value tensor a step adds its loss to.
    pub(super) fn total(&self) -> &GpuTensor {
        &self.total
    }

    /// A step's loss was added to the total.
    pub(super) fn count_step(&mut self) {
        self.unread += 1;
    }

    /// The mean loss of the steps since the last take (NaN or infinite when training diverged);
    /// an error when there was no step.
    pub(super) async fn take_mean(
        &mut self,
        context: &GpuContext,
    ) -> Result<f32, GpuTrainingError> {
        if self.unread == 0 {
            return Err(EngineError::InvalidState(
                "no training step since the loss was last read".to_string(),
            )
            .into());
        }
        let total = self.total.read(context).await?;
        let mean = (f64::from(total.data()[0]) / self.unread as f64) as f32;
        self.unread = 0;
        // Through the queue: lands before the next step's submission.
        self.total.write(context, &Tensor::zeros(&[1]))?;
        Ok(mean)
    }
}
