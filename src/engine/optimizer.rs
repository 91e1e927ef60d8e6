//! Optimizers with PyTorch's update rules. Each keeps per-parameter state and updates the
//! parameters in place; after the first step nothing is allocated.
//!
//! With gradient `g`, learning rate `lr`:
//! - SGD: `p -= lr g`
//! - Momentum: `v = mu v + g; p -= lr v`
//! - AdaGrad: `s += g^2; p -= lr g / (sqrt(s) + eps)`
//! - RMSprop: `s = rho s + (1 - rho) g^2; p -= lr g / (sqrt(s) + eps)`
//! - Adam: `m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//!   p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`

use serde::{Deserialize, Serialize};

use super::description::{Described, Description};
use super::error::EngineError;
use super::fused_update::FusedUpdate;
use super::gemm::{PanelLayout, Runs};
use super::packed_weights::PackedWeights;
use super::params::{ParamId, ParamRole, Params};
use super::regularization::Regularization;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    Sgd,
    Momentum,
    #[serde(rename = "adagrad")]
    AdaGrad,
    #[serde(rename = "rmsprop")]
    RmsProp,
    Adam,
}

impl OptimizerKind {
    pub const ALL: [OptimizerKind; 5] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::AdaGrad,
        OptimizerKind::RmsProp,
        OptimizerKind::Adam,
    ];
}

impl Described for OptimizerKind {
    fn every() -> &'static [OptimizerKind] {
        &OptimizerKind::ALL
    }

    fn describe(self) -> Description {
        let words = Description::new;
        match self {
            OptimizerKind::Sgd => words("sgd", "SGD", "SGD", "w ← w − η·g"),
            OptimizerKind::Momentum => words(
                "momentum",
                "SGD + momentum",
                "Momentum",
                "v ← μ·v + g;  w ← w − η·v",
            ),
            OptimizerKind::AdaGrad => words(
                "adagrad",
                "AdaGrad",
                "AdaGrad",
                "s ← s + g²;  w ← w − η·g / (√s + ε)",
            ),
            OptimizerKind::RmsProp => words(
                "rmsprop",
                "RMSprop",
                "RMSprop",
                "s ← ρ·s + (1 − ρ)·g²;  w ← w − η·g / (√s + ε)",
            ),
            OptimizerKind::Adam => words(
                "adam",
                "Adam",
                "Adam",
                "m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  w ← w − η·m̂ / (√v̂ + ε)",
            ),
        }
    }
}

/// Optimizer settings; fields not used by `kind` are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub learning_rate: f32,
    /// Momentum factor `mu` (Momentum).
    pub momentum: f32,
    /// Decay of the first moment (Adam).
    pub beta1: f32,
    /// Decay of the second moment (Adam).
    pub beta2: f32,
    /// Added to the denominator to avoid dividing by zero (AdaGrad, RMSprop, Adam).
    pub epsilon: f32,
    /// Decay of the squared-gradient average (RMSprop).
    pub rho: f32,
}

impl OptimizerConfig {
    /// `kind` with the given learning rate and the usual defaults for everything else.
    pub fn new(kind: OptimizerKind, learning_rate: f32) -> OptimizerConfig {
        OptimizerConfig {
            kind,
            learning_rate,
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            rho: 0.9,
        }
    }

    pub fn validate(&self) -> Result<(), EngineError> {
        let invalid = |message: String| Err(EngineError::InvalidConfig(message));
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            return invalid(format!(
                "the learning rate must be a positive number, got {}",
                self.learning_rate
            ));
        }
        for (name, value) in [
            ("momentum", self.momentum),
            ("beta1", self.beta1),
            ("beta2", self.beta2),
            ("rho", self.rho),
        ] {
            if !(0.0..1.0).contains(&value) {
                return invalid(format!(
                    "{name} must be at least 0 and below 1, got {value}"
                ));
            }
        }
        if !self.epsilon.is_finite() || self.epsilon < 0.0 {
            return invalid(format!(
                "epsilon must be a small non-negative number, got {}",
                self.epsilon
            ));
        }
        Ok(())
    }
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::new(OptimizerKind::Sgd, 0.03)
    }
}

