"""PyTorch's numbers for tests/engine_seq2seq.rs: the encoder-decoder layer (seq2seq) written out
with autograd in float64, for every cell (the course's tanh RNN, LSTM and GRU) with every
attention (none, Luong's dot product, Bahdanau's additive), teacher forcing on, and one case
with greedy decoding (teacher forcing off: the decoder reads back its own most likely token, no
gradient through that choice).

Two examples, of 4 input steps in a padded network: the first uses all 4, the second 3 and one
step of padding. PyTorch runs each example on its own real tokens only (its encoder stops after
its last real token, its attention weighs only its real steps), so the engine's carrying of the
state over padding and its mask on the scores are checked against sequences without padding.
The inputs are laid out as `TranslationTask::encode` lays them: `[examples, 4 + 3, 2]`, each
step a token and whether it is part of the input (1) or not (0; the decoder's steps are 0 too),
the decoder reading the start token, then the answer's tokens.

The loss is `(logits * r).sum()` for a fixed random `r` of the logits' shape, so that every
logit takes a gradient; the gradients of every parameter are written. One case (the LSTM with
dot-product attention, as the app trains it) also has the engine's softmax cross-entropy against
the one-hot answers: the mean over every output step of every example, the answer's steps after
its end (rows of zeros) included in the count though they add nothing.

The cells are the engine's: one W of [hidden + features, gates * hidden] applied to
[h_{t-1}, x_t] and one bias b; the LSTM's gate columns f, i, o, C~ (C_t = f C_{t-1} + i C~,
h_t = o tanh C_t); the course's GRU (z, r, then the candidate's columns;
h~ = tanh([r h_{t-1}, x_t] W_h + b_h), h_t = (1 - z) h_{t-1} + z h~). The state starts at zero;
the decoder starts from the encoder's last state (and an LSTM's last cell state). With additive
attention the decoder's cell reads [embedding, context] and the score of input step s is
v . tanh(h_{t-1} W + s U), from the decoder's previous state; with dot-product attention the
score is h_t . s, from its new state. The output layer reads [h_t, c_t] (h_t alone without
attention). Parameters are listed in the engine's order, each with its shape: input and output
embedding tables, encoder W and b, decoder W and b, then (additive only) W, U and v, then the
output layer's weights [features, tokens] and bias.

Run: python tests/data/seq2seq_reference.py > tests/data/seq2seq_reference.json
(made with torch 2.15.0)
"""

import json

import torch

torch.manual_seed(7)
DT = torch.float64
N, SOURCE, STEPS = 2, 4, 3
SOURCE_TOKENS, TARGET_TOKENS, EMBEDDING, HIDDEN = 5, 6, 3, 4
START, END = 4, 5
H = HIDDEN

# The input's tokens and lengths, the answers (their end token included).
sources = [[3, 1, 4, 2], [2, 4, 1]]
answers = [[2, 0, END], [3, END]]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# Greedy decoding's choices are compared across float32 and float64: each must win by this much.
MARGIN = 1e-3


def flat(tensor):
    return [round(v, 12) for v in tensor.detach().reshape(-1).tolist()]


def inputs():
    steps = torch.zeros(N, SOURCE + STEPS, 2, dtype=DT)
    for n, (source, answer) in enumerate(zip(sources, answers)):
        for t, token in enumerate(source):
            steps[n, t] = torch.tensor([token, 1.0])
        for t, token in enumerate(([START] + answer)[:STEPS]):
            steps[n, SOURCE + t, 0] = token
    return steps


def targets():
    one_hot = torch.zeros(N, STEPS, TARGET_TOKENS, dtype=DT)
    for n, answer in enumerate(answers):
        for t, token in enumerate(answer):
            one_hot[n, t, token] = 1.0
    return one_hot


def step(cell, weights, bias, h, c, x):
    """One step of the engine's cell from (h, c) on x; the new (h, c)."""
    if cell == "rnn":
        return torch.tanh(torch.cat([h, x]) @ weights + bias), c
    if cell == "lstm":
        sums = torch.cat([h, x]) @ weights + bias
        forget, given, shown = (torch.sigmoid(sums[k * H:(k + 1) * H]) for k in range(3))
        c = forget * c + given * torch.tanh(sums[3 * H:])
        return shown * torch.tanh(c), c
    sums = torch.cat([h, x]) @ weights[:, :2 * H] + bias[:2 * H]
    update, reset = torch.sigmoid(sums[:H]), torch.sigmoid(sums[H:])
    candidate = torch.tanh(torch.cat([reset * h, x]) @ weights[:, 2 * H:] + bias[2 * H:])
    return (1 - update) * h + update * candidate, c


