//! `GpuOptimizer`: an optimiser whose state (velocity, moments) lives on the GPU beside the
//! parameters it updates. Same rules and settings as the engine's [`Optimizer`]; the update
//! itself is `shaders/optim.wgsl`.
//!
//! [`Optimizer`]: crate::engine::Optimizer

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::kernels::{Commands, OptimParams, StepSchedule, optimizer_index, regularization_index};
use super::training_kernels::TrainingKernels;
use crate::engine::optimizer::{Moments, OptimizerState};
use crate::engine::{OptimizerConfig, OptimizerKind, ParamRole, Regularization};

/// One parameter tensor to update: its value, its gradient and its role (only weights are
/// regularised; running statistics are not updated at all).
pub struct GpuParam<'a> {
    pub value: &'a GpuTensor,
    pub grad: &'a GpuTensor,
    pub role: ParamRole,
}

#[derive(Debug)]
pub struct GpuOptimizer {
    config: OptimizerConfig,
    /// Per parameter: the first and second state tensors (placeholders where the kind needs none).
    state: Vec<[GpuTensor; 2]>,
    steps: u64,
    /// The rate and Adam's corrections of the next step (see [`StepSchedule`]), made on first
    /// use.
    schedule: Option<wgpu::Buffer>,
    /// Per parameter, its gradient's squared norm, for clipping by global norm (made on first
    /// use).
    norms: Option<GpuTensor>,
}

