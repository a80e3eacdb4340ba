"""Batch transforms: functions of a whole batch ``(N, C, H, W)`` (or labels), vectorised
over it.  Random ones draw from the generator they are given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from srcgrad.data.errors import DataError

__all__ = ["compose", "normalize", "one_hot", "random_crop", "random_flip"]

Transform = Callable[[np.ndarray], np.ndarray]


def compose(*transforms: Transform) -> Transform:
    """The transforms applied left to right."""

    def composed(x: np.ndarray) -> np.ndarray:
        for t in transforms:
            x = t(x)
        return x

    return composed


def normalize(mean: float | Sequence[float], std: float | Sequence[float]) -> Transform:
    """``(x - mean) / std`` per channel (axis 1), in float32."""
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)
    if np.any(s == 0):
        raise ValueError("normalize: a std of 0")

    def apply(x: np.ndarray) -> np.ndarray:
        shape = (1, -1) + (1,) * (x.ndim - 2) if m.ndim else ()
        return (x - m.reshape(shape)) / s.reshape(shape)

    return apply


def one_hot(labels: Any, num_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """``(N,) -> (N, num_classes)`` with a 1 at each label.

    Raises:
        DataError: a label outside ``[0, num_classes)`` (its index named).
    """
    y = np.asarray(labels)
    bad = np.flatnonzero((y < 0) | (y >= num_classes) | (y != np.floor(y)))
    if bad.size:
        raise DataError(
            f"one_hot: label {y[bad[0]]!r} at index {bad[0]} is not a class in "
            f"[0, {num_classes})"
        )
    out = np.zeros((y.shape[0], num_classes), dtype=dtype)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1
    return out


def random_crop(size: int, padding: int = 0, rng: Any = None) -> Transform:
    """A random ``size x size`` window of each image (zero-padded by ``padding``
    first), one offset per image."""
    gen = np.random.default_rng(rng)

    def apply(x: np.ndarray) -> np.ndarray:
        if padding:
            pad = [(0, 0)] * (x.ndim - 2) + [(padding, padding)] * 2
            x = np.pad(x, pad)
        n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
        if size > h or size > w:
            raise ValueError(f"random_crop: {size} is larger than the image {h}x{w}")
        top = gen.integers(0, h - size + 1, size=n)
        left = gen.integers(0, w - size + 1, size=n)
        rows = (top[:, None] + np.arange(size))[:, :, None]
        cols = (left[:, None] + np.arange(size))[:, None, :]
        moved = np.moveaxis(x, 0, -3)  # (..., n, h, w)
        out = moved[..., np.arange(n)[:, None, None], rows, cols]
        return np.ascontiguousarray(np.moveaxis(out, -3, 0))

    return apply


def random_flip(p: float = 0.5, axis: int = -1, rng: Any = None) -> Transform:
    """Each image mirrored along ``axis`` (last: horizontal) with probability ``p``."""
    gen = np.random.default_rng(rng)

    def apply(x: np.ndarray) -> np.ndarray:
        flip = gen.random(x.shape[0]) < p
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=axis)
        return out

    return apply