/// Running state for one parameter tensor.
#[derive(Clone, Debug, Default)]
struct ParamState {
    /// Velocity (Momentum), sum of squares (AdaGrad), mean square (RMSprop), first moment (Adam).
    first: Vec<f32>,
    /// Second moment (Adam).
    second: Vec<f32>,
    /// The order of `first` and `second`: the parameter's panels while it is trained packed,
    /// row-major otherwise.
    layout: Option<PanelLayout>,
}

/// An optimizer and its state.
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    state: Vec<ParamState>,
    steps: u64,
    /// During a step: which parameters it updated already (kept so that a step allocates nothing).
    updated: Vec<bool>,
}

impl Optimizer {
    pub fn new(config: OptimizerConfig) -> Optimizer {
        Optimizer {
            config,
            state: Vec::new(),
            steps: 0,
            updated: Vec::new(),
        }
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Changes the settings; the state is kept when the kind stays the same (so a learning-rate
    /// change mid-training does not forget the momentum), and reset otherwise.
    pub fn set_config(&mut self, config: OptimizerConfig) {
        if config.kind != self.config.kind {
            self.reset();
        }
        self.config = config;
    }

    /// Forgets all accumulated state.
    pub fn reset(&mut self) {
        self.state.clear();
        self.steps = 0;
    }

    /// Number of steps taken since the last reset.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Updates every parameter from its gradient.
    pub fn step(&mut self, params: &mut Params) {
        self.begin_step(params, Regularization::None, 0.0)
            .finish(params);
    }

    /// Starts a step, with the weight penalty `regularization` at `rate` added to the weights'
    /// gradients: the [`OptimizerStep`] updates parameters during the backward pass (it is a
    /// [`FusedUpdate`]), then [`OptimizerStep::finish`] updates the others from their gradients.
    pub fn begin_step(
        &mut self,
        params: &Params,
        regularization: Regularization,
        rate: f32,
    ) -> OptimizerStep<'_> {
        self.begin_step_packed(params, &PackedWeights::default(), regularization, rate)
    }

    /// [`Optimizer::begin_step`] where the weights in `packed` are trained in their panel
    /// order: their state is kept in the same order (converted if it was kept otherwise).
    pub fn begin_step_packed(
        &mut self,
        params: &Params,
        packed: &PackedWeights,
        regularization: Regularization,
        rate: f32,
    ) -> OptimizerStep<'_> {
        if self.state.len() != params.len() {
            self.state.resize_with(params.len(), ParamState::default);
        }
        let kind = self.config.kind;
        for (id, state) in params.ids().zip(&mut self.state) {
            if !params.role(id).is_trainable() {
                continue;
            }
            let layout = packed.layout(id);
            if state.layout != layout {
                state.relayout(layout, params.value(id).shape());
            }
            let len = layout.map_or(params.value(id).len(), |layout| layout.len());
            if kind != OptimizerKind::Sgd && state.first.len() != len {
                state.first.clear();
                state.first.resize(len, 0.0);
            }
            if kind == OptimizerKind::Adam && state.second.len() != len {
                state.second.clear();
                state.second.resize(len, 0.0);
            }
        }
        self.updated.clear();
        self.updated.resize(params.len(), false);
        // Packed weights are updated during the pass or not at all (a layer the loss does not
        // reach, whose gradient PyTorch would leave unset): never by `finish`.
        for id in packed.ids() {
            self.updated[id.0] = true;
        }
        OptimizerStep {
            rule: UpdateRule::new(self.config, self.steps + 1),
            regularization,
            rate,
            optimizer: self,
        }
    }
}

/// An optimizer's running state as a checkpoint keeps it: each parameter's moments in row-major
/// order (whatever order the trainer keeps them in), and the steps taken.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    pub steps: u64,
    /// One per parameter, in the parameters' order; empty where the optimizer keeps nothing.
    pub moments: Vec<Moments>,
}