impl GpuOptimizer {
    pub fn new(config: OptimizerConfig) -> GpuOptimizer {
        GpuOptimizer {
            config,
            state: Vec::new(),
            steps: 0,
            schedule: None,
            norms: None,
        }
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Number of steps taken since the last reset.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Like [`crate::engine::Optimizer::set_config`]: the state survives a change of settings
    /// within one kind and is reset by a change of kind.
    pub fn set_config(&mut self, config: OptimizerConfig) {
        if config.kind != self.config.kind {
            self.reset();
        }
        self.config = config;
    }

    pub fn reset(&mut self) {
        self.state.clear();
        self.steps = 0;
    }

    /// The running state read back, row-major as the parameters are (the engine's
    /// [`Optimizer::state`](crate::engine::Optimizer::state) form): every tensor in one copy and
    /// one readback.
    pub async fn read_state(
        &self,
        context: &GpuContext,
        training: &TrainingKernels,
    ) -> Result<OptimizerState, GpuError> {
        let total: usize = self.state.iter().flatten().map(GpuTensor::len).sum();
        let mut moments = Vec::with_capacity(self.state.len());
        if total > 0 {
            let packed = GpuTensor::zeros(context, &[total]);
            let mut commands = training.begin(context);
            let mut offset = 0;
            for tensor in self.state.iter().flatten() {
                commands.copy(tensor, &packed, offset)?;
                offset += tensor.len();
            }
            commands.submit();
            let flat = packed.read(context).await?;
            let mut values = flat.data();
            for [first, second] in &self.state {
                let (read_first, rest) = values.split_at(first.len());
                let (read_second, rest) = rest.split_at(second.len());
                values = rest;
                moments.push(Moments {
                    first: read_first.to_vec(),
                    second: read_second.to_vec(),
                });
            }
        }
        Ok(OptimizerState {
            steps: self.steps,
            moments,
        })
    }

    /// Takes up a running state [`GpuOptimizer::read_state`] (or the CPU optimiser) gave for
    /// these same parameters, so that the next step is the one that would have followed; a
    /// state that does not fit them is refused and this one's kept.
    pub fn resume(
        &mut self,
        context: &GpuContext,
        params: &[GpuParam<'_>],
        state: &OptimizerState,
    ) -> Result<(), GpuError> {
        if state.moments.len() > params.len() {
            return Err(GpuError::Shape(format!(
                "the optimiser state is for {} parameters; the network has {}",
                state.moments.len(),
                params.len()
            )));
        }
        let kind = self.config.kind;
        let mut tensors = Vec::with_capacity(params.len());
        for (index, param) in params.iter().enumerate() {
            let sizes = state_sizes(param, kind);
            let kept = state.moments.get(index);
            let kept = [kept.map(|m| &m.first), kept.map(|m| &m.second)];
            let mut pair = Vec::with_capacity(2);
            for (values, size) in kept.into_iter().zip(sizes) {
                pair.push(match values.filter(|values| !values.is_empty()) {
                    Some(values) if values.len() == size => {
                        let tensor = crate::engine::Tensor::from_vec(&[size], values.clone())
                            .map_err(|error| GpuError::Shape(error.to_string()))?;
                        GpuTensor::upload(context, &tensor)
                    }
                    Some(values) => {
                        return Err(GpuError::Shape(format!(
                            "the optimiser state of parameter {index} holds {} values where \
                             {kind:?} keeps {size}",
                            values.len()
                        )));
                    }
                    None => GpuTensor::zeros(context, &[size]),
                });
            }
            let second = pair.pop().expect("two");
            let first = pair.pop().expect("two");
            tensors.push([first, second]);
        }
        self.state = tensors;
        self.steps = state.steps;
        Ok(())
    }

    /// Records one update of every parameter: under `clip_norm`, every gradient is scaled as
    /// `engine::trainer::clip_gradients` does; the penalty's gradient is added to the weights'
    /// gradients (`Regularization::add_gradient`), then the rule of `Optimizer::step` applies.
    pub fn step(
        &mut self,
        context: &GpuContext,
        commands: &mut Commands<'_>,
        params: &[GpuParam<'_>],
        (regularization, rate): (Regularization, f32),
        clip_norm: Option<f32>,
    ) -> Result<(), GpuError> {
        if let Some(param) = params.iter().find(|p| p.value.len() != p.grad.len()) {
            return Err(GpuError::Shape(format!(
                "a parameter of shape {:?} with a gradient of shape {:?}",
                param.value.shape(),
                param.grad.shape()
            )));
        }
        self.steps += 1;
        let c = self.config;
        // Adam's bias corrections, computed exactly as `Optimizer::step` computes them (in f64).
        let t = self.steps.min(i32::MAX as u64) as i32;
        let correction1 = 1.0 - f64::from(c.beta1).powi(t);
        let correction2 = 1.0 - f64::from(c.beta2).powi(t);
        // Written before this step's submission: every caller submits one step at a time (a
        // second step recorded into the same submission would read the later values).
        let schedule = self.schedule.get_or_insert_with(|| {
            context.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("optimiser schedule"),
                size: std::mem::size_of::<StepSchedule>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        let values = StepSchedule {
            learning_rate: c.learning_rate,
            step_size: (f64::from(c.learning_rate) / correction1) as f32,
            inverse_sqrt_correction2: (1.0 / correction2.sqrt()) as f32,
            _pad: 0.0,
        };
        context
            .queue
            .write_buffer(schedule, 0, bytemuck::bytes_of(&values));

        if self.state.len() != params.len()
            || self
                .state
                .iter()
                .zip(params)
                .any(|(s, p)| !fits(s, p, c.kind))
        {
            self.state = params
                .iter()
                .map(|p| new_state(context, p, c.kind))
                .collect();
        }
        let slots = params.len().max(1);
        if self.norms.as_ref().is_none_or(|norms| norms.len() != slots) {
            self.norms = Some(GpuTensor::zeros(context, &[slots]));
        }
        let norms = self.norms.as_ref().expect("made above");
        let uniforms = params
            .iter()
            .enumerate()
            .map(|(slot, param)| {
                let regularised = param.role == ParamRole::Weight && rate != 0.0;
                Ok(OptimParams {
                    len: u32::try_from(param.value.len())
                        .map_err(|_| GpuError::Shape("a parameter too large".into()))?,
                    kind: optimizer_index(c.kind),
                    regularization: if regularised {
                        regularization_index(regularization)
                    } else {
                        0
                    },
                    clipped: if clip_norm.is_some() {
                        params.len() as u32
                    } else {
                        0
                    },
                    momentum: c.momentum,
                    beta1: c.beta1,
                    beta2: c.beta2,
                    epsilon: c.epsilon,
                    rho: c.rho,
                    regularization_rate: rate,
                    clip_norm: clip_norm.unwrap_or(0.0),
                    slot: slot as u32,
                })
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        // Every norm first (those of parameters not trained stay zero), then every gradient
        // scaled, then every update.
        if clip_norm.is_some() {
            let trained = || {
                params
                    .iter()
                    .zip(&uniforms)
                    .filter(|(param, _)| param.role.is_trainable())
            };
            for (param, uniform) in trained() {
                commands.gradient_square_sum(uniform, param.grad, norms);
            }
            for (param, uniform) in trained() {
                commands.clip_gradient(uniform, param.grad, norms);
            }
        }
        for ((param, state), uniform) in params.iter().zip(&self.state).zip(&uniforms) {
            if !param.role.is_trainable() {
                continue;
            }
            commands.optimizer_step(
                uniform,
                schedule,
                param.value,
                param.grad,
                [&state[0], &state[1]],
            );
        }
        Ok(())
    }
}

/// How many state values a kind keeps per parameter value: (first, second).
fn state_sizes(param: &GpuParam<'_>, kind: OptimizerKind) -> [usize; 2] {
    let len = param.value.len();
    match kind {
        OptimizerKind::Sgd => [0, 0],
        OptimizerKind::Adam => [len, len],
        OptimizerKind::Momentum | OptimizerKind::AdaGrad | OptimizerKind::RmsProp => [len, 0],
    }
}

fn fits(state: &[GpuTensor; 2], param: &GpuParam<'_>, kind: OptimizerKind) -> bool {
    let sizes = state_sizes(param, kind);
    state[0].len() == sizes[0] && state[1].len() == sizes[1]
}

fn new_state(context: &GpuContext, param: &GpuParam<'_>, kind: OptimizerKind) -> [GpuTensor; 2] {
    state_sizes(param, kind).map(|size| GpuTensor::zeros(context, &[size]))
}
