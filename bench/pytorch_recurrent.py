"""The PyTorch reference of `cargo xtask bench seq`: one training step of a recurrent network on
the course's bit counting, as src/bench_hooks.rs's `RecurrentStep` trains it.

A batch of 64 sequences of random bits (`[64, length, 1]`), one cell (nn.RNN with tanh, nn.LSTM
or nn.GRU, batch_first) of `hidden` values, the last step's state through nn.Linear to the
`length + 1` classes, CrossEntropyLoss, Adam with learning rate 0.01; eager mode, on the CPU with
one thread (the engine is single-threaded). Prints
`pytorch_{cell}_{length}x{hidden}_step_ms <median of 30 steps after 5 warm-up>` for each cell at
length 20 with hidden 64 and at length 50 with hidden 128, and `# ` lines of context.
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


if __name__ == "__main__":
    main()
