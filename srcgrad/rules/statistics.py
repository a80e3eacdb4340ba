"""Adjoint rules for statistics: NaN-aware reductions, averages, ``ptp`` and order statistics.

The rule-body contract is in :mod:`srcgrad.rules.registry`; the conventions of
``reductions.py`` apply (numpy's parameter names and order up to ``out``; ``keepdims`` and
later parameters keyword-only; ``out=`` and ``where=`` are not supported).

* NaN-aware reductions give NaN entries a zero cotangent; their tests draw inputs with NaNs.
* ``max``-like reductions (``ptp``, ``nanmax``) share the cotangent evenly among ties.
* ``median`` / ``quantile`` / ``percentile`` (linear interpolation) send the cotangent to the
  one or two order statistics the result interpolates.
* ``average``'s ``weights`` are constants (an active value there is refused by the engine).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.domains import _with_nans
from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import (
    cov_cotangents,
    average_cotangent,
    expand_like,
    extremum_cotangent,
    nan_count,
    prod_others,
    quantile_cotangent,
)

_SHAPES = {"matrix": "(3,4)", "3d": "(2,3,4)"}
# axis None / an int / a tuple, and keepdims; kept small: every combination is also run
# through the engine (tests/rules/test_inlined.py)
_AXES = [{"axis": [None, (0, 1)]}, {"axis": [-1], "keepdims": [True]}]
_NAN_SHAPES = {
    "matrix": "(4,5)",
    "3d": "(3,4,5)",
}  # every group keeps two or more numbers


# --------------------------------------------------------------------------- averages


@adjoint(
    np.average,
    shapes={"matrix": "(3,4)"},
    params=[
        *_AXES,
        {"axis": [1], "weights": [[1.0, 2.0, 0.5, 3.0]]},
        {"axis": [None], "weights": [[[1.0, 2.0, 0.5, 3.0]] * 3]},
    ],
    jvp="reduction",
)
def average_adjoint(
    g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False
):
    return average_cotangent(g, a, axis, weights, returned, keepdims)


# --------------------------------------------------------------------------- NaN-aware


@adjoint(
    np.cov,
    optional_operands=("y",),
    nondiff=("rowvar", "bias", "ddof", "fweights", "aweights", "dtype"),
    accepts={
        "fweights": ((None,), "repeat the observations instead of weighting them"),
        "aweights": ((None,), "scale the centred observations by sqrt(weights) instead"),
    },
    shapes={
        "matrix": ("(3,5),-", {"y": None}),
        "two-vectors": "(5,),(5,)",
        "matrix-and-vector": "(2,5),(5,)",
        "columns": ("(5,3),-", {"y": None, "rowvar": False}),
        "columns-and-vector": ("(5,2),(5,)", {"rowvar": False}),
    },
    params=[{"bias": [False, True]}, {"ddof": [0, 2]}],
)
def cov_adjoint(
    g,
    ans,
    m,
    y=None,
    rowvar=True,
    bias=False,
    ddof=None,
    fweights=None,
    aweights=None,
    *,
    dtype=None,
):
    d = cov_cotangents(g, m, y, rowvar, bias, ddof)
    return d[0], d[1]


def _cov_stack(m, y, rowvar):
    """The variables of np.cov(m, y, rowvar) as rows of one 2-D array."""
    rows = [np.atleast_2d(np.asarray(v)) for v in (m, y) if v is not None]
    rows = [r.T if not rowvar and r.shape[0] != 1 else r for r in rows]
    return np.concatenate(rows, axis=0)


@jvp_of(cov_adjoint)
def cov_jvp(ans, dots, b):
    # bilinear in the centred variables: dC = (dXc Xc^T + Xc dXc^T) / (N - ddof)
    m, y, rowvar = b["m"], b.get("y"), b.get("rowvar", True)
    ddof = b.get("ddof")
    ddof = (1 if not b.get("bias", False) else 0) if ddof is None else ddof
    X = _cov_stack(m, y, rowvar)
    fill = [np.zeros(np.shape(v)) if d is None else d for v, d in zip((m, y), dots)]
    dX = _cov_stack(fill[0], None if y is None else fill[1], rowvar)
    Xc = X - X.mean(axis=1, keepdims=True)
    dXc = dX - dX.mean(axis=1, keepdims=True)
    dC = (dXc @ Xc.T + Xc @ dXc.T) / (X.shape[1] - ddof)
    return np.reshape(dC, np.shape(ans))


@adjoint(
    np.nansum, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans, jvp="reduction"
)
def nansum_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return expand_like(g, a, axis=axis, keepdims=keepdims) * ~np.isnan(a)


@adjoint(
    np.nanmean, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans, jvp="reduction"
)
def nanmean_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return (
        expand_like(g, a, axis=axis, keepdims=keepdims)
        * ~np.isnan(a)
        / nan_count(a, axis)
    )


@adjoint(
    np.nanmax, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans, jvp="reduction"
)
def nanmax_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return extremum_cotangent(
        g, a, np.nanmax(a, axis=axis, keepdims=True), axis, keepdims
    )


@adjoint(
    np.nanmin, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans, jvp="reduction"
)
def nanmin_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return extremum_cotangent(
        g, a, np.nanmin(a, axis=axis, keepdims=True), axis, keepdims
    )


@adjoint(
    np.nanprod, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans, jvp="reduction"
)
def nanprod_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    others = prod_others(np.where(np.isnan(a), 1, a), axis)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * others * ~np.isnan(a)


@adjoint(
    np.nanvar,
    shapes=_NAN_SHAPES,
    params=[*_AXES, {"axis": [0], "ddof": [1]}],
    domain=_with_nans,
    jvp="reduction",
)
def nanvar_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = np.where(np.isnan(a), 0, a - np.nanmean(a, axis=axis, keepdims=True))
    scale = 2 / (nan_count(a, axis) - ddof)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * (scale * centered)


@adjoint(
    np.nanstd,
    shapes=_NAN_SHAPES,
    params=[*_AXES, {"axis": [0], "ddof": [1]}],
    domain=_with_nans,
    jvp="reduction",
)
def nanstd_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = np.where(np.isnan(a), 0, a - np.nanmean(a, axis=axis, keepdims=True))
    scale = 1 / (nan_count(a, axis) - ddof)
    return expand_like(g / ans, a, axis=axis, keepdims=keepdims) * (scale * centered)


# --------------------------------------------------------------------------- order statistics


@adjoint(np.ptp, shapes=_SHAPES, params=_AXES, jvp="reduction")
def ptp_adjoint(g, ans, a, axis=None, *, keepdims=False):
    top = extremum_cotangent(g, a, np.max(a, axis=axis, keepdims=True), axis, keepdims)
    bottom = extremum_cotangent(
        g, a, np.min(a, axis=axis, keepdims=True), axis, keepdims
    )
    return top - bottom


@adjoint(
    np.median,
    shapes={"matrix": "(3,4)", "3d": "(2,3,5)"},
    params=_AXES,
    jvp="reduction",
)
def median_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return quantile_cotangent(g, a, 0.5, axis, keepdims)


@adjoint(
    np.quantile,
    nondiff=("q",),
    shapes={"matrix": "(3,4),-", "3d": "(2,3,5),-"},
    params=[{"q": [0.3, [0.2, 1.0]]}, {"q": [0.7], "axis": [-1], "keepdims": [True]}],
    jvp="reduction",
)
def quantile_adjoint(g, ans, a, q, axis=None, *, method="linear", keepdims=False):
    return quantile_cotangent(g, a, q, axis, keepdims, method)


@adjoint(
    np.percentile,
    nondiff=("q",),
    shapes={"matrix": "(3,4),-"},
    params=[{"q": [30.0, [0.0, 75.0]], "axis": [None, 0]}],
    jvp="reduction",
)
def percentile_adjoint(g, ans, a, q, axis=None, *, method="linear", keepdims=False):
    return quantile_cotangent(g, a, q, axis, keepdims, method, 0.01)
