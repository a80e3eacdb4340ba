"""Test-input generators (``domain=``) that rules of several families share.

Their names and first docstring lines are what ``srcgrad rules`` and the README list as
a rule's test domain.
"""

from __future__ import annotations

import numpy as np

__all__ = ["_increasing", "_with_nans"]


def _increasing(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Strictly increasing sample points (1-D), or a positive step for a 0-d draw."""
    if shape == ():
        return rng.uniform(0.5, 1.5)
    return np.cumsum(rng.uniform(0.5, 1.5, size=shape)) - 2.0


def _with_nans(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-2, 2] with a few NaNs (never a whole row)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    flat = x.reshape(-1)
    for i in (1, 7, 14):
        if i < flat.size:
            flat[i] = np.nan
    return x
