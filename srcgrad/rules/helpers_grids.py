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
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    cast_like,
    geomspace_cotangents,
    logspace_cotangents,
    require_real,
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
