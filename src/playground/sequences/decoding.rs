//! One input run through an encoder-decoder network, step by step, read from the engine's own
//! evaluation tape (greedy decoding, as the network is tested): the encoding, and at each
//! decoder step the token it read, its state, the probability of every output token, the one
//! it chose, and where it looked (the attention's weights over the input's steps). A typed
//! input is read here too, refused in words where it cannot be one.

use crate::data::translation::TranslationTask;
use crate::engine::{EngineError, LayerConfig, OutputTransform, Sequential, Tensor};

/// One decoder step.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedStep {
    /// The token it read: the start, then the one it chose the step before.
    pub read: usize,
    /// Its state `h_t`.
    pub state: Vec<f32>,
    /// The probability of each output token.
    pub probabilities: Vec<f32>,
    /// The most likely token, which it writes.
    pub chosen: usize,
    /// The attention's weight on each of the input's steps.
    pub attention: Option<Vec<f32>>,
}

/// An input and everything the network did with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoding {
    pub input: Vec<u8>,
    /// The encoder's last state: all the decoder knows of the input without attention.
    pub encoding: Vec<f32>,
    /// Every step up to the one that wrote the end token (or the last the network has).
    pub steps: Vec<DecodedStep>,
}

impl Decoding {
    /// The tokens written, the end left out.
    pub fn written(&self, end: usize) -> Vec<u8> {
        let chosen = self.steps.iter().map(|step| step.chosen);
        chosen
            .take_while(|&token| token != end)
            .map(|token| token as u8)
            .collect()
    }
}

/// Runs `network` (an encoder-decoder) on `input` and reads every step back.
pub fn decode(network: &Sequential, input: &[u8]) -> Result<Decoding, EngineError> {
    let Some(LayerConfig::Seq2Seq(layer)) = network.config().layers.first().copied() else {
        return Err(EngineError::InvalidConfig(
            "this network has no encoder and decoder".to_string(),
        ));
    };
    let steps = network.config().input[0];
    let source = steps - layer.output_steps;
    if input.is_empty() || input.len() > source {
        return Err(EngineError::InvalidConfig(format!(
            "this network reads 1 to {source} tokens, not {}",
            input.len()
        )));
    }
    if let Some(&token) = input
        .iter()
        .find(|&&t| usize::from(t) >= layer.source_tokens)
    {
        return Err(EngineError::InvalidConfig(format!(
            "token {token} is not one of this network's {} input tokens",
            layer.source_tokens
        )));
    }
    // The input, flagged, then the start token for the decoder (it reads its own afterwards).
    let mut example = vec![0.0; steps * 2];
    for (step, &token) in example.chunks_exact_mut(2).zip(input) {
        step.copy_from_slice(&[f32::from(token), 1.0]);
    }
    example[source * 2] = (layer.target_tokens - 1) as f32;
    let mut recorded = network.record(1, OutputTransform::Softmax, None)?;
    let tensor = Tensor::from_vec(&[1, steps, 2], example)?;
    recorded.tape.set_input(recorded.input, &tensor)?;
    recorded.tape.forward(network.params())?;
    let tape = &recorded.tape;
    let nodes = recorded
        .seq2seq_layers()
        .next()
        .expect("an encoder-decoder records its nodes");
    let probabilities = tape.value(recorded.prediction).data();
    let end = layer.target_tokens - 2;
    let mut decoded = Vec::new();
    for (step, probabilities) in nodes
        .decoder
        .iter()
        .zip(probabilities.chunks_exact(layer.target_tokens))
    {
        let chosen = crate::engine::trainer::argmax(probabilities);
        decoded.push(DecodedStep {
            read: tape.value(step.token).data()[0] as usize,
            state: tape.value(step.cell.state).data().to_vec(),
            probabilities: probabilities.to_vec(),
            chosen,
            attention: step
                .attention
                .map(|weights| tape.value(weights).data()[..input.len()].to_vec()),
        });
        if chosen == end {
            break;
        }
    }
    Ok(Decoding {
        input: input.to_vec(),
        encoding: tape.value(nodes.encoding).data().to_vec(),
        steps: decoded,
    })
}

