//! Sequence tasks for recurrent networks, each a pure function of its size, length and seed: the
//! course's bit counting (how many 1s in `0 1 0 0 1`: 2), and tasks that show what cells can and
//! cannot do: the running count at every step (sequence labelling), parity, remembering the
//! first bit to the end (a plain RNN forgets over long sequences, an LSTM does not), and the
//! next value of a noisy sine (regression).
//!
//! Inputs are `[count, length, 1]` (one value per time step); targets are one-hot classes
//! `[count, classes]` read from the last step, `[count, length, classes]` for a class at every
//! step, or `[count, 1]` values for the sine.

use super::examples::Examples;
use crate::engine::description::{Described, Description};
use crate::engine::{EngineError, Loss, SeededRng, Tensor};

/// Longest sequence a task makes.
pub const MAX_LENGTH: usize = 256;
/// Most sequences in one set.
pub const MAX_COUNT: usize = 100_000;

/// Standard deviation of the sine's noise.
pub const SINE_NOISE: f32 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SequenceTask {
    /// How many 1-bits: classes `0..=length`.
    BitCount,
    /// How many 1-bits so far, at every step: classes `0..=length` at each.
    RunningCount,
    /// Whether the number of 1-bits is odd: classes 0 and 1.
    Parity,
    /// The first bit, to be remembered through the rest of the sequence: classes 0 and 1.
    FirstBit,
    /// The next value of a noisy sine wave of random frequency and phase.
    Sine,
}

impl Described for SequenceTask {
    fn every() -> &'static [SequenceTask] {
        &[
            SequenceTask::BitCount,
            SequenceTask::RunningCount,
            SequenceTask::Parity,
            SequenceTask::FirstBit,
            SequenceTask::Sine,
        ]
    }

    fn describe(self) -> Description {
        match self {
            SequenceTask::BitCount => {
                Description::new("count", "Count the 1-bits", "count", "0 1 0 0 1 → 2")
            }
            SequenceTask::RunningCount => Description::new(
                "running",
                "Count at every step",
                "running count",
                "0 1 0 0 1 → 0 1 1 1 2",
            ),
            SequenceTask::Parity => {
                Description::new("parity", "Parity", "parity", "0 1 1 0 1 → odd (1)")
            }
            SequenceTask::FirstBit => Description::new(
                "first",
                "Remember the first bit",
                "first bit",
                "1 0 0 … 0 → 1",
            ),
            SequenceTask::Sine => Description::new(
                "sine",
                "Next value of a noisy sine",
                "sine",
                "sin(ωt + φ) + noise → sin(ω(T+1) + φ)",
            ),
        }
    }
}

/// A set of sequences and what the network should give for each.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceSet {
    pub task: SequenceTask,
    /// `[count, length, 1]`.
    pub inputs: Tensor,
    /// `[count, classes]` one-hot, `[count, length, classes]` for a class at every step, or
    /// `[count, 1]` for the sine.
    pub targets: Tensor,
}

impl SequenceTask {
    /// Values the network outputs for sequences of `length`: one per class, one for the sine.
    pub fn outputs(self, length: usize) -> usize {
        match self {
            SequenceTask::BitCount | SequenceTask::RunningCount => length + 1,
            SequenceTask::Parity | SequenceTask::FirstBit => 2,
            SequenceTask::Sine => 1,
        }
    }

    /// What it is trained with: cross-entropy on the classes, squared error on the sine.
    pub fn loss(self) -> Loss {
        match self {
            SequenceTask::BitCount
            | SequenceTask::RunningCount
            | SequenceTask::Parity
            | SequenceTask::FirstBit => Loss::SoftmaxCrossEntropy,
            SequenceTask::Sine => Loss::MeanSquaredError,
        }
    }

    /// Whether it wants an answer at every time step (the network then ends with every step's
    /// state and a dense layer applied at each).
    pub fn every_step(self) -> bool {
        self == SequenceTask::RunningCount
    }

    /// Whether its targets are classes (accuracy means something).
    pub fn is_classification(self) -> bool {
        self.loss() == Loss::SoftmaxCrossEntropy
    }

