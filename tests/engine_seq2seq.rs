//! The encoder-decoder layer in the one network definition: finite-difference gradient checks
//! through the embeddings, both cells and both attentions (and over padding), greedy decoding
//! when evaluating, PyTorch's logits and gradients for given weights
//! (`tests/data/seq2seq_reference.py` made `seq2seq_reference.json`), and a network that learns
//! to reverse digits through the same trainer as every other network.

mod common;

use neural_playground::data::translation::{TranslationSet, TranslationTask};
use neural_playground::engine::{
    Activation, Attention, Cell, LayerConfig, Loss, Mode, OptimizerConfig, OptimizerKind,
    OutputTransform, Regularization, SeededRng, Seq2Seq, Sequential, SequentialConfig, Tensor,
    TrainConfig, Trainable, Trainer,
};

fn seq2seq(cell: Cell, attention: Attention, set: &TranslationSet, hidden: usize) -> Seq2Seq {
    Seq2Seq {
        cell,
        hidden,
        embedding: 4,
        source_tokens: set.task.input_tokens(),
        target_tokens: set.task.output_vocabulary().size(),
        output_steps: set.output_steps,
        attention,
        teacher_forcing: true,
    }
}

fn network(layer: Seq2Seq, set: &TranslationSet, seed: u64) -> SequentialConfig {
    SequentialConfig {
        seed,
        padded: true,
        ..SequentialConfig::new(&set.inputs.shape()[1..], vec![LayerConfig::Seq2Seq(layer)])
    }
}

#[test]
fn gradients_through_encoder_attention_and_decoder_match_finite_differences() {
    let task = TranslationTask::Reverse;
    // Lengths 1 to 3 of at most 3: padding after the shorter inputs.
    let examples = task.generate(3, (1, 3), 4).unwrap();
    let set = task.encode(&examples, 3);
    let cells = [Cell::Rnn(Activation::Tanh), Cell::Lstm, Cell::Gru];
    let mut rng = SeededRng::new(2);
    for cell in cells {
        for attention in [Attention::None, Attention::Dot, Attention::Additive] {
            let layer = seq2seq(cell, attention, &set, 3);
            let config = network(layer, &set, 5);
            let mut model: Sequential = config.init().unwrap();
            // Away from round starting values, so that every path carries gradient.
            for id in model.params().ids().collect::<Vec<_>>() {
                for value in model.params_mut().value_mut(id).data_mut() {
                    *value += rng.uniform_range(-0.2, 0.2);
                }
            }
            let mut recorded = model
                .record_for(
                    Mode::Training,
                    3,
                    OutputTransform::Softmax,
                    Some(Loss::SoftmaxCrossEntropy),
                )
                .unwrap();
            recorded
                .tape
                .set_input(recorded.input, &set.inputs)
                .unwrap();
            let target = recorded.target.unwrap();
            recorded.tape.set_input(target, &set.targets).unwrap();
            let loss = recorded.loss.unwrap();
            let name = LayerConfig::Seq2Seq(layer).token();
            common::check(&name, &mut recorded.tape, model.params_mut(), loss);
        }
    }
}

