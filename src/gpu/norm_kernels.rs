//! `NormKernels`: the pipelines of the two layers that behave differently in training and in
//! evaluation, `shaders/batch_norm.wgsl` (BatchNorm1d and BatchNorm2d: batch statistics,
//! forward, running statistics, backward) and `shaders/dropout.wgsl` (`x · mask`), and
//! [`NormCommands`], which records them into one command encoder.
//!
//! Shapes are checked with the engine's own rules (`Op::output_shape`), so the GPU refuses what
//! the CPU refuses, in the same words. The backward kernels add into the gradient buffers, as the
//! engine's backward does. Dropout masks are data: draw them on the CPU (the trainer's seeded
//! RNG, as the CPU trainer does) and upload them.

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{MAX_GROUPS, compile, record, record_linear, to_u32};
use super::error::GpuError;
use super::pass_encoder::PassEncoder;
use crate::engine::Op;
use crate::engine::batch_norm::MOMENTUM;
use crate::engine::ops::{BATCH_NORM_EPSILON, NormStatistics};

/// Rows of [`GpuNormStatistics`] (see `batch_norm.wgsl`): mean, variance, 1/sqrt(variance + ε),
/// γ, β, Σ dy, Σ dy·x̂.
const SAVED_ROWS: usize = 7;
const MEAN_ROW: usize = 0;
const VARIANCE_ROW: usize = 1;
const GAMMA_ROW: usize = 3;
const BETA_ROW: usize = 4;

/// The compiled pipelines of `batch_norm.wgsl` and `dropout.wgsl`. Build once per
/// [`GpuContext`].
#[derive(Debug)]
pub struct NormKernels {
    batch_statistics: wgpu::ComputePipeline,
    inverse_std: wgpu::ComputePipeline,
    normalize: wgpu::ComputePipeline,
    update_running: wgpu::ComputePipeline,
    upstream_sums: wgpu::ComputePipeline,
    parameter_grads: wgpu::ComputePipeline,
    input_grad: wgpu::ComputePipeline,
    dropout_forward: wgpu::ComputePipeline,
    dropout_backward: wgpu::ComputePipeline,
}

/// What one batch normalisation keeps per feature between its forward and backward passes (the
/// statistics it normalised with, γ and β, and the backward's sums), on the GPU.
#[derive(Debug)]
pub struct GpuNormStatistics {
    saved: GpuTensor,
    features: usize,
}

impl GpuNormStatistics {
    pub fn new(context: &GpuContext, features: usize) -> GpuNormStatistics {
        GpuNormStatistics {
            saved: GpuTensor::zeros(context, &[SAVED_ROWS, features]),
            features,
        }
    }

    pub fn features(&self) -> usize {
        self.features
    }
}

/// The uniform block of `batch_norm.wgsl` (`NormParams`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct NormParams {
    features: u32,
    spread: u32,
    count: u32,
    len: u32,
    epsilon: f32,
    momentum: f32,
    keep: f32,
    bessel: f32,
    batch_statistics: u32,
    _pad: [u32; 3],
}

/// The uniform block of `dropout.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct DropoutParams {
    len: u32,
    _pad: [u32; 3],
}

impl NormKernels {
    /// Compiles both shaders; a shader the device rejects is reported here, naming its file.
    pub async fn new(context: &GpuContext) -> Result<NormKernels, GpuError> {
        let [
            batch_statistics,
            inverse_std,
            normalize,
            update_running,
            upstream_sums,
            parameter_grads,
            input_grad,
        ] = compile(
            context,
            "batch_norm",
            include_str!("../../shaders/batch_norm.wgsl"),
            [
                "batch_statistics",
                "inverse_std",
                "normalize",
                "update_running",
                "upstream_sums",
                "parameter_grads",
                "input_grad",
            ],
        )
        .await?;
        let [dropout_forward, dropout_backward] = compile(
            context,
            "dropout",
            include_str!("../../shaders/dropout.wgsl"),
            ["dropout_forward", "dropout_backward"],
        )
        .await?;
        Ok(NormKernels {
            batch_statistics,
            inverse_std,
            normalize,
            update_running,
            upstream_sums,
            parameter_grads,
            input_grad,
            dropout_forward,
            dropout_backward,
        })
    }

    /// [`NormKernels::new`], waiting for the answer (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(context: &GpuContext) -> Result<NormKernels, GpuError> {
        pollster::block_on(NormKernels::new(context))
    }

    /// Starts recording; [`NormCommands::submit`] sends the recording to the GPU.
    pub fn begin<'a>(&'a self, context: &'a GpuContext) -> NormCommands<'a> {
        let encoder = PassEncoder::new(&context.device, "norm kernels");
        self.resume(context, encoder)
    }

    /// Goes on recording into `encoder` (another family's, see [`NormCommands::into_encoder`]).
    pub fn resume<'a>(&'a self, context: &'a GpuContext, encoder: PassEncoder) -> NormCommands<'a> {
        NormCommands {
            context,
            kernels: self,
            encoder,
        }
    }
}

