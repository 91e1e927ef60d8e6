//! `TrainingKernels`: the pipelines of `shaders/training.wgsl` (batch gathering, weight penalty,
//! epoch-loss bookkeeping, softmax and its gradient), and [`TrainingCommands`], which records them, buffer
//! clears and copies into one command encoder.
//!
//! They live apart from [`super::Kernels`] because they serve the training loop rather than
//! mirror one engine op each; a training step interleaves a `TrainingCommands` submission with a
//! [`super::Commands`] one (the queue runs submissions in order).

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, to_u32};
use super::error::GpuError;
use super::pass_encoder::PassEncoder;
use crate::engine::Regularization;

/// The compiled pipelines of `shaders/training.wgsl`.
#[derive(Debug)]
pub struct TrainingKernels {
    gather_rows: wgpu::ComputePipeline,
    weight_penalty: wgpu::ComputePipeline,
    accumulate_loss: wgpu::ComputePipeline,
    finish_epoch: wgpu::ComputePipeline,
    softmax_rows: wgpu::ComputePipeline,
    softmax_rows_backward: wgpu::ComputePipeline,
}

/// The uniform block shared by every entry point of `training.wgsl` (each reads its own fields).
#[repr(C)]
#[derive(Clone, Copy, Default, Pod, Zeroable)]
struct TrainingParams {
    len: u32,
    cols: u32,
    offset: u32,
    kind: u32,
    accumulate: u32,
    slot: u32,
    weight: f32,
    rate: f32,
}

impl TrainingKernels {
    /// Compiles the shader inside an error scope, so that a rejected shader is reported here,
    /// naming `training.wgsl`, instead of on a later dispatch.
    pub async fn new(context: &GpuContext) -> Result<TrainingKernels, GpuError> {
        let [
            gather_rows,
            weight_penalty,
            accumulate_loss,
            finish_epoch,
            softmax_rows,
            softmax_rows_backward,
        ] = dispatch::compile(
            context,
            "training",
            include_str!("../../shaders/training.wgsl"),
            [
                "gather_rows",
                "weight_penalty",
                "accumulate_loss",
                "finish_epoch",
                "softmax_rows",
                "softmax_rows_backward",
            ],
        )
        .await?;
        Ok(TrainingKernels {
            gather_rows,
            weight_penalty,
            accumulate_loss,
            finish_epoch,
            softmax_rows,
            softmax_rows_backward,
        })
    }

    /// Starts recording; [`TrainingCommands::submit`] sends the recording to the GPU.
    pub fn begin<'a>(&'a self, context: &'a GpuContext) -> TrainingCommands<'a> {
        let encoder = PassEncoder::new(&context.device, "training");
        self.resume(context, encoder)
    }

    /// Goes on recording into `encoder` (another family's, see [`TrainingCommands::into_encoder`]), so
    /// that a whole training step goes to the GPU in one submission.
    pub fn resume<'a>(
        &'a self,
        context: &'a GpuContext,
        encoder: PassEncoder,
    ) -> TrainingCommands<'a> {
        TrainingCommands {
            context,
            kernels: self,
            encoder,
        }
    }
}

/// A list of row indices on the GPU (the epoch's shuffled order), read by `gather_rows`.
#[derive(Debug)]
pub struct GpuIndices {
    buffer: wgpu::Buffer,
    len: usize,
}

