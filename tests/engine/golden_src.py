"""Forward functions whose emitted gradient modules are kept as golden files."""

import math
from typing import NamedTuple

import numpy as np


class Linear(NamedTuple):
    W: np.ndarray
    b: np.ndarray


def mse_tanh(W, b, x, t):
    h = np.tanh(x @ W + b)
    err = h - t
    return np.mean(err * err)


def softmax_cross_entropy(logits, y):
    m = logits.max(axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(y * logp) / logits.shape[0]


def layer_norm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + 1e-5)
    return np.sum((gamma * xhat + beta) ** 2)


def mlp_dict(params, x, y):
    h = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    out = h @ params["W2"] + params["b2"]
    return 0.5 * np.sum((out - y) ** 2)


def linear_namedtuple(layer, x):
    W, b = layer
    return np.sum(np.tanh(x @ layer.W + b))


def projectile_range(v, theta, g):
    return v * v * math.sin(2.0 * theta) / g


def attention(q, k, v):
    scores = q @ k.T / np.sqrt(q.shape[-1])
    scores -= scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=-1, keepdims=True)
    return np.sum(w @ v)


def window_energy(x):
    left, right = x[:-1], x[1:]
    d = right - left
    return np.sum(d**2) + x[0] ** 2 + x[-1] ** 2


def bilinear_einsum(x, A, y):
    return np.einsum("i,ij,j->", x, A, y)


def stacked_features(x):
    a, b = np.split(x, 2, axis=1)
    feats = np.concatenate([np.sin(a), np.cos(b)], axis=1)
    return np.stack([feats, feats * 2.0]).sum()


def sawtooth(x, period):
    phase = x % period
    steps = x // period
    return np.sum(phase * phase + steps)


def aux_stats(x):
    loss = np.sum(np.log1p(x**2))
    return loss, x.shape


def rnn_loop(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h)


def newton_sqrt(a):
    x = a
    for i in range(50):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-12:
            break
        x = x_new
    return x


def piecewise(x):
    if x > 1.0:
        y = x**2
    elif x > 0.0:
        y = 2.0 * x - 1.0
    else:
        y = -x
    return y * 3.0


def damped_spring(x0, v0, k):
    x, v = x0, v0
    n = 0
    while n < 20:
        a = -k * x - 0.1 * v
        v = v + 0.05 * a
        x = x + 0.05 * v
        n += 1
    return x**2 + v**2


def stacked_states(W, xs):
    h = np.zeros(W.shape[0])
    hs = []
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def first_above(xs, t):
    for x in xs:
        if x > t:
            return x * x
    return t * 0.5
