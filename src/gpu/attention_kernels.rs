//! What attention is made of, on the GPU (`shaders/attention.wgsl`), recorded by [`Commands`]:
//! each step's score against a query, the steps mixed by weights, a vector added to every step,
//! and the gradients of each. The sums over steps run inside one invocation per value written,
//! in the CPU's order, so nothing races.
//!
//! CPU twin: `engine::ops::attention`; parity cases `Case::StepScores`, `Case::StepMix` and
//! `Case::AddToSteps` in `tests/gpu_common/sequence_cases.rs`.

use bytemuck::{Pod, Zeroable};

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::dispatch::{self, to_u32};
use super::error::GpuError;
use super::kernels::Commands;

/// The pipelines of `attention.wgsl`, one per entry point.
#[derive(Debug)]
pub(super) struct AttentionPipelines {
    step_scores: wgpu::ComputePipeline,
    step_scores_backward_keys: wgpu::ComputePipeline,
    step_scores_backward_query: wgpu::ComputePipeline,
    step_mix: wgpu::ComputePipeline,
    step_mix_backward_weights: wgpu::ComputePipeline,
    step_mix_backward_values: wgpu::ComputePipeline,
    add_to_steps: wgpu::ComputePipeline,
    add_to_steps_backward_vector: wgpu::ComputePipeline,
}

impl AttentionPipelines {
    pub(super) async fn new(context: &GpuContext) -> Result<AttentionPipelines, GpuError> {
        let [
            step_scores,
            step_scores_backward_keys,
            step_scores_backward_query,
            step_mix,
            step_mix_backward_weights,
            step_mix_backward_values,
            add_to_steps,
            add_to_steps_backward_vector,
        ] = dispatch::compile(
            context,
            "attention",
            include_str!("../../shaders/attention.wgsl"),
            [
                "step_scores",
                "step_scores_backward_keys",
                "step_scores_backward_query",
                "step_mix",
                "step_mix_backward_weights",
                "step_mix_backward_values",
                "add_to_steps",
                "add_to_steps_backward_vector",
            ],
        )
        .await?;
        Ok(AttentionPipelines {
            step_scores,
            step_scores_backward_keys,
            step_scores_backward_query,
            step_mix,
            step_mix_backward_weights,
            step_mix_backward_values,
            add_to_steps,
            add_to_steps_backward_vector,
        })
    }
}

/// The uniform block of `attention.wgsl`: `sequences` of `steps` steps of `width` values.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct AttentionParams {
    sequences: u32,
    steps: u32,
    width: u32,
    _pad: u32,
}

/// The sizes of `sequences` (`[n, steps, k]`) beside a `per_step` tensor of `[n, steps]` and a
/// `per_sequence` one of `[n, k]`, or why they do not fit (`attention::sequences_and_vectors`).
fn sizes(
    kernel: &str,
    sequences: &GpuTensor,
    per_step: Option<&GpuTensor>,
    per_sequence: &GpuTensor,
) -> Result<AttentionParams, GpuError> {
    let mismatch = || {
        GpuError::Shape(format!(
            "{kernel} takes sequences [n, steps, k], {}one vector [n, k] per sequence, got {:?}, \
             {:?} and {:?}",
            if per_step.is_some() {
                "one value [n, steps] per step and "
            } else {
                ""
            },
            sequences.shape(),
            per_step.map(GpuTensor::shape),
            per_sequence.shape()
        ))
    };
    let &[n, steps, k] = sequences.shape() else {
        return Err(mismatch());
    };
    let step_fits = per_step.is_none_or(|tensor| tensor.shape() == [n, steps]);
    if !step_fits || per_sequence.shape() != [n, k] {
        return Err(mismatch());
    }
    Ok(AttentionParams {
        sequences: to_u32(n)?,
        steps: to_u32(steps)?,
        width: to_u32(k)?,
        _pad: 0,
    })
}

/// One kernel's bindings: the buffers at `bindings`, one invocation per value of `out`.
struct Launch<'t> {
    bindings: &'t [u32],
    buffers: &'t [&'t GpuTensor],
    out: &'t GpuTensor,
}