impl GpuIndices {
    /// Room for `len` indices, all zero.
    pub fn new(context: &GpuContext, len: usize) -> GpuIndices {
        let buffer = context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("row order"),
            size: (len.max(1) * std::mem::size_of::<u32>()) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        GpuIndices { buffer, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces the indices through the queue: the write lands after the work submitted before
    /// it and before the work submitted after it.
    pub fn write(&self, context: &GpuContext, indices: &[usize]) -> Result<(), GpuError> {
        if indices.len() != self.len {
            return Err(GpuError::Shape(format!(
                "{} row indices for a list of {}",
                indices.len(),
                self.len
            )));
        }
        let values = indices
            .iter()
            .map(|&index| to_u32(index))
            .collect::<Result<Vec<u32>, GpuError>>()?;
        if !values.is_empty() {
            let bytes = bytemuck::cast_slice(&values);
            context.queue.write_buffer(&self.buffer, 0, bytes);
        }
        Ok(())
    }
}

/// Dispatches, clears and copies being recorded into one command encoder.
pub struct TrainingCommands<'a> {
    context: &'a GpuContext,
    kernels: &'a TrainingKernels,
    encoder: PassEncoder,
}

impl TrainingCommands<'_> {
    /// `out = source[order[offset .. offset + rows]]`: a batch's rows of the whole data set.
    pub fn gather_rows(
        &mut self,
        source: &GpuTensor,
        order: &GpuIndices,
        offset: usize,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let cols = source
            .shape()
            .get(1..)
            .map_or(1, |rest| rest.iter().product());
        let source_rows = source.shape().first().copied().unwrap_or(0);
        let rows = out.shape().first().copied().unwrap_or(0);
        if out.len() != rows * cols || offset + rows > order.len() || order.len() > source_rows {
            return Err(GpuError::Shape(format!(
                "gathering {rows} rows from offset {offset} of an order of {} into {:?} from {:?}",
                order.len(),
                out.shape(),
                source.shape()
            )));
        }
        let params = TrainingParams {
            len: to_u32(out.len())?,
            cols: to_u32(cols)?,
            offset: to_u32(offset)?,
            ..TrainingParams::default()
        };
        let bindings = [(1, &order.buffer), (2, &source.buffer), (4, &out.buffer)];
        self.dispatch_linear(&self.kernels.gather_rows, &params, &bindings, params.len);
        Ok(())
    }

    /// `out[0] = rate * penalty(weights)` (`accumulate` false) or `out[0] += ...`
    /// (`Regularization::penalty`, one weight tensor at a time).
    pub fn weight_penalty(
        &mut self,
        regularization: Regularization,
        rate: f32,
        weights: &GpuTensor,
        out: &GpuTensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let kind = match regularization {
            Regularization::None => return Ok(()),
            Regularization::L1 => 1,
            Regularization::L2 => 2,
        };
        check_scalar("a penalty", out)?;
        let params = TrainingParams {
            len: to_u32(weights.len())?,
            kind,
            accumulate: u32::from(accumulate),
            rate,
            ..TrainingParams::default()
        };
        let bindings = [(2, &weights.buffer), (4, &out.buffer)];
        self.dispatch(&self.kernels.weight_penalty, &params, &bindings, (1, 1));
        Ok(())
    }

    /// `total[0] += rows * (loss[0] + penalty[0])`.
    pub fn accumulate_loss(
        &mut self,
        loss: &GpuTensor,
        penalty: &GpuTensor,
        rows: usize,
        total: &GpuTensor,
    ) -> Result<(), GpuError> {
        for tensor in [loss, penalty, total] {
            check_scalar("the loss bookkeeping", tensor)?;
        }
        let params = TrainingParams {
            weight: rows as f32,
            ..TrainingParams::default()
        };
        let bindings = [(2, &loss.buffer), (3, &penalty.buffer), (5, &total.buffer)];
        self.dispatch(&self.kernels.accumulate_loss, &params, &bindings, (1, 1));
        Ok(())
    }

    /// `losses[slot] = total[0] / rows; total[0] = 0`.
    pub fn finish_epoch(
        &mut self,
        total: &GpuTensor,
        rows: usize,
        losses: &GpuTensor,
        slot: usize,
    ) -> Result<(), GpuError> {
        check_scalar("the running loss", total)?;
        if slot >= losses.len() {
            return Err(GpuError::Shape(format!(
                "epoch loss slot {slot} of a list of {}",
                losses.len()
            )));
        }
        let params = TrainingParams {
            slot: to_u32(slot)?,
            // Divided as the CPU divides, in f64, then rounded once.
            weight: (1.0 / rows.max(1) as f64) as f32,
            ..TrainingParams::default()
        };
        let bindings = [(4, &losses.buffer), (5, &total.buffer)];
        self.dispatch(&self.kernels.finish_epoch, &params, &bindings, (1, 1));
        Ok(())
    }

