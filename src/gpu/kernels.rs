//! `Kernels`: the compute pipelines, built once per device, and [`Commands`], which records
//! their dispatches into one command encoder. One recording function per kernel; each checks the
//! shapes, writes a small uniform block and binds the buffers the entry point uses.

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use super::attention_kernels::AttentionPipelines;
use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, linear_groups, to_u32};
use super::error::GpuError;
use super::lstm_kernels::LstmPipelines;
use super::matmul::{MatmulOperand, MatmulPipelines, MatmulTile};
use super::pass_encoder::PassEncoder;
use super::token_kernels::TokenPipelines;
use crate::engine::{Activation, Loss, OptimizerKind, Regularization};

/// The compiled pipelines. Build once per [`GpuContext`] and keep (e.g. in an `Rc`).
#[derive(Debug)]
pub struct Kernels {
    /// The matrix product's tiles (`super::matmul`).
    pub(super) matmul: MatmulPipelines,
    add_bias: wgpu::ComputePipeline,
    activation_forward: wgpu::ComputePipeline,
    activation_backward: wgpu::ComputePipeline,
    /// Sums and products of two tensors and their gradients, and copies along one axis
    /// (`super::tensor_kernels`).
    pub(super) add: wgpu::ComputePipeline,
    pub(super) multiply: wgpu::ComputePipeline,
    pub(super) accumulate: wgpu::ComputePipeline,
    pub(super) accumulate_product: wgpu::ComputePipeline,
    pub(super) scale: wgpu::ComputePipeline,
    pub(super) shift: wgpu::ComputePipeline,
    pub(super) accumulate_scaled: wgpu::ComputePipeline,
    pub(super) carry: wgpu::ComputePipeline,
    pub(super) accumulate_carried: wgpu::ComputePipeline,
    pub(super) copy_along_axis: wgpu::ComputePipeline,
    /// An LSTM cell's step (`super::lstm_kernels`).
    pub(super) lstm: LstmPipelines,
    /// Embedding lookups and argmax (`super::token_kernels`).
    pub(super) tokens: TokenPipelines,
    /// Attention's scores, mixes and sums over steps (`super::attention_kernels`).
    pub(super) attention: AttentionPipelines,
    column_sums: wgpu::ComputePipeline,
    loss_terms: wgpu::ComputePipeline,
    sum_to_scalar: wgpu::ComputePipeline,
    loss_gradient: wgpu::ComputePipeline,
    optimizer_step: wgpu::ComputePipeline,
    gradient_square_sum: wgpu::ComputePipeline,
    clip_gradient: wgpu::ComputePipeline,
    /// The loss terms of [`Commands::loss_value`], one buffer per number of terms, kept so
    /// that a training step binds the same buffers every step (see `super::bind_groups`).
    loss_terms_scratch: Mutex<HashMap<usize, wgpu::Buffer>>,
}

