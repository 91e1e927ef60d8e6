//! `SeededRng`: the engine's only source of randomness, always seeded explicitly so that the
//! same seed gives the same initial weights, batches and loss curves on every platform.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// A small, fast, reproducible random number generator (PCG 64, MCG variant).
/// Its state can be saved (serde) so that a resumed run draws what the run would have drawn.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SeededRng {
    generator: Pcg64Mcg,
}

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng {
            generator: Pcg64Mcg::seed_from_u64(seed),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.generator.next_u64()
    }

    /// Uniform in `[0, 1)` with 24 random bits (every value exactly representable as `f32`).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub fn uniform_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[low, high)`.
    pub fn uniform_range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    /// A standard normal sample (mean 0, variance 1) by the Box–Muller transform.
    pub fn standard_normal(&mut self) -> f32 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.uniform_f64()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform_f64();
        (radius * angle.cos()) as f32
    }

    /// A normal sample with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f32, std: f32) -> f32 {
        mean + std * self.standard_normal()
    }

    /// Uniform integer in `0..bound` (`bound > 0`), without modulo bias.
    pub fn below(&mut self, bound: usize) -> usize {
        assert!(bound > 0, "below(0) has no possible value");
        let bound = bound as u64;
        // Multiply-shift (Lemire) with rejection of the biased zone.
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if (product as u64) >= threshold {
                return (product >> 64) as usize;
            }
        }
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(SeededRng::new(8).next_u64(), SeededRng::new(7).next_u64());
    }

    #[test]
    fn distributions_have_the_right_moments() {
        let mut rng = SeededRng::new(1);
        let n = 20_000;
        let uniform: Vec<f32> = (0..n).map(|_| rng.uniform()).collect();
        assert!(uniform.iter().all(|&u| (0.0..1.0).contains(&u)));
        let mean = uniform.iter().sum::<f32>() / n as f32;
        assert!((mean - 0.5).abs() < 0.01);
        let normal: Vec<f32> = (0..n).map(|_| rng.standard_normal()).collect();
        let mean = normal.iter().sum::<f32>() / n as f32;
        let variance = normal.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n as f32;
        assert!(
            mean.abs() < 0.03 && (variance - 1.0).abs() < 0.05,
            "{mean} {variance}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut items: Vec<usize> = (0..50).collect();
        SeededRng::new(3).shuffle(&mut items);
        assert_ne!(items, (0..50).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..50).collect::<Vec<_>>());
    }
}
