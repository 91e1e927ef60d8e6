//! A recurrent network unrolled in time for one sequence: every step's input, state (an LSTM's
//! cell state too) and gates, and the prediction, read from the engine's own evaluation tape, so
//! that the page shows the very numbers the network computes.

use std::ops::RangeInclusive;

use crate::engine::{EngineError, OutputTransform, RecurrentNodes, Sequential, Tape, Tensor};

/// One time step of one recurrent layer.
#[derive(Clone, Debug, PartialEq)]
pub struct StepValues {
    /// `x_t`: the step's input (one value per feature).
    pub input: Vec<f32>,
    /// `h_t`.
    pub state: Vec<f32>,
    /// An LSTM's `C_t`.
    pub cell: Option<Vec<f32>>,
    /// The gates and the candidate, by the course's names ("f", "i", "o", "C~"; "z", "r", "h~").
    pub gates: Vec<(&'static str, Vec<f32>)>,
    /// The weighted sums `s = [h_{t-1}, x_t] W + b` that went into each activation, by the name
    /// of what came out (every gate, and an RNN's "h").
    pub sums: Vec<(&'static str, Vec<f32>)>,
}

impl StepValues {
    /// The values of `name` ("h", "C", a gate's name) at this step.
    pub fn values(&self, name: &str) -> Option<&[f32]> {
        match name {
            "h" => Some(&self.state),
            "C" => self.cell.as_deref(),
            gate => self
                .gates
                .iter()
                .find(|(n, _)| *n == gate)
                .map(|(_, values)| values.as_slice()),
        }
    }

    /// The weighted sum that went into `name`'s activation, if it is one.
    pub fn sum(&self, name: &str) -> Option<&[f32]> {
        self.sums
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, values)| values.as_slice())
    }
}

/// Every recurrent layer's steps, first layer first, and the prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct Unrolled {
    pub layers: Vec<Vec<StepValues>>,
    /// The probability of each class (at every step, for a network that answers at each), or
    /// a regression's values.
    pub probabilities: Vec<f32>,
}

/// Runs `model` on one sequence of `bits` (one value a step) and reads every step back; the
/// prediction through `transform` (a softmax for classes, none for a regression's values).
pub fn unroll(
    model: &Sequential,
    bits: &[f32],
    transform: OutputTransform,
) -> Result<Unrolled, EngineError> {
    // A padded network reads a sequence of any length up to its own, each value flagged as
    // there, with its own weights.
    let padded;
    let (model, input) = match model.config().padded {
        true => {
            padded = model.with_input(&[bits.len(), 2])?;
            let flagged = bits.iter().flat_map(|&bit| [bit, 1.0]).collect();
            (&padded, Tensor::from_vec(&[1, bits.len(), 2], flagged)?)
        }
        false => {
            let mut shape = vec![1];
            shape.extend(&model.config().input);
            (model, Tensor::from_vec(&shape, bits.to_vec())?)
        }
    };
    let mut recorded = model.record(1, transform, None)?;
    recorded.tape.set_input(recorded.input, &input)?;
    recorded.tape.forward(model.params())?;
    let tape = &recorded.tape;
    let layers = recorded
        .recurrent_layers()
        .map(|layer| read_steps(tape, layer))
        .collect();
    Ok(Unrolled {
        layers,
        probabilities: tape.value(recorded.prediction).data().to_vec(),
    })
}

/// Every step of a recurrent `layer` as `tape` computed it (the first example of the batch).
pub fn read_steps(tape: &Tape, layer: &RecurrentNodes) -> Vec<StepValues> {
    let values = |id| tape.value(id).data().to_vec();
    layer
        .steps
        .iter()
        .map(|step| StepValues {
            input: values(step.input),
            state: values(step.state),
            cell: step.cell.map(values),
            gates: step
                .gates
                .iter()
                .map(|gate| (gate.name, gate.value.read(tape)))
                .collect(),
            sums: step
                .gates
                .iter()
                .map(|gate| (gate.name, gate.sum.read(tape)))
                .chain(step.state_sum.map(|sum| ("h", sum.read(tape))))
                .collect(),
        })
        .collect()
}

/// The bits of a typed sequence ("0 1 0 0 1", "01001" or "0,1,0,0,1"): as many as `lengths`
/// allows, or why not.
pub fn parse_bits(text: &str, lengths: RangeInclusive<usize>) -> Result<Vec<f32>, String> {
    let bits: Vec<f32> = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .map(|c| match c {
            '0' => Ok(0.0),
            '1' => Ok(1.0),
            other => Err(format!("`{other}` is not a bit: type 0s and 1s")),
        })
        .collect::<Result<_, _>>()?;
    check_count(bits, lengths, "bits")
}

/// The values of a typed sequence of numbers ("0.1 0.5 -0.2", commas allowed): as many finite
/// ones as `lengths` allows, or why not.
pub fn parse_numbers(text: &str, lengths: RangeInclusive<usize>) -> Result<Vec<f32>, String> {
    let values: Vec<f32> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| !word.is_empty())
        .map(|word| match word.parse::<f32>() {
            Ok(value) if value.is_finite() => Ok(value),
            _ => Err(format!("`{word}` is not a number")),
        })
        .collect::<Result<_, _>>()?;
    check_count(values, lengths, "numbers")
}

