"""Model files written by PyTorch for tests/model_file.rs: networks built from torch.nn's own
modules (nn.Linear, nn.RNN, nn.LSTM, nn.Conv2d, nn.BatchNorm2d), their state_dict saved with
safetensors under the names the engine reads (module i of the network is layer i), with the
engine's description of the same network in the metadata; and what PyTorch computes for fixed
inputs, which the engine must compute from the file too.

Run: python tests/data/model_file_reference.py tests/data
(made with torch 2.15.0 and safetensors 0.8.0; writes model_file_*.safetensors and
model_file_reference.json)
"""

import json
import sys

import torch
from safetensors.torch import save_file

torch.manual_seed(5)
OUT = sys.argv[1] if len(sys.argv) > 1 else "."


def described(shape, layers):
    return json.dumps(
        {"input": shape, "layers": layers, "seed": 1, "initializer": None, "padded": False}
    )


def state_of(modules):
    """Module i's parameters and buffers as `i.name`."""
    return {
        f"{index}.{name}": value.detach().contiguous()
        for index, module in modules.items()
        for name, value in module.state_dict().items()
    }


def flat(tensor):
    return [float(v) for v in tensor.detach().reshape(-1).tolist()]


cases = {}

# A dense network: Linear(3, 4), tanh, Linear(4, 2).
first, second = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
x = torch.randn(5, 3)
y = second(torch.tanh(first(x)))
cases["dense"] = (
    {0: first, 1: second},
    described([3], [{"Dense": {"outputs": 4, "activation": "tanh"}},
                    {"Dense": {"outputs": 2, "activation": "linear"}}]),
    x,
    y,
)

# An RNN giving every step to an LSTM, whose last state a Linear reads.
rnn = torch.nn.RNN(2, 4, batch_first=True)
lstm = torch.nn.LSTM(4, 3, batch_first=True)
head = torch.nn.Linear(3, 2)
x = torch.randn(2, 6, 2)
states, _ = rnn(x)
out, _ = lstm(states)
y = head(out[:, -1])
cases["recurrent"] = (
    {0: rnn, 1: lstm, 2: head},
    described([6, 2], [{"Rnn": {"hidden": 4, "every_step": True, "activation": "tanh"}},
                       {"Lstm": {"hidden": 3, "every_step": False}},
                       {"Dense": {"outputs": 2, "activation": "linear"}}]),
    x,
    y,
)

# Conv2d(1, 2, 3, padding 1), ReLU, BatchNorm2d (evaluation: its running statistics), a 2x2 max
# pool, flatten, Linear(18, 3).
conv = torch.nn.Conv2d(1, 2, 3, padding=1)
norm = torch.nn.BatchNorm2d(2)
with torch.no_grad():
    norm.weight.copy_(torch.randn(2))
    norm.bias.copy_(torch.randn(2))
    norm.running_mean.copy_(torch.randn(2))
    norm.running_var.copy_(torch.rand(2) + 0.5)
norm.num_batches_tracked.fill_(7)
norm.eval()
linear = torch.nn.Linear(18, 3)
x = torch.randn(3, 1, 6, 6)
h = torch.nn.functional.max_pool2d(norm(torch.relu(conv(x))), 2)
y = linear(h.flatten(1))
cases["convolution"] = (
    {0: conv, 1: norm, 4: linear},
    described([1, 6, 6], [{"Conv2d": {"out_channels": 2, "kernel": 3, "stride": 1, "padding": 1,
                                      "activation": "relu"}},
                          {"BatchNorm": None},
                          {"MaxPool2d": {"size": 2, "stride": 2}},
                          {"Flatten": None},
                          {"Dense": {"outputs": 3, "activation": "linear"}}]),
    x,
    y,
)

reference = {}
for name, (modules, network, x, y) in cases.items():
    metadata = {"format": "neural-playground", "version": "1", "network": network}
    save_file(state_of(modules), f"{OUT}/model_file_{name}.safetensors", metadata=metadata)
    reference[name] = {"input": flat(x), "input_shape": list(x.shape), "output": flat(y)}
with open(f"{OUT}/model_file_reference.json", "w") as file:
    json.dump(reference, file, indent=1)
