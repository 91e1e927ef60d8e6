//! Loss functions: each one's value and its gradient with respect to the prediction, side by side.
//!
//! Conventions (they match PyTorch's defaults, `reduction = "mean"`):
//! - `MeanSquaredError` = mean over all elements of `(p - y)^2` (no 1/2 factor).
//! - `HalfSquaredError` = mean over all elements of `(p - y)^2 / 2`, the course's
//!   `J = 1/2 (A - Y)^2` whose derivative is simply `A - Y`.
//! - `MeanAbsoluteError` = mean over all elements of `|p - y|`.
//! - `BinaryCrossEntropy` takes *logits* `z` (like `BCEWithLogitsLoss`): the mean over all elements
//!   of `max(z, 0) - z y + ln(1 + e^-|z|)`, which equals `-y ln s - (1 - y) ln(1 - s)` with
//!   `s = sigmoid(z)` but never takes the log of 0.
//! - `SoftmaxCrossEntropy` takes logits `z` of shape `[n, k]` and one-hot (or soft) targets: the
//!   mean over the `n` rows of `-sum_j y_j ln softmax(z)_j`, computed with log-sum-exp.

use serde::{Deserialize, Serialize};

use super::activation::sigmoid;
use super::description::{Described, Description};
use super::fast_exp;
use super::softmax::log_sum_exp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Loss {
    #[serde(rename = "mse")]
    MeanSquaredError,
    #[serde(rename = "half_squared_error")]
    HalfSquaredError,
    #[serde(rename = "mae")]
    MeanAbsoluteError,
    #[serde(rename = "binary_cross_entropy")]
    BinaryCrossEntropy,
    #[serde(rename = "cross_entropy")]
    SoftmaxCrossEntropy,
}

/// What turns the output layer's values into the prediction shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputTransform {
    /// The output layer's own activation is the prediction.
    None,
    /// The output layer produces logits; the prediction is `sigmoid(logits)`.
    Sigmoid,
    /// The output layer produces logits; the prediction is `softmax(logits)` row by row.
    Softmax,
}

impl Loss {
    pub const ALL: [Loss; 5] = [
        Loss::MeanSquaredError,
        Loss::HalfSquaredError,
        Loss::MeanAbsoluteError,
        Loss::BinaryCrossEntropy,
        Loss::SoftmaxCrossEntropy,
    ];

    /// How the prediction shown to the user is obtained from the output layer when training with
    /// this loss. The cross-entropies work on logits for numerical stability, so the sigmoid or
    /// softmax is applied after the output layer instead of inside it.
    pub fn output_activation(self) -> OutputTransform {
        match self {
            Loss::MeanSquaredError | Loss::HalfSquaredError | Loss::MeanAbsoluteError => {
                OutputTransform::None
            }
            Loss::BinaryCrossEntropy => OutputTransform::Sigmoid,
            Loss::SoftmaxCrossEntropy => OutputTransform::Softmax,
        }
    }

    /// True when the loss expects logits (pre-activation outputs) rather than predictions.
    pub fn takes_logits(self) -> bool {
        self.output_activation() != OutputTransform::None
    }

    /// The loss of `prediction` (or logits) against `target`, both row-major with `cols` columns.
    /// Accumulated in `f64` so that tiny losses stay exact.
    pub fn value(self, prediction: &[f32], target: &[f32], cols: usize) -> f64 {
        assert_eq!(prediction.len(), target.len());
        let count = prediction.len();
        if count == 0 {
            return 0.0;
        }
        let pairs = prediction
            .iter()
            .zip(target)
            .map(|(&p, &y)| (f64::from(p), f64::from(y)));
        match self {
            Loss::MeanSquaredError => {
                pairs.map(|(p, y)| (p - y) * (p - y)).sum::<f64>() / count as f64
            }
            Loss::HalfSquaredError => {
                pairs.map(|(p, y)| 0.5 * (p - y) * (p - y)).sum::<f64>() / count as f64
            }
            Loss::MeanAbsoluteError => {
                pairs.map(|(p, y)| (p - y).abs()).sum::<f64>() / count as f64
            }
            Loss::BinaryCrossEntropy => {
                let total: f64 = pairs
                    .map(|(z, y)| z.max(0.0) - z * y + (-z.abs()).exp().ln_1p())
                    .sum();
                total / count as f64
            }
            Loss::SoftmaxCrossEntropy => {
                let rows = count / cols;
                let mut total = 0.0;
                for (z_row, y_row) in prediction.chunks_exact(cols).zip(target.chunks_exact(cols)) {
                    let log_normaliser = log_sum_exp(z_row);
                    for (&z, &y) in z_row.iter().zip(y_row) {
                        if y != 0.0 {
                            total -= f64::from(y) * (f64::from(z) - log_normaliser);
                        }
                    }
                }
                total / rows as f64
            }
        }
    }