/// One parameter's optimizer state, row-major: `first` is the velocity, the sum or mean of
/// squares, or Adam's first moment; `second` is Adam's second moment. Each is empty or holds
/// one value per scalar of the parameter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Moments {
    pub first: Vec<f32>,
    pub second: Vec<f32>,
}

impl Optimizer {
    /// The running state, row-major, for a checkpoint of a model whose parameters are `params`.
    pub fn state(&self, params: &Params) -> OptimizerState {
        let moments = self
            .state
            .iter()
            .zip(params.ids())
            .map(|(state, id)| {
                let mut row_major = state.clone();
                row_major.relayout(None, params.value(id).shape());
                Moments {
                    first: row_major.first,
                    second: row_major.second,
                }
            })
            .collect();
        OptimizerState {
            steps: self.steps,
            moments,
        }
    }

    /// Takes up a running state [`Optimizer::state`] gave for parameters shaped as `params`, so
    /// that the next step is the one that would have followed; a state that does not fit them is
    /// refused and the optimizer's own kept.
    pub fn resume(&mut self, state: OptimizerState, params: &Params) -> Result<(), EngineError> {
        if state.moments.len() > params.len() {
            return Err(EngineError::InvalidState(format!(
                "the optimizer state is for {} parameters; the network has {}",
                state.moments.len(),
                params.len()
            )));
        }
        for (index, (moments, id)) in state.moments.iter().zip(params.ids()).enumerate() {
            let values = params.value(id).len();
            for (name, kept) in [("first", &moments.first), ("second", &moments.second)] {
                if !kept.is_empty() && kept.len() != values {
                    return Err(EngineError::InvalidState(format!(
                        "the optimizer's {name} moment of parameter {index} holds {} values; \
                         the parameter has {values}",
                        kept.len()
                    )));
                }
                if kept.iter().any(|value| !value.is_finite()) {
                    return Err(EngineError::InvalidState(format!(
                        "the optimizer's {name} moment of parameter {index} holds NaN or \
                         infinite values"
                    )));
                }
            }
        }
        self.state = state
            .moments
            .into_iter()
            .map(|moments| ParamState {
                first: moments.first,
                second: moments.second,
                layout: None,
            })
            .collect();
        self.steps = state.steps;
        Ok(())
    }
}

impl ParamState {
    /// Puts the state of a parameter shaped `shape` in `layout` (row-major for `None`), from
    /// the layout it is in; a state of another size is left for the caller to reset.
    fn relayout(&mut self, layout: Option<PanelLayout>, shape: &[usize]) {
        let values: usize = shape.iter().product();
        let from = self.layout;
        for state in [&mut self.first, &mut self.second] {
            let expected = from.map_or(values, |layout| layout.len());
            if state.is_empty() || state.len() != expected {
                continue;
            }
            let mut row_major = match from {
                Some(from) => {
                    let mut matrix = vec![0.0; values];
                    from.unpack(state, &mut matrix);
                    matrix
                }
                None => std::mem::take(state),
            };
            *state = match layout {
                Some(to) => {
                    let mut packed = vec![0.0; to.len()];
                    to.pack(&row_major, &mut packed);
                    packed
                }
                None => std::mem::take(&mut row_major),
            };
        }
        self.layout = layout;
    }
}

/// One optimizer step under way (see [`Optimizer::begin_step`]).
pub struct OptimizerStep<'a> {
    optimizer: &'a mut Optimizer,
    rule: UpdateRule,
    regularization: Regularization,
    rate: f32,
}

impl OptimizerStep<'_> {
    /// Updates every trainable parameter not updated yet from its gradient, and ends the step.
    pub fn finish(mut self, params: &mut Params) {
        for (index, (value, grad, role)) in params.values_and_grads_mut().enumerate() {
            if self.optimizer.updated[index] || !role.is_trainable() || grad.len() != value.len() {
                continue;
            }
            let runs = Runs::contiguous(0, value.len());
            self.update(
                ParamId(index),
                role,
                runs,
                value.data_mut(),
                grad.data_mut(),
            );
        }
        self.optimizer.steps += 1;
    }
}

