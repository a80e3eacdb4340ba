"""Helpers of the binary elementwise rules (``rules/binary.py``): how ``maximum``/``minimum``
split a cotangent between ties, and the slopes of ``power`` and ``log`` that stay finite where
numpy's naive formula would give ``0 * inf`` (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import cmath
import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _is_python_scalar

__all__ = [
    "split_cotangent",
    "extremum_share",
    "log_or_zero",
    "power_slope",
]

Array = Any


def extremum_share(x: Any, ans: Array, other: Any) -> Array:
    """The share of ``np.maximum(x, other)``'s (or ``minimum``'s) cotangent that ``x`` gets.

    1 where ``x`` alone attains the result, 1/2 where ``x`` and ``other`` tie, 0 elsewhere.
    Splitting ties evenly follows autograd (``balanced_eq``): it makes the gradient of
    ``np.maximum(x, x)`` equal to that of ``x``.  ``np.maximum(x, 0)`` therefore has slope
    1/2 at exactly ``x == 0``.

    Args:
        x: the operand whose share is wanted (an array or a Python number).
        ans: the forward result.
        other: the other operand.

    Returns:
        An array shaped like ``ans`` in ``ans``'s dtype (no float64 upcast for float32 data).
    """
    if not hasattr(ans, "dtype"):  # builtin max/min returned a Python number
        mine_f = (x == ans) * 1.0  # no float(): x may live on a device
        theirs_f = (other == ans) * 1.0
        return mine_f / (mine_f + theirs_f)
    dtype = ans.dtype
    mine = (ans == x).astype(dtype)
    theirs = (ans == other).astype(dtype)
    return mine / (1 + theirs)


def split_cotangent(g: Any, x: Any, result: Any, other: Any) -> Any:
    """``g * extremum_share(x, result, other)``, bit for bit, in fewer passes over the data.

    The share is counted in halves in one byte per element (``mine + (mine & not tie)``: 2,
    1 or 0), cast to the exact float shares 1, 1/2, 0, and multiplied by ``g`` in place.  Falls back to the plain product unless ``g`` and ``result`` are arrays of
    one shape and dtype.

    Args:
        g: the cotangent of ``np.maximum(x, other)`` (or ``minimum``).
        x: the operand whose cotangent is wanted.
        result: the forward result.
        other: the other operand.

    Returns:
        ``g`` times ``x``'s share, shaped like ``result`` (``unbroadcast`` it to ``x``).
    """
    ans = result
    dtype = getattr(ans, "dtype", None)
    if (
        dtype is None
        or dtype.kind != "f"
        or getattr(g, "dtype", None) != dtype
        or getattr(g, "shape", None) != ans.shape
        or not ans.ndim
    ):
        return g * extremum_share(x, ans, other)
    xp = namespace(g, ans)
    mine = ans == x
    halves = mine.view(xp.uint8)
    halves += (mine & (ans != other)).view(xp.uint8)  # writes through mine: it is spent
    share = halves.astype(dtype)  # a plain cast: faster than a mixed-type multiply
    share *= dtype.type(0.5)
    share *= g
    return share


def power_slope(x1: Any, x2: Any) -> Array:
    """The derivative of ``x1 ** x2`` with respect to ``x1``: ``x2 * x1 ** (x2 - 1)``.

    Where ``x2 == 0`` the slope is 0 (``x1 ** 0`` is constant), also at ``x1 == 0`` where the
    plain formula gives ``0 * inf = nan``.  This is autograd's guard.

    Args:
        x1: the base (an array or a Python number).
        x2: the exponent (an array or a Python number).

    Returns:
        The slope, broadcast like ``x1 ** x2``.
    """
    if _is_python_scalar(x2):
        if x2 == 0:
            return x1 * 0
        if _is_python_scalar(x1):
            # numpy's power, not Python's: 0.0 ** -0.5 is inf (not ZeroDivisionError) and
            # (-1.5) ** 0.5 is nan (not a complex number), as in the forward np.power
            import numpy  # host scalars only: nothing here touches a device

            x1 = numpy.complex128(x1) if isinstance(x1, complex) else numpy.float64(x1)
        return x2 * x1 ** (x2 - 1)
    xp = namespace(x1, x2)
    return x2 * x1 ** xp.where(x2 == 0, 1, x2 - 1)


def log_or_zero(x: Any) -> Any:
    """``log(x)`` where ``x > 0`` and 0 where ``x <= 0``, for the exponent's cotangent of a power.

    The derivative of ``x1 ** x2`` with respect to ``x2`` is ``x1 ** x2 * log(x1)``.  At
    ``x1 == 0`` (and ``x2 > 0``) the power is constantly 0, so 0 is the true slope (autograd
    replaces the zero the same way).  For ``x1 < 0`` the real power is defined only at integer
    exponents, where it has no derivative in ``x2``; 0 is returned there, which keeps a zero
    cotangent zero instead of turning it into ``nan``.  At non-integer exponents the forward
    value is ``nan`` already and the cotangent stays ``nan``.  Complex ``x`` gets the
    principal ``log`` with only ``x == 0`` replaced.

    Args:
        x: the base (an array or a Python number).

    Returns:
        An array in ``x``'s dtype, or a Python number for a Python number.
    """
    if _is_python_scalar(x):
        if isinstance(x, complex):
            return cmath.log(x) if x != 0 else 0.0
        return math.log(x) if x > 0 else 0.0
    xp = namespace(x)
    if x.dtype.kind == "c":
        return xp.log(xp.where(x == 0, 1, x))
    return xp.log(xp.where(x > 0, x, 1))
