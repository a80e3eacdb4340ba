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
