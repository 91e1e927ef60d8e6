//! The confusion matrix of a classifier: how often each true class was predicted as each class.

use serde::{Deserialize, Serialize};

/// Counts `[true class][predicted class]` over a test set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub classes: usize,
    /// Row-major `classes x classes`: row = true class, column = prediction.
    pub counts: Vec<u32>,
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> ConfusionMatrix {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.counts[truth * self.classes + predicted] += 1;
    }

    pub fn count(&self, truth: usize, predicted: usize) -> u32 {
        self.counts[truth * self.classes + predicted]
    }

    /// Examples of class `truth`.
    pub fn row_total(&self, truth: usize) -> u32 {
        (0..self.classes).map(|p| self.count(truth, p)).sum()
    }

    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Fraction of examples on the diagonal (0 for an empty matrix).
    pub fn accuracy(&self) -> f32 {
        let correct: u32 = (0..self.classes).map(|c| self.count(c, c)).sum();
        correct as f32 / self.total().max(1) as f32
    }

    /// The most frequent mistake `(truth, predicted, count)`, if any.
    pub fn worst_confusion(&self) -> Option<(usize, usize, u32)> {
        (0..self.classes)
            .flat_map(|t| (0..self.classes).map(move |p| (t, p)))
            .filter(|(t, p)| t != p)
            .map(|(t, p)| (t, p, self.count(t, p)))
            .filter(|&(_, _, n)| n > 0)
            .max_by_key(|&(t, p, n)| (n, std::cmp::Reverse((t, p))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accuracy_and_worst_mistake() {
        let mut matrix = ConfusionMatrix::new(3);
        for (truth, predicted) in [(0, 0), (1, 1), (1, 2), (2, 1), (2, 1), (2, 2)] {
            matrix.add(truth, predicted);
        }
        assert_eq!(matrix.total(), 6);
        assert_eq!(matrix.row_total(2), 3);
        assert!((matrix.accuracy() - 0.5).abs() < 1e-6);
        assert_eq!(matrix.worst_confusion(), Some((2, 1, 2)));
        assert_eq!(ConfusionMatrix::new(2).worst_confusion(), None);
    }
}
