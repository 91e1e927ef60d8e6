//! `Examples`: what a training run needs from a labelled data set, whatever its examples are
//! (digits, bit sequences): their count and shape, the class of each, and batches of them
//! written as tensors. The Images page's digits and the Sequences page's tasks both are one, so
//! one training run (`playground::images::training::TrainingRun`) and one worker loop train
//! either.

use crate::engine::{SeededRng, Tensor};

/// Which examples train and which test, as indices into a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

impl Split {
    /// A seeded share `test_fraction` (at most a half, at least one example, at most 10,000) of
    /// `len` examples held out for testing, the rest for training, both in shuffled order.
    pub fn shuffled(len: usize, test_fraction: f32, seed: u64) -> Split {
        let mut order: Vec<usize> = (0..len).collect();
        SeededRng::new(seed).shuffle(&mut order);
        let wanted = (len as f32 * test_fraction.clamp(0.0, 0.5)).round() as usize;
        let test_count = wanted.clamp(1, 10_000).min(len.saturating_sub(1));
        let test = order.split_off(len - test_count);
        Split { train: order, test }
    }
}

pub trait Examples {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one example: `[1, 28, 28]` for a digit, `[length, 1]` for a sequence.
    fn example_shape(&self) -> Vec<usize>;

    /// Number of classes (the targets are one-hot over them).
    fn classes(&self) -> usize;

    /// The class of example `index` (of its last step, where there is one at every step).
    fn label(&self, index: usize) -> usize;

    /// The class at every time step of example `index`, where the set has one per step.
    fn step_labels(&self, _index: usize) -> Option<Vec<usize>> {
        None
    }

    /// How many tokens example `index`'s input has, where inputs of one set vary in length
    /// (a test is then also scored by input length).
    fn input_length(&self, _index: usize) -> Option<usize> {
        None
    }

    /// Examples `indices` as a batch `[n, ...example]`, written into `out`.
    fn write_inputs(&self, indices: &[usize], out: &mut Tensor);

    /// Examples `indices` as training sees them with augmentation on: moved at random where the
    /// set has an augmentation (digits are shifted), as they are otherwise.
    fn write_augmented_inputs(&self, indices: &[usize], _rng: &mut SeededRng, out: &mut Tensor) {
        self.write_inputs(indices, out);
    }

    /// One-hot targets `[n, classes]` of examples `indices`, written into `out`.
    fn write_targets(&self, indices: &[usize], out: &mut Tensor) {
        let classes = self.classes();
        out.resize(&[indices.len(), classes]);
        out.fill(0.0);
        for (row, &index) in out.data_mut().chunks_exact_mut(classes).zip(indices) {
            row[self.label(index)] = 1.0;
        }
    }
}

/// Rows `indices` of `from` (first axis), in that order, into `out`.
pub(crate) fn copy_rows(from: &Tensor, indices: &[usize], out: &mut Tensor) {
    let mut shape = from.shape().to_vec();
    let row = from.len() / shape[0].max(1);
    shape[0] = indices.len();
    out.resize(&shape);
    for (target, &index) in out.data_mut().chunks_exact_mut(row).zip(indices) {
        target.copy_from_slice(&from.data()[index * row..(index + 1) * row]);
    }
}
