//! Length generalisation: a recurrent network trained on sequences of one length, run with the
//! same weights on longer ones (up to four times as long), and its accuracy at each length.
//! Each length's test sequences are drawn from the run's seed, the same ones at every test.
//!
//! A bit counter's classes stop at the training length: a longer sequence with more ones than
//! that has no class to be right with. How many of the sequences can be answered at all is
//! measured beside the accuracy, so the chart can tell "cannot" from "did not learn to".

use serde::{Deserialize, Serialize};

use crate::data::examples::Examples;
use crate::data::sequences::{MAX_LENGTH, SequenceSet, SequenceTask};
use crate::engine::trainer::argmax;
use crate::engine::{EngineError, OutputTransform, Sequential};

/// The longest test length, in training lengths.
pub const LONGEST: usize = 4;
/// Most test sequences per length.
const MOST_SEQUENCES: usize = 128;
/// Fewest test sequences per length (a large network on long sequences gets these).
const FEWEST_SEQUENCES: usize = 16;
/// About how many multiply-adds one measurement may take (a large network on long sequences is
/// measured on fewer sequences).
const WORK_BUDGET: usize = 40_000_000;

/// How a trained network does on test sequences of one length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LengthAccuracy {
    pub length: usize,
    /// Share of the sequences answered right, in `[0, 1]`.
    pub accuracy: f32,
    /// Share whose answer is one of the network's classes (the rest cannot be right).
    pub answerable: f32,
}

/// The test lengths for networks trained on `length` steps: 1, 1.5, 2, 3 and 4 times it, as far
/// as sequences go ([`MAX_LENGTH`]).
pub fn probe_lengths(length: usize) -> Vec<usize> {
    let mut lengths: Vec<usize> = [2, 3, 4, 6, 2 * LONGEST]
        .iter()
        .map(|halves| length * halves / 2)
        .filter(|&probe| (1..=MAX_LENGTH).contains(&probe))
        .collect();
    lengths.dedup();
    lengths
}

/// The test sequences of every probe length, drawn once.
pub struct LengthProbes {
    sets: Vec<SequenceSet>,
}

impl LengthProbes {
    /// Sequences of `task` at every [`probe_lengths`] of `length`, from `seed`; fewer of them
    /// the more work `model` does per step.
    pub fn new(
        model: &Sequential,
        task: SequenceTask,
        length: usize,
        seed: u64,
    ) -> Result<LengthProbes, EngineError> {
        let lengths = probe_lengths(length);
        let total_steps: usize = lengths.iter().sum();
        let work_per_sequence = model.parameter_count().max(1) * total_steps.max(1);
        let count = (WORK_BUDGET / work_per_sequence).clamp(FEWEST_SEQUENCES, MOST_SEQUENCES);
        let sets = lengths
            .iter()
            .map(|&probe| {
                let seed = seed.wrapping_add(7_919 * probe as u64);
                // A padded network reads every step flagged, none of them padding here.
                match model.config().padded {
                    true => task.generate_varying(count, probe, probe, seed),
                    false => task.generate(count, probe, seed),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(LengthProbes { sets })
    }

    /// `model` (trained on the first probe length) on every probe length, with its weights.
    /// Each length's tape is recorded, run and dropped in turn, so that only one is held.
    pub fn measure(&self, model: &Sequential) -> Result<Vec<LengthAccuracy>, EngineError> {
        let classes = model.output_count();
        self.sets
            .iter()
            .map(|set| {
                let network = model.with_input(&set.example_shape())?;
                let rows = set.len();
                let mut recorded = network.record(rows, OutputTransform::Softmax, None)?;
                let indices: Vec<usize> = (0..rows).collect();
                let mut inputs = crate::engine::Tensor::empty();
                set.write_inputs(&indices, &mut inputs);
                recorded.tape.set_input(recorded.input, &inputs)?;
                recorded.tape.forward(network.params())?;
                let predictions = recorded.tape.value(recorded.prediction);
                // A network that answers at every step is scored on its last step's answer.
                let per_example = predictions.len() / rows;
                let (mut right, mut answerable) = (0usize, 0usize);
                for (index, example) in predictions.data().chunks_exact(per_example).enumerate() {
                    let row = &example[per_example - classes..];
                    let label = set.label(index);
                    answerable += usize::from(label < classes);
                    right += usize::from(argmax(row) == label);
                }
                Ok(LengthAccuracy {
                    length: set.length(),
                    accuracy: right as f32 / rows as f32,
                    answerable: answerable as f32 / rows as f32,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Activation, LayerConfig, Lstm, SequentialConfig};

    #[test]
    fn lengths_run_from_the_training_length_to_four_times_it() {
        assert_eq!(probe_lengths(8), vec![8, 12, 16, 24, 32]);
        assert_eq!(probe_lengths(3), vec![3, 4, 6, 9, 12]);
        assert_eq!(probe_lengths(64), vec![64, 96, 128, 192, 256]);
        assert_eq!(probe_lengths(100), vec![100, 150, 200]);
    }

    #[test]
    fn an_untrained_counter_is_measured_at_every_length_and_long_counts_are_unanswerable() {
        let length = 6;
        let task = SequenceTask::BitCount;
        let config = SequentialConfig::new(
            &[length, 1],
            vec![
                LayerConfig::Lstm(Lstm {
                    hidden: 4,
                    every_step: false,
                }),
                LayerConfig::dense(task.outputs(length), Activation::Linear),
            ],
        );
        let model = config.init().unwrap();
        let probes = LengthProbes::new(&model, task, length, 1).unwrap();
        let measured = probes.measure(&model).unwrap();
        let lengths: Vec<usize> = measured.iter().map(|m| m.length).collect();
        assert_eq!(lengths, probe_lengths(length));
        // Every sequence of the training length has a class; at four times the length most
        // have more than six ones.
        assert_eq!(measured[0].answerable, 1.0);
        assert!(measured.last().unwrap().answerable < 0.3, "{measured:?}");
        for m in &measured {
            assert!(m.accuracy <= m.answerable, "{m:?}");
        }
        // The same sequences at every measurement.
        assert_eq!(probes.measure(&model).unwrap(), measured);
        // A network whose parameters depend on the length cannot be run on another.
        let flat = SequentialConfig::new(
            &[length, 1],
            vec![
                LayerConfig::FLATTEN,
                LayerConfig::dense(task.outputs(length), Activation::Linear),
            ],
        );
        let error = flat.init().unwrap().with_input(&[12, 1]).unwrap_err();
        assert!(error.to_string().contains("do not fit"), "{error}");
    }
}
