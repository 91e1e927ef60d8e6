//! `ConvKernels`: the pipelines of the image layers, `shaders/conv.wgsl` (Conv2d forward, input,
//! kernel and bias gradients) and `shaders/pool.wgsl` (MaxPool2d and AvgPool2d forward and
//! backward), and [`ConvCommands`], which records them into one command encoder.
//!
//! Shapes are checked with the engine's own rules (`Op::output_shape`), so the GPU refuses exactly
//! what the CPU refuses, in the same words. The backward kernels add into the gradient buffers,
//! as the engine's backward does: clear them before a step.

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{MAX_GROUPS, compile, record, record_linear, to_u32};
use super::error::GpuError;
use super::pass_encoder::PassEncoder;
use crate::engine::Op;
use crate::engine::ops::OutputShape;

/// The compiled pipelines of `conv.wgsl` and `pool.wgsl`. Build once per [`GpuContext`].
#[derive(Debug)]
pub struct ConvKernels {
    conv2d_forward: wgpu::ComputePipeline,
    conv2d_input_grad: wgpu::ComputePipeline,
    conv2d_weight_grad: wgpu::ComputePipeline,
    conv2d_bias_grad: wgpu::ComputePipeline,
    max_pool_forward: wgpu::ComputePipeline,
    max_pool_backward: wgpu::ComputePipeline,
    average_pool_forward: wgpu::ComputePipeline,
    average_pool_backward: wgpu::ComputePipeline,
}

/// The uniform block of both shaders (`ConvParams` / `PoolParams`): every size of one sliding
/// window. Pooling reads `in_channels` as its channels, `kernel` as the window size and `share`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
struct WindowParams {
    batch: u32,
    in_channels: u32,
    height: u32,
    width: u32,
    out_channels: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
    out_height: u32,
    out_width: u32,
    /// Invocations that do work: the elements of the tensor the kernel writes.
    count: u32,
    /// Average pooling: `1/size²`, computed as the engine computes it.
    share: f32,
}

impl WindowParams {
    fn with_count(self, count: usize) -> Result<WindowParams, GpuError> {
        Ok(WindowParams {
            count: to_u32(count)?,
            ..self
        })
    }
}

impl ConvKernels {
    /// Compiles both shaders; a shader the device rejects is reported here, naming its file.
    pub async fn new(context: &GpuContext) -> Result<ConvKernels, GpuError> {
        let [
            conv2d_forward,
            conv2d_input_grad,
            conv2d_weight_grad,
            conv2d_bias_grad,
        ] = compile(
            context,
            "conv",
            concat!(
                include_str!("../../shaders/window.wgsl"),
                include_str!("../../shaders/conv.wgsl")
            ),
            [
                "conv2d_forward",
                "conv2d_input_grad",
                "conv2d_weight_grad",
                "conv2d_bias_grad",
            ],
        )
        .await?;
        let [
            max_pool_forward,
            max_pool_backward,
            average_pool_forward,
            average_pool_backward,
        ] = compile(
            context,
            "pool",
            concat!(
                include_str!("../../shaders/window.wgsl"),
                include_str!("../../shaders/pool.wgsl")
            ),
            [
                "max_pool_forward",
                "max_pool_backward",
                "average_pool_forward",
                "average_pool_backward",
            ],
        )
        .await?;
        Ok(ConvKernels {
            conv2d_forward,
            conv2d_input_grad,
            conv2d_weight_grad,
            conv2d_bias_grad,
            max_pool_forward,
            max_pool_backward,
            average_pool_forward,
            average_pool_backward,
        })
    }

