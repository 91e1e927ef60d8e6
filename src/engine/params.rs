//! `Params`: the learnable tensors and their gradients, stored outside any tape so that several
//! tapes (a training batch, an inference grid, a backprop stepper) share the same weights.

use serde::{Deserialize, Serialize};

use super::error::EngineError;
use super::tensor::Tensor;

/// Index of a parameter in a [`Params`] store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ParamId(pub usize);

/// What a parameter is for; regularization applies to weights only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParamRole {
    Weight,
    Bias,
    Other,
    /// Not learned: a statistic a layer keeps from training batches (batch normalisation's
    /// running mean and variance). It lives here so that it is copied, saved and restored with
    /// the weights; optimizers skip it and no gradient flows into it.
    RunningStatistic,
}

impl ParamRole {
    /// Whether optimizers update it from its gradient.
    pub fn is_trainable(self) -> bool {
        self != ParamRole::RunningStatistic
    }
}

/// The parameters of a model with one gradient tensor (same shape) per parameter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    values: Vec<Tensor>,
    grads: Vec<Tensor>,
    roles: Vec<ParamRole>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Adds a parameter with a zero gradient and returns its id.
    pub fn add(&mut self, value: Tensor, role: ParamRole) -> ParamId {
        self.grads.push(Tensor::zeros(value.shape()));
        self.values.push(value);
        self.roles.push(role);
        ParamId(self.values.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = ParamId> + use<> {
        (0..self.values.len()).map(ParamId)
    }

    /// Total number of scalars stored, running statistics included.
    pub fn scalar_count(&self) -> usize {
        self.values.iter().map(Tensor::len).sum()
    }

    /// Number of scalars the optimizers learn (running statistics left out).
    pub fn trainable_scalar_count(&self) -> usize {
        self.values
            .iter()
            .zip(&self.roles)
            .filter(|(_, role)| role.is_trainable())
            .map(|(value, _)| value.len())
            .sum()
    }

    pub fn get(&self, id: ParamId) -> Option<&Tensor> {
        self.values.get(id.0)
    }

    /// The value of a parameter. Panics on an id from another store, like slice indexing.
    pub fn value(&self, id: ParamId) -> &Tensor {
        &self.values[id.0]
    }

    pub fn value_mut(&mut self, id: ParamId) -> &mut Tensor {
        &mut self.values[id.0]
    }

    /// The gradient of the last `Tape::backward` with respect to this parameter.
    pub fn grad(&self, id: ParamId) -> &Tensor {
        &self.grads[id.0]
    }

    pub fn grad_mut(&mut self, id: ParamId) -> &mut Tensor {
        &mut self.grads[id.0]
    }

    pub fn role(&self, id: ParamId) -> ParamRole {
        self.roles[id.0]
    }

    /// Every value, parameter after parameter, as one list: how a model's weights travel
    /// between the training worker and the page.
    pub fn to_flat(&self) -> Vec<f32> {
        let mut flat = Vec::with_capacity(self.scalar_count());
        for value in &self.values {
            flat.extend_from_slice(value.data());
        }
        flat
    }

    /// Overwrites every value from a list made by [`Params::to_flat`] of a same-shaped store.
    pub fn load_flat(&mut self, flat: &[f32]) -> Result<(), EngineError> {
        if flat.len() != self.scalar_count() {
            return Err(EngineError::InvalidConfig(format!(
                "{} values cannot fill a model of {} parameters",
                flat.len(),
                self.scalar_count()
            )));
        }
        let mut start = 0;
        for value in &mut self.values {
            let end = start + value.len();
            value.data_mut().copy_from_slice(&flat[start..end]);
            start = end;
        }
        Ok(())
    }

    /// Sets every gradient to zero (keeping shapes in step with the values).
    pub fn zero_grads(&mut self) {
        for (value, grad) in self.values.iter().zip(&mut self.grads) {
            grad.resize(value.shape());
            grad.fill(0.0);
        }
    }

    /// Every parameter's value (mutable), gradient and role, for optimizers and regularizers.
    pub fn values_and_grads_mut(
        &mut self,
    ) -> impl Iterator<Item = (&mut Tensor, &mut Tensor, ParamRole)> {
        self.values
            .iter_mut()
            .zip(self.grads.iter_mut())
            .zip(self.roles.iter().copied())
            .map(|((value, grad), role)| (value, grad, role))
    }

    /// Sets one gradient to zero, shaped like its value.
    pub fn zero_grad(&mut self, id: ParamId) {
        self.grads[id.0].resize(self.values[id.0].shape());
        self.grads[id.0].fill(0.0);
    }

    /// Gives parameter `id`'s gradient its value's shape, leaving whatever it holds (the tape
    /// overwrites or zeroes it before its first contribution).
    pub(crate) fn shape_grad(&mut self, id: ParamId) {
        self.grads[id.0].resize(self.values[id.0].shape());
    }

    /// Takes a gradient out (leaving an empty tensor, no allocation) so that it can be written
    /// while other parameters' values are read; give it back with [`Params::restore_grad`].
    pub(crate) fn take_grad(&mut self, id: ParamId) -> Tensor {
        std::mem::take(&mut self.grads[id.0])
    }

    pub(crate) fn restore_grad(&mut self, id: ParamId, grad: Tensor) {
        self.grads[id.0] = grad;
    }
}