    /// `count` sequences of `length` steps drawn from `seed`.
    pub fn generate(
        self,
        count: usize,
        length: usize,
        seed: u64,
    ) -> Result<SequenceSet, EngineError> {
        if !(1..=MAX_LENGTH).contains(&length) {
            return Err(EngineError::InvalidConfig(format!(
                "a sequence length must be 1 to {MAX_LENGTH}, not {length}"
            )));
        }
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(EngineError::InvalidConfig(format!(
                "a set holds 1 to {MAX_COUNT} sequences, not {count}"
            )));
        }
        let mut rng = SeededRng::new(seed);
        let outputs = self.outputs(length);
        let mut inputs = Vec::with_capacity(count * length);
        let per_example = match self.every_step() {
            true => length * outputs,
            false => outputs,
        };
        let mut targets = vec![0.0; count * per_example];
        for target in targets.chunks_mut(per_example) {
            match self {
                SequenceTask::Sine => {
                    let frequency = rng.uniform_range(0.2, 0.8);
                    let phase = rng.uniform_range(0.0, std::f32::consts::TAU);
                    for t in 0..length {
                        let clean = (frequency * t as f32 + phase).sin();
                        inputs.push(clean + rng.normal(0.0, SINE_NOISE));
                    }
                    target[0] = (frequency * length as f32 + phase).sin();
                }
                SequenceTask::RunningCount => {
                    let mut ones = 0;
                    for (t, step) in target.chunks_mut(outputs).enumerate() {
                        let bit = rng.below(2);
                        inputs.push(bit as f32);
                        ones += bit;
                        step[ones] = 1.0;
                        debug_assert!(ones <= t + 1);
                    }
                }
                SequenceTask::BitCount | SequenceTask::Parity | SequenceTask::FirstBit => {
                    let start = inputs.len();
                    inputs.extend((0..length).map(|_| rng.below(2) as f32));
                    let bits = &inputs[start..];
                    let ones = bits.iter().filter(|&&bit| bit == 1.0).count();
                    let class = match self {
                        SequenceTask::BitCount => ones,
                        SequenceTask::Parity => ones % 2,
                        _ => bits[0] as usize,
                    };
                    target[class] = 1.0;
                }
            }
        }
        let target_shape = match self.every_step() {
            true => vec![count, length, outputs],
            false => vec![count, outputs],
        };
        Ok(SequenceSet {
            task: self,
            inputs: Tensor::from_vec(&[count, length, 1], inputs)?,
            targets: Tensor::from_vec(&target_shape, targets)?,
        })
    }
}

impl SequenceSet {
    /// Steps per sequence.
    pub fn length(&self) -> usize {
        self.inputs.shape()[1]
    }
}

/// Sequences as the examples of a training run: `[length, 1]` each; the class of a classifying
/// task is its one-hot target's, the last step's for a class at every step (the sine's single
/// value counts as class 0: a run trains classifiers only).
impl Examples for SequenceSet {
    fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    fn example_shape(&self) -> Vec<usize> {
        self.inputs.shape()[1..].to_vec()
    }

    fn classes(&self) -> usize {
        *self.targets.shape().last().expect("targets have a shape")
    }

    fn label(&self, index: usize) -> usize {
        let (classes, per_example) = (self.classes(), self.targets.cols());
        let end = (index + 1) * per_example;
        crate::engine::trainer::argmax(&self.targets.data()[end - classes..end])
    }

    fn step_labels(&self, index: usize) -> Option<Vec<usize>> {
        let (classes, per_example) = (self.classes(), self.targets.cols());
        (self.targets.rank() == 3).then(|| {
            self.targets.data()[index * per_example..(index + 1) * per_example]
                .chunks_exact(classes)
                .map(crate::engine::trainer::argmax)
                .collect()
        })
    }

    fn write_inputs(&self, indices: &[usize], out: &mut Tensor) {
        copy_rows(&self.inputs, indices, out);
    }

