//! `GpuNetwork`: any network (a [`Trainable`]: an image network, the playground's dense model)
//! with its parameters on the GPU, in the order of the CPU model's
//! [`Params`](crate::engine::Params) (batch normalisation's running statistics included), and a
//! [`GpuPass`] per mode and batch size in use.
//!
//! A training pass is the CPU's training tape (`Sequential::record_for(Mode::Training, ..)` with
//! the loss) replayed on the GPU: batch statistics, dropout masks drawn on the CPU, forward to
//! the loss, running statistics, backward. An evaluation pass is the evaluation tape without a
//! loss: running statistics, no dropout, ending in the shown prediction.

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::optimizer::GpuParam;
use super::pass::{GpuParams, GpuPass};
use super::recording::Recording;
use super::trainer::GpuTrainingError;
use super::training_kernels::TrainingKernels;
use crate::engine::{Loss, Mode, ParamRole, Trainable};

/// How many passes (mode and batch size) keep their buffers: a training batch, the last, smaller
/// batch, and the prediction chunks; the least recently used goes.
const KEPT_PASSES: usize = 4;

#[derive(Debug)]
pub struct GpuNetwork<M> {
    /// The CPU model this one was made from: its layers and parameter layout. Its parameter
    /// values are stale; [`GpuNetwork::to_model`] fills them in from the GPU.
    template: M,
    loss: Loss,
    /// How far back in time a training pass's gradients flow (see
    /// [`Sequential::record_truncated`](crate::engine::Sequential::record_truncated)).
    truncation: Option<usize>,
    params: GpuParams,
    /// Most recently used last.
    passes: Vec<(Mode, GpuPass)>,
}

impl<M: Trainable + Clone> GpuNetwork<M> {
    /// Uploads `model`'s parameters, for training with `loss` (which also decides the shown
    /// prediction, as the CPU trainer sets it: probabilities under a cross-entropy).
    /// Training passes cut backpropagation through time every `truncation` steps.
    pub fn upload(
        context: &GpuContext,
        model: &M,
        loss: Loss,
        truncation: Option<usize>,
    ) -> GpuNetwork<M> {
        let params = model.params();
        let mut template = model.clone();
        template.set_output_transform(loss.output_activation());
        GpuNetwork {
            template,
            loss,
            truncation,
            params: GpuParams {
                values: params
                    .ids()
                    .map(|id| GpuTensor::upload(context, params.value(id)))
                    .collect(),
                grads: params
                    .ids()
                    .map(|id| GpuTensor::zeros(context, params.value(id).shape()))
                    .collect(),
                roles: params.ids().map(|id| params.role(id)).collect(),
            },
            passes: Vec::new(),
        }
    }

    /// The CPU model this one was made from (its layers; its weights are the uploaded ones).
    pub fn template(&self) -> &M {
        &self.template
    }

    /// Overwrites the parameters and running statistics with `model`'s, which must have the same
    /// input and layers.
    pub fn write(&self, context: &GpuContext, model: &M) -> Result<(), GpuError> {
        let (mine, theirs) = (self.template.network().config(), model.network().config());
        if mine.input != theirs.input || mine.layers != theirs.layers {
            return Err(GpuError::Shape(format!(
                "a network with layers {:?} on {:?} cannot load the weights of one with layers \
                 {:?} on {:?}",
                mine.layers, mine.input, theirs.layers, theirs.input
            )));
        }
        let params = model.params();
        for (id, value) in params.ids().zip(&self.params.values) {
            value.write(context, params.value(id))?;
        }
        Ok(())
    }

    /// A copy of the CPU model with the GPU's parameters and running statistics, read back in
    /// one transfer.
    pub async fn to_model(
        &self,
        context: &GpuContext,
        training: &TrainingKernels,
    ) -> Result<M, GpuError> {
        let mut model = self.template.clone();
        let packed = GpuTensor::zeros(context, &[model.params().scalar_count()]);
        let mut commands = training.begin(context);
        let mut offset = 0;
        for value in &self.params.values {
            commands.copy(value, &packed, offset)?;
            offset += value.len();
        }
        commands.submit();
        let flat = packed.read(context).await?;
        model
            .params_mut()
            .load_flat(flat.data())
            .map_err(|error| GpuError::Readback(error.to_string()))?;
        Ok(model)
    }

    /// Every parameter with its gradient and role, in the CPU model's order, for the optimiser
    /// (which leaves the running statistics alone).
    pub fn params(&self) -> Vec<GpuParam<'_>> {
        let params = &self.params;
        params
            .values
            .iter()
            .zip(&params.grads)
            .zip(&params.roles)
            .map(|((value, grad), &role)| GpuParam { value, grad, role })
            .collect()
    }

    /// The weight tensors (the ones a penalty applies to).
    pub fn weights(&self) -> impl Iterator<Item = &GpuTensor> {
        let params = &self.params;
        params
            .values
            .iter()
            .zip(&params.roles)
            .filter(|(_, role)| **role == ParamRole::Weight)
            .map(|(value, _)| value)
    }

    /// The index of the pass for `mode` and batches of `rows`, recorded and given buffers on
    /// first use.
    pub(super) fn pass_index(
        &mut self,
        context: &GpuContext,
        mode: Mode,
        rows: usize,
    ) -> Result<usize, GpuTrainingError> {
        let found = self
            .passes
            .iter()
            .position(|(kind, pass)| *kind == mode && pass.rows() == rows);
        let pass = match found {
            Some(index) => self.passes.remove(index),
            None => {
                if self.passes.len() >= KEPT_PASSES {
                    self.passes.remove(0);
                }
                // Training ends in the loss; evaluation (prediction) in the shown output.
                let loss = (mode == Mode::Training).then_some(self.loss);
                let transform = self.loss.output_activation();
                let network = self.template.network();
                let truncation = self.truncation.filter(|_| mode == Mode::Training);
                let recorded = network.record_truncated(mode, rows, transform, loss, truncation)?;
                (mode, GpuPass::new(context, recorded)?)
            }
        };
        self.passes.push(pass);
        Ok(self.passes.len() - 1)
    }

    pub(super) fn pass(&self, index: usize) -> &GpuPass {
        &self.passes[index].1
    }

    pub(super) fn pass_mut(&mut self, index: usize) -> &mut GpuPass {
        &mut self.passes[index].1
    }

    /// Records the gradient computation of a training pass whose batch (and dropout masks) are
    /// uploaded: cleared gradients, forward to the loss, the running statistics' update (after
    /// the forward pass, as the CPU trainer does), backward.
    pub(super) fn record_gradients(
        &self,
        recording: &mut Recording<'_>,
        index: usize,
    ) -> Result<(), GpuError> {
        let pass = self.pass(index);
        pass.clear_gradients(recording.training(), &self.params);
        pass.forward(recording, &self.params)?;
        pass.update_running_statistics(recording, &self.params)?;
        pass.backward(recording, &self.params)
    }

    /// Records the forward pass of pass `index` (to the loss when it has one).
    pub(super) fn record_forward(
        &self,
        recording: &mut Recording<'_>,
        index: usize,
    ) -> Result<(), GpuError> {
        self.pass(index).forward(recording, &self.params)
    }
}
