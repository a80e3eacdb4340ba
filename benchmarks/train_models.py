"""The training-step workloads W1-W7 (issue 18), written the way a srcgrad user writes them.

Every ``*_loss`` below is a plain numpy function of a parameter dict and the batch; srcgrad
differentiates these very functions (``srcgrad.value_and_grad(loss)``), and HIPS autograd and
JAX differentiate the same source with the ``np`` global swapped. The hand-written backward
passes are in :mod:`benchmarks.train_hand`, the PyTorch transliterations in
:mod:`benchmarks.train_frameworks`.

Layouts (shared by every implementation; PyTorch's own layouts are converted once at set-up):

- dense weights are ``(n_in, n_out)``; images are ``(batch, 28, 28, channels)`` (NHWC);
- convolution kernels are ``(c_in, k, k, c_out)``; a convolution is im2col through
  ``np.lib.stride_tricks.sliding_window_view`` and one ``np.tensordot``;
- the GRU keeps PyTorch's gate layout: ``W_ih (3H, in)``, ``W_hh (3H, H)``, rows ``r, z, n``;
- labels are one-hot float matrices, so every loss is straight-line softmax cross-entropy.

Workloads (batch 128, float32):

- **W1** MLP 784-400-100-10, ReLU, Adam.
- **W2** residual MLP 784-1024-1024-10: ``h2 = h1 + relu(h1 @ W2 + b2)``, Adam.
- **W3** LeNet-5: conv5x5 1->6 (padding 2), sigmoid, avgpool 2, conv5x5 6->16, sigmoid,
  avgpool 2, fc 400-120-84-10 with sigmoids, SGD.
- **W4** conv3x3 1->20 (padding 1), ReLU, maxpool 2, conv3x3 20->50 (padding 1), ReLU,
  maxpool 2, fc 2450-500-10 (ReLU between), Adam.
- **W5** GRU(28->128) over the 28 image rows, last state -> fc 10, Adam.
- **W6** one-layer post-LN Transformer encoder: token embedding (5000 x 64) plus a learned
  position embedding (45 x 64), 4-head self-attention, add & layer norm, FFN 64-128-64 with
  ReLU, add & layer norm, mean over the 45 positions, fc 64->2, Adam.
- **W7** tanh RNN, input 16, hidden 16, batch 1, 200 steps; gradient of ``sum(h_T ** 2)`` only
  (no optimizer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

LN_EPS = 1e-5
HEADS = 4

__all__ = [
    "WORKLOADS",
    "Workload",
    "convnet_loss",
    "gru_loss",
    "lenet_loss",
    "init_params",
    "mlp_loss",
    "resmlp_loss",
    "rnn_loss",
    "transformer_loss",
]


# --------------------------------------------------------------------------------------------
# The workloads, as a srcgrad user writes them
# --------------------------------------------------------------------------------------------


def mlp_loss(params, x, y):
    """W1: softmax cross-entropy of a 784-400-100-10 ReLU MLP, mean over the batch."""
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    h2 = np.maximum(h1 @ params["W2"] + params["b2"], 0.0)
    logits = h2 @ params["W3"] + params["b3"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


def resmlp_loss(params, x, y):
    """W2: 784-1024-1024-10 ReLU MLP with a residual add around the middle layer."""
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    h2 = h1 + np.maximum(h1 @ params["W2"] + params["b2"], 0.0)
    logits = h2 @ params["W3"] + params["b3"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


def lenet_loss(params, x, y):
    """W3: LeNet-5 with sigmoids and average pooling; ``x`` is ``(batch, 28, 28, 1)``."""
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    win1 = np.lib.stride_tricks.sliding_window_view(xp, (5, 5), axis=(1, 2))
    c1 = np.tensordot(win1, params["K1"], axes=([3, 4, 5], [0, 1, 2])) + params["c1"]
    s1 = 1.0 / (1.0 + np.exp(-c1))
    p1 = s1.reshape(n, 14, 2, 14, 2, 6).mean(axis=(2, 4))
    win2 = np.lib.stride_tricks.sliding_window_view(p1, (5, 5), axis=(1, 2))
    c2 = np.tensordot(win2, params["K2"], axes=([3, 4, 5], [0, 1, 2])) + params["c2"]
    s2 = 1.0 / (1.0 + np.exp(-c2))
    p2 = s2.reshape(n, 5, 2, 5, 2, 16).mean(axis=(2, 4))
    f = p2.reshape(n, 400)
    h1 = 1.0 / (1.0 + np.exp(-(f @ params["W1"] + params["b1"])))
    h2 = 1.0 / (1.0 + np.exp(-(h1 @ params["W2"] + params["b2"])))
    logits = h2 @ params["W3"] + params["b3"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / n


def convnet_loss(params, x, y):
    """W4: two 3x3 convolutions with ReLU and max pooling, then fc 2450-500-10."""
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    win1 = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))
    c1 = np.tensordot(win1, params["K1"], axes=([3, 4, 5], [0, 1, 2])) + params["c1"]
    r1 = np.maximum(c1, 0.0)
    p1 = r1.reshape(n, 14, 2, 14, 2, 20).max(axis=(2, 4))
    p1p = np.pad(p1, ((0, 0), (1, 1), (1, 1), (0, 0)))
    win2 = np.lib.stride_tricks.sliding_window_view(p1p, (3, 3), axis=(1, 2))
    c2 = np.tensordot(win2, params["K2"], axes=([3, 4, 5], [0, 1, 2])) + params["c2"]
    r2 = np.maximum(c2, 0.0)
    p2 = r2.reshape(n, 7, 2, 7, 2, 50).max(axis=(2, 4))
    f = p2.reshape(n, 2450)
    h = np.maximum(f @ params["W1"] + params["b1"], 0.0)
    logits = h @ params["W2"] + params["b2"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / n


def gru_loss(params, x, y):
    """W5: a GRU (PyTorch gate layout) over the 28 rows of ``x (batch, 28, 28)``."""
    hidden = params["W_hh"].shape[1]
    h = np.zeros((x.shape[0], hidden), dtype=x.dtype)
    for t in range(x.shape[1]):
        gi = x[:, t, :] @ params["W_ih"].T + params["b_ih"]
        gh = h @ params["W_hh"].T + params["b_hh"]
        r = 1.0 / (1.0 + np.exp(-(gi[:, :hidden] + gh[:, :hidden])))
        z = 1.0 / (
            1.0 + np.exp(-(gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden]))
        )
        c = np.tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
        h = (1.0 - z) * c + z * h
    logits = h @ params["W"] + params["b"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


def transformer_loss(params, tokens, y):
    """W6: one post-LN Transformer encoder layer over ``tokens (batch, 45)``, mean-pooled."""
    n, t = tokens.shape
    d = params["emb"].shape[1]
    hd = d // HEADS
    x = params["emb"][tokens] + params["pos"]
    q = (x @ params["Wq"] + params["bq"]).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    k = (x @ params["Wk"] + params["bk"]).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    v = (x @ params["Wv"] + params["bv"]).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    s = q @ k.transpose(0, 1, 3, 2) / hd**0.5
    e = np.exp(s - np.max(s, axis=-1, keepdims=True))
    att = e / np.sum(e, axis=-1, keepdims=True)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
    a = x + ctx @ params["Wo"] + params["bo"]
    mu1 = np.mean(a, axis=-1, keepdims=True)
    d1 = a - mu1
    x1 = d1 / np.sqrt(np.mean(d1 * d1, axis=-1, keepdims=True) + LN_EPS)
    x1 = x1 * params["g1"] + params["be1"]
    ff = np.maximum(x1 @ params["F1"] + params["f1"], 0.0) @ params["F2"] + params["f2"]
    f = x1 + ff
    mu2 = np.mean(f, axis=-1, keepdims=True)
    d2 = f - mu2
    x2 = d2 / np.sqrt(np.mean(d2 * d2, axis=-1, keepdims=True) + LN_EPS)
    x2 = x2 * params["g2"] + params["be2"]
    logits = np.mean(x2, axis=1) @ params["Wc"] + params["bc"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / n


def rnn_loss(params, xs):
    """W7: ``sum(h_T ** 2)`` of a 200-step tanh RNN, ``xs (200, 1, 16)``."""
    h = np.zeros((1, params["Wh"].shape[0]), dtype=xs.dtype)
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.sum(h * h)


# --------------------------------------------------------------------------------------------
# Parameters and batches
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One workload: its loss, parameter shapes, batch maker and optimizer."""

    key: str
    title: str
    loss: Callable[..., Any]
    shapes: dict[str, tuple[int, ...]]
    batch: Callable[[np.random.Generator, int], tuple[np.ndarray, ...]]
    optimizer: str  # "adam", "sgd" or "" (gradient only)
    default_batch: int = 128


