//! The encoder-decoder (seq2seq) part of an exported script: the module that rebuilds the layer
//! with `torch.nn` (its embeddings, its encoder's and decoder's cells, its attention and its
//! output layer, under the model file's names), the reading of translations from the data file
//! laid out as the page feeds them, and the test figures as the page counts them (greedy
//! decoding, each answer scored on its own tokens, and the share of answers right).

use std::fmt::Write;

use crate::engine::layers::{Attention, Cell, LayerConfig, Seq2Seq};
use crate::engine::sequential::SequentialConfig;

/// The encoder-decoder layer of `network`, if it has one; a network that holds one holds
/// nothing else (its input is tokens, its output every step's logits).
pub(super) fn layer_of(network: &SequentialConfig) -> Result<Option<Seq2Seq>, String> {
    let layers: Vec<Seq2Seq> = network
        .layers
        .iter()
        .filter_map(|layer| match layer {
            LayerConfig::Seq2Seq(seq2seq) => Some(*seq2seq),
            _ => None,
        })
        .collect();
    match (layers.as_slice(), network.layers.len()) {
        ([], _) => Ok(None),
        ([layer], 1) => Ok(Some(*layer)),
        _ => Err("an encoder-decoder is exported to PyTorch as a network's only layer".to_string()),
    }
}

/// The module's constructor, as written in the `nn.Sequential`: `input` is the shape it reads,
/// `[source + output steps, 2]`.
pub(super) fn module(layer: &Seq2Seq, input: &[usize]) -> String {
    let source_steps = input[0] - layer.output_steps;
    format!(
        "EncoderDecoder(\n            {}, source_tokens={}, target_tokens={}, embedding={}, \
         hidden={},\n            source_steps={source_steps}, attention=\"{}\", \
         teacher_forcing={},\n        )",
        cell_class(layer.cell),
        layer.source_tokens,
        layer.target_tokens,
        layer.embedding,
        layer.hidden,
        attention_key(layer.attention),
        super::python_bool(layer.teacher_forcing)
    )
}

fn cell_class(cell: Cell) -> &'static str {
    match cell {
        Cell::Rnn(_) => "RNNStep",
        Cell::Lstm => "LSTMStep",
        Cell::Gru => "GRUStep",
    }
}

fn attention_key(attention: Attention) -> &'static str {
    match attention {
        Attention::None => "none",
        Attention::Dot => "dot",
        Attention::Additive => "additive",
    }
}

/// The names of the tensors of layer `index` that regularisation penalises (every weight the
/// engine marks as one: the embeddings, the cells' and the attention's weights, the output's).
pub(super) fn regularised(index: usize, layer: &Seq2Seq) -> Vec<String> {
    let cell_weights: &[&str] = match layer.cell {
        Cell::Rnn(_) | Cell::Lstm => &["weight_ih_l0", "weight_hh_l0"],
        Cell::Gru => &["weight_ih", "weight_hh"],
    };
    let mut names = vec![
        "source_embedding.weight".to_string(),
        "target_embedding.weight".to_string(),
    ];
    for part in ["encoder", "decoder"] {
        names.extend(cell_weights.iter().map(|weight| format!("{part}.{weight}")));
    }
    if layer.attention == Attention::Additive {
        names.extend(["query", "key", "score"].map(|part| format!("attention.{part}.weight")));
    }
    names.push("output.weight".to_string());
    names
        .into_iter()
        .map(|name| format!("{index}.{name}"))
        .collect()
}

/// The classes the module needs: its cell's, the attention's when additive, and its own.
/// `gru_class` is the course GRU's class, which the GRU step builds on.
pub(super) fn write_classes(out: &mut String, layer: &Seq2Seq, gru_class: &str) {
    match layer.cell {
        Cell::Rnn(_) => out.push_str(RNN_STEP),
        Cell::Lstm => out.push_str(LSTM_STEP),
        Cell::Gru => {
            out.push_str(gru_class);
            out.push_str(GRU_STEP);
        }
    }
    if layer.attention == Attention::Additive {
        out.push_str(ADDITIVE_ATTENTION);
    }
    out.push_str(ENCODER_DECODER);
}

