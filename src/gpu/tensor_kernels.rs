//! The kernels of the ops that recurrent cells are built from, recorded by [`Commands`]: the
//! sum and the element-wise product of two tensors with their gradients, a tensor times or plus
//! a number (`shaders/elementwise.wgsl`), and copies of entries along one axis, which are a slice's and a
//! concatenation's forward and backward passes (`shaders/axis.wgsl`).
//!
//! CPU twins: `engine::ops::elementwise` and `engine::ops::axis`; parity cases in
//! `tests/gpu_common/kernel_cases.rs` (`Case::Add`, `Case::Multiply`, `Case::Scale`,
//! `Case::AddScalar`, `Case::Slice`, `Case::Concat`).

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::dispatch::to_u32;
use super::error::GpuError;
use super::kernels::{Commands, ElementwiseParams, same_length};
use crate::engine::ops::AxisCopy;

/// The uniform block of `axis.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AxisCopyParams {
    outer: u32,
    inner: u32,
    len: u32,
    source_axis: u32,
    source_start: u32,
    target_axis: u32,
    target_start: u32,
    accumulate: u32,
}

impl Commands<'_> {
    /// `out = a + b` (`engine::ops::elementwise::add_forward`).
    pub fn add(&mut self, a: &GpuTensor, b: &GpuTensor, out: &GpuTensor) -> Result<(), GpuError> {
        let kernel = &self.kernels.add;
        self.two_operands("add", kernel, a, b, out)
    }

    /// `out = a * b` element by element (`engine::ops::elementwise::mul_forward`).
    pub fn multiply(
        &mut self,
        a: &GpuTensor,
        b: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let kernel = &self.kernels.multiply;
        self.two_operands("multiply", kernel, a, b, out)
    }

    /// `grad += upstream`: what a sum sends each input (`engine::ops::elementwise::accumulate`).
    pub fn accumulate(&mut self, upstream: &GpuTensor, grad: &GpuTensor) -> Result<(), GpuError> {
        let len = same_length("accumulate", &[upstream, grad])?;
        let params = elementwise(len)?;
        let kernel = &self.kernels.accumulate;
        let buffers = [&upstream.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[1, 4], &buffers, params.len);
        Ok(())
    }

    /// `grad += upstream * other`: what a product sends one factor, `other` being the other
    /// (`engine::ops::elementwise::mul_backward`).
    pub fn accumulate_product(
        &mut self,
        upstream: &GpuTensor,
        other: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length("accumulate_product", &[upstream, other, grad])?;
        let params = elementwise(len)?;
        let kernel = &self.kernels.accumulate_product;
        let buffers = [&upstream.buffer, &other.buffer, &grad.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, params.len);
        Ok(())
    }

    /// `out = a · factor` (`Op::Scale`).
    pub fn scale(&mut self, factor: f32, a: &GpuTensor, out: &GpuTensor) -> Result<(), GpuError> {
        let kernel = &self.kernels.scale;
        self.with_factor("scale", kernel, factor, a, out)
    }

    /// `out = a + factor` (`Op::AddScalar`).
    pub fn shift(&mut self, factor: f32, a: &GpuTensor, out: &GpuTensor) -> Result<(), GpuError> {
        let kernel = &self.kernels.shift;
        self.with_factor("shift", kernel, factor, a, out)
    }

    /// `grad += upstream · factor`: what `Op::Scale` sends its input.
    pub fn accumulate_scaled(
        &mut self,
        factor: f32,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let kernel = &self.kernels.accumulate_scaled;
        self.with_factor("accumulate_scaled", kernel, factor, upstream, grad)
    }

    /// Row by row, `out = new` where `present` (one value per row) is not 0, `previous` where it
    /// is (`engine::ops` `carry::forward`).
    pub fn carry(
        &mut self,
        present: &GpuTensor,
        new: &GpuTensor,
        previous: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length("carry", &[new, previous, out])?;
        let params = per_row("carry", present, len)?;
        let buffers = [&present.buffer, &new.buffer, &previous.buffer, &out.buffer];
        let kernel = &self.kernels.carry;
        self.dispatch_linear(kernel, &params, &[1, 2, 3, 4], &buffers, params.len);
        Ok(())
    }

    /// `grad += upstream` on the rows that were present (`to_new`) or on those that were not:
    /// what a carry sends its new and its previous state (`carry::backward`).
    pub fn accumulate_carried(
        &mut self,
        present: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
        to_new: bool,
    ) -> Result<(), GpuError> {
        let len = same_length("accumulate_carried", &[upstream, grad])?;
        let params = ElementwiseParams {
            factor: if to_new { 1.0 } else { 0.0 },
            ..per_row("accumulate_carried", present, len)?
        };
        let buffers = [&present.buffer, &upstream.buffer, &grad.buffer];
        let kernel = &self.kernels.accumulate_carried;
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, params.len);
        Ok(())
    }

    /// `out = kernel(a, factor)`, both of one size.
    fn with_factor(
        &mut self,
        name: &str,
        kernel: &wgpu::ComputePipeline,
        factor: f32,
        a: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length(name, &[a, out])?;
        let params = ElementwiseParams {
            factor,
            ..elementwise(len)?
        };
        let buffers = [&a.buffer, &out.buffer];
        self.dispatch_linear(kernel, &params, &[1, 4], &buffers, params.len);
        Ok(())
    }

    /// Copies the run `copy` describes from `source` to `target`, adding with `accumulate`
    /// ([`AxisCopy::run`]): a slice's forward pass is `slice_copy`, its backward that run
    /// reversed and added; a concatenation's are `concat_copy` per input.
    pub fn copy_along_axis(
        &mut self,
        copy: AxisCopy,
        source: &GpuTensor,
        target: &GpuTensor,
        accumulate: bool,
    ) -> Result<(), GpuError> {
        let fits = |axis: usize, start: usize, tensor: &GpuTensor| {
            start + copy.len <= axis && copy.outer * axis * copy.inner == tensor.len()
        };
        if !fits(copy.from_axis, copy.from_start, source)
            || !fits(copy.to_axis, copy.to_start, target)
        {
            return Err(GpuError::Shape(format!(
                "copy_along_axis of {copy:?} from {:?} to {:?}",
                source.shape(),
                target.shape()
            )));
        }
        let params = AxisCopyParams {
            outer: to_u32(copy.outer)?,
            inner: to_u32(copy.inner)?,
            len: to_u32(copy.len)?,
            source_axis: to_u32(copy.from_axis)?,
            source_start: to_u32(copy.from_start)?,
            target_axis: to_u32(copy.to_axis)?,
            target_start: to_u32(copy.to_start)?,
            accumulate: u32::from(accumulate),
        };
        let copied = to_u32(copy.outer * copy.len * copy.inner)?;
        let kernel = &self.kernels.copy_along_axis;
        let buffers = [&source.buffer, &target.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2], &buffers, copied);
        Ok(())
    }

    /// `out = kernel(a, b)`, all three of one size.
    fn two_operands(
        &mut self,
        name: &str,
        kernel: &wgpu::ComputePipeline,
        a: &GpuTensor,
        b: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let len = same_length(name, &[a, b, out])?;
        let params = elementwise(len)?;
        let buffers = [&a.buffer, &b.buffer, &out.buffer];
        self.dispatch_linear(kernel, &params, &[1, 2, 4], &buffers, params.len);
        Ok(())
    }
}

/// The parameters of a kernel over `len` values in rows, one value of `per_row` for each.
fn per_row(name: &str, per_row: &GpuTensor, len: usize) -> Result<ElementwiseParams, GpuError> {
    let rows = per_row.len();
    if rows == 0 || !len.is_multiple_of(rows) {
        return Err(GpuError::Shape(format!(
            "{name}: {rows} rows cannot split {len} values"
        )));
    }
    Ok(ElementwiseParams {
        cols: to_u32(len / rows)?,
        ..elementwise(len)?
    })
}

fn elementwise(len: usize) -> Result<ElementwiseParams, GpuError> {
    Ok(ElementwiseParams {
        len: to_u32(len)?,
        cols: 1,
        activation: 0,
        factor: 0.0,
    })
}
