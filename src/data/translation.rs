//! Sequence-to-sequence tasks (the course's encoder and decoder): an input sequence of tokens
//! goes in, an output sequence of tokens, of its own length, comes out. Each set is a pure
//! function of its size, lengths and seed:
//! - reverse a sequence of digits (`3 1 4 → 4 1 3`);
//! - sort a short sequence of digits (`3 1 4 → 1 3 4`);
//! - add two binary numbers given bit by bit, lowest bits first: each input token is one bit of
//!   each number (`a + 2b`, 0 to 3), the output their sum's bits, one more than the input has.
//!
//! Tokens are small integers: inputs `0..input_tokens()`, outputs `0..output_tokens()`. A
//! decoder also needs a token that starts its output and one that ends it; those are the
//! network's to add ([`OutputVocabulary`]).

use super::examples::Examples;
use crate::engine::description::{Described, Description};
use crate::engine::{EngineError, SeededRng, Tensor};

/// Longest input sequence a task makes.
pub const MAX_LENGTH: usize = 64;
/// Most examples in one set.
pub const MAX_COUNT: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum TranslationTask {
    Reverse,
    Sort,
    AddBinary,
}

impl Described for TranslationTask {
    fn every() -> &'static [TranslationTask] {
        &[
            TranslationTask::Reverse,
            TranslationTask::Sort,
            TranslationTask::AddBinary,
        ]
    }

    fn describe(self) -> Description {
        match self {
            TranslationTask::Reverse => {
                Description::new("reverse", "Reverse the digits", "reverse", "3 1 4 → 4 1 3")
            }
            TranslationTask::Sort => {
                Description::new("sort", "Sort the digits", "sort", "3 1 4 → 1 3 4")
            }
            TranslationTask::AddBinary => Description::new(
                "add",
                "Add two binary numbers",
                "binary addition",
                "(a, b) bit by bit, lowest first: 1+1, 1+0 → 0 0 1 (3 + 1 = 4)",
            ),
        }
    }
}

/// One example: the input tokens and the output tokens the network should give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    pub input: Vec<u8>,
    pub output: Vec<u8>,
}

/// The output tokens and the two a decoder adds: [`OutputVocabulary::end`] after the last
/// output token, [`OutputVocabulary::start`] as the decoder's first input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputVocabulary {
    pub tokens: usize,
}

impl OutputVocabulary {
    pub fn end(self) -> usize {
        self.tokens
    }

    pub fn start(self) -> usize {
        self.tokens + 1
    }

    /// Every token a decoder reads or writes: the task's, the end and the start.
    pub fn size(self) -> usize {
        self.tokens + 2
    }
}

impl TranslationTask {
    /// How many different input tokens there are.
    pub fn input_tokens(self) -> usize {
        match self {
            TranslationTask::Reverse | TranslationTask::Sort => 10,
            TranslationTask::AddBinary => 4,
        }
    }

    /// How many different output tokens there are (before a decoder's start and end).
    pub fn output_tokens(self) -> usize {
        match self {
            TranslationTask::Reverse | TranslationTask::Sort => 10,
            TranslationTask::AddBinary => 2,
        }
    }

    pub fn output_vocabulary(self) -> OutputVocabulary {
        OutputVocabulary {
            tokens: self.output_tokens(),
        }
    }

    /// What `input` should give.
    pub fn answer(self, input: &[u8]) -> Vec<u8> {
        match self {
            TranslationTask::Reverse => input.iter().rev().copied().collect(),
            TranslationTask::Sort => {
                let mut sorted = input.to_vec();
                sorted.sort_unstable();
                sorted
            }
            TranslationTask::AddBinary => {
                let mut carry = 0;
                let mut sum = Vec::with_capacity(input.len() + 1);
                for &pair in input {
                    let total = (pair & 1) + (pair >> 1) + carry;
                    sum.push(total & 1);
                    carry = total >> 1;
                }
                sum.push(carry);
                sum
            }
        }
    }

    /// `count` examples whose inputs are `shortest` to `longest` tokens long, drawn from
    /// `seed`; or why these sizes cannot be.
    pub fn generate(
        self,
        count: usize,
        (shortest, longest): (usize, usize),
        seed: u64,
    ) -> Result<Vec<Translation>, EngineError> {
        if !(1..=MAX_LENGTH).contains(&longest) || !(1..=longest).contains(&shortest) {
            return Err(EngineError::InvalidConfig(format!(
                "input lengths run from 1 to {MAX_LENGTH}, the shortest no longer than the \
                 longest, not {shortest} to {longest}"
            )));
        }
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(EngineError::InvalidConfig(format!(
                "a set holds 1 to {MAX_COUNT} examples, not {count}"
            )));
        }
        let mut rng = SeededRng::new(seed);
        Ok((0..count)
            .map(|_| {
                let length = shortest + rng.below(longest - shortest + 1);
                let input: Vec<u8> = (0..length)
                    .map(|_| rng.below(self.input_tokens()) as u8)
                    .collect();
                let output = self.answer(&input);
                Translation { input, output }
            })
            .collect())
    }
}