const RNN_STEP: &str = r#"

class RNNStep(nn.RNN):
    """torch.nn.RNN (tanh), one step at a time: the encoder-decoder steps its cells itself, the
    decoder reading what it wrote. Its state is (h,). The course writes the same cell with one
    bias; PyTorch keeps two (bias_ih + bias_hh)."""

    def __init__(self, features, hidden):
        super().__init__(features, hidden, batch_first=True)

    def start(self, batch):
        return (torch.zeros(batch, self.hidden_size),)

    def step(self, x, state):
        """The state after input x (one row per sequence) from `state`."""
        _, h = super().forward(x[:, None], state[0][None])
        return (h[0],)
"#;

const LSTM_STEP: &str = r#"

class LSTMStep(nn.LSTM):
    """torch.nn.LSTM, one step at a time: the encoder-decoder steps its cells itself, the decoder
    reading what it wrote. Its state is (h, C). The course writes the same cell with one bias and
    the gates in the order f, i, o, C~; PyTorch keeps two biases (bias_ih + bias_hh) and orders
    its gates i, f, g (= C~), o."""

    def __init__(self, features, hidden):
        super().__init__(features, hidden, batch_first=True)

    def start(self, batch):
        return torch.zeros(batch, self.hidden_size), torch.zeros(batch, self.hidden_size)

    def step(self, x, state):
        """The state after input x (one row per sequence) from `state`."""
        h, c = state
        _, (h, c) = super().forward(x[:, None], (h[None], c[None]))
        return h[0], c[0]
"#;

const GRU_STEP: &str = r#"

class GRUStep(CourseGRU):
    """The course's GRU above, its state a tuple (h,) as the other cells' are."""

    def __init__(self, features, hidden):
        super().__init__(features, hidden, every_step=True)

    def start(self, batch):
        return (torch.zeros(batch, self.hidden),)

    def step(self, x, state):
        return (super().step(x, state[0]),)
"#;

const ADDITIVE_ATTENTION: &str = r#"

class AdditiveAttention(nn.Module):
    """Bahdanau's scores: v . tanh(W h + U s) for each of the encoder's states s, from the
    decoder's previous state h. `query` is W, `key` U (applied once to every s), `score` v."""

    def __init__(self, hidden):
        super().__init__()
        self.query = nn.Linear(hidden, hidden, bias=False)
        self.key = nn.Linear(hidden, hidden, bias=False)
        self.score = nn.Linear(hidden, 1, bias=False)

    def scores(self, h, keys):
        """[batch, steps]: `keys` are key(s) of every state s, [batch, steps, hidden]."""
        return self.score(torch.tanh(self.query(h)[:, None] + keys))[:, :, 0]
"#;

const ENCODER_DECODER: &str = r#"

