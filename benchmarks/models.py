"""The benchmark models, written the way a srcgrad user writes them.

Each ``*_loss`` function below is plain numpy: no framework, no in-place writes, Python loops
where the model has them. srcgrad differentiates these very functions. The same source runs
under HIPS autograd and JAX by swapping the ``np`` global (:func:`with_numpy`), so all three
differentiate identical code. PyTorch gets a transliteration in idiomatic torch
(:func:`torch_models`), because its API differs from numpy's (``dim``/``keepdim``).

The input makers (``*_inputs``) return the positional arguments of the matching loss, built
from a seeded generator so every implementation sees the same data.

Models:

- **mlp**: 784-400-100-10, ReLU hidden layers (``np.maximum``), softmax cross-entropy against a
  one-hot float matrix ``y`` (so the function is straight-line), mean over the batch of 128.
  float32 parameters in a dict ``{"W1", "b1", "W2", "b2", "W3", "b3"}``; gradient w.r.t. the
  dict.
- **rnn**: ``h = tanh(x_t @ Wx + h @ Wh + b)`` for 200 steps in a Python loop, hidden 16,
  input 8, batch 1, ``h0 = 0``. The loss is the *mean over steps* of ``sum(h_t ** 2)``, so every
  step feeds the loss directly (a loop-carried additive accumulator) as well as through the
  recurrence. float64; gradient w.r.t. the dict ``{"Wx", "Wh", "b"}``.
- **layernorm**: layer norm (eps 1e-5, affine ``gamma``/``beta``) then a linear layer
  (``W``, ``c``) then the mean squared error against ``t``; ``x`` is 64x256, ``W`` 256x256.
  float64; gradient w.r.t. both the parameter dict and ``x`` (``wrt=(0, 1)``), so the layer norm
  backward is exercised.
- **tiny**: ``sum(x * x)`` on 4 numbers, to measure the cost of a cached srcgrad call.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Callable
from typing import Any

import numpy as np

Params = dict[str, np.ndarray]

__all__ = [
    "autograd_version",
    "jax_version",
    "layernorm_inputs",
    "layernorm_mse_loss",
    "mlp_inputs",
    "mlp_loss",
    "rnn_inputs",
    "rnn_loss",
    "tiny_inputs",
    "tiny_loss",
    "torch_models",
    "with_numpy",
]

LAYERNORM_EPS = 1e-5


# --------------------------------------------------------------------------------------------
# The models, as a srcgrad user writes them
# --------------------------------------------------------------------------------------------


def mlp_loss(params, x, y):
    """Softmax cross-entropy of a 3-layer ReLU MLP, averaged over the batch.

    Args:
        params: ``{"W1", "b1", "W2", "b2", "W3", "b3"}``, weights ``(n_in, n_out)``.
        x: inputs, ``(batch, 784)``.
        y: one-hot targets, ``(batch, 10)``, same dtype as ``x``.

    Returns:
        The scalar loss.
    """
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    h2 = np.maximum(h1 @ params["W2"] + params["b2"], 0.0)
    logits = h2 @ params["W3"] + params["b3"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


def rnn_loss(params, xs):
    """Mean over steps of ``sum(h_t ** 2)`` for a tanh RNN unrolled in a Python loop.

    Args:
        params: ``{"Wx": (n_in, hidden), "Wh": (hidden, hidden), "b": (hidden,)}``.
        xs: inputs, ``(steps, batch, n_in)``.

    Returns:
        The scalar loss.
    """
    Wx = params["Wx"]
    Wh = params["Wh"]
    b = params["b"]
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
        loss = loss + np.sum(h * h)
    return loss / xs.shape[0]


def layernorm_mse_loss(params, x, t):
    """Layer norm, then a linear layer, then the mean squared error against ``t``.

    Args:
        params: ``{"gamma": (d,), "beta": (d,), "W": (d, d_out), "c": (d_out,)}``.
        x: inputs, ``(n, d)``.
        t: targets, ``(n, d_out)``.

    Returns:
        The scalar loss.
    """
    mu = np.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    xhat = xc / np.sqrt(var + 1e-5)
    h = xhat * params["gamma"] + params["beta"]
    out = h @ params["W"] + params["c"]
    err = out - t
    return np.mean(err * err)


def tiny_loss(x):
    """``sum(x * x)``: so little work that a call measures srcgrad's own overhead."""
    return np.sum(x * x)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def mlp_inputs(
    rng: np.random.Generator,
    sizes: tuple[int, ...] = (784, 400, 100, 10),
    batch: int = 128,
    dtype: Any = np.float32,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Glorot-scaled parameters, standard-normal inputs and one-hot labels for :func:`mlp_loss`.

    Args:
        rng: the random generator.
        sizes: layer widths, input first; must have 4 entries (three layers).
        batch: batch size.
        dtype: floating dtype of every array.

    Returns:
        ``(params, x, y)``.
    """
    if len(sizes) != 4:
        raise ValueError(
            f"the MLP has three layers, so sizes needs 4 widths, got {sizes}"
        )
    params: Params = {}
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        scale = np.sqrt(2.0 / (n_in + n_out))
        params[f"W{k}"] = (scale * rng.standard_normal((n_in, n_out))).astype(dtype)
        params[f"b{k}"] = (0.1 * rng.standard_normal(n_out)).astype(dtype)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], size=batch)
    y = np.zeros((batch, sizes[-1]), dtype=dtype)
    y[np.arange(batch), labels] = 1
    return params, x, y


def rnn_inputs(
    rng: np.random.Generator,
    steps: int = 200,
    hidden: int = 16,
    n_in: int = 8,
    batch: int = 1,
    dtype: Any = np.float64,
) -> tuple[Params, np.ndarray]:
    """Parameters and an input sequence for :func:`rnn_loss`.

    ``Wh`` is scaled to keep the recurrence away from saturation, so gradients reach back
    through many steps.

    Returns:
        ``(params, xs)`` with ``xs`` of shape ``(steps, batch, n_in)``.
    """
    params: Params = {
        "Wx": (rng.standard_normal((n_in, hidden)) / np.sqrt(n_in)).astype(dtype),
        "Wh": (0.9 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(
            dtype
        ),
        "b": (0.1 * rng.standard_normal(hidden)).astype(dtype),
    }
    xs = rng.standard_normal((steps, batch, n_in)).astype(dtype)
    return params, xs


def layernorm_inputs(
    rng: np.random.Generator,
    n: int = 64,
    d: int = 256,
    d_out: int = 256,
    dtype: Any = np.float64,
) -> tuple[Params, np.ndarray, np.ndarray]:
    """Parameters, inputs and targets for :func:`layernorm_mse_loss`.

    Returns:
        ``(params, x, t)``.
    """
    params: Params = {
        "gamma": (1.0 + 0.1 * rng.standard_normal(d)).astype(dtype),
        "beta": (0.1 * rng.standard_normal(d)).astype(dtype),
        "W": (rng.standard_normal((d, d_out)) / np.sqrt(d)).astype(dtype),
        "c": (0.1 * rng.standard_normal(d_out)).astype(dtype),
    }
    x = (3.0 + 2.0 * rng.standard_normal((n, d))).astype(dtype)
    t = rng.standard_normal((n, d_out)).astype(dtype)
    return params, x, t


def tiny_inputs(rng: np.random.Generator) -> tuple[np.ndarray]:
    """Four float64 numbers for :func:`tiny_loss`."""
    return (rng.standard_normal(4),)


# --------------------------------------------------------------------------------------------
# The same functions for other frameworks
# --------------------------------------------------------------------------------------------


def with_numpy(f: Callable[..., Any], module: Any) -> Callable[..., Any]:
    """Return ``f`` with its global ``np`` bound to ``module`` (same code object).

    Args:
        f: a function of this module that refers to numpy as ``np``.
        module: a numpy look-alike, e.g. ``autograd.numpy`` or ``jax.numpy``.

    Returns:
        A new function object sharing ``f``'s code, defaults and closure.
    """
    g = types.FunctionType(
        f.__code__,
        {**f.__globals__, "np": module},
        f.__name__,
        f.__defaults__,
        f.__closure__,
    )
    g.__kwdefaults__ = f.__kwdefaults__
    g.__qualname__ = f.__qualname__
    g.__doc__ = f.__doc__
    return g


def autograd_version(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` running on ``autograd.numpy`` (raises ImportError without autograd)."""
    import autograd.numpy as anp

    return with_numpy(f, anp)


def jax_version(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` running on ``jax.numpy`` (raises ImportError without jax)."""
    import jax.numpy as jnp

    return with_numpy(f, jnp)


def torch_models() -> dict[str, Callable[..., Any]]:
    """The benchmark models in idiomatic PyTorch, keyed like the numpy ones.

    They take dicts of tensors and tensors in the same positions as the numpy models.
    ``relu``, ``log_softmax``, ``layer_norm`` and ``mse_loss`` are torch's own fused kernels, as a
    PyTorch user would write them.

    Raises:
        ImportError: PyTorch is not installed.
    """
    import torch
    import torch.nn.functional as F

    def mlp_loss_torch(params, x, y):
        h1 = torch.relu(x @ params["W1"] + params["b1"])
        h2 = torch.relu(h1 @ params["W2"] + params["b2"])
        logits = h2 @ params["W3"] + params["b3"]
        logp = torch.log_softmax(logits, dim=1)
        return -(y * logp).sum() / x.shape[0]

    def rnn_loss_torch(params, xs):
        Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
        h = torch.zeros((xs.shape[1], Wh.shape[0]), dtype=Wh.dtype)
        loss = 0.0
        for t in range(xs.shape[0]):
            h = torch.tanh(xs[t] @ Wx + h @ Wh + b)
            loss = loss + (h * h).sum()
        return loss / xs.shape[0]

    def layernorm_mse_loss_torch(params, x, t):
        h = F.layer_norm(
            x, x.shape[-1:], params["gamma"], params["beta"], eps=LAYERNORM_EPS
        )
        out = h @ params["W"] + params["c"]
        return F.mse_loss(out, t)

    def tiny_loss_torch(x):
        return (x * x).sum()

    return {
        "mlp_loss": mlp_loss_torch,
        "rnn_loss": rnn_loss_torch,
        "layernorm_mse_loss": layernorm_mse_loss_torch,
        "tiny_loss": tiny_loss_torch,
    }
