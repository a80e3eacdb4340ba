"""Helpers of the unary elementwise rules (``rules/elementwise.py``): constants and the
slope of ``abs`` (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _conj_sign

__all__ = [
    "LN2",
    "LN10",
    "abs_slope",
    "logistic",
]

Array = Any


LN2: float = math.log(2.0)  #: ``log(2)`` as a Python float (weak under NEP 50)


LN10: float = math.log(10.0)  #: ``log(10)`` as a Python float (weak under NEP 50)


def abs_slope(x: Array) -> Array:
    """``conj(x) / |x|`` (0 at 0): the cotangent factor of ``np.abs(x)``; ``np.sign(x)`` for
    real ``x``.  (numpy < 2 defines ``np.sign`` of a complex number as the sign of its real
    part, so the rule cannot use ``np.sign(x).conj()``.)"""
    if isinstance(x, complex):
        return x.conjugate() / abs(x) if x != 0 else 0j
    xp = namespace(x)
    if getattr(x, "dtype", None) is None or x.dtype.kind != "c":
        return xp.sign(x)
    return _conj_sign(xp, x)


def logistic(x: Array) -> Array:
    """The logistic sigmoid ``1 / (1 + exp(-x))``, computed as that expression is written.

    A program that writes ``1.0 / (1.0 + np.exp(-z))`` is differentiated through this
    primitive's closed-form rule, ``g * s * (1 - s)`` (:mod:`srcgrad.codegen.closed_forms`),
    while its forward pass keeps the expression as written.
    """
    xp = namespace(x)
    if not hasattr(x, "shape"):  # a list or a number, as numpy's functions take them
        x = xp.asarray(x)
    e = xp.exp(-x)
    # in the exponential's dtype (numpy < 2 would promote a float32 scalar with 1.0)
    return xp.divide(1.0, xp.add(1.0, e, dtype=e.dtype), dtype=e.dtype)