    fn write_targets(&self, indices: &[usize], out: &mut Tensor) {
        copy_rows(&self.targets, indices, out);
    }
}

/// Rows `indices` of `from` (first axis), in that order, into `out`.
fn copy_rows(from: &Tensor, indices: &[usize], out: &mut Tensor) {
    let mut shape = from.shape().to_vec();
    let row = from.len() / shape[0].max(1);
    shape[0] = indices.len();
    out.resize(&shape);
    for (target, &index) in out.data_mut().chunks_exact_mut(row).zip(indices) {
        target.copy_from_slice(&from.data()[index * row..(index + 1) * row]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_counting_targets_count_the_ones() {
        let set = SequenceTask::BitCount.generate(50, 5, 3).unwrap();
        assert_eq!(set.inputs.shape(), &[50, 5, 1]);
        assert_eq!(set.targets.shape(), &[50, 6]);
        for n in 0..50 {
            let bits = &set.inputs.data()[n * 5..n * 5 + 5];
            let ones = bits.iter().filter(|&&b| b == 1.0).count();
            let row = &set.targets.data()[n * 6..n * 6 + 6];
            assert_eq!(row[ones], 1.0);
            assert_eq!(row.iter().sum::<f32>(), 1.0);
            assert!(bits.iter().all(|&b| b == 0.0 || b == 1.0));
        }
        // The same seed gives the same set; another one another.
        assert_eq!(set, SequenceTask::BitCount.generate(50, 5, 3).unwrap());
        assert_ne!(set, SequenceTask::BitCount.generate(50, 5, 4).unwrap());
    }

    #[test]
    fn running_count_targets_count_the_ones_so_far_at_every_step() {
        let set = SequenceTask::RunningCount.generate(30, 6, 2).unwrap();
        assert_eq!(set.targets.shape(), &[30, 6, 7]);
        for n in 0..30 {
            let bits = &set.inputs.data()[n * 6..n * 6 + 6];
            let labels = set.step_labels(n).unwrap();
            let mut ones = 0;
            for (t, &bit) in bits.iter().enumerate() {
                ones += bit as usize;
                assert_eq!(labels[t], ones, "sequence {n}, step {t}");
            }
            // The example's class is its last step's: the whole count.
            assert_eq!(set.label(n), ones);
        }
        // The same bits as bit counting from the same seed, and no labels per step there.
        let counted = SequenceTask::BitCount.generate(30, 6, 2).unwrap();
        assert_eq!(counted.inputs, set.inputs);
        assert_eq!(counted.step_labels(0), None);
        assert_eq!(counted.label(4), set.label(4));
    }

    #[test]
    fn parity_first_bit_and_sine_targets() {
        let parity = SequenceTask::Parity.generate(20, 7, 1).unwrap();
        let first = SequenceTask::FirstBit.generate(20, 7, 1).unwrap();
        // Same seed, same bits: the targets differ only in what is asked.
        assert_eq!(parity.inputs, first.inputs);
        for n in 0..20 {
            let bits = &parity.inputs.data()[n * 7..n * 7 + 7];
            let ones = bits.iter().filter(|&&b| b == 1.0).count();
            assert_eq!(parity.targets.data()[n * 2 + ones % 2], 1.0);
            assert_eq!(first.targets.data()[n * 2 + bits[0] as usize], 1.0);
        }
        let sine = SequenceTask::Sine.generate(10, 12, 2).unwrap();
        assert_eq!(sine.targets.shape(), &[10, 1]);
        assert!(sine.targets.data().iter().all(|v| v.abs() <= 1.0));
        assert!(sine.inputs.data().iter().all(|v| v.abs() < 1.5));
    }

    #[test]
    fn sizes_out_of_range_are_refused_by_name() {
        let error = SequenceTask::BitCount.generate(10, 0, 1).unwrap_err();
        assert!(error.to_string().contains("sequence length"), "{error}");
        let error = SequenceTask::BitCount.generate(0, 5, 1).unwrap_err();
        assert!(error.to_string().contains("sequences"), "{error}");
    }
}
