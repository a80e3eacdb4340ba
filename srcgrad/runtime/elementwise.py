"""Helpers of the unary elementwise rules (``rules/elementwise.py``): constants and the
slope of ``abs`` (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.errors import SrcgradError
from srcgrad.runtime.arrays import _conj_sign

__all__ = [
    "LN2",
    "LN10",
    "abs_slope",
    "sign_slope_cotangent",
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


def sign_slope_cotangent(g: Array, x: Array) -> Array:
    """The cotangent of ``abs_slope(x)`` for real ``x``: zeros shaped and typed like ``x``
    (a sign is constant almost everywhere).  For complex ``x`` the slope ``conj(x) / |x|``
    moves with ``x``, which srcgrad does not differentiate: refused."""
    if isinstance(x, complex) or getattr(getattr(x, "dtype", None), "kind", "") == "c":
        raise SrcgradError(
            "a higher-order gradient through abs of complex values (the slope "
            "conj(x) / |x| is not differentiated)",
            construct="abs-complex",
            hint="stop at the order below, or differentiate abs of real values",
        )
    return namespace(g, x).zeros_like(g * x)