/// Batch normalisation and dropout dispatches being recorded into one command encoder.
pub struct NormCommands<'a> {
    context: &'a GpuContext,
    kernels: &'a NormKernels,
    encoder: PassEncoder,
}

impl NormCommands<'_> {
    /// `out = γ (x - μ) / sqrt(σ² + ε) + β` with the batch's own mean and (biased) variance per
    /// feature (`Tape::batch_norm`), which `saved` keeps for the backward pass and the running
    /// statistics.
    pub fn batch_norm_training_forward(
        &mut self,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        saved: &GpuNormStatistics,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = norm_params(NormStatistics::Batch, &[x, gamma, beta], saved, out)?;
        let bindings = [(1, &x.buffer), (3, &saved.saved.buffer)];
        let groups = (params.features, 1);
        let pipeline = &self.kernels.batch_statistics;
        record(
            self.context,
            &mut self.encoder,
            pipeline,
            &params,
            &bindings,
            groups,
        );
        self.normalize(&params, x, gamma, beta, saved, out);
        Ok(())
    }

    /// `out = γ (x - μ) / sqrt(σ² + ε) + β` with the running mean and variance
    /// (`Tape::batch_norm_with_running_statistics`), kept in `saved` for a backward pass.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_evaluation_forward(
        &mut self,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        running_mean: &GpuTensor,
        running_variance: &GpuTensor,
        saved: &GpuNormStatistics,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let inputs = [x, gamma, beta, running_mean, running_variance];
        let params = norm_params(NormStatistics::Running, &inputs, saved, out)?;
        self.copy_row(running_mean, saved, MEAN_ROW);
        self.copy_row(running_variance, saved, VARIANCE_ROW);
        self.normalize(&params, x, gamma, beta, saved, out);
        Ok(())
    }

    /// Moves the running statistics towards the batch's that the last training forward of `x`
    /// kept in `saved`: `running = (1 - momentum) · running + momentum · batch`, the variance
    /// unbiased and left alone when the batch has one value per feature
    /// (`BatchNormNodes::update_running_statistics`).
    pub fn batch_norm_update_running(
        &mut self,
        x: &GpuTensor,
        saved: &GpuNormStatistics,
        running_mean: &GpuTensor,
        running_variance: &GpuTensor,
    ) -> Result<(), GpuError> {
        let inputs = [x, running_mean, running_variance];
        let mut params = norm_params(NormStatistics::Batch, &inputs, saved, x)?;
        let count = params.count as usize;
        params.bessel = if count < 2 {
            0.0
        } else {
            count as f32 / (count - 1) as f32
        };
        let bindings = [
            (3, &saved.saved.buffer),
            (4, &running_mean.buffer),
            (5, &running_variance.buffer),
        ];
        self.record_features(&self.kernels.update_running, &params, &bindings);
        Ok(())
    }

    /// Adds the gradients of a batch normalisation whose output gradient is `upstream`:
    /// `dγ += Σ dy·x̂`, `dβ += Σ dy`, and, when `grad_x` is given, `dx += γ / sqrt(σ² + ε) ·
    /// (dy - mean(dy) - x̂ · mean(dy·x̂))` (the two means only with the batch's statistics).
    /// `saved` must hold the forward pass's statistics.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm_backward(
        &mut self,
        statistics: NormStatistics,
        x: &GpuTensor,
        upstream: &GpuTensor,
        saved: &GpuNormStatistics,
        grad_x: Option<&GpuTensor>,
        grad_gamma: &GpuTensor,
        grad_beta: &GpuTensor,
    ) -> Result<(), GpuError> {
        let mut params = norm_params(
            NormStatistics::Batch,
            &[x, grad_gamma, grad_beta],
            saved,
            upstream,
        )?;
        params.batch_statistics = u32::from(statistics == NormStatistics::Batch);
        let sums = [
            (1, &x.buffer),
            (2, &upstream.buffer),
            (3, &saved.saved.buffer),
        ];
        let groups = (params.features, 1);
        let pipeline = &self.kernels.upstream_sums;
        record(
            self.context,
            &mut self.encoder,
            pipeline,
            &params,
            &sums,
            groups,
        );
        let parameters = [
            (3, &saved.saved.buffer),
            (4, &grad_gamma.buffer),
            (5, &grad_beta.buffer),
        ];
        self.record_features(&self.kernels.parameter_grads, &params, &parameters);
        if let Some(grad_x) = grad_x {
            expect_same("batch_norm", x, grad_x, "input gradient")?;
            let bindings = [
                (1, &x.buffer),
                (2, &upstream.buffer),
                (3, &saved.saved.buffer),
                (4, &grad_x.buffer),
            ];
            let pipeline = &self.kernels.input_grad;
            record_linear(
                self.context,
                &mut self.encoder,
                pipeline,
                &params,
                &bindings,
                params.len,
            );
        }
        Ok(())
    }

    /// `out = x · mask` (`Tape::dropout`).
    pub fn dropout_forward(
        &mut self,
        x: &GpuTensor,
        mask: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        self.dropout(&self.kernels.dropout_forward, x, mask, out)
    }

    /// `grad_x += upstream · mask`: the gradient flows through the kept values only.
    pub fn dropout_backward(
        &mut self,
        mask: &GpuTensor,
        upstream: &GpuTensor,
        grad_x: &GpuTensor,
    ) -> Result<(), GpuError> {
        self.dropout(&self.kernels.dropout_backward, upstream, mask, grad_x)
    }

    /// Sends everything recorded to the GPU. Nothing waits: read results back with
    /// [`GpuTensor::read`].
    pub fn submit(self) {
        self.context.queue.submit([self.encoder.finish()]);
    }

    /// Hands the encoder on to another kernel family, to keep recording into it.
    pub fn into_encoder(self) -> PassEncoder {
        self.encoder
    }

    /// γ and β into `saved`, then `1/sqrt(σ² + ε)` from its variance, then the normalised
    /// output.
    fn normalize(
        &mut self,
        params: &NormParams,
        x: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        saved: &GpuNormStatistics,
        out: &GpuTensor,
    ) {
        self.copy_row(gamma, saved, GAMMA_ROW);
        self.copy_row(beta, saved, BETA_ROW);
        let inverse = [(3, &saved.saved.buffer)];
        self.record_features(&self.kernels.inverse_std, params, &inverse);
        let bindings = [(1, &x.buffer), (3, &saved.saved.buffer), (4, &out.buffer)];
        let pipeline = &self.kernels.normalize;
        record_linear(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            &bindings,
            params.len,
        );
    }

    /// Copies a per-feature tensor into row `row` of `saved`.
    fn copy_row(&mut self, source: &GpuTensor, saved: &GpuNormStatistics, row: usize) {
        let float = std::mem::size_of::<f32>() as u64;
        let features = saved.features as u64;
        self.encoder.encoder().copy_buffer_to_buffer(
            &source.buffer,
            0,
            &saved.saved.buffer,
            row as u64 * features * float,
            features * float,
        );
    }

    fn record_features(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &NormParams,
        bindings: &[(u32, &wgpu::Buffer)],
    ) {
        record_linear(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            bindings,
            params.features,
        );
    }

    fn dropout(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        values: &GpuTensor,
        mask: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        Op::Dropout
            .output_shape(&[values.shape(), mask.shape()])
            .map_err(|error| GpuError::Shape(error.to_string()))?;
        expect_same("dropout", values, out, "output")?;
        let params = DropoutParams {
            len: to_u32(out.len())?,
            _pad: [0; 3],
        };
        let bindings = [(1, &values.buffer), (2, &mask.buffer), (3, &out.buffer)];
        record_linear(
            self.context,
            &mut self.encoder,
            pipeline,
            &params,
            &bindings,
            params.len,
        );
        Ok(())
    }
}