#[test]
fn settings_read_back_from_the_link_token_and_bad_shapes_are_refused() {
    let set = TranslationTask::AddBinary.encode(&[], 5);
    let layer = seq2seq(Cell::Gru, Attention::Additive, &set, 8);
    let token = LayerConfig::Seq2Seq(layer).token();
    assert_eq!(token, "s2sgru8e4v4x4t7-additive");
    assert_eq!(
        LayerConfig::from_token(&token),
        Some(LayerConfig::Seq2Seq(layer))
    );
    let free = Seq2Seq {
        teacher_forcing: false,
        attention: Attention::None,
        ..layer
    };
    assert_eq!(
        LayerConfig::from_token(&LayerConfig::Seq2Seq(free).token()),
        Some(LayerConfig::Seq2Seq(free))
    );
    for bad in [
        "s2sgru8e4v4x4t0",
        "s2stransformer8e4v4x4t7",
        "s2sgru8e4v4x2t7",
        "s2sgru8",
    ] {
        assert_eq!(LayerConfig::from_token(bad), None, "{bad}");
    }
    // Fewer steps than the decoder writes, or more than one value per step.
    let short = SequentialConfig::new(&[7, 1], vec![LayerConfig::Seq2Seq(layer)]);
    let error = short.summary().unwrap_err().to_string();
    assert!(error.contains("at least 8 steps"), "{error}");
    let wide = SequentialConfig::new(&[12, 3], vec![LayerConfig::Seq2Seq(layer)]);
    assert!(wide.summary().is_err());
    let summary = network(layer, &set, 1).summary().unwrap();
    assert_eq!(summary[0].output_shape, [7, 4]);
    let parameters = network(layer, &set, 1).init().unwrap().parameter_count();
    assert_eq!(parameters, summary[0].parameters);
}

/// Of the answers in `set`, the share of tokens (end included) and of whole answers the
/// network writes right when it decodes greedily.
fn accuracy(network: &Sequential, set: &TranslationSet) -> (f32, f32) {
    let rows = set.inputs.shape()[0];
    let mut recorded = network
        .record_for(Mode::Evaluation, rows, OutputTransform::Softmax, None)
        .unwrap();
    recorded
        .tape
        .set_input(recorded.input, &set.inputs)
        .unwrap();
    recorded.tape.forward(network.params()).unwrap();
    let predicted = recorded.tape.value(recorded.prediction).data();
    let classes = *set.targets.shape().last().unwrap();
    let argmax = |row: &[f32]| {
        (0..row.len())
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap()
    };
    let (mut tokens, mut right_tokens, mut right_answers) = (0, 0, 0);
    let per_answer = set.output_steps * classes;
    for (answer, targets) in predicted
        .chunks(per_answer)
        .zip(set.targets.data().chunks(per_answer))
    {
        let mut all = true;
        for (row, target) in answer.chunks(classes).zip(targets.chunks(classes)) {
            if target.iter().all(|&v| v == 0.0) {
                continue;
            }
            tokens += 1;
            let right = argmax(row) == argmax(target);
            right_tokens += usize::from(right);
            all &= right;
        }
        right_answers += usize::from(all);
    }
    (
        right_tokens as f32 / tokens as f32,
        right_answers as f32 / rows as f32,
    )
}

