"""Adjoint rules for grids: ``linspace``, ``logspace``, ``geomspace``, ``meshgrid``, and
``interp`` (a piecewise-linear function sampled on a grid).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The ends of a range
(``start``, ``stop``) are differentiable; ``num`` and ``endpoint`` are not.  ``interp`` is
differentiable in ``x`` and ``fp``; its sample points ``xp`` are constants.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.domains import _increasing
from srcgrad.rules.registry import adjoint
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


@adjoint(
    np.geomspace,
    domain=_positive,
    shapes={"floats": "s,s", "arrays": "(3,),(3,)"},
    params={"num": [4], "endpoint": [True, False]},
)
def geomspace_adjoint(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return geomspace_cotangents(g, ans, start, stop, num, endpoint, axis)


# --------------------------------------------------------------------------- meshgrid


@adjoint(
    np.meshgrid,
    multi_output=True,
    shapes={"two": "(3,),(4,)", "three": "(2,),(3,),(4,)"},
    params={"indexing": ["xy", "ij"], "sparse": [False, True]},
    view=True,
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