    /// [`ConvKernels::new`], waiting for the answer (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(context: &GpuContext) -> Result<ConvKernels, GpuError> {
        pollster::block_on(ConvKernels::new(context))
    }

    /// Starts recording; [`ConvCommands::submit`] sends the recording to the GPU. Submissions run
    /// in order, so this interleaves with [`super::Commands`] ones (e.g. the dense head).
    pub fn begin<'a>(&'a self, context: &'a GpuContext) -> ConvCommands<'a> {
        let encoder = PassEncoder::new(&context.device, "conv kernels");
        self.resume(context, encoder)
    }

    /// Goes on recording into `encoder` (another family's, see [`ConvCommands::into_encoder`]), so
    /// that a whole training step goes to the GPU in one submission.
    pub fn resume<'a>(&'a self, context: &'a GpuContext, encoder: PassEncoder) -> ConvCommands<'a> {
        ConvCommands {
            context,
            kernels: self,
            encoder,
        }
    }
}

/// Conv2d and pooling dispatches being recorded into one command encoder.
pub struct ConvCommands<'a> {
    context: &'a GpuContext,
    kernels: &'a ConvKernels,
    encoder: PassEncoder,
}

impl ConvCommands<'_> {
    /// `out = conv2d(x, weights) + bias` (`Tape::conv2d`): `x` `[n, c_in, h, w]`, `weights`
    /// `[c_out, c_in, k, k]`, `bias` `[c_out]`, `out` `[n, c_out, h_out, w_out]`.
    pub fn conv2d_forward(
        &mut self,
        x: &GpuTensor,
        weights: &GpuTensor,
        bias: &GpuTensor,
        stride: usize,
        padding: usize,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = conv_params(x.shape(), weights, bias.shape(), stride, padding)?;
        expect_output("conv2d", &params, out, "output")?;
        let params = params.with_count(out.len())?;
        let bindings = [
            (1, &x.buffer),
            (2, &weights.buffer),
            (3, &bias.buffer),
            (5, &out.buffer),
        ];
        self.record(&self.kernels.conv2d_forward, &params, &bindings);
        Ok(())
    }

    /// `grad_x += dLoss/dx` of a conv2d whose output gradient is `upstream` (shapes as in
    /// [`ConvCommands::conv2d_forward`]; `grad_x` has the input's shape).
    pub fn conv2d_input_grad(
        &mut self,
        weights: &GpuTensor,
        upstream: &GpuTensor,
        stride: usize,
        padding: usize,
        grad_x: &GpuTensor,
    ) -> Result<(), GpuError> {
        let bias = weights.shape().first().copied().unwrap_or(0);
        let params = conv_params(grad_x.shape(), weights, &[bias], stride, padding)?;
        expect_output("conv2d", &params, upstream, "output gradient")?;
        let params = params.with_count(grad_x.len())?;
        let bindings = [
            (2, &weights.buffer),
            (4, &upstream.buffer),
            (5, &grad_x.buffer),
        ];
        self.record(&self.kernels.conv2d_input_grad, &params, &bindings);
        Ok(())
    }

    /// `grad_weights += dLoss/dweights`, summed over the batch.
    pub fn conv2d_weight_grad(
        &mut self,
        x: &GpuTensor,
        upstream: &GpuTensor,
        stride: usize,
        padding: usize,
        grad_weights: &GpuTensor,
    ) -> Result<(), GpuError> {
        let bias = grad_weights.shape().first().copied().unwrap_or(0);
        let params = conv_params(x.shape(), grad_weights, &[bias], stride, padding)?;
        expect_output("conv2d", &params, upstream, "output gradient")?;
        let params = params.with_count(grad_weights.len())?;
        let bindings = [
            (1, &x.buffer),
            (4, &upstream.buffer),
            (5, &grad_weights.buffer),
        ];
        self.record_per_group(&self.kernels.conv2d_weight_grad, &params, &bindings);
        Ok(())
    }

    /// `grad_bias += Σ upstream` per output channel (`upstream` `[n, c_out, h_out, w_out]`).
    pub fn conv2d_bias_grad(
        &mut self,
        upstream: &GpuTensor,
        grad_bias: &GpuTensor,
    ) -> Result<(), GpuError> {
        let &[batch, out_channels, out_height, out_width] = upstream.shape() else {
            return Err(GpuError::Shape(format!(
                "conv2d: the output gradient should be [batch, channels, height, width], got {:?}",
                upstream.shape()
            )));
        };
        if grad_bias.shape() != [out_channels] {
            return Err(GpuError::Shape(format!(
                "conv2d: the bias gradient of a {out_channels}-channel output is a vector of \
                 length {out_channels}, got {:?}",
                grad_bias.shape()
            )));
        }
        let params = WindowParams {
            batch: to_u32(batch)?,
            out_channels: to_u32(out_channels)?,
            out_height: to_u32(out_height)?,
            out_width: to_u32(out_width)?,
            count: to_u32(out_channels)?,
            ..WindowParams::zeroed()
        };
        // The whole output gradient must be addressable in u32.
        to_u32(upstream.len())?;
        let bindings = [(4, &upstream.buffer), (5, &grad_bias.buffer)];
        self.record_per_group(&self.kernels.conv2d_bias_grad, &params, &bindings);
        Ok(())
    }

    /// `out` = the largest value of each `size`x`size` window (`Tape::max_pool2d`).
    pub fn max_pool2d_forward(
        &mut self,
        size: usize,
        stride: usize,
        x: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let op = Op::MaxPool2d { size, stride };
        let params = pool_params(op, size, stride, x.shape())?;
        expect_output(op.name(), &params, out, "output")?;
        let params = params.with_count(out.len())?;
        let bindings = [(1, &x.buffer), (3, &out.buffer)];
        self.record(&self.kernels.max_pool_forward, &params, &bindings);
        Ok(())
    }

    /// `grad_x +=` each output's gradient, whole, at its window's first maximum in `x`.
    pub fn max_pool2d_backward(
        &mut self,
        size: usize,
        stride: usize,
        x: &GpuTensor,
        upstream: &GpuTensor,
        grad_x: &GpuTensor,
    ) -> Result<(), GpuError> {
        let op = Op::MaxPool2d { size, stride };
        let params = pool_params(op, size, stride, x.shape())?;
        expect_output(op.name(), &params, upstream, "output gradient")?;
        expect_same(op.name(), x, grad_x)?;
        let params = params.with_count(grad_x.len())?;
        let bindings = [(1, &x.buffer), (2, &upstream.buffer), (3, &grad_x.buffer)];
        self.record(&self.kernels.max_pool_backward, &params, &bindings);
        Ok(())
    }

    /// `out` = the mean of each `size`x`size` window (`Tape::avg_pool2d`).
    pub fn average_pool2d_forward(
        &mut self,
        size: usize,
        stride: usize,
        x: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let op = Op::AvgPool2d { size, stride };
        let params = pool_params(op, size, stride, x.shape())?;
        expect_output(op.name(), &params, out, "output")?;
        let params = params.with_count(out.len())?;
        let bindings = [(1, &x.buffer), (3, &out.buffer)];
        self.record(&self.kernels.average_pool_forward, &params, &bindings);
        Ok(())
    }

    /// `grad_x +=` each output's gradient split evenly, `1/size²`, over its window (`grad_x`
    /// has the input's shape; the input itself is not needed).
    pub fn average_pool2d_backward(
        &mut self,
        size: usize,
        stride: usize,
        upstream: &GpuTensor,
        grad_x: &GpuTensor,
    ) -> Result<(), GpuError> {
        let op = Op::AvgPool2d { size, stride };
        let params = pool_params(op, size, stride, grad_x.shape())?;
        expect_output(op.name(), &params, upstream, "output gradient")?;
        let params = params.with_count(grad_x.len())?;
        let bindings = [(2, &upstream.buffer), (3, &grad_x.buffer)];
        self.record(&self.kernels.average_pool_backward, &params, &bindings);
        Ok(())
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

    /// One workgroup per element (`params.count` of them), spilling into y past 65,535: the
    /// kernels that reduce over the whole batch.
    fn record_per_group(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &WindowParams,
        bindings: &[(u32, &wgpu::Buffer)],
    ) {
        if params.count == 0 {
            return;
        }
        let x = params.count.min(MAX_GROUPS);
        let groups = (x, params.count.div_ceil(x));
        record(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            bindings,
            groups,
        );
    }

    fn record(
        &mut self,
        pipeline: &wgpu::ComputePipeline,
        params: &WindowParams,
        bindings: &[(u32, &wgpu::Buffer)],
    ) {
        record_linear(
            self.context,
            &mut self.encoder,
            pipeline,
            params,
            bindings,
            params.count,
        );
    }
}