/// Examples as an encoder-decoder network reads them (see
/// [`Seq2Seq`](crate::engine::Seq2Seq)).
#[derive(Clone, Debug, PartialEq)]
pub struct TranslationSet {
    pub task: TranslationTask,
    /// `[count, source_steps + output_steps, 2]`: each step a token and a flag, 1 on the input
    /// sequence and 0 on its padding. The first `source_steps` steps are the input, padded at
    /// the end with token 0; the rest are what the decoder reads: the start token, then the
    /// answer's tokens, then the end token and 0s.
    pub inputs: Tensor,
    /// `[count, output_steps, output tokens + 2]` one-hot: the answer's tokens, then the end
    /// token; rows of zeros after it (no token to learn there).
    pub targets: Tensor,
    pub source_steps: usize,
    pub output_steps: usize,
}

impl TranslationTask {
    /// Steps the decoder writes for inputs of up to `longest` tokens: the longest answer, then
    /// the end.
    pub fn output_steps(self, longest: usize) -> usize {
        match self {
            TranslationTask::Reverse | TranslationTask::Sort => longest + 1,
            TranslationTask::AddBinary => longest + 2,
        }
    }

    /// `examples` of inputs up to `longest` tokens as tensors.
    pub fn encode(self, examples: &[Translation], longest: usize) -> TranslationSet {
        let output_steps = self.output_steps(longest);
        let vocabulary = self.output_vocabulary();
        let steps = longest + output_steps;
        let mut inputs = Tensor::zeros(&[examples.len(), steps, 2]);
        let mut targets = Tensor::zeros(&[examples.len(), output_steps, vocabulary.size()]);
        let input_rows = inputs.data_mut().chunks_exact_mut(steps * 2);
        let target_rows = targets
            .data_mut()
            .chunks_exact_mut(output_steps * vocabulary.size());
        for ((example, input), target) in examples.iter().zip(input_rows).zip(target_rows) {
            let (source, decoder) = input.split_at_mut(longest * 2);
            for (step, &token) in source.chunks_exact_mut(2).zip(&example.input) {
                step.copy_from_slice(&[f32::from(token), 1.0]);
            }
            let answer = example.output.iter().map(|&token| usize::from(token));
            let written: Vec<usize> = answer.chain([vocabulary.end()]).collect();
            let read = std::iter::once(vocabulary.start()).chain(written.iter().copied());
            for (step, token) in decoder.chunks_exact_mut(2).zip(read) {
                step[0] = token as f32;
            }
            let rows = target.chunks_exact_mut(vocabulary.size());
            for (row, &token) in rows.zip(&written) {
                row[token] = 1.0;
            }
        }
        TranslationSet {
            task: self,
            inputs,
            targets,
            source_steps: longest,
            output_steps,
        }
    }
}

impl TranslationSet {
    /// Tokens of answer `index` the network writes, its end included (the target rows that are
    /// not padding).
    pub fn answer_length(&self, index: usize) -> usize {
        let classes = self.classes();
        let per_example = self.output_steps * classes;
        self.targets.data()[index * per_example..(index + 1) * per_example]
            .chunks_exact(classes)
            .take_while(|row| row.iter().any(|&v| v != 0.0))
            .count()
    }

    /// The input tokens of example `index`, its padding left out.
    pub fn input(&self, index: usize) -> Vec<u8> {
        let steps = self.inputs.shape()[1];
        self.inputs.data()[index * steps * 2..(index * steps + self.source_steps) * 2]
            .chunks_exact(2)
            .take_while(|step| step[1] != 0.0)
            .map(|step| step[0] as u8)
            .collect()
    }
}

/// Translations as the examples of a training run: each scored token by token, the answer's
/// tokens and its end (what follows the end has no class).
impl Examples for TranslationSet {
    fn len(&self) -> usize {
        self.inputs.shape()[0]
    }

    fn example_shape(&self) -> Vec<usize> {
        self.inputs.shape()[1..].to_vec()
    }

    fn classes(&self) -> usize {
        *self.targets.shape().last().expect("targets have a shape")
    }

    /// The last token written: the end.
    fn label(&self, _index: usize) -> usize {
        self.task.output_vocabulary().end()
    }