class EncoderDecoder(nn.Module):
    """The page's encoder-decoder. An example is [source_steps + output_steps, 2]: the input's
    tokens, each with 1 (part of the input) or 0 (padding after its end), then what the decoder
    reads at each output step: the start token, then the answer's tokens.

    The encoder reads the input's tokens (through their embedding), carrying its state unchanged
    over the padding; its last state, the encoding, starts the decoder, which writes one token
    per step. While training with teacher forcing, each step reads the right previous token;
    otherwise, and always when evaluating, the decoder reads back its own most likely token
    (greedy decoding). With attention, each step weighs the encoder's states by the softmax of
    their scores (padding gets no weight) into a context c, and the output reads [h, c]:
    - "dot" (Luong): the decoder's new state h scores each state s by h . s;
    - "additive" (Bahdanau): its previous state scores them (see AdditiveAttention), and the
      step reads the context beside the token's embedding.
    The output is every step's logits, [batch, output_steps, target_tokens]."""

    def __init__(self, cell, source_tokens, target_tokens, embedding, hidden, source_steps,
                 attention, teacher_forcing):
        super().__init__()
        self.source_steps, self.attention_kind = source_steps, attention
        self.teacher_forcing = teacher_forcing
        self.source_embedding = nn.Embedding(source_tokens, embedding)
        self.target_embedding = nn.Embedding(target_tokens, embedding)
        self.encoder = cell(embedding, hidden)
        self.decoder = cell(embedding + (hidden if attention == "additive" else 0), hidden)
        if attention == "additive":
            self.attention = AdditiveAttention(hidden)
        self.output = nn.Linear(hidden if attention == "none" else 2 * hidden, target_tokens)

    def forward(self, x):
        tokens = x[:, :, 0].long()
        present = x[:, :self.source_steps, 1] > 0
        memory, state = self.encode(tokens[:, :self.source_steps], present)
        keys = self.attention.key(memory) if self.attention_kind == "additive" else None
        forced = self.training and self.teacher_forcing
        token = tokens[:, self.source_steps]
        logits = []
        for t in range(x.shape[1] - self.source_steps):
            if t > 0:
                # No gradient flows through the choice of a token.
                token = tokens[:, self.source_steps + t] if forced else logits[-1].argmax(dim=1)
            x_t = self.target_embedding(token)
            if self.attention_kind == "additive":
                scores = self.attention.scores(state[0], keys)
                context = attend(scores, memory, present)
                x_t = torch.cat([x_t, context], dim=1)
            state = self.decoder.step(x_t, state)
            h = state[0]
            if self.attention_kind == "dot":
                context = attend((memory @ h[:, :, None])[:, :, 0], memory, present)
            read = h if self.attention_kind == "none" else torch.cat([h, context], dim=1)
            logits.append(self.output(read))
        return torch.stack(logits, dim=1)

    def encode(self, tokens, present):
        """The encoder's state after every input step, [batch, steps, hidden], and its last
        state (an LSTM's cell state with it): each sequence's own last, as the padding after its
        end leaves the state as it was."""
        state = self.encoder.start(len(tokens))
        states = []
        for t in range(tokens.shape[1]):
            new = self.encoder.step(self.source_embedding(tokens[:, t]), state)
            going = present[:, t, None]
            state = tuple(torch.where(going, after, before) for after, before in zip(new, state))
            states.append(state[0])
        return torch.stack(states, dim=1), state


def attend(scores, memory, present):
    """The context: the encoder's states (memory, [batch, steps, hidden]) weighed by the
    softmax of their scores ([batch, steps]) over the input's own steps (present)."""
    weights = torch.softmax(scores.masked_fill(~present, float("-inf")), dim=1)
    return (weights[:, :, None] * memory).sum(dim=1)
"#;