impl Kernels {
    /// Compiles every shader. Errors (a shader the device rejects) arrive through error scopes,
    /// so they are reported here, with the kernel's name, instead of on a later dispatch.
    pub async fn new(context: &GpuContext) -> Result<Kernels, GpuError> {
        let matmul = MatmulPipelines::new(context).await?;
        let lstm = LstmPipelines::new(context).await?;
        let tokens = TokenPipelines::new(context).await?;
        let attention = AttentionPipelines::new(context).await?;
        let [
            add_bias,
            activation_forward,
            activation_backward,
            add,
            multiply,
            accumulate,
            accumulate_product,
            scale,
            shift,
            accumulate_scaled,
            carry,
            accumulate_carried,
        ] = dispatch::compile(
            context,
            "elementwise",
            concat!(
                include_str!("../../shaders/elementwise_common.wgsl"),
                include_str!("../../shaders/elementwise.wgsl")
            ),
            [
                "add_bias",
                "activation_forward",
                "activation_backward",
                "add",
                "multiply",
                "accumulate",
                "accumulate_product",
                "scale",
                "shift",
                "accumulate_scaled",
                "carry",
                "accumulate_carried",
            ],
        )
        .await?;
        let [copy_along_axis] = dispatch::compile(
            context,
            "axis",
            include_str!("../../shaders/axis.wgsl"),
            ["copy_along_axis"],
        )
        .await?;
        let [column_sums, loss_terms, sum_to_scalar, loss_gradient] = dispatch::compile(
            context,
            "reduce",
            include_str!("../../shaders/reduce.wgsl"),
            [
                "column_sums",
                "loss_terms",
                "sum_to_scalar",
                "loss_gradient",
            ],
        )
        .await?;
        let [optimizer_step, gradient_square_sum, clip_gradient] = dispatch::compile(
            context,
            "optim",
            include_str!("../../shaders/optim.wgsl"),
            ["step", "square_sum", "clip"],
        )
        .await?;
        Ok(Kernels {
            matmul,
            add_bias,
            activation_forward,
            activation_backward,
            add,
            multiply,
            accumulate,
            accumulate_product,
            scale,
            shift,
            accumulate_scaled,
            carry,
            accumulate_carried,
            copy_along_axis,
            lstm,
            tokens,
            attention,
            column_sums,
            loss_terms,
            sum_to_scalar,
            loss_gradient,
            optimizer_step,
            gradient_square_sum,
            clip_gradient,
            loss_terms_scratch: Mutex::default(),
        })
    }

    /// A buffer for `terms` loss terms, the same one every time for the same count (dispatches
    /// run in order, so two losses of one submission can share it).
    fn loss_terms_scratch(&self, context: &GpuContext, terms: usize) -> wgpu::Buffer {
        scratch(&self.loss_terms_scratch, context, terms)
    }

    /// The tiles this device can run: the wide one needs 16 KiB of workgroup memory.
    pub fn has_tile(&self, tile: MatmulTile) -> bool {
        self.matmul.has_tile(tile)
    }

    /// The tile [`Commands::matmul`] uses for `op(a) · op(b)`: the wide one where the device has
    /// it, the product can be read four floats at a time ([`MatmulTile::fits`]) and the output
    /// has at least one full 128x128 block.
    pub fn tile_for(&self, a: MatmulOperand<'_>, b: MatmulOperand<'_>) -> MatmulTile {
        self.matmul.tile_for(a, b)
    }

    /// [`Kernels::new`], waiting for the answer (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(context: &GpuContext) -> Result<Kernels, GpuError> {
        pollster::block_on(Kernels::new(context))
    }

    /// Starts recording dispatches; [`Commands::submit`] sends them to the GPU in one go.
    pub fn begin<'a>(&'a self, context: &'a GpuContext) -> Commands<'a> {
        let encoder = PassEncoder::new(&context.device, "kernels");
        self.resume(context, encoder)
    }

    /// Goes on recording into `encoder` (another family's, see [`Commands::into_encoder`]), so
    /// that a whole training step goes to the GPU in one submission.
    pub fn resume<'a>(&'a self, context: &'a GpuContext, encoder: PassEncoder) -> Commands<'a> {
        Commands {
            context,
            kernels: self,
            encoder,
        }
    }
}