def parameters(cell, attention):
    """Random weights in the engine's order and shapes."""
    gates = GATES[cell]
    decoder_features = EMBEDDING + (H if attention == "additive" else 0)
    output_features = H if attention == "none" else 2 * H
    shapes = [
        [SOURCE_TOKENS, EMBEDDING],
        [TARGET_TOKENS, EMBEDDING],
        [H + EMBEDDING, gates * H],
        [gates * H],
        [H + decoder_features, gates * H],
        [gates * H],
    ]
    if attention == "additive":
        shapes += [[H, H], [H, H], [H, 1]]
    shapes += [[output_features, TARGET_TOKENS], [TARGET_TOKENS]]
    return [(torch.randn(*shape, dtype=DT) * 0.6).requires_grad_() for shape in shapes]


def logits_of(cell, attention, forced, params, steps):
    """[N, STEPS, TARGET_TOKENS], each example run on its own real input steps."""
    source_table, target_table, encoder_w, encoder_b, decoder_w, decoder_b = params[:6]
    query_w, key_w, score_v = params[6:9] if attention == "additive" else (None, None, None)
    output_w, output_b = params[-2:]
    examples = []
    for n, source in enumerate(sources):
        h = torch.zeros(H, dtype=DT)
        c = torch.zeros(H, dtype=DT)
        states = []
        for token in source:
            h, c = step(cell, encoder_w, encoder_b, h, c, source_table[token])
            states.append(h)
        memory = torch.stack(states)
        token = int(steps[n, SOURCE, 0])
        rows = []
        for t in range(STEPS):
            if t > 0:
                if forced:
                    token = int(steps[n, SOURCE + t, 0])
                else:
                    best = rows[-1].detach().topk(2).values
                    assert best[0] - best[1] > MARGIN, "a near tie in greedy decoding"
                    token = int(rows[-1].argmax())
            x = target_table[token]
            context = None
            if attention == "additive":
                scores = (torch.tanh(h @ query_w + memory @ key_w) @ score_v).squeeze(1)
                context = torch.softmax(scores, 0) @ memory
                x = torch.cat([x, context])
            h, c = step(cell, decoder_w, decoder_b, h, c, x)
            if attention == "dot":
                context = torch.softmax(memory @ h, 0) @ memory
            read = h if context is None else torch.cat([h, context])
            rows.append(read @ output_w + output_b)
        examples.append(torch.stack(rows))
    return torch.stack(examples)


def gradients(params, loss):
    for param in params:
        param.grad = None
    loss.backward()
    return [flat(param.grad) for param in params]


steps = inputs()
one_hot = targets()
loss_weights = torch.randn(N, STEPS, TARGET_TOKENS, dtype=DT)
layouts = [(cell, attention, True) for cell in GATES for attention in ("none", "dot", "additive")]
layouts.append(("lstm", "dot", False))
cases = {}
for cell, attention, forced in layouts:
    key = f"s2s{cell}{H}e{EMBEDDING}v{SOURCE_TOKENS}x{TARGET_TOKENS}t{STEPS}"
    key += "" if attention == "none" else f"-{attention}"
    key += "" if forced else "-free"
    params = parameters(cell, attention)
    logits = logits_of(cell, attention, forced, params, steps)
    case = {
        "shapes": [list(param.shape) for param in params],
        "params": [flat(param) for param in params],
        "logits": flat(logits),
        "grads": gradients(params, (logits * loss_weights).sum()),
    }
    if (cell, attention, forced) == ("lstm", "dot", True):
        log_probabilities = torch.log_softmax(logits_of(cell, attention, forced, params, steps), 2)
        cross_entropy = -(one_hot * log_probabilities).sum() / (N * STEPS)
        case["cross_entropy"] = round(cross_entropy.item(), 12)
        case["cross_entropy_grads"] = gradients(params, cross_entropy)
    cases[key] = case


def dump(value, indent=0):
    """JSON with every list of numbers on one line."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad} {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value and isinstance(value[0], list):
        items = [f"{pad} {dump(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value)


print(dump({
    "made_with": f"torch {torch.__version__}",
    "rows": N, "source_steps": SOURCE, "output_steps": STEPS,
    "inputs": flat(steps), "targets": flat(one_hot), "loss_weights": flat(loss_weights),
    "cases": cases,
}))
