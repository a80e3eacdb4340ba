"""A sequence-to-sequence decoder with additive (Bahdanau) attention over encoder states:
per decoder step, scores v . tanh(W_h h_enc + W_s s), softmax weights, a context vector,
a GRU-like state update and a cross-entropy on the output token; encoder states from a
bidirectional sum of two tanh RNNs whose outputs are collected with np.stack."""

import numpy as np

import srcgrad


def rnn(W, U, xs, reverse=False):
    h = np.zeros(U.shape[0])
    outs = []
    steps = reversed(range(len(xs))) if reverse else range(len(xs))
    for t in steps:
        h = np.tanh(W @ xs[t] + U @ h)
        outs.append(h)
    if reverse:
        outs = outs[::-1]
    return np.stack(outs)


def decode_loss(p, src, targets):
    enc = rnn(p["Wf"], p["Uf"], src) + rnn(p["Wb"], p["Ub"], src, reverse=True)
    keys = enc @ p["Wh"].T
    s = np.zeros(p["Ws"].shape[1])
    loss = 0.0
    for t, tok in enumerate(targets):
        scores = np.tanh(keys + p["Ws"] @ s) @ p["v"]
        a = np.exp(scores - scores.max())
        a /= a.sum()
        ctx = a @ enc
        z = 1 / (1 + np.exp(-(p["Wz"] @ np.concatenate([ctx, s]))))
        s = z * s + (1 - z) * np.tanh(p["Wc"] @ np.concatenate([ctx, s]))
        logits = p["Wo"] @ s
        loss += np.log(np.sum(np.exp(logits - logits.max()))) + logits.max() - logits[tok]
    return loss / len(targets)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    H, D, V, A = 4, 3, 5, 3
    names = {"Wf": (H, D), "Uf": (H, H), "Wb": (H, D), "Ub": (H, H), "Wh": (A, H),
             "Ws": (A, H), "v": (A,), "Wz": (H, 2 * H), "Wc": (H, 2 * H), "Wo": (V, H)}
    p = {k: 0.4 * rs.randn(*shape) for k, shape in names.items()}
    return p, rs.randn(5, D), [1, 3, 0, 4]


if __name__ == "__main__":
    p, src, targets = make_inputs(0)
    grads = srcgrad.grad(decode_loss)(p, src, targets)