/// The sizes of a conv2d of an `x`-shaped input, checked by the engine's rules (`bias` is
/// `[c_out]` when the caller has no bias tensor), with `count` left at 0.
fn conv_params(
    x: &[usize],
    weights: &GpuTensor,
    bias: &[usize],
    stride: usize,
    padding: usize,
) -> Result<WindowParams, GpuError> {
    let op = Op::Conv2d { stride, padding };
    let out = feature_maps(op, &[x, weights.shape(), bias])?;
    let kernel = weights.shape()[2];
    window_params(x, out, kernel, stride, padding, 1.0)
}

/// The sizes of a pooling of an `x`-shaped input, checked by the engine's rules.
fn pool_params(op: Op, size: usize, stride: usize, x: &[usize]) -> Result<WindowParams, GpuError> {
    let out = feature_maps(op, &[x])?;
    // As `engine::ops::pool` computes it, so that the means agree to the bit.
    let share = 1.0 / (size * size) as f32;
    window_params(x, out, size, stride, 0, share)
}

/// The engine's output shape of `op`, or its refusal (same words as on the CPU).
fn feature_maps(op: Op, inputs: &[&[usize]]) -> Result<[usize; 4], GpuError> {
    match op.output_shape(inputs) {
        Ok(OutputShape::FeatureMaps(shape)) => Ok(shape),
        Ok(other) => Err(GpuError::Shape(format!(
            "{}: expected feature maps out, the engine gives {other:?}",
            op.name()
        ))),
        Err(error) => Err(GpuError::Shape(error.to_string())),
    }
}

