"""Model-sized functions whose emitted gradients `tools/generic_calls.py` measures: a conv
net (``sliding_window_view`` + ``einsum``), a Transformer block (heads by ``reshape`` and
``transpose``), an LSTM (slices of a gate matrix) and an MLP reading its weights from
module globals.  Each ``*_case`` returns ``(function, wrt, arguments)``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

HEADS = 4
_rng = np.random.default_rng(0)
W1 = _rng.normal(size=(16, 32)) / 4.0
B1 = np.zeros(32)
W2 = _rng.normal(size=(32, 10)) / 6.0
B2 = np.zeros(10)


def conv_net(kernels, bias, w_out, images, labels):
    """Two-channel 3x3 convolution, ReLU, 2x2 mean pooling, a linear read-out and a
    softmax cross-entropy."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(padded, (3, 3), axis=(1, 2))
    maps = np.einsum("nhwij,cij->nchw", windows, kernels) + bias[None, :, None, None]
    act = np.maximum(maps, 0.0)
    n, c, h, w = act.shape
    pooled = act.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
    feats = pooled.reshape(n, -1)
    logits = feats @ w_out
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(labels * logp, axis=1))


def transformer_block(wq, wk, wv, wo, w1, w2, gain, x):
    """Pre-norm multi-head self-attention and a ReLU feed-forward layer, both residual."""
    n, t, d = x.shape
    hd = d // HEADS
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    z = gain * (x - mu) / np.sqrt(var + 1e-5)
    q = (z @ wq).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    k = (z @ wk).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    v = (z @ wv).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    scores = q @ k.swapaxes(-1, -2) / np.sqrt(hd)
    scores = scores - scores.max(axis=-1, keepdims=True)
    att = np.exp(scores)
    att = att / att.sum(axis=-1, keepdims=True)
    heads = (att @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
    y = x + heads @ wo
    out = y + np.maximum(y @ w1, 0.0) @ w2
    return np.mean(out**2)


def lstm(w, u, b, xs, h0):
    """An LSTM over the steps of ``xs`` (time first); the four gates are slices of one
    pre-activation matrix."""
    h = h0
    c = np.zeros_like(h0)
    m = h0.shape[1]
    total = 0.0
    for x in xs:
        gates = x @ w + h @ u + b
        i = 1.0 / (1.0 + np.exp(-gates[:, :m]))
        f = 1.0 / (1.0 + np.exp(-gates[:, m : 2 * m]))
        o = 1.0 / (1.0 + np.exp(-gates[:, 2 * m : 3 * m]))
        g = np.tanh(gates[:, 3 * m :])
        c = f * c + i * g
        h = o * np.tanh(c)
        total = total + np.sum(h**2)
    return total


def global_mlp(x, y):
    """A two-layer perceptron whose weights are module globals (not arguments)."""
    h = np.tanh(x @ W1 + B1)
    logits = h @ W2 + B2
    return np.mean((logits - y) ** 2)


def _r(*shape: int) -> np.ndarray:
    return _rng.normal(size=shape)


def conv_case() -> tuple[Callable[..., Any], tuple[int, ...], tuple[Any, ...]]:
    labels = np.eye(3)[[0, 1, 2, 1]]
    args = (_r(2, 3, 3) / 3, _r(2), _r(2 * 4 * 4, 3) / 8, _r(4, 8, 8), labels)
    return conv_net, (0, 1, 2), args


def transformer_case() -> tuple[Callable[..., Any], tuple[int, ...], tuple[Any, ...]]:
    d = 8
    ws = tuple(_r(d, d) / 3 for _ in range(4))
    args = (*ws, _r(d, 2 * d) / 3, _r(2 * d, d) / 4, 1.0 + _r(d) / 10, _r(3, 5, d))
    return transformer_block, (0, 1, 2, 3, 4, 5, 6), args


def lstm_case() -> tuple[Callable[..., Any], tuple[int, ...], tuple[Any, ...]]:
    m = 5
    args = (_r(3, 4 * m) / 3, _r(m, 4 * m) / 3, _r(4 * m) / 3, _r(4, 2, 3), _r(2, m))
    return lstm, (0, 1, 2), args


def global_mlp_case() -> tuple[Callable[..., Any], tuple[int, ...], tuple[Any, ...]]:
    return global_mlp, (0,), (_r(6, 16), _r(6, 10))


CASES = {
    "conv_net": conv_case,
    "transformer_block": transformer_case,
    "lstm": lstm_case,
    "global_mlp": global_mlp_case,
}
