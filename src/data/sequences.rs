//! Sequence tasks for recurrent networks, each a pure function of its size, length and seed: the
//! course's bit counting (how many 1s in `0 1 0 0 1`: 2), and tasks that show what cells can and
//! cannot do: the running count at every step (sequence labelling), parity, remembering the
//! first bit to the end (a plain RNN forgets over long sequences, an LSTM does not), and the
//! next value of a noisy sine (regression).
//!
//! Inputs are `[count, length, 1]` (one value per time step), or for sequences of varying
//! length `[count, longest, 2]` (each step's value, then 1 on the sequence and 0 on the padding
//! after its end); targets are one-hot classes `[count, classes]` read from the (last real)
//! step, `[count, length, classes]` for a class at every step, or `[count, 1]` values for the
//! sine.

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

    /// `count` sequences of `length` steps drawn from `seed`, `[count, length, 1]`.
    pub fn generate(
        self,
        count: usize,
        length: usize,
        seed: u64,
    ) -> Result<SequenceSet, EngineError> {
        self.generate_lengths(count, length, None, seed)
    }

    /// `count` sequences of `shortest` to `longest` steps (each length as likely), drawn from
    /// `seed` and padded to `longest`: `[count, longest, 2]`, each step its value then 1, each
    /// step of padding `[0, 0]` (the input of a padded network, see
    /// [`SequentialConfig::padded`](crate::engine::SequentialConfig::padded)). A class at every
    /// step is all zeros on the padding (no class, no loss).
    pub fn generate_varying(
        self,
        count: usize,
        shortest: usize,
        longest: usize,
        seed: u64,
    ) -> Result<SequenceSet, EngineError> {
        if !(1..=longest).contains(&shortest) {
            return Err(EngineError::InvalidConfig(format!(
                "the shortest sequence must have 1 to {longest} steps (the longest), not {shortest}"
            )));
        }
        self.generate_lengths(count, longest, Some(shortest), seed)
    }

    /// Fixed-length sequences (`shortest` is `None`), or padded ones of varying length.
    fn generate_lengths(
        self,
        count: usize,
        length: usize,
        shortest: Option<usize>,
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
        let features = 1 + usize::from(shortest.is_some());
        let mut inputs = Vec::with_capacity(count * length * features);
        let per_example = match self.every_step() {
            true => length * outputs,
            false => outputs,
        };
        let mut targets = vec![0.0; count * per_example];
        let mut values = Vec::with_capacity(length);
        for target in targets.chunks_mut(per_example) {
            let steps = match shortest {
                Some(shortest) => shortest + rng.below(length - shortest + 1),
                None => length,
            };
            values.clear();
            self.draw(&mut rng, (steps, outputs), &mut values, target);
            match shortest {
                None => inputs.extend_from_slice(&values),
                Some(_) => {
                    for t in 0..length {
                        let present = t < steps;
                        let value = values.get(t).copied().unwrap_or(0.0);
                        inputs.extend([value, f32::from(u8::from(present))]);
                    }
                }
            }
        }
        let target_shape = match self.every_step() {
            true => vec![count, length, outputs],
            false => vec![count, outputs],
        };
        Ok(SequenceSet {
            task: self,
            inputs: Tensor::from_vec(&[count, length, features], inputs)?,
            targets: Tensor::from_vec(&target_shape, targets)?,
        })
    }

    /// One sequence of `steps` values into `values`, and what it should give into `target`
    /// (one of `outputs` classes one-hot, at every step for a running count, or the sine's next
    /// value).
    fn draw(
        self,
        rng: &mut SeededRng,
        (steps, outputs): (usize, usize),
        values: &mut Vec<f32>,
        target: &mut [f32],
    ) {
        match self {
            SequenceTask::Sine => {
                let frequency = rng.uniform_range(0.2, 0.8);
                let phase = rng.uniform_range(0.0, std::f32::consts::TAU);
                for t in 0..steps {
                    let clean = (frequency * t as f32 + phase).sin();
                    values.push(clean + rng.normal(0.0, SINE_NOISE));
                }
                target[0] = (frequency * steps as f32 + phase).sin();
            }
            SequenceTask::RunningCount => {
                let mut ones = 0;
                for step in target.chunks_mut(outputs).take(steps) {
                    let bit = rng.below(2);
                    values.push(bit as f32);
                    ones += bit;
                    step[ones] = 1.0;
                }
            }
            SequenceTask::BitCount | SequenceTask::Parity | SequenceTask::FirstBit => {
                values.extend((0..steps).map(|_| rng.below(2) as f32));
                let ones = values.iter().filter(|&&bit| bit == 1.0).count();
                let class = match self {
                    SequenceTask::BitCount => ones,
                    SequenceTask::Parity => ones % 2,
                    _ => values[0] as usize,
                };
                target[class] = 1.0;
            }
        }
    }
}

impl SequenceSet {
    /// Steps per sequence, the longest's in a padded set.
    pub fn length(&self) -> usize {
        self.inputs.shape()[1]
    }

