//! "Build a counter by hand", the Sequences page's lesson: a one-unit RNN
//! `h_t = f(w_h · h_{t-1} + w_x · x_t + b)` whose three numbers the learner sets until its last
//! state is the number of ones of every sequence (with a linear or ReLU `f`: `w_x = 1`,
//! `w_h = 1`, `b = 0`), then the same RNN trained from random weights by the engine, to compare.
//! Every number shown is the engine's: the network is an [`Rnn`] layer on the tape.

use serde::{Deserialize, Serialize};

use crate::engine::{
    Activation, EngineError, LayerConfig, Loss, OptimizerConfig, OptimizerKind, OutputTransform,
    Regularization, Rnn, Sequential, SequentialConfig, Tensor, TrainConfig, Trainer,
};

/// Steps of the lesson's sequences: every one of the 2⁸ sequences is checked.
pub const COUNTER_LENGTH: usize = 8;
/// How far the last state may be from the count for "exactly".
const EXACT: f32 = 1e-4;
/// Epochs of the trained counter.
const EPOCHS: usize = 150;

/// The three numbers of a one-unit RNN and its activation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterWeights {
    /// `w_x`, on the input bit.
    pub input: f32,
    /// `w_h`, on the previous state.
    pub recurrent: f32,
    pub bias: f32,
    pub activation: Activation,
}

impl Default for CounterWeights {
    /// A start that does not count yet.
    fn default() -> Self {
        CounterWeights {
            input: 0.5,
            recurrent: 0.5,
            bias: 0.0,
            activation: Activation::Linear,
        }
    }
}

/// How well a counter counts, over every sequence of [`COUNTER_LENGTH`] bits.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterCheck {
    /// Sequences checked (all 2⁸).
    pub total: usize,
    /// Those whose last state rounds to their count.
    pub rounded_right: usize,
    /// Every last state equals its count (within 10⁻⁴).
    pub exact: bool,
    /// The sequence it is furthest off on: its bits, its last state and its count.
    pub worst: (Vec<u8>, f32, usize),
}

/// A counter trained from random weights, and how it went.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainedCounter {
    pub start: CounterWeights,
    pub weights: CounterWeights,
    /// Mean squared error of the last state against the count, at each epoch.
    pub losses: Vec<f32>,
    pub check: CounterCheck,
}

impl CounterWeights {
    /// The one-unit RNN of these numbers on `length`-step sequences, giving its last state.
    pub fn network(&self, length: usize) -> Result<Sequential, EngineError> {
        let mut network = config(self.activation, length, 1).init()?;
        let ids: Vec<_> = network.params().ids().collect();
        let params = network.params_mut();
        // W is [[w_h], [w_x]]: the state's row first, as the course writes [h, x].
        *params.value_mut(ids[0]) = Tensor::from_vec(&[2, 1], vec![self.recurrent, self.input])?;
        *params.value_mut(ids[1]) = Tensor::from_vec(&[1], vec![self.bias])?;
        Ok(network)
    }

    /// The numbers of a one-unit RNN network.
    pub fn of(network: &Sequential, activation: Activation) -> CounterWeights {
        let params = network.params();
        let ids: Vec<_> = params.ids().collect();
        let weights = params.value(ids[0]).data();
        CounterWeights {
            recurrent: weights[0],
            input: weights[1],
            bias: params.value(ids[1]).data()[0],
            activation,
        }
    }

    /// The state after each bit, `h_1 ... h_T`, as the engine computes it.
    pub fn states(&self, bits: &[f32]) -> Result<Vec<f32>, EngineError> {
        Ok(self.run(std::slice::from_ref(&bits.to_vec()))?.remove(0))
    }

