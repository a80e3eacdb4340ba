"""Helpers of the special elementwise rules (``rules/special.py``): ``sinc``, ``copysign``,
``angle``, ``nan_to_num`` and the multi-output ones (``modf``, ``frexp``, ``divmod``), whose
unused outputs have no cotangent (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "zeros_if_none",
    "angle_cotangent",
    "copysign_slope",
    "nan_to_num_cotangent",
    "sinc_slope",
]

Array = Any


def zeros_if_none(g: Array | None, like: Array) -> Array:
    """The cotangent ``g`` of one output of a multi-output primitive, zeros if it is unused.

    Args:
        g: the output's cotangent, or ``None`` when the output does not reach the result.
        like: the forward output (its shape and dtype are read).

    Returns:
        ``g`` itself, or a fresh array of zeros shaped and typed like ``like``.
    """
    if g is not None:
        return g
    return namespace(like).zeros_like(like)


def sinc_slope(x: Array) -> Array:
    """The derivative of ``np.sinc``: ``(cos(pi x) - sinc(x)) / x``, 0 at ``x = 0``.

    Args:
        x: the argument of ``np.sinc`` (an array or a Python number).

    Returns:
        The slope, shaped and typed like ``np.sinc(x)``.
    """
    xp = namespace(x)
    if not hasattr(x, "shape"):
        return (
            0.0
            if x == 0
            else (math.cos(math.pi * x) - math.sin(math.pi * x) / (math.pi * x)) / x
        )
    safe = xp.where(x == 0, 1, x)
    slope = (xp.cos(math.pi * safe) - xp.sinc(safe)) / safe
    return xp.where(x == 0, 0, slope)


def copysign_slope(x1: Any, x2: Any) -> Array:
    """The derivative of ``np.copysign(x1, x2)`` in ``x1``: ``sign(x1)`` times the sign of ``x2``.

    Args:
        x1: the magnitude operand.
        x2: the sign operand (its sign bit is read, so ``-0.0`` counts as negative).

    Returns:
        ``+1`` / ``-1`` (0 where ``x1`` is 0), broadcast like the result.
    """
    xp = namespace(x1, x2)
    return xp.sign(x1) * xp.where(xp.signbit(x2), -1, 1)


def angle_cotangent(g: Array, z: Any, deg: bool = False) -> Array:
    """Cotangent of ``np.angle(z, deg)`` for the operand ``z``.

    ``angle`` is ``atan2(Im z, Re z)``: its cotangent is ``g * conj(i z) / |z|^2`` (autograd's
    convention), zero at ``z = 0`` and zero for real ``z`` (where the angle is piecewise
    constant: 0 or pi).

    Args:
        g: the cotangent of the angle (real).
        z: the operand.
        deg: the forward ``deg`` flag (degrees scale the slope by 180 / pi).

    Returns:
        A cotangent shaped and typed like ``z``.
    """
    xp = namespace(g, z)
    scale = 180.0 / math.pi if deg else 1.0
    if getattr(getattr(z, "dtype", None), "kind", "") != "c" and not isinstance(
        z, complex
    ):
        return unbroadcast(g * 0, z)
    mag2 = xp.real(z * xp.conj(z))
    d = g * scale * xp.conj(z * 1j) / xp.where(mag2 == 0, 1, mag2)
    return unbroadcast(xp.where(mag2 == 0, 0, d), z)


def nan_to_num_cotangent(g: Array, x: Any) -> Array:
    """Cotangent of ``np.nan_to_num(x)``: ``g`` where ``x`` is finite, 0 where it was replaced.

    Complex ``x`` has its real and imaginary parts replaced separately, so each part of the
    cotangent is masked by its own part of ``x``.

    Args:
        g: the cotangent of the result.
        x: the operand.

    Returns:
        A cotangent shaped and typed like ``x``.
    """
    xp = namespace(g, x)
    if getattr(getattr(x, "dtype", None), "kind", "") == "c":
        re = xp.where(xp.isfinite(x.real), xp.real(g), 0)
        im = xp.where(xp.isfinite(x.imag), xp.imag(g), 0)
        return unbroadcast(re + 1j * im, x)
    return unbroadcast(xp.where(xp.isfinite(x), g, 0), x)