/// The buffer of `len` floats in `buffers`, made on first use.
pub(super) fn scratch(
    buffers: &Mutex<HashMap<usize, wgpu::Buffer>>,
    context: &GpuContext,
    len: usize,
) -> wgpu::Buffer {
    let mut buffers = buffers.lock().unwrap_or_else(|e| e.into_inner());
    buffers
        .entry(len)
        .or_insert_with(|| GpuTensor::zeros(context, &[len]).buffer)
        .clone()
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(super) struct ElementwiseParams {
    pub len: u32,
    pub cols: u32,
    pub activation: u32,
    /// `scale`, `shift` and `accumulate_scaled`'s number.
    pub factor: f32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    len: u32,
    cols: u32,
    rows: u32,
    loss: u32,
    scale: f32,
    _pad: [u32; 3],
}

/// The uniform block of `optim.wgsl`'s `step` that stays the same from step to step (so that
/// its bind group does too, see `super::bind_groups`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct OptimParams {
    pub len: u32,
    pub kind: u32,
    pub regularization: u32,
    /// Clipping by global norm: how many squared norms `norms` holds (0: none).
    pub clipped: u32,
    pub momentum: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub rho: f32,
    pub regularization_rate: f32,
    pub clip_norm: f32,
    /// The parameter's entry in `norms`.
    pub slot: u32,
}

/// What changes from step to step: the rate (a decay schedule) and Adam's bias corrections.
/// One uniform buffer per optimiser, rewritten before each step's submission.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub(super) struct StepSchedule {
    pub learning_rate: f32,
    pub step_size: f32,
    pub inverse_sqrt_correction2: f32,
    pub _pad: f32,
}

pub(super) fn optimizer_index(kind: OptimizerKind) -> u32 {
    match kind {
        OptimizerKind::Sgd => 0,
        OptimizerKind::Momentum => 1,
        OptimizerKind::AdaGrad => 2,
        OptimizerKind::RmsProp => 3,
        OptimizerKind::Adam => 4,
    }
}

pub(super) fn regularization_index(regularization: Regularization) -> u32 {
    match regularization {
        Regularization::None => 0,
        Regularization::L1 => 1,
        Regularization::L2 => 2,
    }
}

fn activation_index(activation: Activation) -> u32 {
    match activation {
        Activation::Linear => 0,
        Activation::Sigmoid => 1,
        Activation::Tanh => 2,
        Activation::Relu => 3,
        Activation::LeakyRelu => 4,
        Activation::Gelu => 5,
    }
}

fn loss_index(loss: Loss) -> u32 {
    match loss {
        Loss::MeanSquaredError => 0,
        Loss::HalfSquaredError => 1,
        Loss::MeanAbsoluteError => 2,
        Loss::BinaryCrossEntropy => 3,
        Loss::SoftmaxCrossEntropy => 4,
    }
}

/// Columns of the last dimension (1 for a scalar), as the engine's ops take them.
fn columns(tensor: &GpuTensor) -> usize {
    tensor.shape().last().copied().unwrap_or(1)
}

pub(super) fn same_length(kernel: &str, tensors: &[&GpuTensor]) -> Result<usize, GpuError> {
    let len = tensors[0].len();
    if let Some(other) = tensors.iter().find(|t| t.len() != len) {
        return Err(GpuError::Shape(format!(
            "{kernel} takes tensors of one size, got {:?} and {:?}",
            tensors[0].shape(),
            other.shape()
        )));
    }
    Ok(len)
}

/// Dispatches being recorded into one command encoder.
pub struct Commands<'a> {
    pub(super) context: &'a GpuContext,
    pub(super) kernels: &'a Kernels,
    encoder: PassEncoder,
}

