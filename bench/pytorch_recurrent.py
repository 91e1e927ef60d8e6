"""The PyTorch reference of `cargo xtask bench seq`: one training step of a recurrent network on
the course's bit counting, as src/bench_hooks.rs's `RecurrentStep` trains it.

A batch of 64 sequences of random bits (`[64, length, 1]`), one cell (nn.RNN with tanh, nn.LSTM
or nn.GRU, batch_first) of `hidden` values, the last step's state through nn.Linear to the
`length + 1` classes, CrossEntropyLoss, Adam with learning rate 0.01; eager mode, on the CPU with
one thread (the engine is single-threaded). Prints
`pytorch_{cell}_{length}x{hidden}_step_ms <median of 30 steps after 5 warm-up>` for each cell at
length 20 with hidden 64 and at length 50 with hidden 128, and `# ` lines of context.

Then the encoder-decoder of `Seq2SeqStep` (src/bench_hooks.rs): 64 random digit sequences of 10
to reverse; embeddings of 16 (one table for the 10 input digits, one for the 12 output tokens:
digits, end, start), an nn.LSTM encoder and an nn.LSTMCell decoder of 128, Luong's dot-product
attention (the new state scores each encoder state, the output layer reads [h_t, context]),
teacher forcing, CrossEntropyLoss over the 11 output steps, Adam with learning rate 0.01:
`pytorch_seq2seq_10x128_step_ms`.
"""

from pytorch_timing import median_step_ms, single_threaded

import torch  # noqa: E402
from torch import nn  # noqa: E402

WARM_UP, STEPS, BATCH = 5, 30, 64
SIZES = [(20, 64), (50, 128)]
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class LastStep(nn.Module):
    """A cell, then a dense layer on its last step's state."""

    def __init__(self, cell, length: int, hidden: int):
        super().__init__()
        self.cell = cell(1, hidden, batch_first=True)
        self.dense = nn.Linear(hidden, length + 1)

    def forward(self, inputs):
        states, _ = self.cell(inputs)
        return self.dense(states[:, -1])


class Seq2Seq(nn.Module):
    """Encoder, decoder and dot-product attention; reads [source tokens, decoder's tokens] in
    one row per example and returns the logits of every output step, one row each."""

    def __init__(self, length: int, hidden: int, embedding: int = 16):
        super().__init__()
        self.length = length
        self.source_embedding = nn.Embedding(10, embedding)
        self.target_embedding = nn.Embedding(12, embedding)
        self.encoder = nn.LSTM(embedding, hidden, batch_first=True)
        self.decoder = nn.LSTMCell(embedding, hidden)
        self.output = nn.Linear(2 * hidden, 12)

    def forward(self, tokens):
        source, read = tokens[:, : self.length], tokens[:, self.length :]
        states, (h, c) = self.encoder(self.source_embedding(source))
        h, c = h[0], c[0]
        logits = []
        for token in self.target_embedding(read).unbind(1):
            h, c = self.decoder(token, (h, c))
            weights = torch.softmax(torch.bmm(states, h.unsqueeze(2)).squeeze(2), dim=1)
            context = torch.bmm(weights.unsqueeze(1), states).squeeze(1)
            logits.append(self.output(torch.cat([h, context], dim=1)))
        return torch.stack(logits, 1).reshape(-1, 12)


def seq2seq_figure(length: int = 10, hidden: int = 128) -> None:
    model = Seq2Seq(length, hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    source = torch.randint(0, 10, (BATCH, length))
    answer = torch.cat([source.flip(1), torch.full((BATCH, 1), 10)], 1)
    read = torch.cat([torch.full((BATCH, 1), 11), answer[:, :-1]], 1)
    tokens = torch.cat([source, read], 1)
    median = median_step_ms(model, optimizer, tokens, answer.reshape(-1), WARM_UP, STEPS)
    print(f"pytorch_seq2seq_{length}x{hidden}_step_ms {median:.4f}")


def main() -> None:
    single_threaded()
    print(f"# PyTorch {torch.__version__}, {torch.get_num_threads()} thread, CPU, eager")
    for length, hidden in SIZES:
        for name, cell in CELLS.items():
            model = LastStep(cell, length, hidden)
            optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
            inputs = torch.randint(0, 2, (BATCH, length, 1)).float()
            labels = inputs.sum(dim=(1, 2)).long()
            median = median_step_ms(model, optimizer, inputs, labels, WARM_UP, STEPS)
            print(f"pytorch_{name}_{length}x{hidden}_step_ms {median:.4f}")
    seq2seq_figure()


if __name__ == "__main__":
    main()
