//! `Kernels`: the compute pipelines, built once per device, and [`Commands`], which records
//! their dispatches into one command encoder. One recording function per kernel; each checks the
//! shapes, writes a small uniform block and binds the buffers the entry point uses.

use std::collections::HashMap;
use std::sync::Mutex;

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, MAX_GROUPS, linear_groups, to_u32};
use super::error::GpuError;
use super::matmul_split::SplitAlongK;
use super::pass_encoder::PassEncoder;
use crate::engine::{Activation, Loss, OptimizerKind, Regularization};

/// The fewest outputs for which [`Kernels::tile_for`] picks the wide tile (one full 128x128
/// block): smaller products, such as the 2-D playground's, fit one workgroup of either tile,
/// and the 64x64 one does a quarter of the wasted work on the block's empty part.
const WIDE_MIN_OUTPUTS: usize = 128 * 128;
/// Workgroup memory the wide tile needs: a 128x16 and a 16x128 tile of f32.
const WIDE_WORKGROUP_BYTES: u32 = 2 * 128 * 16 * 4;
/// The compiled pipelines. Build once per [`GpuContext`] and keep (e.g. in an `Rc`).
#[derive(Debug)]
pub struct Kernels {
    matmul: wgpu::ComputePipeline,
    /// `shaders/matmul_wide.wgsl`, where the device allows its 16 KiB of workgroup memory.
    matmul_wide: Option<WidePipelines>,
    add_bias: wgpu::ComputePipeline,
    activation_forward: wgpu::ComputePipeline,
    activation_backward: wgpu::ComputePipeline,
    column_sums: wgpu::ComputePipeline,
    loss_terms: wgpu::ComputePipeline,
    sum_to_scalar: wgpu::ComputePipeline,
    loss_gradient: wgpu::ComputePipeline,
    optimizer_step: wgpu::ComputePipeline,
    /// The loss terms of [`Commands::loss_value`], one buffer per number of terms, kept so
    /// that a training step binds the same buffers every step (see `super::bind_groups`).
    loss_terms_scratch: Mutex<HashMap<usize, wgpu::Buffer>>,
    /// The partial products of [`SplitAlongK`] products, one buffer per length, kept as the
    /// loss terms are.
    partials_scratch: Mutex<HashMap<usize, wgpu::Buffer>>,
}

/// The entry points of `shaders/matmul_wide.wgsl`: the product, its parts when split along k
/// (`SPLIT` on), and the sum of the parts.
#[derive(Debug)]
struct WidePipelines {
    multiply: wgpu::ComputePipeline,
    multiply_part: wgpu::ComputePipeline,
    sum_splits: wgpu::ComputePipeline,
}

