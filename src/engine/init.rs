//! Weight initialisation schemes. Biases start at zero, except with `Constant(c)` where every
//! parameter starts at `c` (the "all equal" lesson: symmetric neurons never become different).

use serde::{Deserialize, Serialize};

use super::rng::SeededRng;
use super::tensor::Tensor;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initializer {
    Zeros,
    /// Every weight and bias equal to this value.
    Constant(f32),
    /// Uniform in `[-limit, limit]`.
    Uniform {
        limit: f32,
    },
    /// Normal with mean 0.
    Normal {
        std: f32,
    },
    /// Glorot: uniform in `±sqrt(6 / (fan_in + fan_out))`.
    #[default]
    XavierUniform,
    /// Glorot: normal with `std = sqrt(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// Kaiming (for ReLU): uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    /// Kaiming (for ReLU): normal with `std = sqrt(2 / fan_in)`.
    HeNormal,
}

impl Initializer {
    /// Short lowercase name, used in URLs and menus.
    pub fn name(&self) -> &'static str {
        match self {
            Initializer::Zeros => "zeros",
            Initializer::Constant(_) => "constant",
            Initializer::Uniform { .. } => "uniform",
            Initializer::Normal { .. } => "normal",
            Initializer::XavierUniform => "xavier_uniform",
            Initializer::XavierNormal => "xavier_normal",
            Initializer::HeUniform => "he_uniform",
            Initializer::HeNormal => "he_normal",
        }
    }

    /// Fills a weight tensor of a layer with `fan_in` inputs and `fan_out` outputs.
    pub fn fill_weights(
        &self,
        weights: &mut Tensor,
        fan_in: usize,
        fan_out: usize,
        rng: &mut SeededRng,
    ) {
        let fan_in = fan_in.max(1) as f32;
        let fan_sum = fan_in + fan_out.max(1) as f32;
        match *self {
            Initializer::Zeros => weights.fill(0.0),
            Initializer::Constant(c) => weights.fill(c),
            Initializer::Uniform { limit } => fill_uniform(weights, limit, rng),
            Initializer::XavierUniform => fill_uniform(weights, (6.0 / fan_sum).sqrt(), rng),
            Initializer::HeUniform => fill_uniform(weights, (6.0 / fan_in).sqrt(), rng),
            Initializer::Normal { std } => fill_normal(weights, std, rng),
            Initializer::XavierNormal => fill_normal(weights, (2.0 / fan_sum).sqrt(), rng),
            Initializer::HeNormal => fill_normal(weights, (2.0 / fan_in).sqrt(), rng),
        }
    }

    /// Fills a bias tensor: zeros, or the constant for `Constant`.
    pub fn fill_bias(&self, bias: &mut Tensor) {
        match *self {
            Initializer::Constant(c) => bias.fill(c),
            _ => bias.fill(0.0),
        }
    }
}

fn fill_uniform(t: &mut Tensor, limit: f32, rng: &mut SeededRng) {
    t.data_mut()
        .iter_mut()
        .for_each(|w| *w = rng.uniform_range(-limit, limit));
}

fn fill_normal(t: &mut Tensor, std: f32, rng: &mut SeededRng) {
    t.data_mut()
        .iter_mut()
        .for_each(|w| *w = rng.normal(0.0, std));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_spreads() {
        let mut rng = SeededRng::new(5);
        let mut w = Tensor::zeros(&[100, 50]);
        Initializer::XavierUniform.fill_weights(&mut w, 100, 50, &mut rng);
        let limit = (6.0f32 / 150.0).sqrt();
        assert!(w.data().iter().all(|v| v.abs() <= limit));
        assert!(w.data().iter().any(|v| v.abs() > 0.9 * limit));
        Initializer::HeNormal.fill_weights(&mut w, 100, 50, &mut rng);
        let variance = w.data().iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((variance - 0.02).abs() < 0.002, "{variance}");
        Initializer::Constant(0.3).fill_weights(&mut w, 100, 50, &mut rng);
        assert!(w.data().iter().all(|&v| v == 0.3));
    }
}
