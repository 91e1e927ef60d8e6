//! What the loss explorer shows: MSE, MAE and RMSE of a few predictions and each point's share
//! of them, the cross-entropy of a 3-class example spelled out, and the course's table of
//! cross-entropies for problem 2. Every loss is the engine's `Loss::value`; this module only
//! arranges inputs and picks out the numbers to print.

use crate::engine::Loss;
use crate::engine::loss::root_mean_squared_error;
use crate::engine::softmax::softmax_rows;

/// The three regression losses of one set of predictions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegressionLosses {
    pub mean_squared_error: f64,
    pub mean_absolute_error: f64,
    pub root_mean_squared_error: f64,
}

pub fn regression_losses(predictions: &[f32], targets: &[f32]) -> RegressionLosses {
    RegressionLosses {
        mean_squared_error: Loss::MeanSquaredError.value(predictions, targets, 1),
        mean_absolute_error: Loss::MeanAbsoluteError.value(predictions, targets, 1),
        root_mean_squared_error: f64::from(root_mean_squared_error(predictions, targets)),
    }
}

/// One point's error and the fraction of each loss's sum it accounts for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointError {
    /// `prediction - target`.
    pub error: f32,
    /// `|prediction - target|`, this point's term in MAE's sum.
    pub absolute: f64,
    /// `(prediction - target)²`, this point's term in MSE's sum.
    pub squared: f64,
    /// This point's `|error|` over the sum of all `|error|` (its share of MAE), in [0, 1].
    pub share_of_absolute: f64,
    /// This point's `error²` over the sum of all `error²` (its share of MSE), in [0, 1].
    pub share_of_squared: f64,
}

/// Each point's error and shares: one outlier takes a far larger share of MSE than of MAE.
pub fn point_errors(predictions: &[f32], targets: &[f32]) -> Vec<PointError> {
    let pairs = || predictions.iter().zip(targets);
    let per_point = |loss: Loss, p: f32, y: f32| loss.value(&[p], &[y], 1);
    let absolute_total: f64 = pairs()
        .map(|(&p, &y)| per_point(Loss::MeanAbsoluteError, p, y))
        .sum();
    let squared_total: f64 = pairs()
        .map(|(&p, &y)| per_point(Loss::MeanSquaredError, p, y))
        .sum();
    let share = |part: f64, total: f64| if total > 0.0 { part / total } else { 0.0 };
    pairs()
        .map(|(&p, &y)| {
            let absolute = per_point(Loss::MeanAbsoluteError, p, y);
            let squared = per_point(Loss::MeanSquaredError, p, y);
            PointError {
                error: p - y,
                absolute,
                squared,
                share_of_absolute: share(absolute, absolute_total),
                share_of_squared: share(squared, squared_total),
            }
        })
        .collect()
}

/// The point with the largest error (the first on a tie), or `None` when all are exact.
pub fn largest_error(errors: &[PointError]) -> Option<usize> {
    errors
        .iter()
        .enumerate()
        .filter(|(_, e)| e.absolute > 0.0)
        .fold(None, |best: Option<(usize, f64)>, (i, e)| match best {
            Some((_, top)) if top >= e.absolute => best,
            _ => Some((i, e.absolute)),
        })
        .map(|(i, _)| i)
}

/// A one-hot vector: 1 at `class`, 0 elsewhere.
pub fn one_hot(class: usize, classes: usize) -> Vec<f32> {
    (0..classes)
        .map(|i| if i == class { 1.0 } else { 0.0 })
        .collect()
}

/// Cross-entropy of one example, with the pieces the course writes out.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossEntropyExample {
    /// `p`, the one-hot target.
    pub target: Vec<f32>,
    /// `q = softmax(z)`.
    pub probabilities: Vec<f32>,
    /// `H(p, q) = -Σ p(x) log q(x) = -log q(target)`.
    pub loss: f64,
}

pub fn cross_entropy_example(logits: &[f32], target_class: usize) -> CrossEntropyExample {
    let target = one_hot(target_class, logits.len());
    let mut probabilities = vec![0.0; logits.len()];
    softmax_rows(logits, &mut probabilities, logits.len());
    let loss = Loss::SoftmaxCrossEntropy.value(logits, &target, logits.len());
    CrossEntropyExample {
        target,
        probabilities,
        loss,
    }
}