impl Kernels {
    /// Compiles every shader. Errors (a shader the device rejects) arrive through error scopes,
    /// so they are reported here, with the kernel's name, instead of on a later dispatch.
    pub async fn new(context: &GpuContext) -> Result<Kernels, GpuError> {
        let [matmul] = dispatch::compile(
            context,
            "matmul",
            concat!(
                include_str!("../../shaders/matmul_operands.wgsl"),
                include_str!("../../shaders/matmul.wgsl")
            ),
            ["matmul"],
        )
        .await?;
        let matmul_wide = if context.limits().max_compute_workgroup_storage_size
            >= WIDE_WORKGROUP_BYTES
        {
            let source = include_str!("../../shaders/matmul_wide.wgsl");
            let entry_points = ["matmul_wide", "sum_splits"];
            let split = |on: bool| wgpu::PipelineCompilationOptions {
                constants: if on { &[("SPLIT", 1.0)] } else { &[] },
                ..Default::default()
            };
            let [multiply, sum_splits] =
                dispatch::compile_with(context, "matmul_wide", source, entry_points, split(false))
                    .await?;
            let [multiply_part] = dispatch::compile_with(
                context,
                "matmul_wide",
                source,
                ["matmul_wide"],
                split(true),
            )
            .await?;
            Some(WidePipelines {
                multiply,
                multiply_part,
                sum_splits,
            })
        } else {
            None
        };
        let [add_bias, activation_forward, activation_backward] = dispatch::compile(
            context,
            "elementwise",
            include_str!("../../shaders/elementwise.wgsl"),
            ["add_bias", "activation_forward", "activation_backward"],
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
        let [optimizer_step] = dispatch::compile(
            context,
            "optim",
            include_str!("../../shaders/optim.wgsl"),
            ["step"],
        )
        .await?;
        Ok(Kernels {
            matmul,
            matmul_wide,
            add_bias,
            activation_forward,
            activation_backward,
            column_sums,
            loss_terms,
            sum_to_scalar,
            loss_gradient,
            optimizer_step,
            loss_terms_scratch: Mutex::default(),
            partials_scratch: Mutex::default(),
        })
    }

    /// A buffer for `terms` loss terms, the same one every time for the same count (dispatches
    /// run in order, so two losses of one submission can share it).
    fn loss_terms_scratch(&self, context: &GpuContext, terms: usize) -> wgpu::Buffer {
        scratch(&self.loss_terms_scratch, context, terms)
    }

    /// A buffer for `len` floats of partial products, likewise (each split product's sums are
    /// added up by the dispatch right after the one that wrote them).
    fn partials_scratch(&self, context: &GpuContext, len: usize) -> wgpu::Buffer {
        scratch(&self.partials_scratch, context, len)
    }

    /// The tiles this device can run: the wide one needs 16 KiB of workgroup memory.
    pub fn has_tile(&self, tile: MatmulTile) -> bool {
        match tile {
            MatmulTile::Square64 => true,
            MatmulTile::Wide128 => self.matmul_wide.is_some(),
        }
    }

    /// The tile [`Commands::matmul`] uses for `op(a) · op(b)`: the wide one where the device has
    /// it, the product can be read four floats at a time ([`MatmulTile::fits`]) and the output
    /// has at least one full block of it.
    pub fn tile_for(&self, a: MatmulOperand<'_>, b: MatmulOperand<'_>) -> MatmulTile {
        let outputs = match (a.used_shape(), b.used_shape()) {
            (Ok((m, _)), Ok((_, n))) => m.saturating_mul(n),
            _ => 0,
        };
        if self.matmul_wide.is_some()
            && outputs >= WIDE_MIN_OUTPUTS
            && MatmulTile::Wide128.fits(a, b)
        {
            MatmulTile::Wide128
        } else {
            MatmulTile::Square64
        }
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
fn scratch(
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

/// How a matmul dispatch splits the output among workgroups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulTile {
    /// `shaders/matmul.wgsl`: 64x64 outputs per workgroup, 4x4 per invocation; runs everywhere.
    Square64,
    /// `shaders/matmul_wide.wgsl`: 128x128 outputs per workgroup, 8x8 per invocation, every
    /// buffer read four floats at a time; needs 16 KiB of workgroup memory, and stored rows of
    /// a multiple of four floats ([`MatmulTile::fits`]).
    Wide128,
}

impl MatmulTile {
    /// Whether this tile can compute `op(a) · op(b)`: the wide one reads `a`, `b` and the output
    /// as `vec4`s, so each of their stored rows must hold a multiple of four floats.
    pub fn fits(self, a: MatmulOperand<'_>, b: MatmulOperand<'_>) -> bool {
        let row_of_4 = |operand: MatmulOperand<'_>| {
            operand
                .tensor
                .shape()
                .last()
                .is_some_and(|&cols| cols % 4 == 0)
        };
        match self {
            MatmulTile::Square64 => true,
            MatmulTile::Wide128 => {
                row_of_4(a) && row_of_4(b) && b.used_shape().is_ok_and(|(_, n)| n % 4 == 0)
            }
        }
    }

    /// Outputs per side of a workgroup's block.
    fn block(self) -> u32 {
        match self {
            MatmulTile::Square64 => 64,
            MatmulTile::Wide128 => 128,
        }
    }
}

/// One operand of a matrix product: a rank-2 tensor, read transposed or not.
#[derive(Clone, Copy, Debug)]
pub struct MatmulOperand<'a> {
    pub tensor: &'a GpuTensor,
    pub transposed: bool,
}

impl<'a> MatmulOperand<'a> {
    pub fn plain(tensor: &'a GpuTensor) -> Self {
        MatmulOperand {
            tensor,
            transposed: false,
        }
    }

    pub fn transposed(tensor: &'a GpuTensor) -> Self {
        MatmulOperand {
            tensor,
            transposed: true,
        }
    }