/// The input tokens of a typed `text` for `task`: digits ("3 1 4" or "314") to reverse or
/// sort; two binary numbers to add, written as usual ("101 + 11"), read lowest bit first and
/// paired bit by bit. At most `longest` tokens, or why not.
pub fn parse_input(task: TranslationTask, text: &str, longest: usize) -> Result<Vec<u8>, String> {
    let tokens = match task {
        TranslationTask::Reverse | TranslationTask::Sort => text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ',')
            .map(|c| match c.to_digit(10) {
                Some(digit) => Ok(digit as u8),
                None => Err(format!("`{c}` is not a digit: type digits 0 to 9")),
            })
            .collect::<Result<Vec<u8>, String>>()?,
        TranslationTask::AddBinary => {
            let numbers: Vec<&str> = text.split('+').map(str::trim).collect();
            let [a, b] = numbers[..] else {
                return Err("type two binary numbers with a + between them: 101 + 11".to_string());
            };
            let bits = |number: &str| -> Result<Vec<u8>, String> {
                let bits = number.chars().rev().map(|c| match c {
                    '0' => Ok(0),
                    '1' => Ok(1),
                    other => Err(format!("`{other}` is not a bit: type 0s and 1s")),
                });
                bits.collect()
            };
            let (a, b) = (bits(a)?, bits(b)?);
            let length = a.len().max(b.len());
            let bit = |bits: &[u8], k: usize| bits.get(k).copied().unwrap_or(0);
            (0..length).map(|k| bit(&a, k) + 2 * bit(&b, k)).collect()
        }
    };
    if tokens.is_empty() || tokens.len() > longest {
        return Err(format!(
            "type 1 to {longest} {}, not {}",
            match task {
                TranslationTask::AddBinary => "bits per number",
                _ => "digits",
            },
            tokens.len()
        ));
    }
    Ok(tokens)
}

