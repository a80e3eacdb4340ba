"""Helpers of the grid rules (``rules/grids.py``): ``linspace``/``logspace``/``geomspace``,
``meshgrid`` and ``interp`` (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _axis, _refuse_pair, _shape_of, _take_range
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "geomspace_cotangents",
    "interp_cotangents",
    "interp_segments",
    "interp_outside",
    "linspace_cotangents",
    "logspace_cotangents",
    "meshgrid_cotangents",
]

Array = Any


def linspace_cotangents(
    g: Array,
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    axis: int = 0,
    retstep: bool = False,
) -> tuple[Array, Array]:
    """Cotangents of ``np.linspace(start, stop, num, endpoint, axis=axis)``.

    ``y = start + (stop - start) * t`` with ``t = i / div``: ``start`` gets ``sum g (1 - t)``
    and ``stop`` gets ``sum g t`` along the sample axis (each then summed to its shape).

    Args:
        g: the cotangent of the samples.
        start: the first value (a Python number or an array).
        stop: the last value.
        num: the number of samples.
        endpoint: the forward flag.
        axis: the forward ``axis`` (where the samples lie in the result).
        retstep: must be False (``retstep=True`` returns a pair).

    Returns:
        ``(cotangent of start, cotangent of stop)``.

    Raises:
        NotImplementedError: for ``retstep=True``.
    """
    if retstep:
        hint = "compute the step as (stop - start) / (num - 1)"
        _refuse_pair("np.linspace(..., retstep=True)", hint)
    xp = namespace(g, start, stop)
    num = operator.index(num)
    div = (num - 1) if endpoint else num
    ax = _axis(axis, g.ndim)
    t = xp.arange(num, dtype=g.dtype if g.dtype.kind == "f" else None)
    t = t / div if div > 0 else t * 0
    shape = [1] * g.ndim
    shape[ax] = num
    t = xp.reshape(t, tuple(shape))
    if endpoint and num > 1:
        # numpy sets the last sample to stop exactly
        t = xp.concatenate(
            [
                _take_range(xp, t, ax, 0, num - 1),
                xp.ones_like(_take_range(xp, t, ax, 0, 1)),
            ],
            axis=ax,
        )
    d_start = xp.sum(g * (1 - t), axis=ax)
    d_stop = xp.sum(g * t, axis=ax)
    return unbroadcast(d_start, start), unbroadcast(d_stop, stop)


def logspace_cotangents(
    g: Array,
    ans: Array,
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    base: Any = 10.0,
    axis: int = 0,
) -> tuple[Array, Array]:
    """Cotangents of ``np.logspace(start, stop, num, endpoint, base, axis=axis)``.

    ``y = base ** linspace(start, stop)``: the linspace cotangent of ``g * y * log(base)``.

    Args:
        g: the cotangent of the samples.
        ans: the forward result.
        start: the first exponent.
        stop: the last exponent.
        num: the number of samples.
        endpoint: the forward flag.
        base: the base (a constant).
        axis: the forward ``axis``.

    Returns:
        ``(cotangent of start, cotangent of stop)``.
    """
    xp = namespace(g, ans, start, stop, base)
    if hasattr(base, "shape"):
        log_base = _expand_at(
            xp, xp.log(xp.asarray(base, dtype=ans.dtype)), ans, _axis(axis, ans.ndim)
        )
    else:
        log_base = math.log(base)
    return linspace_cotangents(g * ans * log_base, start, stop, num, endpoint, axis)


def geomspace_cotangents(
    g: Array,
    ans: Array,
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    axis: int = 0,
) -> tuple[Array, Array]:
    """Cotangents of ``np.geomspace(start, stop, num, endpoint, axis=axis)`` (real, same sign).

    ``y = start * (stop / start) ** t``: ``start`` gets ``sum g y (1 - t) / start`` and
    ``stop`` gets ``sum g y t / stop``.

    Args:
        g: the cotangent of the samples.
        ans: the forward result.
        start: the first value.
        stop: the last value.
        num: the number of samples.
        endpoint: the forward flag.
        axis: the forward ``axis``.

    Returns:
        ``(cotangent of start, cotangent of stop)``.
    """
    xp = namespace(g, ans, start, stop)
    ax = _axis(axis, ans.ndim)
    a_start = _expand_at(xp, xp.asarray(start, dtype=ans.dtype), ans, ax)
    a_stop = _expand_at(xp, xp.asarray(stop, dtype=ans.dtype), ans, ax)
    d_start, _ = linspace_cotangents(
        g * ans / a_start, start, stop, num, endpoint, axis
    )
    _, d_stop = linspace_cotangents(g * ans / a_stop, start, stop, num, endpoint, axis)
    return d_start, d_stop


def _expand_at(xp: Any, v: Array, ans: Array, ax: int) -> Array:
    """``v`` (shaped like ``ans`` without axis ``ax``, or broadcastable) with a unit axis."""
    if v.ndim == 0:
        return v
    return xp.expand_dims(v, ax)


def interp_segments(x: Any, xp_: Any) -> Any:
    """The segment of each ``x`` among the knots ``xp_``: ``i`` with ``xp_[i] <= x <
    xp_[i + 1]``, clipped to ``[0, n - 2]`` (the segment ``np.interp`` reads)."""
    xpn = namespace(x, xp_)
    pts = xpn.asarray(xp_)
    i = xpn.searchsorted(pts, xpn.asarray(x), side="right") - 1
    return xpn.clip(i, 0, pts.shape[0] - 2)


def interp_outside(x: Any, xp_: Any, left: Any = None, right: Any = None) -> tuple:
    """1.0 where ``x`` lies below the knots and ``np.interp`` gives ``fp[0]`` there (no
    ``left``), else 0.0; likewise above the knots with ``fp[-1]`` (no ``right``)."""
    xpn = namespace(x, xp_)
    pts = xpn.asarray(xp_)
    xa = xpn.asarray(x)
    below = (xa < pts[0]) & (left is None)
    above = (xa > pts[pts.shape[0] - 1]) & (right is None)
    dtype = pts.dtype if pts.dtype.kind == "f" else None
    return xpn.asarray(below, dtype=dtype) * 1.0, xpn.asarray(above, dtype=dtype) * 1.0


def interp_cotangents(
    g: Array,
    x: Any,
    xp_: Any,
    fp: Any,
    left: Any = None,
    right: Any = None,
    period: Any = None,
) -> tuple[Array, Array, Array]:
    """Cotangents of ``np.interp(x, xp, fp, left, right)`` for ``x``, ``xp`` and ``fp``.

    Inside ``[xp[0], xp[-1]]`` the result is ``fp[i] + s (x - xp[i])`` with slope
    ``s = (fp[i+1] - fp[i]) / (xp[i+1] - xp[i])``; outside it is ``left`` / ``right``
    (``fp[0]`` / ``fp[-1]`` by default), which does not move with ``x``.

    Args:
        g: the cotangent of the result.
        x: the evaluation points.
        xp_: the increasing sample points.
        fp: the sample values (real).
        left: the forward ``left``.
        right: the forward ``right``.
        period: must be ``None``.

    Returns:
        ``(cotangent of x, cotangent of xp, cotangent of fp)``.
    """
    if period is not None:
        raise NotImplementedError(
            "srcgrad differentiates np.interp without `period` only"
        )
    xpn = namespace(g, x, xp_, fp)
    xa = xpn.asarray(x)
    pts = xpn.asarray(xp_)
    vals = xpn.asarray(fp)
    n = pts.shape[0]
    dtype = g.dtype
    i = xpn.clip(xpn.searchsorted(pts, xa, side="right") - 1, 0, n - 2)
    x0 = pts[i]
    x1 = pts[i + 1]
    f0 = vals[i]
    f1 = vals[i + 1]
    width = x1 - x0
    t = (xa - x0) / width
    inside = (xa >= pts[0]) & (xa <= pts[n - 1])
    below = xa < pts[0]
    above = xa > pts[n - 1]
    slope = (f1 - f0) / width
    ga = xpn.where(inside, g, 0)
    d_x = ga * slope
    # fp: weights (1 - t) on f0 and t on f1; outside the range fp[0] / fp[-1] by default
    d_fp = xpn.zeros(vals.shape, dtype=dtype)
    flat_i = xpn.reshape(i, (-1,))
    xpn.add.at(d_fp, flat_i, xpn.reshape(ga * (1 - t), (-1,)))
    xpn.add.at(d_fp, flat_i + 1, xpn.reshape(ga * t, (-1,)))
    if left is None:
        d_fp[0] = d_fp[0] + xpn.sum(xpn.where(below, g, 0))
    if right is None:
        d_fp[n - 1] = d_fp[n - 1] + xpn.sum(xpn.where(above, g, 0))
    # xp: y = f0 + (f1 - f0) (x - x0) / (x1 - x0)
    d_x0 = ga * slope * (t - 1)
    d_x1 = -ga * slope * t
    d_pts = xpn.zeros(pts.shape, dtype=dtype)
    xpn.add.at(d_pts, flat_i, xpn.reshape(d_x0, (-1,)))
    xpn.add.at(d_pts, flat_i + 1, xpn.reshape(d_x1, (-1,)))
    return unbroadcast(d_x, x), unbroadcast(d_pts, xp_), unbroadcast(d_fp, fp)


def meshgrid_cotangents(
    g: Sequence[Any], xi: Sequence[Any], indexing: str = "xy"
) -> list:
    """Cotangents of ``np.meshgrid(*xi, indexing=indexing)`` (dense or sparse).

    Output ``k`` varies along one axis only; the cotangent of ``xi[k]`` is its cotangent
    summed over every other axis.

    Args:
        g: one cotangent per output (``None`` for an unused one).
        xi: the coordinate vectors.
        indexing: ``"xy"`` or ``"ij"``.

    Returns:
        A list with one cotangent per input (``None`` where the output was unused).
    """
    out = []
    n = len(xi)
    for k, (part, x) in enumerate(zip(g, xi)):
        if part is None:
            out.append(None)
            continue
        xp = namespace(part, x)
        own = k
        if indexing == "xy" and n > 1 and k < 2:
            own = 1 - k
        others = tuple(i for i in range(part.ndim) if i != own)
        total = xp.sum(part, axis=others) if others else part
        out.append(unbroadcast(xp.reshape(total, _shape_of(x)), x))
    return out