def _images(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    return rng.random((n, *shape), dtype=np.float32)


def _one_hot(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


def _flat_batch(rng, n):
    return _images(rng, n, (784,)), _one_hot(rng, n, 10)


def _image_batch(rng, n):
    return _images(rng, n, (28, 28, 1)), _one_hot(rng, n, 10)


def _row_batch(rng, n):
    return _images(rng, n, (28, 28)), _one_hot(rng, n, 10)


def _token_batch(rng, n):
    return rng.integers(0, VOCAB, (n, SEQ)), _one_hot(rng, n, 2)


def _rnn_batch(rng, n):
    return (rng.standard_normal((RNN_STEPS, n, 16)).astype(np.float32),)


def _dense(sizes: list[int], prefix: str = "W", bias: str = "b") -> dict:
    out = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        out[f"{prefix}{i}"] = (a, b)
        out[f"{bias}{i}"] = (b,)
    return out


VOCAB, SEQ, DIM, FFN, RNN_STEPS = 5000, 45, 64, 128, 200
GRU_H = 128

WORKLOADS: dict[str, Workload] = {
    "W1": Workload(
        "W1",
        "MLP 784-400-100-10, ReLU, softmax CE, Adam",
        mlp_loss,
        _dense([784, 400, 100, 10]),
        _flat_batch,
        "adam",
    ),
    "W2": Workload(
        "W2",
        "residual MLP 784-1024-1024-10, ReLU, Adam",
        resmlp_loss,
        _dense([784, 1024, 1024, 10]),
        _flat_batch,
        "adam",
    ),
    "W3": Workload(
        "W3",
        "LeNet-5 (sigmoid, avgpool), SGD",
        lenet_loss,
        {
            "K1": (1, 5, 5, 6),
            "c1": (6,),
            "K2": (6, 5, 5, 16),
            "c2": (16,),
            **_dense([400, 120, 84, 10]),
        },
        _image_batch,
        "sgd",
    ),
    "W4": Workload(
        "W4",
        "conv3x3 1-20, maxpool, conv3x3 20-50, maxpool, fc 2450-500-10, Adam",
        convnet_loss,
        {
            "K1": (1, 3, 3, 20),
            "c1": (20,),
            "K2": (20, 3, 3, 50),
            "c2": (50,),
            **_dense([2450, 500, 10]),
        },
        _image_batch,
        "adam",
    ),
    "W5": Workload(
        "W5",
        "GRU(28->128) over 28 rows, fc 10, Adam",
        gru_loss,
        {
            "W_ih": (3 * GRU_H, 28),
            "W_hh": (3 * GRU_H, GRU_H),
            "b_ih": (3 * GRU_H,),
            "b_hh": (3 * GRU_H,),
            "W": (GRU_H, 10),
            "b": (10,),
        },
        _row_batch,
        "adam",
    ),
    "W6": Workload(
        "W6",
        "post-LN Transformer encoder (V 5000, T 45, D 64, 4 heads, FFN 128), Adam",
        transformer_loss,
        {
            "emb": (VOCAB, DIM),
            "pos": (SEQ, DIM),
            **{f"W{c}": (DIM, DIM) for c in "qkvo"},
            **{f"b{c}": (DIM,) for c in "qkvo"},
            "g1": (DIM,),
            "be1": (DIM,),
            "F1": (DIM, FFN),
            "f1": (FFN,),
            "F2": (FFN, DIM),
            "f2": (DIM,),
            "g2": (DIM,),
            "be2": (DIM,),
            "Wc": (DIM, 2),
            "bc": (2,),
        },
        _token_batch,
        "adam",
    ),
    "W7": Workload(
        "W7",
        "tanh RNN in 16, hidden 16, batch 1, 200 steps, gradient of sum(h_T^2)",
        rnn_loss,
        {"Wx": (16, 16), "Wh": (16, 16), "b": (16,)},
        _rnn_batch,
        "",
        1,
    ),
}


def init_params(work: Workload, rng: np.random.Generator, width: int | None = None):
    """Seeded float32 parameters: weights ~ N(0, 1/fan_in), biases 0, LN gains 1."""
    params = {}
    for name, shape in _shapes(work, width).items():
        if name.startswith("g") and len(shape) == 1:
            params[name] = np.ones(shape, np.float32)
        elif len(shape) == 1 and name != "pos":
            params[name] = np.zeros(shape, np.float32)
        else:
            fan_in = shape[0] if name not in ("W_ih", "W_hh") else shape[1]
            if name.startswith("K"):
                fan_in = shape[0] * shape[1] * shape[2]
            if name in ("emb", "pos"):
                fan_in = 1.0
            w = rng.standard_normal(shape) / np.sqrt(fan_in)
            params[name] = w.astype(np.float32)
    return params


def _shapes(work: Workload, width: int | None) -> dict[str, tuple[int, ...]]:
    """Parameter shapes; ``width`` replaces the hidden sizes of W1 (400, 100) and W2 (1024)."""
    if width is None:
        return work.shapes
    if work.key == "W1":
        return _dense([784, width, max(width // 4, 1), 10])
    if work.key == "W2":
        return _dense([784, width, width, 10])
    raise ValueError(f"{work.key} has no width parameter")
