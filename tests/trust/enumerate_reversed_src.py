"""Programs for tests/test_trust_enumerate_reversed.py (srcgrad reads their source)."""

import numpy as np


def local_list(x):
    layers = [x[:2, :2], x[1:, 1:], x[:2, 1:]]
    h = np.ones(2)
    for i, W in enumerate(reversed(layers)):
        h = np.tanh(h @ W.T) * (i + 1.0)
    return np.sum(h)


def list_arg(layers, x):
    h = x
    for i, W in enumerate(reversed(layers)):
        h = np.sin(W @ h) + i
    return np.sum(h**2)


def array_rows(x):
    total = 0.0
    for k, row in enumerate(reversed(x)):
        total = total + (k + 1.0) * np.sum(row**2)
    return total


def over_range(x):
    total = 0.0
    for k, t in enumerate(reversed(range(3))):
        total = total + k * x[t] ** 2
    return np.sum(total)


def constants(x):
    total = 0.0
    for k, c in enumerate(reversed((1.0, 2.0, 3.0))):
        total = total + k * c * x
    return np.sum(total)


def dict_keys(x):
    d = {"a": x[0], "b": x[1]}
    total = 0.0
    for i, k in enumerate(reversed(d)):
        total = total + i * np.sum(d[k])
    return total


def pairs(x):
    layers = [(x[:2, :2], x[0, :2]), (x[1:, 1:], x[2, 1:])]
    h = np.ones(2)
    for i, (W, b) in enumerate(reversed(layers)):
        h = np.tanh(W @ h + b) + i
    return np.sum(h)


def gen_items(x):
    total = 0.0
    for i, v in enumerate(reversed([np.sin(r) for r in x])):
        total = total + i * np.sum(v)
    return total


def dict_arg(p, x):
    total = 0.0
    for i, k in enumerate(reversed(p)):
        total = total + i * np.sum(p[k] * x)
    return total