impl Commands<'_> {
    /// `scores[b, s] = keys[b, s] · query[b]` (`attention::step_scores_forward`).
    pub fn step_scores(
        &mut self,
        keys: &GpuTensor,
        query: &GpuTensor,
        scores: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_scores", keys, Some(scores), query)?;
        let kernel = &self.kernels.attention.step_scores;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[1, 2],
                buffers: &[keys, query],
                out: scores,
            },
        )
    }

    /// The keys' gradient, `grad[b, s] += upstream[b, s] · query[b]`
    /// (`attention::step_scores_backward`, slot 0).
    pub fn step_scores_backward_keys(
        &mut self,
        query: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_scores_backward_keys", grad, Some(upstream), query)?;
        let kernel = &self.kernels.attention.step_scores_backward_keys;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[2, 3],
                buffers: &[query, upstream],
                out: grad,
            },
        )
    }

    /// The query's gradient, `grad[b] += Σ_s upstream[b, s] · keys[b, s]`
    /// (`attention::step_scores_backward`, slot 1).
    pub fn step_scores_backward_query(
        &mut self,
        keys: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_scores_backward_query", keys, Some(upstream), grad)?;
        let kernel = &self.kernels.attention.step_scores_backward_query;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[1, 3],
                buffers: &[keys, upstream],
                out: grad,
            },
        )
    }

    /// `mixed[b] = Σ_s weights[b, s] · values[b, s]` (`attention::step_mix_forward`).
    pub fn step_mix(
        &mut self,
        weights: &GpuTensor,
        values: &GpuTensor,
        mixed: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_mix", values, Some(weights), mixed)?;
        let kernel = &self.kernels.attention.step_mix;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[1, 2],
                buffers: &[weights, values],
                out: mixed,
            },
        )
    }

    /// The weights' gradient, `grad[b, s] += upstream[b] · values[b, s]`
    /// (`attention::step_mix_backward`, slot 0).
    pub fn step_mix_backward_weights(
        &mut self,
        values: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_mix_backward_weights", values, Some(grad), upstream)?;
        let kernel = &self.kernels.attention.step_mix_backward_weights;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[2, 3],
                buffers: &[values, upstream],
                out: grad,
            },
        )
    }

    /// The values' gradient, `grad[b, s] += weights[b, s] · upstream[b]`
    /// (`attention::step_mix_backward`, slot 1).
    pub fn step_mix_backward_values(
        &mut self,
        weights: &GpuTensor,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("step_mix_backward_values", grad, Some(weights), upstream)?;
        let kernel = &self.kernels.attention.step_mix_backward_values;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[1, 3],
                buffers: &[weights, upstream],
                out: grad,
            },
        )
    }

    /// `out[b, s] = steps[b, s] + x[b]` (`attention::add_to_steps_forward`).
    pub fn add_to_steps(
        &mut self,
        steps: &GpuTensor,
        x: &GpuTensor,
        out: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("add_to_steps", steps, None, x)?;
        if out.shape() != steps.shape() {
            return Err(GpuError::Shape(format!(
                "add_to_steps of {:?} into {:?}",
                steps.shape(),
                out.shape()
            )));
        }
        let kernel = &self.kernels.attention.add_to_steps;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[1, 2],
                buffers: &[steps, x],
                out,
            },
        )
    }

    /// The added vector's gradient, `grad[b] += Σ_s upstream[b, s]`
    /// (`attention::add_to_steps_backward`, slot 1; slot 0 is [`Commands::accumulate`]).
    pub fn add_to_steps_backward_vector(
        &mut self,
        upstream: &GpuTensor,
        grad: &GpuTensor,
    ) -> Result<(), GpuError> {
        let params = sizes("add_to_steps_backward_vector", upstream, None, grad)?;
        let kernel = &self.kernels.attention.add_to_steps_backward_vector;
        self.launch_attention(
            kernel,
            &params,
            Launch {
                bindings: &[3],
                buffers: &[upstream],
                out: grad,
            },
        )
    }

    fn launch_attention(
        &mut self,
        kernel: &wgpu::ComputePipeline,
        params: &AttentionParams,
        launch: Launch<'_>,
    ) -> Result<(), GpuError> {
        let invocations = to_u32(launch.out.len())?;
        let bindings: Vec<u32> = launch.bindings.iter().copied().chain([4]).collect();
        let buffers: Vec<&wgpu::Buffer> = launch
            .buffers
            .iter()
            .map(|tensor| &tensor.buffer)
            .chain([&launch.out.buffer])
            .collect();
        self.dispatch_linear(kernel, params, &bindings, &buffers, invocations);
        Ok(())
    }
}