/// How the script reads translations from the data file (`split,input,answer`, each a list of
/// tokens separated by spaces, the answer without its end): laid out as the page feeds its
/// encoder-decoder, with one-hot targets of `tokens` classes over `output_steps` steps.
pub(super) fn write_data(
    out: &mut String,
    (source_steps, output_steps): (usize, usize),
    tokens: usize,
    (start, end): (usize, usize),
) {
    let _ = write!(
        out,
        r#"

# The decoder's tokens beside the task's: the one that ends an answer, the one it starts from.
END, START = {end}, {start}
SOURCE_STEPS, OUTPUT_STEPS, TOKENS = {source_steps}, {output_steps}, {tokens}


def read_data():
    """The page's translations (data.csv, one per row: its split, the input's tokens and the
    answer's, separated by spaces), for the training set and the test set, as the page lays them
    out. Inputs: [examples, SOURCE_STEPS + OUTPUT_STEPS, 2], each step a token and 1 on the
    input, 0 on its padding (token 0) and on the decoder's steps, which read START, then the
    answer's tokens and END. Targets: one-hot over TOKENS at each output step, the answer's
    tokens then END; rows of zeros after the end, where there is nothing to write."""
    with open(HERE / "data.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    sets = []
    for split in ("train", "test"):
        chosen = [row for row in rows if row["split"] == split]
        inputs = torch.zeros(len(chosen), SOURCE_STEPS + OUTPUT_STEPS, 2)
        targets = torch.zeros(len(chosen), OUTPUT_STEPS, TOKENS)
        for n, row in enumerate(chosen):
            source = [int(token) for token in row["input"].split()]
            written = [int(token) for token in row["answer"].split()] + [END]
            read = ([START] + written)[:OUTPUT_STEPS]
            inputs[n, :len(source), 0] = torch.tensor(source, dtype=torch.float)
            inputs[n, :len(source), 1] = 1
            inputs[n, SOURCE_STEPS:SOURCE_STEPS + len(read), 0] = torch.tensor(
                read, dtype=torch.float
            )
            targets[n, range(len(written)), written] = 1
        sets.append((inputs, targets))
    return sets
"#
    );
}

/// What the training loss of an encoder-decoder is, before its definition (the same as for
/// other networks answering at every step, but unlike the test loss).
pub(super) const LOSS_COMMENT: &str = "\
# The loss the page trains with: the cross-entropy at every output step, averaged over every step
# of every example; the steps after an answer's end (all-zero targets) add nothing but count.
";

/// The script's `evaluate` for an encoder-decoder: the page's test loss, accuracy and share of
/// whole answers right.
pub(super) const EVALUATE: &str = r#"

def evaluate(model, inputs, targets):
    """The test figures as the page counts them, the decoder reading back its own most likely
    tokens (greedy decoding): the loss, each answer's cross-entropy averaged over its tokens (its
    end included; the steps after the end have nothing to write), then over the answers (with
    the regularisation penalty); the accuracy over every token of the answers; and the share of
    answers right to their end."""
    model.eval()
    with torch.no_grad():
        probabilities = torch.softmax(model(inputs), dim=-1)
        scored = targets.sum(dim=-1) > 0
        # As the page does, a probability is taken as at least 1e-12.
        per_step = -(targets * probabilities.clamp_min(1e-12).log()).sum(dim=-1)
        loss = ((per_step * scored).sum(dim=1) / scored.sum(dim=1)).mean() + penalty(model)
        right = (probabilities.argmax(dim=-1) == targets.argmax(dim=-1)) | ~scored
        tokens = right[scored].float().mean()
        answers = right.all(dim=1).float().mean()
    return loss.item(), tokens.item(), answers.item()
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::activation::Activation;
    use crate::engine::layers::LayerKind;
    use crate::engine::model_file::write_model;

    fn network(layer: Seq2Seq) -> SequentialConfig {
        SequentialConfig {
            padded: true,
            ..SequentialConfig::new(
                &[4 + layer.output_steps, 2],
                vec![LayerConfig::Seq2Seq(layer)],
            )
        }
    }

    #[test]
    fn the_penalised_weights_are_named_as_the_model_file_names_them() {
        for cell in [Cell::Rnn(Activation::Tanh), Cell::Lstm, Cell::Gru] {
            for attention in [Attention::None, Attention::Dot, Attention::Additive] {
                let layer = Seq2Seq {
                    cell,
                    hidden: 3,
                    embedding: 2,
                    attention,
                    output_steps: 3,
                    ..Seq2Seq::first()
                };
                let built = network(layer).init().unwrap();
                let file = write_model(&built, None).unwrap();
                let file = safetensors::SafeTensors::deserialize(&file).unwrap();
                let names = file.names().len();
                let penalised = regularised(0, &layer);
                for name in &penalised {
                    assert!(file.tensor(name).is_ok(), "{name} is not in the model file");
                }
                // Every tensor but the biases (one per cell, or two for torch's, and the output's).
                let biases = match cell {
                    Cell::Gru => 2,
                    Cell::Rnn(_) | Cell::Lstm => 4,
                };
                assert_eq!(
                    penalised.len() + biases + 1,
                    names,
                    "{cell:?} {attention:?}"
                );
            }
        }
    }

    #[test]
    fn an_encoder_decoder_is_exported_alone() {
        let layer = Seq2Seq::first();
        assert_eq!(layer_of(&network(layer)), Ok(Some(layer)));
        let mut two = network(layer);
        two.layers.push(LayerConfig::Seq2Seq(layer));
        assert!(layer_of(&two).unwrap_err().contains("only layer"));
        let module = module(&layer, &[8 + layer.output_steps, 2]);
        assert!(module.contains("LSTMStep,") && module.contains("source_steps=8,"));
    }
}