/// The sequence lengths `model` reads: exactly its length, or up to it when it is padded.
pub fn readable_lengths(model: &Sequential) -> RangeInclusive<usize> {
    let length = model.config().input[0];
    match model.config().padded {
        true => 1..=length,
        false => length..=length,
    }
}

fn check_count(
    values: Vec<f32>,
    lengths: RangeInclusive<usize>,
    what: &str,
) -> Result<Vec<f32>, String> {
    if lengths.contains(&values.len()) {
        return Ok(values);
    }
    let reads = match lengths.start() == lengths.end() {
        true => format!("{}", lengths.end()),
        false => format!("{} to {}", lengths.start(), lengths.end()),
    };
    Err(format!(
        "{} {what} typed: this network reads sequences of {reads}",
        values.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playground::sequences::SequenceSettings;

    /// A network trained on sequences of varying length reads a typed one of any length up to
    /// its own, giving what the same weights give on that length unpadded (an RNN's sums too).
    #[test]
    fn a_padded_network_unrolls_a_shorter_sequence() {
        for cell in ["rnn", "gru"] {
            let settings = SequenceSettings {
                shortest: Some(2),
                cell: cell.to_string(),
                ..SequenceSettings::default()
            };
            let model = settings.model().init().unwrap();
            assert_eq!(readable_lengths(&model), 1..=8);
            let bits = parse_bits("1 0 1", readable_lengths(&model)).unwrap();
            let unrolled = unroll(&model, &bits, OutputTransform::Softmax).unwrap();
            let alone = crate::engine::SequentialConfig {
                input: vec![3, 1],
                padded: false,
                ..model.config().clone()
            };
            let mut alone_model = alone.init().unwrap();
            *alone_model.params_mut() = model.params().clone();
            let expected = unroll(&alone_model, &bits, OutputTransform::Softmax).unwrap();
            assert_eq!(unrolled.layers, expected.layers, "{cell}");
            assert_eq!(unrolled.probabilities, expected.probabilities);
            assert_eq!(unrolled.layers[0][2].input, vec![1.0]);
            let error = parse_bits("1 0 1 1 1 1 1 1 1", readable_lengths(&model)).unwrap_err();
            assert!(error.contains("9 bits typed: this network reads sequences of 1 to 8"));
        }
    }

    #[test]
    fn an_unrolled_lstm_shows_every_step_and_its_gates() {
        let settings = SequenceSettings {
            layers: 2,
            ..SequenceSettings::default()
        };
        let model = settings.model().init().unwrap();
        let bits = parse_bits("0 1 0 0 1 1 0 1", 8..=8).unwrap();
        let unrolled = unroll(&model, &bits, OutputTransform::Softmax).unwrap();
        assert_eq!(unrolled.layers.len(), 2);
        for layer in &unrolled.layers {
            assert_eq!(layer.len(), 8);
            assert_eq!(layer[0].gates.len(), 3, "no forget gate at the first step");
            assert_eq!(layer[1].gates.len(), 4);
            assert!(
                layer
                    .iter()
                    .all(|step| step.state.len() == 16 && step.cell.is_some())
            );
        }
        // The first layer reads the bits; the second reads the first's states.
        let inputs: Vec<f32> = unrolled.layers[0].iter().map(|s| s.input[0]).collect();
        assert_eq!(inputs, bits);
        assert_eq!(unrolled.layers[1][3].input, unrolled.layers[0][3].state);
        assert_eq!(unrolled.probabilities.len(), 9);
        // Each gate keeps the weighted sum it squashed: f = σ(s).
        let step = &unrolled.layers[0][3];
        let (f, s) = (step.values("f").unwrap(), step.sum("f").unwrap());
        for (f, s) in f.iter().zip(s) {
            assert!((f - 1.0 / (1.0 + (-s).exp())).abs() < 1e-5);
        }
        assert!(
            step.sum("h").is_none(),
            "an LSTM's h is no activation of a sum"
        );
        let total: f32 = unrolled.probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-5);
    }

    #[test]
    fn typed_bits_are_read_or_refused_in_words() {
        assert_eq!(
            parse_bits("01,1 0", 4..=4).unwrap(),
            vec![0.0, 1.0, 1.0, 0.0]
        );
        assert!(parse_bits("0 1 2", 3..=3).unwrap_err().contains("`2`"));
        assert!(parse_bits("0 1", 3..=3).unwrap_err().contains("2 bits"));
        assert_eq!(
            parse_numbers("0.5, -1 2e-1", 3..=3).unwrap(),
            vec![0.5, -1.0, 0.2]
        );
        assert!(parse_numbers("0.5 x", 2..=2).unwrap_err().contains("`x`"));
        assert!(parse_numbers("1 inf", 2..=2).unwrap_err().contains("`inf`"));
        assert!(parse_numbers("1", 2..=2).unwrap_err().contains("1 numbers"));
    }
}
