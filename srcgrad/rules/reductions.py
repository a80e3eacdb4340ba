"""Adjoint rules for reductions: sum, mean, max/min, prod, var, std.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Conventions in this module:

* Signatures follow numpy's parameter names and positional order up to the first parameter
  srcgrad does not support (``out``); ``keepdims`` and everything after it are keyword-only,
  so a call that passes ``out`` positionally fails to bind instead of binding wrongly.
  ``dtype`` (and ``initial`` for ``sum``) are accepted and do not change the rule: the
  cotangent always comes back in the operand's dtype.  ``out``, ``where``, ``initial`` (for
  max/min/prod), ``mean`` and ``correction`` (var/std) are not supported.
* ``shapes`` names the test cases; each is a string with one input shape per positional
  parameter, as in ``binary.py``.  ``params`` is the grid of keyword values swept over every
  case.  Every shape here has at least two axes, so every ``axis`` in the grid is valid.
* Ties in ``max``/``min`` share the gradient evenly (as HIPS autograd does): with k tied
  maxima each gets ``g / k``.  This is the symmetric choice and keeps ``max(x, axis)``
  consistent with ``max`` of a constant array (gradient 1 in total).
* ``prod`` is exact with zeros: the gradient of each element is the product of the other
  elements of its group, computed without division (:func:`prod_others`).
* ``std``'s gradient is ``inf``/``nan`` where the standard deviation is 0, as in autograd.
  ``var`` and ``std`` are for real inputs.

NaN-aware reductions, ``average``, ``ptp`` and the order statistics are in ``statistics.py``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import expand_like, prod_others, reduction_size

_AXES = {"axis": [None, 0, -1, (0, 1)], "keepdims": [False, True]}
_SHAPES = {"matrix": "(3,4)", "3d": "(2,3,4)"}


@adjoint(
    np.sum,
    kind="reduce",
    methods=("sum",),
    shapes=_SHAPES,
    params=_AXES,
    jvp="linear",
    offsets=("initial",),
)
def sum_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False, initial=None):
    return expand_like(g, a, axis=axis, keepdims=keepdims)


@adjoint(
    np.mean,
    kind="reduce",
    methods=("mean",),
    shapes=_SHAPES,
    params=_AXES,
    jvp="linear",
)
def mean_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return expand_like(g, a, axis=axis, keepdims=keepdims) / reduction_size(a, axis)


# np.amax and np.amin are not np.max and np.min in numpy 2
@adjoint(
    np.max,
    kind="reduce",
    methods=("max",),
    shapes=_SHAPES,
    params=_AXES,
    jvp="reduction",
)
@adjoint(
    np.amax, kind="reduce", same_as="max", shapes=_SHAPES, params=_AXES, jvp="reduction"
)
@adjoint(
    np.min,
    kind="reduce",
    methods=("min",),
    shapes=_SHAPES,
    params=_AXES,
    jvp="reduction",
)
@adjoint(
    np.amin, kind="reduce", same_as="min", shapes=_SHAPES, params=_AXES, jvp="reduction"
)
def extremum_adjoint(g, ans, a, axis=None, *, keepdims=False):
    # every element equal to the maximum (minimum) gets an equal share of g
    hits = (a == expand_like(ans, a, axis=axis, keepdims=keepdims)).astype(ans.dtype)
    share = hits / np.sum(hits, axis=axis, keepdims=True)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * share


@adjoint(
    np.prod,
    kind="reduce",
    methods=("prod",),
    shapes=_SHAPES,
    params=_AXES,
    jvp="reduction",
)
def prod_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    # d prod / d a_i is the product of the others; exact when a holds zeros
    return expand_like(g, a, axis=axis, keepdims=keepdims) * prod_others(a, axis)


@adjoint(
    np.var,
    kind="reduce",
    methods=("var",),
    shapes=_SHAPES,
    params={**_AXES, "ddof": [0, 1]},
    jvp="reduction",
)
def var_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    scale = 2.0 / (reduction_size(a, axis) - ddof)
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * (scale * centered)


@adjoint(
    np.std,
    kind="reduce",
    methods=("std",),
    shapes=_SHAPES,
    params={**_AXES, "ddof": [0, 1]},
    jvp="reduction",
)
def std_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    # d std = d var / (2 std)
    scale = 1.0 / (reduction_size(a, axis) - ddof)
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return expand_like(g / ans, a, axis=axis, keepdims=keepdims) * (scale * centered)
