"""PyTorch's numbers for tests/engine_recurrent.rs: a plain RNN and an LSTM (torch.nn.RNN,
torch.nn.LSTM) and the course's GRU written out with autograd (torch.nn.GRU places the reset gate
and the update gate differently), all in float64, for 2 sequences of 5 steps of 2 features and 3
values of state. The loss is (h_T * r).sum() for a fixed random r.

The weights are written in the engine's layout: one W of [hidden + features, gates * hidden]
applied to [h_{t-1}, x_t] (the state's rows first) and one bias b (PyTorch's two biases added);
an LSTM's gate columns in the course's order f, i, o, C~ (PyTorch's rows are i, f, g, o).

Run: python tests/data/recurrent_reference.py > tests/data/recurrent_reference.json
(made with torch 2.15.0)
"""

import json

import torch

torch.manual_seed(21)
N, T, F, H = 2, 5, 2, 3
DT = torch.float64
x = torch.randn(N, T, F, dtype=DT)
r = torch.randn(N, H, dtype=DT)


def flat(tensor):
    return [round(v, 12) for v in tensor.detach().reshape(-1).tolist()]


def engine_layout(weight_ih, weight_hh, order):
    """[W_hh^T; W_ih^T] with the gate blocks of the columns taken in `order`."""
    whole = torch.cat([weight_hh.T, weight_ih.T], 0)
    return torch.cat([whole[:, k * H:(k + 1) * H] for k in order], 1)


def bias_layout(bias, order):
    return torch.cat([bias[k * H:(k + 1) * H] for k in order], 0)


def torch_case(module, order):
    output, _ = module(x)
    last = output[:, -1]
    (last * r).sum().backward()
    return {
        "weights": flat(engine_layout(module.weight_ih_l0, module.weight_hh_l0, order)),
        "bias": flat(bias_layout(module.bias_ih_l0 + module.bias_hh_l0, order)),
        "last_state": flat(last),
        "weights_grad": flat(engine_layout(module.weight_ih_l0.grad, module.weight_hh_l0.grad, order)),
        "bias_grad": flat(bias_layout(module.bias_ih_l0.grad, order)),
    }


def course_gru():
    weights = (torch.randn(H + F, 3 * H, dtype=DT) * 0.5).requires_grad_()
    bias = (torch.randn(3 * H, dtype=DT) * 0.5).requires_grad_()
    h = torch.zeros(N, H, dtype=DT)
    for t in range(T):
        x_t = x[:, t]
        sums = torch.cat([h, x_t], 1) @ weights[:, :2 * H] + bias[:2 * H]
        z, reset = torch.sigmoid(sums[:, :H]), torch.sigmoid(sums[:, H:])
        candidate = torch.tanh(torch.cat([reset * h, x_t], 1) @ weights[:, 2 * H:] + bias[2 * H:])
        h = (1 - z) * h + z * candidate
    (h * r).sum().backward()
    return {
        "weights": flat(weights),
        "bias": flat(bias),
        "last_state": flat(h),
        "weights_grad": flat(weights.grad),
        "bias_grad": flat(bias.grad),
    }


cases = {
    "rnn": torch_case(torch.nn.RNN(F, H, batch_first=True, dtype=DT), [0]),
    # PyTorch's i, f, g, o rows as the course's f, i, o, C~ columns.
    "lstm": torch_case(torch.nn.LSTM(F, H, batch_first=True, dtype=DT), [1, 0, 3, 2]),
    "gru": course_gru(),
}
print(json.dumps({
    "made_with": f"torch {torch.__version__}",
    "rows": N, "steps": T, "features": F, "hidden": H,
    "inputs": flat(x), "loss_weights": flat(r),
    "cases": cases,
}, indent=1))