impl Commands<'_> {
    /// `out = x + bias` row by row (`engine::ops::elementwise::add_bias_forward`).
    pub fn add_bias(
        &mut self,
        x: &GpuTensor,
        bias: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length("add_bias", &[x, out])?;
        if bias.len() != columns(x) {
            return Err(GpuError::Shape(format!(
                "add_bias of a bias {:?} to {:?}",
                bias.shape(),
                x.shape()
            )));
        }
        let params = ElementwiseParams {
            len: to_u32(len)?,
            cols: to_u32(bias.len())?,
            activation: 0,
            factor: 0.0,
        };
        let buffers = [&x.buffer, &bias.buffer, &out.buffer];
        self.dispatch_linear(
            &self.kernels.add_bias,
            &params,
            &[1, 2, 4],
            &buffers,
            params.len,
        );
        Ok(())
    }

    /// `y = f(x)` (`Activation::apply_slice`).
    pub fn activation_forward(
        &mut self,
        activation: Activation,
        x: &GpuTensor,
        y: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length("activation_forward", &[x, y])?;
        let params = ElementwiseParams {
            len: to_u32(len)?,
            cols: 1,
            activation: activation_index(activation),
            factor: 0.0,
        };
        let kernel = &self.kernels.activation_forward;
        self.dispatch_linear(
            kernel,
            &params,
            &[1, 4],
            &[&x.buffer, &y.buffer],
            params.len,
        );
        Ok(())
    }

    /// `grad_x += grad_y * f'(x)` (`Activation::backward_slice`); `y = f(x)`.
    pub fn activation_backward(
        &mut self,
        activation: Activation,
        x: &GpuTensor,
        y: &GpuTensor,
        grad_y: &GpuTensor,
        grad_x: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length("activation_backward", &[x, y, grad_y, grad_x])?;
        let params = ElementwiseParams {
            len: to_u32(len)?,
            cols: 1,
            activation: activation_index(activation),
            factor: 0.0,
        };
        let buffers = [&x.buffer, &y.buffer, &grad_y.buffer, &grad_x.buffer];
        let kernel = &self.kernels.activation_backward;
        self.dispatch_linear(kernel, &params, &[1, 2, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// `grad_bias += upstream` summed over rows (`engine::ops::elementwise::add_bias_backward`).
    pub fn column_sums(
        &mut self,
        upstream: &GpuTensor,
        grad_bias: &GpuTensor,
    ) -> Result<(), GpuError> {
        let cols = columns(upstream);
        if grad_bias.len() != cols {
            return Err(GpuError::Shape(format!(
                "column sums of {:?} into {:?}",
                upstream.shape(),
                grad_bias.shape()
            )));
        }
        let rows = upstream.len().checked_div(cols).unwrap_or(0);
        let params = ReduceParams {
            len: to_u32(upstream.len())?,
            cols: to_u32(cols)?,
            rows: to_u32(rows)?,
            loss: 0,
            scale: 1.0,
            _pad: [0; 3],
        };
        let buffers = [&upstream.buffer, &grad_bias.buffer];
        self.dispatch_linear(
            &self.kernels.column_sums,
            &params,
            &[1, 3],
            &buffers,
            params.cols,
        );
        Ok(())
    }

    /// `out[0] = loss(prediction, target)` (`Loss::value`), left on the GPU: read it back every
    /// few steps. `out` must hold one element.
    pub fn loss_value(
        &mut self,
        loss: Loss,
        prediction: &GpuTensor,
        target: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let count = same_length("loss", &[prediction, target])?;
        if out.len() != 1 {
            return Err(GpuError::Shape(format!(
                "a loss value goes into one element, not {:?}",
                out.shape()
            )));
        }
        let cols = columns(prediction);
        let rows = count.checked_div(cols).unwrap_or(0);
        // Softmax cross-entropy has one term per row (the mean is over rows); the others one per
        // element.
        let terms = if loss == Loss::SoftmaxCrossEntropy {
            rows
        } else {
            count
        };
        let scratch = self.kernels.loss_terms_scratch(self.context, terms);
        let mut params = ReduceParams {
            len: to_u32(count)?,
            cols: to_u32(cols)?,
            rows: to_u32(rows)?,
            loss: loss_index(loss),
            scale: 1.0,
            _pad: [0; 3],
        };
        let buffers = [&prediction.buffer, &target.buffer, &scratch];
        let kernel = &self.kernels.loss_terms;
        self.dispatch_linear(kernel, &params, &[1, 2, 3], &buffers, to_u32(terms)?);
        params.len = to_u32(terms)?;
        params.scale = if terms == 0 {
            0.0
        } else {
            (1.0 / terms as f64) as f32
        };
        let buffers = [&scratch, &out.buffer];
        self.dispatch(
            &self.kernels.sum_to_scalar,
            &params,
            &[1, 3],
            &buffers,
            (1, 1),
        );
        Ok(())
    }

    /// `grad += upstream * dLoss/dprediction` (`Loss::gradient`).
    pub fn loss_gradient(
        &mut self,
        loss: Loss,
        prediction: &GpuTensor,
        target: &GpuTensor,
        upstream: f32,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let count = same_length("loss gradient", &[prediction, target, grad])?;
        if count == 0 {
            return Ok(());
        }
        let cols = columns(prediction);
        let rows = count / cols;
        // The engine's scale, computed the engine's way.
        let (scale, invocations) = if loss == Loss::SoftmaxCrossEntropy {
            (upstream / rows as f32, rows)
        } else {
            (upstream / count as f32, count)
        };
        let params = ReduceParams {
            len: to_u32(count)?,
            cols: to_u32(cols)?,
            rows: to_u32(rows)?,
            loss: loss_index(loss),
            scale,
            _pad: [0; 3],
        };
        let buffers = [&prediction.buffer, &target.buffer, &grad.buffer];
        let kernel = &self.kernels.loss_gradient;
        self.dispatch_linear(kernel, &params, &[1, 2, 3], &buffers, to_u32(invocations)?);
        Ok(())
    }

    /// One optimiser update of one parameter tensor (see [`super::GpuOptimizer`]).
    pub(super) fn optimizer_step(
        &mut self,
        params: &OptimParams,
        schedule: &wgpu::Buffer,
        value: &GpuTensor,
        grad: &GpuTensor,
        state: [&GpuTensor; 2],
    ) {
        let buffers = [
            &value.buffer,
            &grad.buffer,
            &state[0].buffer,
            &state[1].buffer,
            schedule,
        ];
        let kernel = &self.kernels.optimizer_step;
        self.dispatch_linear(kernel, params, &[1, 2, 3, 4, 5], &buffers, params.len);
    }

    /// `grad` scaled by `min(1, clip / (norm + 1e-6))`, the norm from every parameter's entry
    /// of `norms` (see [`Commands::gradient_square_sum`]).
    pub(super) fn clip_gradient(
        &mut self,
        params: &OptimParams,
        grad: &GpuTensor,
        norms: &GpuTensor,
    ) {
        let kernel = &self.kernels.clip_gradient;
        let buffers = [&grad.buffer, &norms.buffer];
        self.dispatch_linear(kernel, params, &[2, 6], &buffers, params.len);
    }

    /// `norms[params.slot]` = the sum of `grad`'s squares (one workgroup).
    pub(super) fn gradient_square_sum(
        &mut self,
        params: &OptimParams,
        grad: &GpuTensor,
        norms: &GpuTensor,
    ) {
        let kernel = &self.kernels.gradient_square_sum;
        self.dispatch(
            kernel,
            params,
            &[2, 6],
            &[&grad.buffer, &norms.buffer],
            (1, 1),
        );
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

    pub(super) fn dispatch_linear<P: Pod>(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &P,
        bindings: &[u32],
        buffers: &[&wgpu::Buffer],
        invocations: u32,
    ) {
        if invocations > 0 {
            self.dispatch(
                pipeline,
                params,
                bindings,
                buffers,
                linear_groups(invocations),
            );
        }
    }

    /// Binds `params` at binding 0 and `buffers` at `bindings`, then dispatches `groups`.
    pub(super) fn dispatch<P: Pod>(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &P,
        bindings: &[u32],
        buffers: &[&wgpu::Buffer],
        groups: (u32, u32),
    ) {
        let pairs: Vec<(u32, &wgpu::Buffer)> = bindings
            .iter()
            .copied()
            .zip(buffers.iter().copied())
            .collect();
        dispatch::record(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            &pairs,
            groups,
        );
    }
}