#[test]
fn greedy_decoding_reads_back_its_own_tokens() {
    let task = TranslationTask::Sort;
    let set = task.encode(&task.generate(4, (2, 4), 3).unwrap(), 4);
    let layer = seq2seq(Cell::Lstm, Attention::Dot, &set, 6);
    let model = network(layer, &set, 3).init().unwrap();
    let mut recorded = model
        .record_for(Mode::Evaluation, 4, OutputTransform::Softmax, None)
        .unwrap();
    recorded
        .tape
        .set_input(recorded.input, &set.inputs)
        .unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let nodes = recorded.seq2seq_layers().next().unwrap();
    assert_eq!(nodes.encoder.len(), 4);
    assert_eq!(nodes.decoder.len(), 5);
    let start = task.output_vocabulary().start() as f32;
    assert!(
        recorded
            .tape
            .value(nodes.decoder[0].token)
            .data()
            .iter()
            .all(|&t| t == start)
    );
    for pair in nodes.decoder.windows(2) {
        let logits = recorded.tape.value(pair[0].logits);
        let fed = recorded.tape.value(pair[1].token);
        for (row, &token) in logits.data().chunks(logits.cols()).zip(fed.data()) {
            let best = (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            assert_eq!(token, best as f32);
        }
        // The attention's weights are a distribution over the input's own steps.
        let weights = recorded.tape.value(pair[1].attention.unwrap());
        for (row, example) in weights.data().chunks(4).zip(0..) {
            let length = (0..4)
                .filter(|&t| set.inputs.data()[(example * 9 + t) * 2 + 1] == 1.0)
                .count();
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(row[length..].iter().all(|&w| w == 0.0), "{row:?}");
        }
    }
}

#[test]
fn reversal_of_eight_digits_is_learned_with_attention() {
    let task = TranslationTask::Reverse;
    let length = 8;
    let train = task.encode(&task.generate(4000, (1, length), 1).unwrap(), length);
    let test = task.encode(&task.generate(500, (1, length), 2).unwrap(), length);
    let layer = Seq2Seq {
        embedding: 16,
        ..seq2seq(Cell::Lstm, Attention::Dot, &train, 64)
    };
    let train_config = TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
        batch_size: 64,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 3,
        clip_norm: Some(5.0),
        truncation: None,
    };
    let model = network(layer, &train, 7).init().unwrap();
    let mut trainer = Trainer::new(model, train_config).unwrap();
    let mut scores = (0.0, 0.0);
    for _ in 0..30 {
        trainer.train_epoch(&train.inputs, &train.targets).unwrap();
        scores = accuracy(trainer.model().network(), &test);
        eprintln!("epoch {}: {scores:?}", trainer.epoch());
        if scores.1 >= 0.99 {
            break;
        }
    }
    assert!(
        scores.1 >= 0.99,
        "after {} epochs {:.1}% of the tokens and {:.1}% of the answers are right",
        trainer.epoch(),
        100.0 * scores.0,
        100.0 * scores.1
    );
}

/// One layer's numbers from `tests/data/seq2seq_reference.json`, keyed by its link token.
#[derive(serde::Deserialize)]
struct TorchCase {
    shapes: Vec<Vec<usize>>,
    params: Vec<Vec<f32>>,
    logits: Vec<f32>,
    /// Of `(logits · r).sum()`, parameter by parameter.
    grads: Vec<Vec<f32>>,
    cross_entropy: Option<f32>,
    cross_entropy_grads: Option<Vec<Vec<f32>>>,
}

#[derive(serde::Deserialize)]
struct TorchReference {
    rows: usize,
    source_steps: usize,
    output_steps: usize,
    inputs: Vec<f32>,
    targets: Vec<f32>,
    loss_weights: Vec<f32>,
    cases: std::collections::BTreeMap<String, TorchCase>,
}

impl TorchReference {
    fn tensor(&self, values: &[f32], last: usize) -> Tensor {
        let shape = [self.rows, values.len() / self.rows / last, last];
        Tensor::from_vec(&shape, values.to_vec()).unwrap()
    }
}

fn assert_close(what: &str, found: &[f32], expected: &[f32]) {
    assert_eq!(found.len(), expected.len(), "{what}: length");
    for (index, (&f, &e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= 1e-5 + 1e-5 * e.abs(),
            "{what}[{index}]: {f}, PyTorch {e}"
        );
    }
}

/// The layer named by `token` in a padded network on the reference's inputs, its parameters
/// PyTorch's (their order and shapes checked).
fn model_with_torch_weights(token: &str, case: &TorchCase, steps: usize) -> Sequential {
    let layer = LayerConfig::from_token(token).unwrap();
    let config = SequentialConfig {
        padded: true,
        ..SequentialConfig::new(&[steps, 2], vec![layer])
    };
    let mut model: Sequential = config.init().unwrap();
    let ids: Vec<_> = model.params().ids().collect();
    assert_eq!(ids.len(), case.params.len(), "{token}: parameters");
    for ((&id, shape), values) in ids.iter().zip(&case.shapes).zip(&case.params) {
        assert_eq!(model.params().value(id).shape(), shape, "{token}: {id:?}");
        *model.params_mut().value_mut(id) = Tensor::from_vec(shape, values.clone()).unwrap();
    }
    model
}