    /// `out = softmax(x)` row by row (`engine::softmax::softmax_rows`).
    pub fn softmax_rows(&mut self, x: &GpuTensor, out: &GpuTensor) -> Result<(), GpuError> {
        let cols = x.shape().last().copied().unwrap_or(1);
        if x.shape() != out.shape() || cols == 0 {
            return Err(GpuError::Shape(format!(
                "softmax of {:?} into {:?}",
                x.shape(),
                out.shape()
            )));
        }
        let params = TrainingParams {
            len: to_u32(x.len() / cols)?,
            cols: to_u32(cols)?,
            ..TrainingParams::default()
        };
        let bindings = [(2, &x.buffer), (4, &out.buffer)];
        self.dispatch_linear(&self.kernels.softmax_rows, &params, &bindings, params.len);
        Ok(())
    }

    /// `grad += y · (upstream - Σ upstream · y)` row by row, from the softmax's output `y`
    /// (`engine::softmax::softmax_rows_backward`).
    pub fn softmax_rows_backward(
        &mut self,
        y: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let cols = y.shape().last().copied().unwrap_or(1);
        if y.shape() != upstream.shape() || y.shape() != grad.shape() || cols == 0 {
            return Err(GpuError::Shape(format!(
                "softmax gradient from {:?} and {:?} into {:?}",
                y.shape(),
                upstream.shape(),
                grad.shape()
            )));
        }
        let params = TrainingParams {
            len: to_u32(y.len() / cols)?,
            cols: to_u32(cols)?,
            ..TrainingParams::default()
        };
        let bindings = [(2, &y.buffer), (3, &upstream.buffer), (4, &grad.buffer)];
        let kernel = &self.kernels.softmax_rows_backward;
        self.dispatch_linear(kernel, &params, &bindings, params.len);
        Ok(())
    }

    /// Sets a tensor to zeros (gradients that the kernels accumulate into).
    pub fn clear(&mut self, tensor: &GpuTensor) {
        self.encoder.encoder().clear_buffer(&tensor.buffer, 0, None);
    }

    /// Copies all of `source` into `destination` from element `offset` on.
    pub fn copy(
        &mut self,
        source: &GpuTensor,
        destination: &GpuTensor,
        offset: usize,
    ) -> Result<(), GpuError> {
        if offset + source.len() > destination.len() {
            return Err(GpuError::Shape(format!(
                "copying {:?} into {:?} at {offset}",
                source.shape(),
                destination.shape()
            )));
        }
        let float = std::mem::size_of::<f32>() as u64;
        self.encoder.encoder().copy_buffer_to_buffer(
            &source.buffer,
            0,
            &destination.buffer,
            offset as u64 * float,
            source.len() as u64 * float,
        );
        Ok(())
    }

    /// Sends everything recorded to the GPU. Nothing waits.
    pub fn submit(self) {
        self.context.queue.submit([self.encoder.finish()]);
    }

    /// Hands the encoder on to another kernel family, to keep recording into it.
    pub fn into_encoder(self) -> PassEncoder {
        self.encoder
    }

    fn dispatch_linear(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &TrainingParams,
        bindings: &[(u32, &wgpu::Buffer)],
        invocations: u32,
    ) {
        dispatch::record_linear(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            bindings,
            invocations,
        );
    }

    /// Binds `params` at binding 0 and each buffer at its binding, then dispatches `groups`.
    fn dispatch(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &TrainingParams,
        bindings: &[(u32, &wgpu::Buffer)],
        groups: (u32, u32),
    ) {
        dispatch::record(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            bindings,
            groups,
        );
    }
}

fn check_scalar(what: &str, tensor: &GpuTensor) -> Result<(), GpuError> {
    if tensor.len() == 1 {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{what} is one value, not {:?}",
            tensor.shape()
        )))
    }
}