/// Input tokens as a learner types them (what [`parse_input`] reads back): digits side by
/// side; a sum's two numbers highest bit first, `101 + 11`.
pub fn show_input(task: TranslationTask, tokens: &[u8]) -> String {
    match task {
        TranslationTask::Reverse | TranslationTask::Sort => tokens
            .iter()
            .map(|token| token.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        TranslationTask::AddBinary => {
            let number = |bit: fn(u8) -> u8| -> String {
                tokens
                    .iter()
                    .rev()
                    .map(|&t| char::from(b'0' + bit(t)))
                    .collect()
            };
            format!("{} + {}", number(|t| t & 1), number(|t| (t >> 1) & 1))
        }
    }
}

/// The `index`-th input drawn for `task` at `shortest` to `longest` tokens (a new one for each
/// index), as a learner types it.
pub fn drawn_input(
    task: TranslationTask,
    (shortest, longest): (usize, usize),
    index: u64,
) -> Result<String, String> {
    let drawn = task
        .generate(1, (shortest, longest), 1_000 + index)
        .map_err(|e| e.to_string())?;
    Ok(show_input(task, &drawn[0].input))
}

/// Output tokens as a learner reads them: digits side by side, a sum's bits highest first.
pub fn show_output(task: TranslationTask, tokens: &[u8]) -> String {
    let digits = tokens.iter().map(|token| token.to_string());
    match task {
        TranslationTask::Reverse | TranslationTask::Sort => digits.collect::<Vec<_>>().join(" "),
        TranslationTask::AddBinary => digits.rev().collect(),
    }
}

/// What an input token means to a learner: a digit, or a sum's pair of bits (`1+0`: a's bit,
/// then b's).
pub fn input_token_name(task: TranslationTask, token: usize) -> String {
    match task {
        TranslationTask::AddBinary => format!("{}+{}", token & 1, token >> 1),
        TranslationTask::Reverse | TranslationTask::Sort => token.to_string(),
    }
}

/// What an output token means: a digit or a bit, the end, or the start.
pub fn output_token_name(task: TranslationTask, token: usize) -> String {
    let vocabulary = task.output_vocabulary();
    if token == vocabulary.end() {
        "end".to_string()
    } else if token == vocabulary.start() {
        "start".to_string()
    } else {
        token.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Attention, Cell, Seq2Seq, SequentialConfig};

    fn network(task: TranslationTask, longest: usize, attention: Attention) -> Sequential {
        let output_steps = task.output_steps(longest);
        let layer = Seq2Seq {
            cell: Cell::Gru,
            hidden: 5,
            embedding: 3,
            source_tokens: task.input_tokens(),
            target_tokens: task.output_vocabulary().size(),
            output_steps,
            attention,
            teacher_forcing: true,
        };
        let config = SequentialConfig {
            padded: true,
            ..SequentialConfig::new(
                &[longest + output_steps, 2],
                vec![LayerConfig::Seq2Seq(layer)],
            )
        };
        config.init().unwrap()
    }

    #[test]
    fn each_step_reads_the_token_it_chose_before_and_looks_at_the_input_only() {
        let task = TranslationTask::Sort;
        let model = network(task, 6, Attention::Additive);
        let decoding = decode(&model, &[4, 1, 3]).unwrap();
        assert_eq!(decoding.encoding.len(), 5);
        let vocabulary = task.output_vocabulary();
        assert_eq!(decoding.steps[0].read, vocabulary.start());
        for pair in decoding.steps.windows(2) {
            assert_eq!(pair[1].read, pair[0].chosen);
        }
        for step in &decoding.steps {
            let best = crate::engine::trainer::argmax(&step.probabilities);
            assert_eq!(step.chosen, best);
            assert!((step.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            let attention = step.attention.as_ref().unwrap();
            assert_eq!(attention.len(), 3);
            assert!((attention.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // It stops at the end token, or after the network's last step.
        let last = decoding.steps.last().unwrap().chosen;
        assert!(last == vocabulary.end() || decoding.steps.len() == 7);
        let written = decoding.written(vocabulary.end());
        assert!(written.len() <= decoding.steps.len());
        let plain = decode(&network(task, 6, Attention::None), &[2]).unwrap();
        assert!(plain.steps.iter().all(|step| step.attention.is_none()));
    }

    #[test]
    fn inputs_the_network_cannot_read_are_refused_in_words() {
        let model = network(TranslationTask::Reverse, 4, Attention::Dot);
        let error = decode(&model, &[1, 2, 3, 4, 5]).unwrap_err().to_string();
        assert!(error.contains("1 to 4 tokens"), "{error}");
        let error = decode(&model, &[12]).unwrap_err().to_string();
        assert!(error.contains("token 12"), "{error}");
        assert!(decode(&model, &[]).is_err());
    }

    #[test]
    fn typed_inputs_read_as_tokens() {
        let reverse = TranslationTask::Reverse;
        assert_eq!(parse_input(reverse, "3 1 4", 8), Ok(vec![3, 1, 4]));
        assert_eq!(parse_input(reverse, "314", 8), Ok(vec![3, 1, 4]));
        assert!(parse_input(reverse, "3 x", 8).unwrap_err().contains("`x`"));
        assert!(
            parse_input(reverse, "123456789", 8)
                .unwrap_err()
                .contains("1 to 8")
        );
        assert!(parse_input(reverse, " ", 8).is_err());
        // 5 + 3: a = 101, b = 011 lowest first: pairs a + 2b = 3, 2, 1.
        let add = TranslationTask::AddBinary;
        assert_eq!(parse_input(add, "101 + 11", 8), Ok(vec![3, 2, 1]));
        assert_eq!(add.answer(&[3, 2, 1]), [0, 0, 0, 1]);
        assert_eq!(show_output(add, &[0, 0, 0, 1]), "1000");
        assert_eq!(show_output(reverse, &[4, 1, 3]), "4 1 3");
        assert!(parse_input(add, "101", 8).unwrap_err().contains('+'));
        assert!(parse_input(add, "12 + 1", 8).unwrap_err().contains("`2`"));
        assert_eq!(input_token_name(add, 1), "1+0");
        // What is shown reads back as the same tokens.
        assert_eq!(show_input(add, &[3, 2, 1]), "101 + 011");
        for task in [reverse, add, TranslationTask::Sort] {
            for index in 0..20 {
                let text = drawn_input(task, (2, 6), index).unwrap();
                let tokens = parse_input(task, &text, 6).unwrap();
                assert!((2..=6).contains(&tokens.len()), "{text}");
                assert_eq!(show_input(task, &tokens), text);
            }
        }
        assert_ne!(
            drawn_input(reverse, (4, 8), 0),
            drawn_input(reverse, (4, 8), 1)
        );
        assert_eq!(input_token_name(reverse, 7), "7");
        assert_eq!(output_token_name(reverse, 10), "end");
        assert_eq!(output_token_name(reverse, 11), "start");
        assert_eq!(output_token_name(add, 2), "end");
    }
}
