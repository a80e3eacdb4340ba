"""Rules of the cotangent helpers of ``np.logspace`` and ``np.geomspace`` (higher orders
through them).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here, its own ``ans`` (the samples) ``out``.  Both are
``linspace_cotangents`` of a scaled cotangent, and ``linspace_cotangents`` is the adjoint
of the linear map ``(start, stop) -> np.linspace(start, stop)``: paired with the
cotangents ``(h_start, h_stop)`` of its result, a cotangent ``c`` gives ``<c,
np.linspace(h_start, h_stop)>``.  ``logspace_cotangents(ct, out) = L(ct * out * ln
base)``: ``ct`` and ``out`` get that linspace times the other and ``ln base`` (a base that
is differentiated is refused, as a parameter with a default).
``geomspace_cotangents(ct, out, start, stop) = (L_start(ct out / start), L_stop(ct out /
stop))``: with ``a = np.linspace(h_start, 0)`` and ``b = np.linspace(0, h_stop)``, ``ct``
gets ``out (a / start + b / stop)``, ``out`` likewise with ``ct``, and ``start`` gets
``-sum(ct out a) / start^2`` along the samples' axis (``stop`` likewise with ``b``).
Real values (a complex ``out`` is refused).

``interp_cotangents(ct, x, xp, fp)`` is the cotangent of ``y = f0 + (f1 - f0) t``, ``t =
(x - x0) / (x1 - x0)``, on each sample's segment (``interp_segments``, piecewise
constant): paired with ``(h_x, h_xp, h_fp)`` it is ``ct`` times the tangent of ``y``
along them (inside the knots; outside, ``fp``'s end values without ``left`` / ``right``),
and the samples, knots and values get that pairing's derivative through ``t`` and the
slope.

``gradient_cotangents(ct, out, f, spacings)`` maps ``ct`` by the transpose of
``np.gradient``'s stencil (its cotangent of ``f``, for constant spacings): linear in
``ct`` alone, so its adjoint is ``np.gradient`` itself (``gradient_of``), and ``f`` gets
zeros.  The spacings' cotangents are not linear in them: where those are used the
rule refuses, as it does for several axes.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.domains import _increasing
from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    cast_like,
    geomspace_cotangents,
    gradient_cotangents,
    gradient_of,
    interp_cotangents,
    interp_outside,
    interp_segments,
    take_cotangent,
    logspace_cotangents,
    require_real,
    stop_gradient,
    unbroadcast,
    zeros_if_none,
)

_SAMPLES = {
    "floats": ("(5,),(5,),s,s", {"num": 5}),
    "open": ("(5,),(5,),s,s", {"num": 5, "endpoint": False}),
    "vectors": ("(5,3),(5,3),(3,),(3,)", {"num": 5}),
    "last-axis": ("(3,5),(3,5),(3,),(3,)", {"num": 5, "axis": -1}),
    "broadcast": ("(5,2,3),(5,2,3),(3,),(2,1)", {"num": 5}),
}


@adjoint(
    logspace_cotangents,
    python_floats=(),
    nondiff=("start", "stop"),
    shape_only=("start", "stop"),
    shapes={**_SAMPLES, "base": ("(5,),(5,),s,s", {"num": 5, "base": 2.0})},
    multi_output=True,
)
def logspace_cotangents_adjoint(
    g, ans, ct, out, start, stop, num=50, endpoint=True, base=10.0, axis=0
):
    real = require_real(out, "logspace")
    scaled = np.linspace(
        zeros_if_none(g[0], ans[0]),
        zeros_if_none(g[1], ans[1]),
        num,
        endpoint=endpoint,
        axis=axis,
    )
    log_base = np.expand_dims(
        np.log(base) + np.zeros_like(np.take(real, 0, axis=axis)), axis
    )
    return (
        cast_like(unbroadcast(scaled * real * log_base, ct), ct),
        cast_like(unbroadcast(scaled * ct * log_base, real), real),
    )


@adjoint(
    geomspace_cotangents,
    python_floats=(),
    shapes=_SAMPLES,
    multi_output=True,
    domain={"start": (0.5, 2.0), "stop": (0.5, 2.0)},
)
def geomspace_cotangents_adjoint(
    g, ans, ct, out, start, stop, num=50, endpoint=True, axis=0
):
    real = require_real(out, "geomspace")
    zero = np.zeros_like(np.take(real, 0, axis=axis))
    first = np.expand_dims(start + zero, axis)
    last = np.expand_dims(stop + zero, axis)
    a = np.linspace(
        zeros_if_none(g[0], ans[0]), 0.0 * zero, num, endpoint=endpoint, axis=axis
    )
    b = np.linspace(
        0.0 * zero, zeros_if_none(g[1], ans[1]), num, endpoint=endpoint, axis=axis
    )
    share = a / first + b / last
    d_first = -np.sum(ct * real * a / (first * first), axis=axis)
    d_last = -np.sum(ct * real * b / (last * last), axis=axis)
    return (
        cast_like(unbroadcast(real * share, ct), ct),
        cast_like(unbroadcast(ct * share, real), real),
        unbroadcast(d_first, start),
        unbroadcast(d_last, stop),
    )


@adjoint(
    interp_cotangents,
    python_floats=(),
    shapes={"vector": "(7,),(7,),(5,),(5,)", "float": "(),s,(5,),(5,)"},
    params=[{}, {"left": [-1.0], "right": [2.5]}],
    domain={"xp": _increasing, "x": (-3.0, 5.0)},
    multi_output=True,
)
def interp_cotangents_adjoint(
    g, ans, ct, x, xp, fp, left=None, right=None, period=None
):
    h_x = zeros_if_none(g[0], ans[0])
    h_xp = zeros_if_none(g[1], ans[1])
    h_fp = zeros_if_none(g[2], ans[2])
    i = interp_segments(x, xp)
    j = i + 1
    width = np.take(xp, j) - np.take(xp, i)
    t = (x - np.take(xp, i)) / width
    slope = (np.take(fp, j) - np.take(fp, i)) / width
    inside = (x >= np.take(xp, 0)) & (x <= np.take(xp, -1))
    outside = interp_outside(x, xp, left, right)
    h_x0 = np.take(h_xp, i)
    h_x1 = np.take(h_xp, j)
    h_f0 = np.take(h_fp, i)
    h_f1 = np.take(h_fp, j)
    along_slope = h_x + h_x0 * (t - 1) - h_x1 * t
    along_t = h_f1 - h_f0 + slope * (h_x0 - h_x1)
    tangent = h_f0 + (h_f1 - h_f0) * t + slope * along_slope
    d_ct = (
        np.where(inside, tangent, 0.0)
        + outside[0] * np.take(h_fp, 0)
        + outside[1] * np.take(h_fp, -1)
    )
    scale = np.where(inside, ct, 0.0) / width
    d_f = scale * along_slope
    d_x0 = scale * (along_t * (t - 1) + along_slope * slope)
    d_x1 = -scale * (along_t * t + along_slope * slope)
    return (
        cast_like(unbroadcast(d_ct, ct), ct),
        unbroadcast(scale * along_t, x),
        take_cotangent(d_x0, xp, i) + take_cotangent(d_x1, xp, j),
        take_cotangent(-d_f, fp, i) + take_cotangent(d_f, fp, j),
    )


nondifferentiable(
    interp_outside, reason="0 or 1: whether a sample takes an end value of fp"
)
nondifferentiable(
    interp_segments, reason="integers: the knots' segment each sample lies in"
)


_GRADIENT = {
    "vector": "(6,),(6,),(6,)",
    "rows": ("(4,5),(4,5),(4,5)", {"axis": 0}),
    "columns": ("(4,5),(4,5),(4,5)", {"axis": -1}),
}


@adjoint(
    gradient_cotangents,
    python_floats=(),
    nondiff=("out",),
    shape_only=("out",),
    shapes=_GRADIENT,
    params={"edge_order": [1, 2]},
    multi_output=True,
)
def gradient_cotangents_adjoint(
    g, ans, ct, out, f, varargs=(), axis=None, edge_order=1
):
    # the spacings' cotangents are only checked (to be unused): no gradient flows there
    spacings_used = stop_gradient(g[1])
    d_ct = gradient_of(
        zeros_if_none(g[0], ans[0]), varargs, axis, edge_order, spacings_used
    )
    return cast_like(d_ct, ct), np.zeros_like(d_ct)


@adjoint(
    gradient_of,
    python_floats=(),
    shapes={
        "vector": "(6,)",
        "rows": ("(4,5)", {"axis": 0}),
        "spaced": ("(6,)", {"varargs": (0.5,)}),
        "coordinates": ("(6,)", {"varargs": ([0.0, 0.5, 1.5, 1.75, 2.5, 3.0],)}),
    },
    params={"edge_order": [1, 2]},
)
def gradient_of_adjoint(
    g, ans, f, varargs=(), axis=None, edge_order=1, spacing_cotangents=None
):
    return gradient_cotangents(g, ans, f, varargs, axis, edge_order)[0]
