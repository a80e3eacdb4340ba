"""Programs of tests/test_trust_reversed_and_sorted.py."""

import numpy as np


def _through(Ws, x):
    for W in reversed(Ws):
        x = np.tanh(x @ W)
    return np.sum(x * np.arange(3))


def reversed_layers(W, x):
    return _through([W, W * 2, W.T], x)


def reversed_rows(W, x):
    out = 0.0
    for row in reversed(np.tanh(x @ W)):
        out = out * 0.5 + np.sum(row**2)
    return out


def reversed_grown_list(W, x):
    hs = []
    h = x[0]
    for t in range(3):
        h = np.tanh(h @ W)
        hs.append(h)
    out = 0.0
    for h in reversed(hs):
        out = out * 0.5 + np.sum(h * np.arange(3))
    return out


def sorted_dict(params, x):
    h = x
    for k in sorted(params):  # W1 (3, 3) before W2 (3, 2): the other order fails
        h = np.tanh(h @ params[k])
    reg = 0.0
    for name, w in sorted(params.items()):
        reg = reg * 0.5 + np.sum(np.abs(w)) * len(name)
    for k in sorted(params.keys()):
        reg = reg * 0.5 + np.sum(params[k])
    return np.sum(h) + 0.01 * reg


def sorted_values(W, x):
    return sum(sorted([np.sum(W), np.sum(x)]))