/// The features of one example of the course's problem 2 (choose c1 if f1 > f2 + f3, else c2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProblemTwoFeatures {
    pub f1: f32,
    pub f2: f32,
    pub f3: f32,
}

/// The four rows of the course's table, all of class c = 0 (the first class).
pub const COURSE_TABLE: [ProblemTwoFeatures; 4] = [
    ProblemTwoFeatures {
        f1: 4.0,
        f2: 2.0,
        f3: 1.9,
    },
    ProblemTwoFeatures {
        f1: 5.0,
        f2: 2.0,
        f3: 1.9,
    },
    ProblemTwoFeatures {
        f1: 6.0,
        f2: 2.0,
        f3: 1.9,
    },
    ProblemTwoFeatures {
        f1: 10.0,
        f2: 2.0,
        f3: 1.9,
    },
];

/// The class the course's table labels every row with.
pub const COURSE_TABLE_CLASS: usize = 0;

/// The weights that solve problem 2: `c1 = f1`, `c2 = f2 + f3`, i.e. `[c1 c2] = [f1 f2 f3] W`
/// with `W = [[1, 0], [0, 1], [0, 1]]`.
pub fn problem_two_logits(features: ProblemTwoFeatures) -> [f32; 2] {
    [features.f1, features.f2 + features.f3]
}

/// The cross-entropy of one row of the course's table.
pub fn course_table_example(features: ProblemTwoFeatures) -> CrossEntropyExample {
    cross_entropy_example(&problem_two_logits(features), COURSE_TABLE_CLASS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_table_reproduces_to_four_decimals() {
        let losses: Vec<String> = COURSE_TABLE
            .iter()
            .map(|&row| format!("{:.4}", course_table_example(row).loss))
            .collect();
        assert_eq!(losses, ["0.6444", "0.2873", "0.1155", "0.0022"]);
    }

    #[test]
    fn harder_examples_have_larger_loss() {
        let losses: Vec<f64> = COURSE_TABLE
            .iter()
            .map(|&row| course_table_example(row).loss)
            .collect();
        assert!(
            losses.windows(2).all(|pair| pair[0] > pair[1]),
            "{losses:?}"
        );
    }

    #[test]
    fn regression_losses_by_hand() {
        // Errors 1, -2, 0, 3: MAE = 6/4 = 1.5, MSE = (1 + 4 + 0 + 9)/4 = 3.5, RMSE = √3.5.
        let targets = [1.0, 2.0, 3.0, 4.0];
        let predictions = [2.0, 0.0, 3.0, 7.0];
        let losses = regression_losses(&predictions, &targets);
        assert!((losses.mean_absolute_error - 1.5).abs() < 1e-12);
        assert!((losses.mean_squared_error - 3.5).abs() < 1e-12);
        assert!((losses.root_mean_squared_error - 3.5f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn an_outlier_dominates_the_squared_error() {
        let targets = [0.0, 0.0, 0.0, 0.0];
        let predictions = [1.0, -1.0, 1.0, 5.0];
        let errors = point_errors(&predictions, &targets);
        assert_eq!(errors[3].error, 5.0);
        assert_eq!((errors[3].absolute, errors[3].squared), (5.0, 25.0));
        assert_eq!(largest_error(&errors), Some(3));
        // |5| / (1 + 1 + 1 + 5) = 0.625; 25 / (1 + 1 + 1 + 25) = 0.893.
        assert!((errors[3].share_of_absolute - 0.625).abs() < 1e-12);
        assert!((errors[3].share_of_squared - 25.0 / 28.0).abs() < 1e-12);
        let perfect = point_errors(&targets, &targets);
        assert!(perfect.iter().all(|e| e.share_of_squared == 0.0));
        assert_eq!(largest_error(&perfect), None);
    }

    #[test]
    fn cross_entropy_is_minus_log_of_the_target_probability() {
        let example = cross_entropy_example(&[2.0, 1.0, 0.1], 1);
        assert_eq!(example.target, [0.0, 1.0, 0.0]);
        let sum: f32 = example.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
        let expected = -f64::from(example.probabilities[1]).ln();
        assert!((example.loss - expected).abs() < 1e-6);
        assert!((example.loss - 1.417_030).abs() < 1e-5, "{}", example.loss);
    }
}