fn parameter_grads(model: &Sequential) -> Vec<Vec<f32>> {
    let params = model.params();
    params
        .ids()
        .map(|id| params.grad(id).data().to_vec())
        .collect()
}

fn assert_grads_close(what: &str, found: &[Vec<f32>], expected: &[Vec<f32>]) {
    assert_eq!(found.len(), expected.len(), "{what}: parameters");
    for (index, (found, expected)) in found.iter().zip(expected).enumerate() {
        assert_close(&format!("{what} parameter {index}"), found, expected);
    }
}

/// With PyTorch's weights, the layer's logits and the gradients of `(logits · r).sum()` with
/// respect to every parameter (both embedding tables, both cells, the additive attention's
/// weights, the output layer) are those of the encoder-decoder written out in PyTorch
/// (`tests/data/seq2seq_reference.py`): every cell with every attention under teacher forcing,
/// and greedy decoding. PyTorch runs each example on its real input steps only, so the engine's
/// carrying of the state over padding and its mask on the attention's scores are checked too.
/// For the LSTM with dot-product attention, the softmax cross-entropy against the answers (rows
/// of zeros after an answer's end) and its gradients are PyTorch's as well.
#[test]
fn seq2seq_with_given_weights_gives_pytorchs_logits_and_gradients() {
    let text = include_str!("data/seq2seq_reference.json");
    let reference: TorchReference = serde_json::from_str(text).unwrap();
    assert_eq!(reference.cases.len(), 10);
    let rows = reference.rows;
    let inputs = reference.tensor(&reference.inputs, 2);
    let steps = inputs.shape()[1];
    assert_eq!(steps, reference.source_steps + reference.output_steps);
    let mut cross_entropies = 0;
    for (token, case) in &reference.cases {
        let mut model = model_with_torch_weights(token, case, steps);
        let mut recorded = model
            .record_for(Mode::Training, rows, OutputTransform::None, None)
            .unwrap();
        let tape = &mut recorded.tape;
        let logits_shape = tape.recorded_shape(recorded.prediction).to_vec();
        let loss_weights = tape.input(&logits_shape);
        let weighted = tape.mul(recorded.prediction, loss_weights).unwrap();
        let loss = tape.sum(weighted).unwrap();
        tape.set_input(recorded.input, &inputs).unwrap();
        let tokens = logits_shape[2];
        let r = reference.tensor(&reference.loss_weights, tokens);
        tape.set_input(loss_weights, &r).unwrap();
        tape.forward(model.params()).unwrap();
        tape.backward(loss, model.params_mut()).unwrap();
        let logits = tape.value(recorded.prediction).data();
        assert_close(&format!("{token} logits"), logits, &case.logits);
        assert_grads_close(token, &parameter_grads(&model), &case.grads);

        let (Some(expected), Some(expected_grads)) =
            (case.cross_entropy, &case.cross_entropy_grads)
        else {
            continue;
        };
        let mut model = model_with_torch_weights(token, case, steps);
        let loss = Some(Loss::SoftmaxCrossEntropy);
        let mut recorded = model
            .record_for(Mode::Training, rows, OutputTransform::Softmax, loss)
            .unwrap();
        let tape = &mut recorded.tape;
        tape.set_input(recorded.input, &inputs).unwrap();
        let targets = reference.tensor(&reference.targets, tokens);
        tape.set_input(recorded.target.unwrap(), &targets).unwrap();
        tape.forward(model.params()).unwrap();
        let loss = recorded.loss.unwrap();
        let value = tape.value(loss).data()[0];
        assert_close(&format!("{token} cross-entropy"), &[value], &[expected]);
        tape.backward(loss, model.params_mut()).unwrap();
        let what = format!("{token} cross-entropy");
        assert_grads_close(&what, &parameter_grads(&model), expected_grads);
        cross_entropies += 1;
    }
    assert_eq!(cross_entropies, 1);
}
