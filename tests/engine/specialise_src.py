"""Forward functions for tests/test_specialise.py: each leans on a shape or dtype fact."""

import numpy as np


def bias_tanh(x, b):
    """A bias broadcast along the leading axes; a batch of 1 is a different signature."""
    return np.sum(np.tanh(x + b) ** 2)


def outer_sum(a, c):
    """(n, 1) + (1, m): both cotangents sum over an axis kept with length 1."""
    return np.sum(np.sin(a + c) * a)


def mixed_dtypes(x, y):
    """float32 and float64 operands: each cotangent keeps its operand's dtype."""
    return np.sum(x * y + x)


def mlp(params, x):
    h = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    out = h @ params["W2"] + params["b2"]
    return np.mean(out**2)


def rnn(Wx, Wh, xs):
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    total = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
        total = total + np.sum(h * h)
    return total


def maybe_loop(h, W, n):
    """With n == 0 the body never runs, and h and W need not fit each other."""
    for i in range(n):
        h = h @ W
    return np.sum(h * h)


def softmax_xent(z, y):
    s = z - np.max(z, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    return -np.sum(y * logp)


def chain(x, w):
    """Temporaries the forward pass may overwrite in place (never x or w)."""
    a = x * w
    b = a + 1.0
    c = np.tanh(b)
    return np.sum(c * x)


def copy_of_temporary(x, w):
    """A copy of a dead temporary: np.copy is no ufunc, so it takes no out=."""
    a = x * w
    return np.sum(np.copy(a) * 2.0)


def norm_rows(x, g):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return np.sum(((x - mu) / np.sqrt(var + 1e-5) * g) ** 2)


def swish_energy(x, W):
    """Scalar factors around the cotangents of sums (2 * g * h after sum(h * h))."""
    h = x @ W
    s = h * (0.5 * (np.tanh(0.5 * h) + 1.0))
    return 1.0 * np.sum(s * s) + 0.5 * np.sum(h * h) + np.mean(s) * 3.0


def accumulate(xs, w):
    """A loss accumulator that starts as the Python float 0.0."""
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + np.sum(np.tanh(xs[t] * w) ** 2) / 2.0
    return total * 2.0
