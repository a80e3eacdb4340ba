"""Adjoint rules for grids: ``linspace``, ``logspace``, ``geomspace``, ``meshgrid``, and
``interp`` (a piecewise-linear function sampled on a grid).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The ends of a range
(``start``, ``stop``) are differentiable; ``num`` and ``endpoint`` are not.  ``interp`` is
differentiable in ``x``, ``xp`` and ``fp``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.domains import _increasing
from srcgrad.errors import MissingRuleError
from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import (
    geomspace_cotangents,
    interp_cotangents,
    linspace_cotangents,
    logspace_cotangents,
    meshgrid_cotangents,
)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


# --------------------------------------------------------------------------- ranges


@adjoint(
    np.linspace,
    shapes={"floats": "s,s", "arrays": "(3,),(3,)", "mixed": "s,(2,3)"},
    params=[{"num": [5], "endpoint": [True, False]}, {"num": [4], "axis": [-1]}],
    jvp="linear",
)
def linspace_adjoint(
    g,
    ans,
    start,
    stop,
    num=50,
    endpoint=True,
    retstep=False,
    dtype=None,
    axis=0,
    *,
    device=None,
):
    return linspace_cotangents(g, start, stop, num, endpoint, axis, retstep)


@adjoint(
    np.logspace,
    domain=(-1.0, 1.0),
    shapes={"floats": "s,s", "arrays": "(3,),(3,)"},
    params={"num": [4], "endpoint": [True, False], "base": [10.0, 2.0]},
)
def logspace_adjoint(
    g, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0
):
    return logspace_cotangents(g, ans, start, stop, num, endpoint, base, axis)


@jvp_of(logspace_adjoint)
def logspace_jvp(ans, dots, b):
    # base ** linspace(start, stop): the tangent is ans * ln(base) * linspace(t_start,
    # t_stop), with base shaped as numpy shapes it
    axis = b.get("axis", 0)
    base = np.asarray(b.get("base", 10.0))
    ndmax = np.broadcast(b["start"], b["stop"], base).ndim
    base = np.expand_dims(np.array(base, ndmin=ndmax), axis)
    return ans * np.log(base) * _range_of(dots, b, 1.0, 1.0)


@adjoint(
    np.geomspace,
    domain=_positive,
    shapes={"floats": "s,s", "arrays": "(3,),(3,)"},
    params={"num": [4], "endpoint": [True, False]},
)
def geomspace_adjoint(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return geomspace_cotangents(g, ans, start, stop, num, endpoint, axis)


@jvp_of(geomspace_adjoint)
def geomspace_jvp(ans, dots, b):
    # log|y| = linspace(log|start|, log|stop|): t_y = y * linspace(t_start / start, ...)
    return ans * _range_of(dots, b, b["start"], b["stop"])


def _range_of(dots, b, start, stop):
    """``linspace(t_start / start, t_stop / stop)`` with the call's num, endpoint, axis."""
    ends = [
        np.zeros(np.shape(b[p])) if t is None else np.asarray(t) / np.asarray(scale)
        for p, t, scale in zip(("start", "stop"), dots, (start, stop))
    ]
    kw = {k: b[k] for k in ("num", "endpoint", "axis") if k in b}
    return np.linspace(*ends, **kw)


# --------------------------------------------------------------------------- meshgrid


@adjoint(
    np.meshgrid,
    multi_output=True,
    shapes={"two": "(3,),(4,)", "three": "(2,),(3,),(4,)"},
    params={"indexing": ["xy", "ij"], "sparse": [False, True]},
    view=True,
    jvp="linear",
)
def meshgrid_adjoint(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    return meshgrid_cotangents(g, xi, indexing)


# --------------------------------------------------------------------------- interpolation


@adjoint(
    np.interp,
    domain={"xp": _increasing, "x": (-3.0, 5.0)},
    shapes={"vector": "(7,),(5,),(5,)"},
    params=[{}, {"left": [-1.0], "right": [2.5]}],
)
def interp_adjoint(g, ans, x, xp, fp, left=None, right=None, period=None):
    return interp_cotangents(g, x, xp, fp, left, right, period)


@jvp_of(interp_adjoint)
def interp_jvp(ans, dots, b):
    # inside [xp[0], xp[-1]]: fp[i] + s (x - xp[i]) with s = (fp[i+1] - fp[i]) / (xp[i+1]
    # - xp[i]); outside: left / right (constants), fp[0] / fp[-1] by default
    if b.get("period") is not None:
        raise MissingRuleError(
            "interp(period=...) has no tangent rule", construct="interp"
        )
    x, pts, vals = (np.asarray(b[p], dtype=float) for p in ("x", "xp", "fp"))
    t_x, t_pts, t_vals = (
        np.zeros(np.shape(v)) if t is None else np.asarray(t)
        for v, t in zip((x, pts, vals), dots)
    )
    n = pts.shape[0]
    i = np.clip(np.searchsorted(pts, x, side="right") - 1, 0, n - 2)
    width = pts[i + 1] - pts[i]
    w = (x - pts[i]) / width
    slope = (vals[i + 1] - vals[i]) / width
    inside = slope * (t_x - (1 - w) * t_pts[i] - w * t_pts[i + 1])
    inside = inside + (1 - w) * t_vals[i] + w * t_vals[i + 1]
    below = t_vals[0] if b.get("left") is None else 0.0
    above = t_vals[n - 1] if b.get("right") is None else 0.0
    out = np.where(x < pts[0], below, np.where(x > pts[n - 1], above, inside))
    return out.reshape(np.shape(ans))
