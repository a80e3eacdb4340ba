"""Drawing corpus inputs: the samplers every family's case builders use.

All random draws happen in float64 and arrays are cast to ``dtype`` at the end, so the float32
and float64 builds from the same seed describe the same point (up to rounding). :func:`away`
and :func:`redraw` keep a sample point away from kinks and branch boundaries, so that
``x ± eps`` (and the float32 build) take the same path through a function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def normal(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype(dtype)


def uniform(rng: np.random.Generator, shape, dtype, lo: float, hi: float) -> np.ndarray:
    return rng.uniform(lo, hi, shape).astype(dtype)


def away(
    rng: np.random.Generator,
    shape,
    dtype,
    lo: float,
    hi: float,
    kinks: Sequence[float] | Callable[[np.ndarray], np.ndarray],
    gap: float = 0.05,
) -> np.ndarray:
    """Uniform draws in ``[lo, hi)`` at least ``gap`` away from every kink.

    ``kinks`` is a list of points, or a function giving each draw's distance to its nearest
    kink (for periodic kinks).
    """
    x = rng.uniform(lo, hi, shape)
    for _ in range(1000):
        if callable(kinks):
            dist = kinks(x)
        else:
            dist = np.min(np.abs(x[..., None] - np.asarray(kinks, float)), axis=-1)
        bad = dist < gap
        if not bad.any():
            return x.astype(dtype)
        x = np.where(bad, rng.uniform(lo, hi, shape), x)
    raise RuntimeError("could not sample away from the kinks")


def periodic(period: float, offset: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """Distance to the nearest point of ``offset + period * k``."""

    def dist(x: np.ndarray) -> np.ndarray:
        r = np.mod(x - offset, period)
        return np.minimum(r, period - r)

    return dist


def onehot(rng: np.random.Generator, n: int, k: int, dtype) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, n)].astype(dtype)


def uniform_float(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def chain(rng: np.random.Generator, n: int, d: int, step: float = 1.0) -> np.ndarray:
    """A random walk: consecutive points at distance about ``step``."""
    return np.cumsum(step + 0.3 * rng.standard_normal((n, d)), axis=0)


def redraw(draw: Callable[[], Any], ok: Callable[..., bool]) -> Any:
    """``draw()`` until ``ok(*drawn)`` holds (raises after 2000 tries)."""
    for _ in range(2000):
        drawn = draw()
        if ok(*drawn):
            return drawn
    raise RuntimeError("no sample with the required margins")


def separated(
    rng: np.random.Generator, n: int, d: int, min_dist: float, scale: float
) -> np.ndarray:
    """``n`` points in ``d`` dimensions, pairwise at least ``min_dist`` apart."""

    def draw():
        return (scale * rng.standard_normal((n, d)),)

    def ok(p):
        dist = np.sqrt(((p[:, None] - p[None]) ** 2).sum(-1)) + np.eye(n) * 1e9
        return dist.min() > min_dist

    return redraw(draw, ok)[0]