impl FusedUpdate for OptimizerStep<'_> {
    fn takes(&self, id: ParamId, role: ParamRole) -> bool {
        role.is_trainable() && id.0 < self.optimizer.updated.len()
    }

    fn state(&self, id: ParamId) -> [&[f32]; 2] {
        match self.optimizer.state.get(id.0) {
            Some(state) => [&state.first, &state.second],
            None => [&[], &[]],
        }
    }

    fn update(
        &mut self,
        id: ParamId,
        role: ParamRole,
        runs: Runs,
        values: &mut [f32],
        grads: &mut [f32],
    ) {
        self.optimizer.updated[id.0] = true;
        let state = &mut self.optimizer.state[id.0];
        let (regularization, rate) = (self.regularization, self.rate);
        let weight = role == ParamRole::Weight;
        self.rule.apply_runs(
            runs,
            values,
            grads,
            &mut state.first,
            &mut state.second,
            |grads, values| {
                // The penalty's gradient, then the rule, on each run.
                if weight {
                    regularization.add_gradient_to(grads, values, rate);
                }
            },
        );
    }
}

#[derive(Clone, Copy)]
struct UpdateRule {
    config: OptimizerConfig,
    /// Adam's step size, `lr / (1 - b1^t)`.
    step_size: f32,
    /// Adam's `1 / sqrt(1 - b2^t)`.
    inverse_sqrt_correction2: f32,
}

impl UpdateRule {
    fn new(config: OptimizerConfig, steps: u64) -> UpdateRule {
        // In f64 so that b^t does not lose precision.
        let t = steps.min(i32::MAX as u64) as i32;
        let correction1 = 1.0 - f64::from(config.beta1).powi(t);
        let correction2 = 1.0 - f64::from(config.beta2).powi(t);
        UpdateRule {
            config,
            step_size: (f64::from(config.learning_rate) / correction1) as f32,
            inverse_sqrt_correction2: (1.0 / correction2.sqrt()) as f32,
        }
    }