fn window_params(
    x: &[usize],
    out: [usize; 4],
    kernel: usize,
    stride: usize,
    padding: usize,
    share: f32,
) -> Result<WindowParams, GpuError> {
    // Every tensor the shaders index must be addressable in u32.
    to_u32(x.iter().product())?;
    to_u32(out.iter().product())?;
    Ok(WindowParams {
        batch: to_u32(x[0])?,
        in_channels: to_u32(x[1])?,
        height: to_u32(x[2])?,
        width: to_u32(x[3])?,
        out_channels: to_u32(out[1])?,
        kernel: to_u32(kernel)?,
        stride: to_u32(stride)?,
        padding: to_u32(padding)?,
        out_height: to_u32(out[2])?,
        out_width: to_u32(out[3])?,
        count: 0,
        share,
    })
}

/// Checks that `tensor` (the op's output or output gradient) has the shape the sizes give.
fn expect_output(
    op: &str,
    params: &WindowParams,
    tensor: &GpuTensor,
    what: &str,
) -> Result<(), GpuError> {
    let expected = [
        params.batch,
        params.out_channels,
        params.out_height,
        params.out_width,
    ]
    .map(|side| side as usize);
    if tensor.shape() == expected {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{op}: the {what} should be {expected:?}, got {:?}",
            tensor.shape()
        )))
    }
}

fn expect_same(op: &str, x: &GpuTensor, grad_x: &GpuTensor) -> Result<(), GpuError> {
    if x.shape() == grad_x.shape() {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{op}: the input gradient should have the input's shape {:?}, got {:?}",
            x.shape(),
            grad_x.shape()
        )))
    }
}