    /// Whether its sequences vary in length: each step is then its value and a flag, 1 on the
    /// sequence and 0 on its padding.
    pub fn is_padded(&self) -> bool {
        self.inputs.shape()[2] == 2
    }

    /// Steps of sequence `index` before its padding.
    pub fn sequence_length(&self, index: usize) -> usize {
        let (length, features) = (self.length(), self.inputs.shape()[2]);
        if !self.is_padded() {
            return length;
        }
        let steps = &self.inputs.data()[index * length * features..(index + 1) * length * features];
        steps
            .chunks_exact(features)
            .take_while(|step| step[1] != 0.0)
            .count()
    }

    /// The values of sequence `index`, its padding left out.
    pub fn values(&self, index: usize) -> Vec<f32> {
        let (length, features) = (self.length(), self.inputs.shape()[2]);
        let steps = &self.inputs.data()[index * length * features..(index + 1) * length * features];
        steps
            .chunks_exact(features)
            .take(self.sequence_length(index))
            .map(|step| step[0])
            .collect()
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
        if let Some(labels) = self.step_labels(index) {
            return labels.last().copied().unwrap_or(0);
        }
        let per_example = self.targets.cols();
        let target = &self.targets.data()[index * per_example..(index + 1) * per_example];
        crate::engine::trainer::argmax(target)
    }

    /// The class at each step of the sequence (its padding has none).
    fn step_labels(&self, index: usize) -> Option<Vec<usize>> {
        let (classes, per_example) = (self.classes(), self.targets.cols());
        (self.targets.rank() == 3).then(|| {
            self.targets.data()[index * per_example..(index + 1) * per_example]
                .chunks_exact(classes)
                .take(self.sequence_length(index))
                .map(crate::engine::trainer::argmax)
                .collect()
        })
    }

    fn write_inputs(&self, indices: &[usize], out: &mut Tensor) {
        super::examples::copy_rows(&self.inputs, indices, out);
    }

    fn write_targets(&self, indices: &[usize], out: &mut Tensor) {
        super::examples::copy_rows(&self.targets, indices, out);
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
    fn varying_lengths_are_padded_and_flagged() {
        let set = SequenceTask::BitCount
            .generate_varying(200, 2, 6, 4)
            .unwrap();
        assert_eq!(set.inputs.shape(), &[200, 6, 2]);
        assert_eq!(set.targets.shape(), &[200, 7]);
        assert!(set.is_padded());
        let mut seen = [false; 7];
        for n in 0..200 {
            let length = set.sequence_length(n);
            assert!((2..=6).contains(&length), "{length}");
            seen[length] = true;
            let steps = &set.inputs.data()[n * 12..(n + 1) * 12];
            for (t, step) in steps.chunks(2).enumerate() {
                // On the sequence: a bit and the flag 1; on the padding: [0, 0].
                match t < length {
                    true => assert!(step[1] == 1.0 && (step[0] == 0.0 || step[0] == 1.0)),
                    false => assert_eq!(step, [0.0, 0.0]),
                }
            }
            let ones = set.values(n).iter().filter(|&&b| b == 1.0).count();
            assert_eq!(set.values(n).len(), length);
            assert_eq!(set.label(n), ones);
        }
        assert!(
            seen[2..].iter().all(|&seen| seen),
            "every length drawn: {seen:?}"
        );
        // A class at every step: the padding has none, and the label is the last real step's.
        let running = SequenceTask::RunningCount
            .generate_varying(50, 1, 5, 2)
            .unwrap();
        for n in 0..50 {
            let length = running.sequence_length(n);
            let labels = running.step_labels(n).unwrap();
            assert_eq!(labels.len(), length);
            let ones = running.values(n).iter().filter(|&&b| b == 1.0).count();
            assert_eq!(running.label(n), ones);
            let rows = &running.targets.data()[n * 30..(n + 1) * 30];
            assert!(rows[length * 6..].iter().all(|&v| v == 0.0));
        }
        // The shortest equal to the longest: every sequence whole, flagged.
        let whole = SequenceTask::Parity.generate_varying(10, 4, 4, 1).unwrap();
        assert!((0..10).all(|n| whole.sequence_length(n) == 4));
        let error = SequenceTask::Parity
            .generate_varying(10, 5, 4, 1)
            .unwrap_err();
        assert!(error.to_string().contains("shortest"), "{error}");
        let error = SequenceTask::Parity
            .generate_varying(10, 0, 4, 1)
            .unwrap_err();
        assert!(error.to_string().contains("shortest"), "{error}");
    }

    #[test]
    fn sizes_out_of_range_are_refused_by_name() {
        let error = SequenceTask::BitCount.generate(10, 0, 1).unwrap_err();
        assert!(error.to_string().contains("sequence length"), "{error}");
        let error = SequenceTask::BitCount.generate(0, 5, 1).unwrap_err();
        assert!(error.to_string().contains("sequences"), "{error}");
    }
}