    /// `grad += upstream * dLoss/dprediction` (for the cross-entropies: with respect to the logits).
    pub fn gradient(
        self,
        prediction: &[f32],
        target: &[f32],
        cols: usize,
        upstream: f32,
        grad: &mut [f32],
    ) {
        assert!(prediction.len() == target.len() && target.len() == grad.len());
        let count = prediction.len();
        if count == 0 {
            return;
        }
        let scale = upstream / count as f32;
        let elements = grad.iter_mut().zip(prediction).zip(target);
        match self {
            Loss::MeanSquaredError => {
                elements.for_each(|((g, &p), &y)| *g += 2.0 * scale * (p - y));
            }
            Loss::HalfSquaredError => {
                elements.for_each(|((g, &p), &y)| *g += scale * (p - y));
            }
            Loss::MeanAbsoluteError => {
                // The derivative of |p - y| at p = y is taken as 0 (like PyTorch's sign).
                elements.for_each(|((g, &p), &y)| *g += scale * sign(p - y));
            }
            Loss::BinaryCrossEntropy => {
                elements.for_each(|((g, &z), &y)| *g += scale * (sigmoid(z) - y));
            }
            Loss::SoftmaxCrossEntropy => {
                let scale = upstream / (count / cols) as f32;
                let rows = prediction.chunks_exact(cols).zip(target.chunks_exact(cols));
                for ((z_row, y_row), g_row) in rows.zip(grad.chunks_exact_mut(cols)) {
                    let max = z_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    // Not `f32::exp`, a libm call per element.
                    let total: f32 = z_row.iter().map(|&z| fast_exp::exp(z - max)).sum();
                    // For targets that sum to 1 this is softmax(z) - y; the sum keeps soft targets exact.
                    let target_total: f32 = y_row.iter().sum();
                    for ((g, &z), &y) in g_row.iter_mut().zip(z_row).zip(y_row) {
                        let probability = fast_exp::exp(z - max) / total;
                        *g += scale * (probability * target_total - y);
                    }
                }
            }
        }
    }
}

fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Root mean squared error, `sqrt(MSE)`, in the units of the targets (for display).
pub fn root_mean_squared_error(prediction: &[f32], target: &[f32]) -> f32 {
    Loss::MeanSquaredError.value(prediction, target, 1).sqrt() as f32
}

impl Described for Loss {
    fn every() -> &'static [Loss] {
        &Loss::ALL
    }

    fn describe(self) -> Description {
        let words = Description::new;
        match self {
            Loss::MeanSquaredError => words(
                "mse",
                "Mean squared error",
                "MSE",
                "L = (1/n) Σⱼ (pⱼ − yⱼ)²",
            ),
            Loss::HalfSquaredError => words(
                "half-se",
                "½ squared error",
                "½SE",
                "L = ½ (p − y)²  (mean over the outputs)",
            ),
            Loss::MeanAbsoluteError => words(
                "mae",
                "Mean absolute error",
                "MAE",
                "L = (1/n) Σⱼ |pⱼ − yⱼ|",
            ),
            Loss::BinaryCrossEntropy => words(
                "bce",
                "Binary cross-entropy",
                "BCE",
                "L = −[y ln p + (1 − y) ln(1 − p)]",
            ),
            Loss::SoftmaxCrossEntropy => words(
                "softmax-ce",
                "Softmax cross-entropy",
                "CE",
                "L = −Σⱼ yⱼ ln pⱼ",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_cross_entropy_matches_the_textbook_formula() {
        let (z, y) = (0.7f32, 1.0f32);
        let s = f64::from(sigmoid(z));
        let expected = -(f64::from(y) * s.ln() + (1.0 - f64::from(y)) * (1.0 - s).ln());
        assert!((Loss::BinaryCrossEntropy.value(&[z], &[y], 1) - expected).abs() < 1e-6);
        // Extreme logits stay finite.
        assert!(
            Loss::BinaryCrossEntropy
                .value(&[-500.0], &[1.0], 1)
                .is_finite()
        );
    }

    #[test]
    fn mse_and_rmse() {
        let p = [1.0, 2.0, 3.0];
        let y = [1.0, 0.0, 0.0];
        assert!((Loss::MeanSquaredError.value(&p, &y, 3) - 13.0 / 3.0).abs() < 1e-9);
        assert!((Loss::MeanAbsoluteError.value(&p, &y, 3) - 5.0 / 3.0).abs() < 1e-9);
        assert!((root_mean_squared_error(&p, &y) - (13.0f32 / 3.0).sqrt()).abs() < 1e-6);
    }

    #[test]
    fn the_serialised_form_stays_as_written() {
        // The wire format of messages and saved settings, apart from the link keys
        // (`Described::key`), which are the URL's own.
        let written = [
            "mse",
            "half_squared_error",
            "mae",
            "binary_cross_entropy",
            "cross_entropy",
        ];
        for (l, name) in Loss::ALL.into_iter().zip(written) {
            let serialised = serde_json::to_string(&l).unwrap();
            assert_eq!(serialised, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Loss>(&serialised).unwrap(), l);
        }
    }
}
