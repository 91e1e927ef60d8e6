//! Weight penalties. They apply to weights only, never to biases.
//!
//! Conventions: L2 penalty = `rate / 2 * sum w^2` (gradient `rate * w`, i.e. weight decay `rate`);
//! L1 penalty = `rate * sum |w|` (gradient `rate * sign(w)`, with sign(0) = 0).

use serde::{Deserialize, Serialize};

use super::description::{Described, Description};
use super::params::{ParamRole, Params};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regularization {
    #[default]
    None,
    L1,
    L2,
}

impl Regularization {
    pub const ALL: [Regularization; 3] =
        [Regularization::None, Regularization::L1, Regularization::L2];

    /// The penalty added to the reported loss.
    pub fn penalty(self, params: &Params, rate: f32) -> f32 {
        if self == Regularization::None || rate == 0.0 {
            return 0.0;
        }
        let total: f64 = params
            .ids()
            .filter(|&id| params.role(id) == ParamRole::Weight)
            .map(|id| self.sum_of(params.value(id).data()))
            .sum();
        (f64::from(rate) * total) as f32
    }

    /// The penalty of `weights` before the rate: the sum of `|w|` (L1) or of `w^2 / 2` (L2).
    pub fn sum_of(self, weights: &[f32]) -> f64 {
        let weights = weights.iter().map(|&w| f64::from(w));
        match self {
            Regularization::None => 0.0,
            Regularization::L1 => weights.map(f64::abs).sum::<f64>(),
            Regularization::L2 => 0.5 * weights.map(|w| w * w).sum::<f64>(),
        }
    }

    pub fn add_gradient(self, params: &mut Params, rate: f32) {
        for (value, grad, role) in params.values_and_grads_mut() {
            if role == ParamRole::Weight && grad.len() == value.len() {
                self.add_gradient_to(grad.data_mut(), value.data(), rate);
            }
        }
    }

    /// Adds the penalty's gradient at `weights` to `grads` (as long): some of a weight tensor's
    /// elements, as the optimizer updates them.
    pub fn add_gradient_to(self, grads: &mut [f32], weights: &[f32], rate: f32) {
        if self == Regularization::None || rate == 0.0 {
            return;
        }
        let pairs = grads.iter_mut().zip(weights);
        match self {
            Regularization::L1 => pairs.for_each(|(g, &w)| {
                if w != 0.0 {
                    *g += rate * w.signum();
                }
            }),
            Regularization::L2 => pairs.for_each(|(g, &w)| *g += rate * w),
            Regularization::None => {}
        }
    }
}

impl Described for Regularization {
    fn every() -> &'static [Regularization] {
        &Regularization::ALL
    }

    fn describe(self) -> Description {
        match self {
            Regularization::None => Description::new("none", "None", "none", "no penalty"),
            Regularization::L1 => Description::new("l1", "L1", "L1", "penalty = λ · Σ |w|"),
            Regularization::L2 => Description::new("l2", "L2", "L2", "penalty = λ/2 · Σ w²"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tensor::Tensor;

    #[test]
    fn penalties_skip_biases() {
        let mut params = Params::new();
        let w = params.add(
            Tensor::from_vec(&[2], vec![3.0, -4.0]).unwrap(),
            ParamRole::Weight,
        );
        params.add(
            Tensor::from_vec(&[1], vec![100.0]).unwrap(),
            ParamRole::Bias,
        );
        assert_eq!(Regularization::L2.penalty(&params, 0.1), 0.1 * 0.5 * 25.0);
        assert_eq!(Regularization::L1.penalty(&params, 0.1), 0.1 * 7.0);
        Regularization::L1.add_gradient(&mut params, 0.5);
        assert_eq!(params.grad(w).data(), &[0.5, -0.5]);
        assert_eq!(
            params.grad(crate::engine::params::ParamId(1)).data(),
            &[0.0]
        );
    }
}