    fn step_labels(&self, index: usize) -> Option<Vec<usize>> {
        let classes = self.classes();
        let per_example = self.output_steps * classes;
        let rows = self.targets.data()[index * per_example..(index + 1) * per_example]
            .chunks_exact(classes)
            .take(self.answer_length(index));
        Some(rows.map(crate::engine::trainer::argmax).collect())
    }

    fn input_length(&self, index: usize) -> Option<usize> {
        Some(self.input(index).len())
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
    fn examples_encode_as_tokens_then_the_decoders_reading_and_one_hot_answers() {
        let task = TranslationTask::Reverse;
        let examples = [Translation {
            input: vec![3, 1],
            output: task.answer(&[3, 1]),
        }];
        let set = task.encode(&examples, 3);
        assert_eq!(set.output_steps, 4);
        assert_eq!(set.inputs.shape(), [1, 7, 2]);
        // Input 3 1 and a padded step; then start (11), 1, 3, end (10).
        let tokens: Vec<f32> = set.inputs.data().chunks(2).map(|s| s[0]).collect();
        let flags: Vec<f32> = set.inputs.data().chunks(2).map(|s| s[1]).collect();
        assert_eq!(tokens, [3.0, 1.0, 0.0, 11.0, 1.0, 3.0, 10.0]);
        assert_eq!(&flags[..3], [1.0, 1.0, 0.0]);
        let answer: Vec<Option<usize>> = set
            .targets
            .data()
            .chunks(12)
            .map(|row| row.iter().position(|&v| v == 1.0))
            .collect();
        assert_eq!(answer, [Some(1), Some(3), Some(10), None]);
    }

    /// The number whose bits, lowest first, are `bits`.
    fn number(bits: impl Iterator<Item = u8>) -> u64 {
        bits.enumerate().map(|(k, bit)| u64::from(bit) << k).sum()
    }

    #[test]
    fn each_task_gives_what_its_description_says() {
        assert_eq!(TranslationTask::Reverse.answer(&[3, 1, 4]), [4, 1, 3]);
        assert_eq!(TranslationTask::Sort.answer(&[3, 1, 4]), [1, 3, 4]);
        // 3 + 1 = 4: a = 1 1, b = 1 0 (lowest first), tokens a + 2b = 3, 1.
        assert_eq!(TranslationTask::AddBinary.answer(&[3, 1]), [0, 0, 1]);
    }

    #[test]
    fn binary_addition_adds() {
        let examples = TranslationTask::AddBinary
            .generate(500, (1, 20), 7)
            .unwrap();
        for example in &examples {
            let a = number(example.input.iter().map(|&t| t & 1));
            let b = number(example.input.iter().map(|&t| t >> 1));
            assert_eq!(number(example.output.iter().copied()), a + b);
            assert_eq!(example.output.len(), example.input.len() + 1);
            assert!(example.output.iter().all(|&t| t < 2));
        }
    }

    #[test]
    fn sets_are_a_function_of_their_seed_within_their_lengths() {
        for task in [TranslationTask::Reverse, TranslationTask::Sort] {
            let set = task.generate(300, (3, 9), 11).unwrap();
            assert_eq!(set, task.generate(300, (3, 9), 11).unwrap());
            assert_ne!(set, task.generate(300, (3, 9), 12).unwrap());
            let lengths: Vec<usize> = set.iter().map(|e| e.input.len()).collect();
            assert_eq!(lengths.iter().min(), Some(&3));
            assert_eq!(lengths.iter().max(), Some(&9));
            for example in &set {
                assert!(
                    example
                        .input
                        .iter()
                        .all(|&t| usize::from(t) < task.input_tokens())
                );
                let mut counts = [0usize; 10];
                example
                    .input
                    .iter()
                    .for_each(|&t| counts[usize::from(t)] += 1);
                example
                    .output
                    .iter()
                    .for_each(|&t| counts[usize::from(t)] -= 1);
                assert_eq!(
                    counts, [0; 10],
                    "the output is the input's tokens rearranged"
                );
            }
        }
        let sorted = TranslationTask::Sort.generate(50, (2, 8), 1).unwrap();
        assert!(sorted.iter().all(|e| e.output.is_sorted()));
    }

    #[test]
    fn impossible_sizes_are_refused_by_name() {
        let task = TranslationTask::Reverse;
        assert!(
            task.generate(10, (5, 4), 1)
                .unwrap_err()
                .to_string()
                .contains("shortest")
        );
        assert!(task.generate(10, (1, 65), 1).is_err());
        assert!(
            task.generate(0, (1, 4), 1)
                .unwrap_err()
                .to_string()
                .contains("examples")
        );
        let vocabulary = TranslationTask::AddBinary.output_vocabulary();
        assert_eq!(
            (vocabulary.end(), vocabulary.start(), vocabulary.size()),
            (2, 3, 4)
        );
    }
}