    /// Updates `p` from `g` and its state, with AVX2 where the CPU has it. The arithmetic is
    /// the same either way (no fused multiply-adds), so the results are too; the wider loads
    /// took about 1% off the MLP benchmark's training step.
    /// `first` and `second` are the state of the same elements as `p` (empty where the rule
    /// keeps none).
    /// Applies the rule where `runs` say in `p` (and the state, laid out as `p`; empty where the
    /// rule keeps none), from the runs' gradients `g` one after the other, each first passed to
    /// `before` with its parameters.
    fn apply_runs(
        &self,
        runs: Runs,
        p: &mut [f32],
        g: &mut [f32],
        first: &mut [f32],
        second: &mut [f32],
        before: impl FnMut(&mut [f32], &[f32]),
    ) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.apply_runs_avx2(runs, p, g, first, second, before) };
        }
        self.apply_runs_portable(runs, p, g, first, second, before)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_runs_avx2(
        &self,
        runs: Runs,
        p: &mut [f32],
        g: &mut [f32],
        first: &mut [f32],
        second: &mut [f32],
        before: impl FnMut(&mut [f32], &[f32]),
    ) {
        self.apply_runs_portable(runs, p, g, first, second, before)
    }

    #[inline(always)]
    fn apply_runs_portable(
        &self,
        runs: Runs,
        p: &mut [f32],
        g: &mut [f32],
        first: &mut [f32],
        second: &mut [f32],
        mut before: impl FnMut(&mut [f32], &[f32]),
    ) {
        for (in_param, in_band) in runs.pairs() {
            let (p, g) = (&mut p[in_param.clone()], &mut g[in_band]);
            before(g, p);
            let first = first.get_mut(in_param.clone()).unwrap_or_default();
            let second = second.get_mut(in_param).unwrap_or_default();
            self.apply_portable(p, g, first, second);
        }
    }

    #[inline(always)]
    fn apply_portable(&self, p: &mut [f32], g: &[f32], first: &mut [f32], second: &mut [f32]) {
        let c = self.config;
        let lr = c.learning_rate;
        match c.kind {
            OptimizerKind::Sgd => p.iter_mut().zip(g).for_each(|(p, &g)| *p -= lr * g),
            OptimizerKind::Momentum => {
                for ((p, &g), v) in p.iter_mut().zip(g).zip(first.iter_mut()) {
                    *v = c.momentum * *v + g;
                    *p -= lr * *v;
                }
            }
            OptimizerKind::AdaGrad => {
                for ((p, &g), s) in p.iter_mut().zip(g).zip(first.iter_mut()) {
                    *s += g * g;
                    *p -= lr * g / (s.sqrt() + c.epsilon);
                }
            }
            OptimizerKind::RmsProp => {
                for ((p, &g), s) in p.iter_mut().zip(g).zip(first.iter_mut()) {
                    *s = c.rho * *s + (1.0 - c.rho) * g * g;
                    *p -= lr * g / (s.sqrt() + c.epsilon);
                }
            }
            OptimizerKind::Adam => {
                let (step_size, inverse) = (self.step_size, self.inverse_sqrt_correction2);
                let moments = first.iter_mut().zip(second.iter_mut());
                for ((p, &g), (m, v)) in p.iter_mut().zip(g).zip(moments) {
                    *m = c.beta1 * *m + (1.0 - c.beta1) * g;
                    *v = c.beta2 * *v + (1.0 - c.beta2) * g * g;
                    *p -= step_size * *m / (v.sqrt() * inverse + c.epsilon);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serialised_form_is_the_key() {
        for kind in OptimizerKind::ALL {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.key())
            );
        }
    }

    #[test]
    fn learning_rate_must_be_positive() {
        assert!(
            OptimizerConfig::new(OptimizerKind::Adam, 0.0)
                .validate()
                .is_err()
        );
        assert!(
            OptimizerConfig::new(OptimizerKind::Adam, f32::NAN)
                .validate()
                .is_err()
        );
        assert!(
            OptimizerConfig::new(OptimizerKind::Adam, 0.001)
                .validate()
                .is_ok()
        );
    }

    /// Adam's moments, kept row-major for a weight trained plainly, follow it into the panel
    /// order when it is trained packed, and back, value for value.
    #[test]
    fn state_follows_the_weights_into_and_out_of_panels() {
        use crate::engine::tensor::Tensor;
        let mut params = Params::new();
        let values = (0..40 * 500).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
        let w = params.add(
            Tensor::from_vec(&[40, 500], values).unwrap(),
            ParamRole::Weight,
        );
        for (index, g) in params.grad_mut(w).data_mut().iter_mut().enumerate() {
            *g = (index % 5) as f32 - 2.0;
        }
        let mut optimizer = Optimizer::new(OptimizerConfig::new(OptimizerKind::Adam, 0.01));
        optimizer.step(&mut params);
        let state = |step: OptimizerStep<'_>| step.state(w).map(<[f32]>::to_vec);
        let row_major = state(optimizer.begin_step(&params, Regularization::None, 0.0));
        assert!(
            row_major
                .iter()
                .all(|moment| moment.iter().any(|&m| m != 0.0))
        );

        let mut packed = PackedWeights::default();
        packed.choose(&mut params, &[w]);
        let layout = packed.layout(w).expect("large enough to pack");
        let in_panels =
            state(optimizer.begin_step_packed(&params, &packed, Regularization::None, 0.0));
        for (moment, row_major) in in_panels.iter().zip(&row_major) {
            let mut expected = vec![0.0; layout.len()];
            layout.pack(row_major, &mut expected);
            assert_eq!(moment, &expected);
        }
        let back = state(optimizer.begin_step(&params, Regularization::None, 0.0));
        assert_eq!(back, row_major);
    }
}