    /// Each sequence's states, one tape for all of them.
    fn run(&self, sequences: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, EngineError> {
        let length = sequences.first().map_or(1, Vec::len);
        let network = self.network(length)?;
        let rows = sequences.len();
        let mut recorded = network.record(rows, OutputTransform::None, None)?;
        let inputs = Tensor::from_vec(&[rows, length, 1], sequences.concat())?;
        recorded.tape.set_input(recorded.input, &inputs)?;
        recorded.tape.forward(network.params())?;
        let layer = recorded
            .recurrent_layers()
            .next()
            .expect("the counter is one RNN layer");
        let mut states = vec![Vec::with_capacity(length); rows];
        for step in &layer.steps {
            for (row, value) in recorded.tape.value(step.state).data().iter().enumerate() {
                states[row].push(*value);
            }
        }
        Ok(states)
    }

    /// Runs every sequence of [`COUNTER_LENGTH`] bits and compares each last state with its
    /// count.
    pub fn check(&self) -> Result<CounterCheck, EngineError> {
        let sequences = every_sequence(COUNTER_LENGTH);
        let states = self.run(&sequences)?;
        let mut check = CounterCheck {
            total: sequences.len(),
            rounded_right: 0,
            exact: true,
            worst: (Vec::new(), 0.0, 0),
        };
        let mut worst_error = -1.0f32;
        for (bits, states) in sequences.iter().zip(&states) {
            let count = bits.iter().filter(|&&bit| bit == 1.0).count();
            let last = *states.last().expect("eight steps");
            let error = (last - count as f32).abs();
            // NaN (a diverged hand-set counter) is as wrong as can be.
            let error = if error.is_nan() { f32::INFINITY } else { error };
            check.rounded_right += usize::from(error < 0.5);
            check.exact &= error <= EXACT;
            if error > worst_error {
                worst_error = error;
                let bits = bits.iter().map(|&bit| bit as u8).collect();
                check.worst = (bits, last, count);
            }
        }
        Ok(check)
    }

    /// A one-unit RNN of `activation` trained from random weights (drawn from `seed`) to give
    /// the count as its last state: mean squared error, Adam, on every sequence of
    /// [`COUNTER_LENGTH`] bits.
    pub fn train(activation: Activation, seed: u64) -> Result<TrainedCounter, EngineError> {
        let network = SequentialConfig {
            seed,
            ..config(activation, COUNTER_LENGTH, 1)
        }
        .init()?;
        let start = CounterWeights::of(&network, activation);
        let sequences = every_sequence(COUNTER_LENGTH);
        let counts: Vec<f32> = sequences
            .iter()
            .map(|bits| bits.iter().sum::<f32>())
            .collect();
        let inputs = Tensor::from_vec(&[sequences.len(), COUNTER_LENGTH, 1], sequences.concat())?;
        let targets = Tensor::from_vec(&[sequences.len(), 1], counts)?;
        let train_config = TrainConfig {
            loss: Loss::MeanSquaredError,
            optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.05),
            batch_size: 32,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            seed,
            clip_norm: Some(5.0),
            truncation: None,
        };
        let mut trainer = Trainer::new(network, train_config)?;
        let mut losses = Vec::with_capacity(EPOCHS);
        for _ in 0..EPOCHS {
            match trainer.train_epoch(&inputs, &targets) {
                Ok(loss) => losses.push(loss),
                // A run that blew up is shown as it stood, not as an error.
                Err(EngineError::NonFinite(_)) => break,
                Err(error) => return Err(error),
            }
        }
        let weights = CounterWeights::of(trainer.model(), activation);
        Ok(TrainedCounter {
            start,
            weights,
            losses,
            check: weights.check()?,
        })
    }
}

/// A network of one RNN layer of `activation` of `hidden` units on `length` steps of one bit.
fn config(activation: Activation, length: usize, hidden: usize) -> SequentialConfig {
    let cell = LayerConfig::Rnn(Rnn {
        activation,
        ..Rnn::new(hidden)
    });
    SequentialConfig::new(&[length, 1], vec![cell])
}

/// Every sequence of `length` bits, in binary order.
fn every_sequence(length: usize) -> Vec<Vec<f32>> {
    (0..1usize << length)
        .map(|number| {
            (0..length)
                .map(|t| ((number >> (length - 1 - t)) & 1) as f32)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weights_count_exactly_and_others_do_not() {
        let counter = CounterWeights {
            input: 1.0,
            recurrent: 1.0,
            bias: 0.0,
            activation: Activation::Linear,
        };
        assert_eq!(
            counter.states(&[1.0, 0.0, 1.0, 1.0]).unwrap(),
            [1.0, 1.0, 2.0, 3.0]
        );
        let check = counter.check().unwrap();
        assert_eq!((check.total, check.rounded_right), (256, 256));
        assert!(check.exact);
        // ReLU keeps a count (never negative) as it is.
        let relu = CounterWeights {
            activation: Activation::Relu,
            ..counter
        };
        assert!(relu.check().unwrap().exact);
        // tanh squashes it: 8 ones give tanh(1 + tanh(...)) < 1.
        let tanh = CounterWeights {
            activation: Activation::Tanh,
            ..counter
        };
        let check = tanh.check().unwrap();
        assert!(!check.exact);
        assert_eq!(check.worst.0, vec![1; 8]);
        assert!(
            check.worst.1 < 1.0 && check.worst.2 == 8,
            "{:?}",
            check.worst
        );
        // Forgetting half the state each step undercounts.
        let leaky = CounterWeights {
            recurrent: 0.5,
            ..counter
        };
        let check = leaky.check().unwrap();
        assert!(!check.exact && check.rounded_right < 256);
        assert_eq!(
            CounterWeights::of(&leaky.network(8).unwrap(), Activation::Linear),
            leaky
        );
    }

    #[test]
    fn a_linear_counter_trained_from_random_weights_learns_to_count() {
        let trained = CounterWeights::train(Activation::Linear, 3).unwrap();
        assert!(!trained.start.check().unwrap().exact);
        let last = *trained.losses.last().unwrap();
        assert!(last < 1e-3, "loss {last}: {:?}", trained.weights);
        assert_eq!(trained.check.rounded_right, 256, "{:?}", trained.weights);
        let weights = trained.weights;
        assert!((weights.input - 1.0).abs() < 0.05, "{weights:?}");
        assert!((weights.recurrent - 1.0).abs() < 0.05, "{weights:?}");
        assert!(weights.bias.abs() < 0.05, "{weights:?}");
    }

    #[test]
    fn every_sequence_is_there_once() {
        let all = every_sequence(3);
        assert_eq!(all.len(), 8);
        assert_eq!(all[5], [1.0, 0.0, 1.0]);
    }
}
