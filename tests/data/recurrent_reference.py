"""PyTorch's numbers for tests/engine_recurrent.rs: a plain RNN and an LSTM (torch.nn.RNN,
torch.nn.LSTM) and the course's GRU written out with autograd (torch.nn.GRU places the reset gate
and the update gate differently), all in float64, for 2 sequences of 5 steps of 2 features and 3
values of state. The loss is (h_T * r).sum() for a fixed random r.

Each case also has the gradients under truncated backpropagation through time (the state cut
from its past, by `detach`, before every step t > 0 with (T - t) % 2 == 0, as the engine cuts
it), and the weights after one SGD step (rate 0.1) on the whole gradients clipped by
torch.nn.utils.clip_grad_norm_ to a norm of 0.05 (over W and one bias, as the engine has them).

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


TRUNCATION = 2
CLIP, RATE = 0.05, 0.1
CUTS = [t for t in range(1, T) if (T - t) % TRUNCATION == 0]


def flat(tensor):
    return [round(v, 12) for v in tensor.detach().reshape(-1).tolist()]


def engine_layout(weight_ih, weight_hh, order):
    """[W_hh^T; W_ih^T] with the gate blocks of the columns taken in `order`."""
    whole = torch.cat([weight_hh.T, weight_ih.T], 0)
    return torch.cat([whole[:, k * H:(k + 1) * H] for k in order], 1)


def bias_layout(bias, order):
    return torch.cat([bias[k * H:(k + 1) * H] for k in order], 0)


def torch_case(module, order):
    def layout(weight_ih, weight_hh):
        return flat(engine_layout(weight_ih, weight_hh, order))

    def clear():
        for parameter in module.parameters():
            parameter.grad = None

    output, _ = module(x)
    last = output[:, -1]
    (last * r).sum().backward()
    case = {
        "weights": layout(module.weight_ih_l0, module.weight_hh_l0),
        "bias": flat(bias_layout(module.bias_ih_l0 + module.bias_hh_l0, order)),
        "last_state": flat(last),
        "weights_grad": layout(module.weight_ih_l0.grad, module.weight_hh_l0.grad),
        "bias_grad": flat(bias_layout(module.bias_ih_l0.grad, order)),
    }
    # Truncated: the sequence in chunks between the cuts, the state detached between them.
    clear()
    state = None
    for start, end in zip([0] + CUTS, CUTS + [T]):
        if state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        output, state = module(x[:, start:end], state)
    (output[:, -1] * r).sum().backward()
    case["truncated_weights_grad"] = layout(module.weight_ih_l0.grad, module.weight_hh_l0.grad)
    case["truncated_bias_grad"] = flat(bias_layout(module.bias_ih_l0.grad, order))
    # Clipped: the whole gradient, its norm over W and b (bias_hh's gradient is bias_ih's).
    clear()
    output, _ = module(x)
    (output[:, -1] * r).sum().backward()
    clipped = [module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0]
    torch.nn.utils.clip_grad_norm_(clipped, CLIP)
    with torch.no_grad():
        case["clipped_weights"] = layout(
            module.weight_ih_l0 - RATE * module.weight_ih_l0.grad,
            module.weight_hh_l0 - RATE * module.weight_hh_l0.grad,
        )
        bias = module.bias_ih_l0 + module.bias_hh_l0 - RATE * module.bias_ih_l0.grad
        case["clipped_bias"] = flat(bias_layout(bias, order))
    return case


def course_gru():
    weights = (torch.randn(H + F, 3 * H, dtype=DT) * 0.5).requires_grad_()
    bias = (torch.randn(3 * H, dtype=DT) * 0.5).requires_grad_()

    def last_state(cut):
        h = torch.zeros(N, H, dtype=DT)
        for t in range(T):
            if cut and t in CUTS:
                h = h.detach()
            x_t = x[:, t]
            sums = torch.cat([h, x_t], 1) @ weights[:, :2 * H] + bias[:2 * H]
            z, reset = torch.sigmoid(sums[:, :H]), torch.sigmoid(sums[:, H:])
            candidate = torch.tanh(torch.cat([reset * h, x_t], 1) @ weights[:, 2 * H:] + bias[2 * H:])
            h = (1 - z) * h + z * candidate
        return h

    h = last_state(False)
    (h * r).sum().backward()
    case = {
        "weights": flat(weights),
        "bias": flat(bias),
        "last_state": flat(h),
        "weights_grad": flat(weights.grad),
        "bias_grad": flat(bias.grad),
    }
    weights.grad, bias.grad = None, None
    (last_state(True) * r).sum().backward()
    case["truncated_weights_grad"] = flat(weights.grad)
    case["truncated_bias_grad"] = flat(bias.grad)
    weights.grad, bias.grad = None, None
    (last_state(False) * r).sum().backward()
    torch.nn.utils.clip_grad_norm_([weights, bias], CLIP)
    with torch.no_grad():
        case["clipped_weights"] = flat(weights - RATE * weights.grad)
        case["clipped_bias"] = flat(bias - RATE * bias.grad)
    return case


cases = {
    "rnn": torch_case(torch.nn.RNN(F, H, batch_first=True, dtype=DT), [0]),
    # PyTorch's i, f, g, o rows as the course's f, i, o, C~ columns.
    "lstm": torch_case(torch.nn.LSTM(F, H, batch_first=True, dtype=DT), [1, 0, 3, 2]),
    "gru": course_gru(),
}
print(json.dumps({
    "made_with": f"torch {torch.__version__}",
    "rows": N, "steps": T, "features": F, "hidden": H,
    "truncation": TRUNCATION, "clip_norm": CLIP, "learning_rate": RATE,
    "inputs": flat(x), "loss_weights": flat(r),
    "cases": cases,
}, indent=1))
