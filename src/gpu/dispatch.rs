//! What every kernel family needs to build and launch its pipelines: compiling a shader file
//! inside an error scope, and recording one dispatch (its bind group, made once and found again
//! in [`super::bind_groups`]) into the compute pass of a [`PassEncoder`], with one-dimensional
//! launches spilling into y.
//!
//! Used by every kernel family: [`super::Kernels`], the training kernels,
//! [`super::ConvKernels`] and [`super::NormKernels`].

use super::context::GpuContext;
use super::error::GpuError;
use super::pass_encoder::PassEncoder;
use bytemuck::Pod;

/// Invocations per workgroup of the one-dimensional kernels (the downlevel maximum).
pub(super) const WORKGROUP: u32 = 256;
/// The most workgroups WebGPU allows along one dimension.
pub(super) const MAX_GROUPS: u32 = 65_535;

/// Compiles one shader file and a pipeline per entry point, inside an error scope, so that a
/// shader the device rejects is reported here with the file's name rather than on a later
/// dispatch.
pub(super) async fn compile<const N: usize>(
    context: &GpuContext,
    name: &'static str,
    source: &str,
    entry_points: [&str; N],
) -> Result<[wgpu::ComputePipeline; N], GpuError> {
    compile_with(context, name, source, entry_points, Default::default()).await
}

/// [`compile`] with the shader's `override` constants set, and other options, as `options` says.
pub(super) async fn compile_with<const N: usize>(
    context: &GpuContext,
    name: &'static str,
    source: &str,
    entry_points: [&str; N],
    options: wgpu::PipelineCompilationOptions<'_>,
) -> Result<[wgpu::ComputePipeline; N], GpuError> {
    let device = &context.device;
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(name),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let pipelines = std::array::from_fn(|i| {
        device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(entry_points[i]),
            layout: None,
            module: &module,
            entry_point: Some(entry_points[i]),
            compilation_options: options.clone(),
            cache: None,
        })
    });
    match scope.pop().await {
        None => Ok(pipelines),
        Some(error) => Err(GpuError::Pipeline {
            kernel: name,
            message: error.to_string(),
        }),
    }
}

/// Workgroups for `invocations` of a one-dimensional kernel: up to 65,535 along x, the rest in
/// y (the shader folds them back with `id.x + id.y * groups.x * 256`).
pub(super) fn linear_groups(invocations: u32) -> (u32, u32) {
    let groups = invocations.div_ceil(WORKGROUP);
    let x = groups.clamp(1, MAX_GROUPS);
    (x, groups.div_ceil(x))
}

/// `usize` to the `u32` the shaders index with, or why it does not fit.
pub(super) fn to_u32(value: usize) -> Result<u32, GpuError> {
    u32::try_from(value)
        .map_err(|_| GpuError::Shape(format!("{value} elements are too many for one kernel")))
}

/// Records one dispatch of `invocations` (nothing when there are none): `params` at binding 0,
/// each buffer at its binding.
pub(super) fn record_linear<P: Pod>(
    context: &GpuContext,
    encoder: &mut PassEncoder,
    pipeline: &wgpu::ComputePipeline,
    params: &P,
    bindings: &[(u32, &wgpu::Buffer)],
    invocations: u32,
) {
    if invocations > 0 {
        let groups = linear_groups(invocations);
        record(context, encoder, pipeline, params, bindings, groups);
    }
}

/// Records one dispatch of `groups` workgroups (x, y): `params` at binding 0, each buffer at
/// its binding.
pub(super) fn record<P: Pod>(
    context: &GpuContext,
    encoder: &mut PassEncoder,
    pipeline: &wgpu::ComputePipeline,
    params: &P,
    bindings: &[(u32, &wgpu::Buffer)],
    groups: (u32, u32),
) {
    let bind_group = context.bind_groups().get(
        &context.device,
        pipeline,
        bytemuck::bytes_of(params),
        bindings,
    );
    encoder.dispatch(pipeline, &bind_group, groups);
}