    /// (rows, columns) as used in the product.
    fn used_shape(&self) -> Result<(usize, usize), GpuError> {
        match *self.tensor.shape() {
            [rows, cols] if self.transposed => Ok((cols, rows)),
            [rows, cols] => Ok((rows, cols)),
            ref other => Err(GpuError::Shape(format!(
                "matmul takes matrices, got a tensor of shape {other:?}"
            ))),
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    flags: u32,
    /// The wide tile's [`SplitAlongK`] (`matmul.wgsl` reads only the fields above).
    splits: u32,
    split_steps: u32,
    _pad: [u32; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ElementwiseParams {
    len: u32,
    cols: u32,
    activation: u32,
    _pad: u32,
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
    pub _pad: u32,
    pub momentum: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    pub rho: f32,
    pub regularization_rate: f32,
    pub _pad_end: [f32; 2],
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

fn same_length(kernel: &str, tensors: &[&GpuTensor]) -> Result<usize, GpuError> {
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
    context: &'a GpuContext,
    kernels: &'a Kernels,
    encoder: PassEncoder,
}

impl Commands<'_> {
    /// `out = op(a) · op(b)`, or `out += op(a) · op(b)` when `accumulate` (`engine::gemm::matmul`),
    /// with the tile [`Kernels::tile_for`] picks.
    pub fn matmul(
        &mut self,
        a: MatmulOperand<'_>,
        b: MatmulOperand<'_>,
        out: &GpuTensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let tile = self.kernels.tile_for(a, b);
        self.matmul_tiled(a, b, out, accumulate, tile)
    }

    /// [`Commands::matmul`] with a chosen tile (tests and benchmarks compare them); a tile the
    /// device cannot run is refused.
    pub fn matmul_tiled(
        &mut self,
        a: MatmulOperand<'_>,
        b: MatmulOperand<'_>,
        out: &GpuTensor,
        accumulate: bool,
        tile: MatmulTile,
    ) -> Result<(), GpuError> {
        let wide = match tile {
            MatmulTile::Square64 => None,
            MatmulTile::Wide128 => Some(self.kernels.matmul_wide.as_ref().ok_or_else(|| {
                GpuError::Shape(format!(
                    "the 128x128 matmul tile needs {WIDE_WORKGROUP_BYTES} bytes of workgroup \
                     memory; this device gives {}",
                    self.context.limits().max_compute_workgroup_storage_size
                ))
            })?),
        };
        let (m, k) = a.used_shape()?;
        let (k_b, n) = b.used_shape()?;
        if !tile.fits(a, b) {
            return Err(GpuError::Shape(format!(
                "the 128x128 matmul tile reads four floats at a time, so every stored row must \
                 hold a multiple of four: got a {:?} and b {:?}",
                a.tensor.shape(),
                b.tensor.shape()
            )));
        }
        if k != k_b || out.shape() != [m, n] {
            return Err(GpuError::Shape(format!(
                "matmul of [{m}, {k}] by [{k_b}, {n}] into {:?}",
                out.shape()
            )));
        }
        if m == 0 || n == 0 {
            return Ok(());
        }
        let flags =
            u32::from(a.transposed) | u32::from(b.transposed) << 1 | u32::from(accumulate) << 2;
        let split = match tile {
            MatmulTile::Square64 => SplitAlongK {
                parts: 1,
                steps_per_part: 0,
            },
            MatmulTile::Wide128 => SplitAlongK::of(m, k, n),
        };
        let params = MatmulParams {
            m: to_u32(m)?,
            n: to_u32(n)?,
            k: to_u32(k)?,
            flags,
            splits: to_u32(split.parts)?,
            split_steps: to_u32(split.steps_per_part)?,
            _pad: [0; 2],
        };
        let block = tile.block();
        let groups = (
            params.n.div_ceil(block).saturating_mul(params.splits),
            params.m.div_ceil(block),
        );
        if groups.0 > MAX_GROUPS || groups.1 > MAX_GROUPS {
            return Err(GpuError::Shape(format!(
                "matmul output [{m}, {n}] is too large"
            )));
        }
        let (a, b, out) = (&a.tensor.buffer, &b.tensor.buffer, &out.buffer);
        let Some(wide) = wide else {
            self.dispatch(
                &self.kernels.matmul,
                &params,
                &[1, 2, 3],
                &[a, b, out],
                groups,
            );
            return Ok(());
        };
        // One part: a buffer of one vec4 stands in for the partial products.
        let partials_len = if split.parts > 1 {
            split.parts * m * n
        } else {
            4
        };
        let partials = self.kernels.partials_scratch(self.context, partials_len);
        let buffers = [a, b, out, &partials];
        let multiply = if split.parts > 1 {
            &wide.multiply_part
        } else {
            &wide.multiply
        };
        self.dispatch(multiply, &params, &[1, 2, 3, 4], &buffers, groups);
        if split.parts > 1 {
            let vec4s = to_u32(m * n / 4)?;
            let sum = &wide.sum_splits;
            self.dispatch_linear(sum, &params, &[3, 4], &[out, &partials], vec4s);
        }
        Ok(())
    }

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
            _pad: 0,
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
            _pad: 0,
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
            _pad: 0,
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

    /// Sends everything recorded to the GPU. Nothing waits: read results back with
    /// [`GpuTensor::read`].
    pub fn submit(self) {
        self.context.queue.submit([self.encoder.finish()]);
    }

    /// Hands the encoder on to another kernel family, to keep recording into it.
    pub fn into_encoder(self) -> PassEncoder {
        self.encoder
    }

    fn dispatch_linear<P: Pod>(
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
    fn dispatch<P: Pod>(
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
