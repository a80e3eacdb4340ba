"""Initialisers with PyTorch's names and formulas, drawing from an explicit
``np.random.Generator``.  Each returns a new array of ``shape`` (float32 unless ``dtype``
says otherwise); none changes an array in place."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "calculate_gain",
    "fan_in_and_fan_out",
    "uniform",
    "normal",
    "constant",
    "zeros",
    "ones",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
]

Shape = tuple[int, ...]


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def _shape(shape: Any) -> Shape:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (as ``torch.nn.init.calculate_gain``)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d")
    linear += ("conv_transpose2d", "conv_transpose3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; hint: one of "
        f"{', '.join(linear)}, tanh, relu, leaky_relu, selu"
    )


def fan_in_and_fan_out(shape: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight laid out (out, in, *kernel), as PyTorch computes it."""
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need at least 2 dimensions, got shape {shape}; hint: "
            f"use uniform or normal for vectors"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform(shape: Any, a: float = 0.0, b: float = 1.0, *, rng, dtype=None) -> Any:
    """Draws from U(a, b)."""
    return rng.uniform(a, b, size=_shape(shape)).astype(_dtype(dtype))


def normal(shape: Any, mean: float = 0.0, std: float = 1.0, *, rng, dtype=None) -> Any:
    """Draws from N(mean, std^2)."""
    return rng.normal(mean, std, size=_shape(shape)).astype(_dtype(dtype))


def constant(shape: Any, val: float, *, dtype=None) -> Any:
    """Every element ``val``."""
    return np.full(_shape(shape), val, dtype=_dtype(dtype))


def zeros(shape: Any, *, dtype=None) -> Any:
    """Zeros."""
    return np.zeros(_shape(shape), dtype=_dtype(dtype))


def ones(shape: Any, *, dtype=None) -> Any:
    """Ones."""
    return np.ones(_shape(shape), dtype=_dtype(dtype))


def xavier_uniform(shape: Any, gain: float = 1.0, *, rng, dtype=None) -> Any:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio)."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def xavier_normal(shape: Any, gain: float = 1.0, *, rng, dtype=None) -> Any:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal(shape, 0.0, std, rng=rng, dtype=dtype)


def _kaiming_std(shape: Any, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    shape: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng,
    dtype=None,
) -> Any:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al.)."""
    bound = math.sqrt(3.0) * _kaiming_std(shape, a, mode, nonlinearity)
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def kaiming_normal(
    shape: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    rng,
    dtype=None,
) -> Any:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(shape, a, mode, nonlinearity)
    return normal(shape, 0.0, std, rng=rng, dtype=dtype)


def orthogonal(shape: Any, gain: float = 1.0, *, rng, dtype=None) -> Any:
    """A (semi-)orthogonal matrix, flattened over the trailing axes, times ``gain``: the
    Q of a QR of a Gaussian matrix with the signs of R's diagonal folded in."""
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], int(np.prod(shape[1:]))
    flat = rng.standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape).astype(_dtype(dtype))