/// The sizes of a batch normalisation of `inputs[0]` (`[x, per-feature tensors..]`, checked by the
/// engine's rule for `statistics`), with `saved` and `out` checked against them.
fn norm_params(
    statistics: NormStatistics,
    inputs: &[&GpuTensor],
    saved: &GpuNormStatistics,
    out: &GpuTensor,
) -> Result<NormParams, GpuError> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|tensor| tensor.shape()).collect();
    Op::BatchNorm(statistics)
        .output_shape(&shapes)
        .map_err(|error| GpuError::Shape(error.to_string()))?;
    let x = inputs[0];
    let features = x.shape()[1];
    if saved.features != features {
        return Err(GpuError::Shape(format!(
            "batch_norm: statistics of {} features for {features} features",
            saved.features
        )));
    }
    expect_same("batch_norm", x, out, "output")?;
    if features > MAX_GROUPS as usize {
        return Err(GpuError::Shape(format!(
            "batch_norm: {features} features are more than {MAX_GROUPS} workgroups"
        )));
    }
    let spread: usize = x.shape()[2..].iter().product();
    Ok(NormParams {
        features: to_u32(features)?,
        spread: to_u32(spread.max(1))?,
        count: to_u32(x.len() / features.max(1))?,
        len: to_u32(x.len())?,
        epsilon: BATCH_NORM_EPSILON,
        momentum: MOMENTUM,
        keep: 1.0 - MOMENTUM,
        bessel: 0.0,
        batch_statistics: 1,
        _pad: [0; 3],
    })
}

fn expect_same(op: &str, x: &GpuTensor, other: &GpuTensor, what: &str) -> Result<(), GpuError> {
    if x.shape() == other.shape() {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{op}: the {what} should have the input's shape {:?}, got {:?}",
            x.shape(),
            other.shape()
        )))
    }
}
