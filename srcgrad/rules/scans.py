"""Adjoint rules for scans, NaN-aware and order-statistic reductions, differences and grids.

The rule-body contract is in :mod:`srcgrad.rules.registry`; the conventions of
``reductions.py`` apply (numpy's parameter names and order up to ``out``; ``keepdims`` and
later parameters keyword-only; ``out=`` and ``where=`` are not supported).

* ``cumprod`` is exact where the operand holds zeros (no division by zero).
* NaN-aware reductions give NaN entries a zero cotangent; their tests draw inputs with NaNs.
* ``max``-like reductions (``ptp``, ``nanmax``) share the cotangent evenly among ties.
* ``median`` / ``quantile`` / ``percentile`` (linear interpolation) send the cotangent to the
  one or two order statistics the result interpolates.
* ``average``'s ``weights``, ``trapezoid``'s ``x``/``dx`` and ``diff``'s ``prepend``/``append``
  are constants (an active value there is refused by the engine); ``gradient``'s spacings
  (a step or coordinates) are differentiable.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, numpy_function
from srcgrad.runtime import (
    average_cotangent,
    convolve_cotangents,
    cumprod_cotangent,
    cumsum_cotangent,
    cumulative_cotangent,
    diff_cotangent,
    expand_like,
    extremum_cotangent,
    geomspace_cotangents,
    gradient_cotangents,
    interp_cotangents,
    linspace_cotangents,
    logspace_cotangents,
    nan_count,
    prod_others,
    quantile_cotangent,
    trapezoid_cotangent,
)

_SHAPES = {"matrix": "(3,4)", "3d": "(2,3,4)"}
# axis None / an int / a tuple, and keepdims; kept small: every combination is also run
# through the engine (tests/rules/test_inlined.py)
_AXES = [{"axis": [None, (0, 1)]}, {"axis": [-1], "keepdims": [True]}]
_SCAN_AXES = {"axis": [None, 0, -1]}
_NAN_SHAPES = {"matrix": "(4,5)", "3d": "(3,4,5)"}  # every group keeps two or more numbers


def _with_zeros(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-2, 2] with exact zeros (one or two per row when there is room)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    flat = x.reshape(-1)
    for i in (1, 6, 9, 17):
        if i < flat.size:
            flat[i] = 0.0
    return x


def _with_nans(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [-2, 2] with a few NaNs (never a whole row)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    flat = x.reshape(-1)
    for i in (1, 7, 14):
        if i < flat.size:
            flat[i] = np.nan
    return x


def _increasing(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Strictly increasing sample points (1-D), or a positive step for a 0-d draw."""
    if shape == ():
        return rng.uniform(0.5, 1.5)
    return np.cumsum(rng.uniform(0.5, 1.5, size=shape)) - 2.0


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


# --------------------------------------------------------------------------- scans


@adjoint(np.cumsum, shapes=_SHAPES, params=_SCAN_AXES)
def cumsum_adjoint(g, ans, a, axis=None, dtype=None):
    return cumsum_cotangent(g, a, axis)


@adjoint(np.cumprod, shapes=_SHAPES, params=_SCAN_AXES, domain=_with_zeros)
def cumprod_adjoint(g, ans, a, axis=None, dtype=None):
    return cumprod_cotangent(g, a, ans, axis)


@adjoint(np.nancumsum, shapes=_NAN_SHAPES, params=_SCAN_AXES, domain=_with_nans)
def nancumsum_adjoint(g, ans, a, axis=None, dtype=None):
    return cumsum_cotangent(g, a, axis) * ~np.isnan(a)


@adjoint(np.nancumprod, shapes=_NAN_SHAPES, params=_SCAN_AXES, domain=_with_nans)
def nancumprod_adjoint(g, ans, a, axis=None, dtype=None):
    # NaNs count as ones
    return cumprod_cotangent(g, np.where(np.isnan(a), 1, a), ans, axis) * ~np.isnan(a)


if hasattr(np, "cumulative_sum"):  # numpy >= 2.1

    @adjoint(
        numpy_function("cumulative_sum"),
        shapes={
            "vector": "(5,)",
            "matrix": ("(3,4)", {"axis": -1}),
            "rows": ("(3,4)", {"axis": 0}),
        },
        params={"include_initial": [False, True]},
    )
    def cumulative_sum_adjoint(g, ans, x, /, *, axis=None, dtype=None, include_initial=False):
        return cumulative_cotangent(g, x, ans, axis, include_initial, "sum")

    @adjoint(
        numpy_function("cumulative_prod"),
        domain=_with_zeros,
        shapes={
            "vector": "(5,)",
            "matrix": ("(3,4)", {"axis": -1}),
            "rows": ("(3,4)", {"axis": 0}),
        },
        params={"include_initial": [False, True]},
    )
    def cumulative_prod_adjoint(g, ans, x, /, *, axis=None, dtype=None, include_initial=False):
        return cumulative_cotangent(g, x, ans, axis, include_initial, "prod")


# --------------------------------------------------------------------------- reductions


@adjoint(
    np.average,
    shapes={"matrix": "(3,4)"},
    params=[
        *_AXES,
        {"axis": [1], "weights": [[1.0, 2.0, 0.5, 3.0]]},
        {"axis": [None], "weights": [[[1.0, 2.0, 0.5, 3.0]] * 3]},
    ],
)
def average_adjoint(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    return average_cotangent(g, a, axis, weights, returned, keepdims)


@adjoint(np.nansum, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans)
def nansum_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return expand_like(g, a, axis=axis, keepdims=keepdims) * ~np.isnan(a)


@adjoint(np.nanmean, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans)
def nanmean_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return expand_like(g, a, axis=axis, keepdims=keepdims) * ~np.isnan(a) / nan_count(a, axis)


@adjoint(np.nanmax, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans)
def nanmax_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return extremum_cotangent(g, a, np.nanmax(a, axis=axis, keepdims=True), axis, keepdims)


@adjoint(np.nanmin, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans)
def nanmin_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return extremum_cotangent(g, a, np.nanmin(a, axis=axis, keepdims=True), axis, keepdims)


@adjoint(np.nanprod, shapes=_NAN_SHAPES, params=_AXES, domain=_with_nans)
def nanprod_adjoint(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    others = prod_others(np.where(np.isnan(a), 1, a), axis)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * others * ~np.isnan(a)


@adjoint(
    np.nanvar, shapes=_NAN_SHAPES, params=[*_AXES, {"axis": [0], "ddof": [1]}], domain=_with_nans
)
def nanvar_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = np.where(np.isnan(a), 0, a - np.nanmean(a, axis=axis, keepdims=True))
    scale = 2 / (nan_count(a, axis) - ddof)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * (scale * centered)


@adjoint(
    np.nanstd, shapes=_NAN_SHAPES, params=[*_AXES, {"axis": [0], "ddof": [1]}], domain=_with_nans
)
def nanstd_adjoint(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = np.where(np.isnan(a), 0, a - np.nanmean(a, axis=axis, keepdims=True))
    scale = 1 / (nan_count(a, axis) - ddof)
    return expand_like(g / ans, a, axis=axis, keepdims=keepdims) * (scale * centered)


@adjoint(np.ptp, shapes=_SHAPES, params=_AXES)
def ptp_adjoint(g, ans, a, axis=None, *, keepdims=False):
    top = extremum_cotangent(g, a, np.max(a, axis=axis, keepdims=True), axis, keepdims)
    bottom = extremum_cotangent(g, a, np.min(a, axis=axis, keepdims=True), axis, keepdims)
    return top - bottom


@adjoint(
    np.median,
    shapes={"matrix": "(3,4)", "3d": "(2,3,5)"},
    params=_AXES,
)
def median_adjoint(g, ans, a, axis=None, *, keepdims=False):
    return quantile_cotangent(g, a, 0.5, axis, keepdims)


@adjoint(
    np.quantile,
    nondiff=("q",),
    shapes={"matrix": "(3,4),-", "3d": "(2,3,5),-"},
    params=[{"q": [0.3, [0.2, 1.0]]}, {"q": [0.7], "axis": [-1], "keepdims": [True]}],
)
def quantile_adjoint(g, ans, a, q, axis=None, *, method="linear", keepdims=False):
    return quantile_cotangent(g, a, q, axis, keepdims, method)


@adjoint(
    np.percentile,
    nondiff=("q",),
    shapes={"matrix": "(3,4),-"},
    params=[{"q": [30.0, [0.0, 75.0]], "axis": [None, 0]}],
)
def percentile_adjoint(g, ans, a, q, axis=None, *, method="linear", keepdims=False):
    return quantile_cotangent(g, a, q, axis, keepdims, method, 0.01)


# --------------------------------------------------------------------------- differences


@adjoint(
    np.diff,
    shapes={"matrix": "(3,4)"},
    params=[
        {"n": [1, 2]},
        {"n": [0, 3], "axis": [0]},
        {"prepend": [0.5], "append": [[[1.0], [2.0], [3.0]]]},
    ],
    view=True,
)
def diff_adjoint(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    return diff_cotangent(g, a, n, axis, prepend, append)


@adjoint(
    numpy_function("trapezoid"),
    shapes={"matrix": "(3,4)"},
    params=[{"axis": [-1, 0]}, {"dx": [0.5]}, {"x": [[0.0, 0.5, 1.5, 2.0]]}],
)
def trapezoid_adjoint(g, ans, y, x=None, dx=1.0, axis=-1):
    return trapezoid_cotangent(g, y, x, dx, axis)


@adjoint(
    np.gradient,
    domain={"varargs": _increasing},
    # spacings passed positionally are covered in tests/rules/test_rules_breadth.py (the
    # inlined tests cannot spell a keyword argument before *varargs)
    shapes={"vector": "(6,)", "rows": ("(4,5)", {"axis": 0}), "columns": ("(4,5)", {"axis": -1})},
    params={"edge_order": [1, 2]},
)
def gradient_adjoint(g, ans, f, *varargs, axis=None, edge_order=1):
    return gradient_cotangents(g, ans, f, varargs, axis, edge_order)


@adjoint(
    np.convolve,
    shapes={"long-first": "(5,),(3,)", "long-second": "(3,),(5,)", "equal": "(4,),(4,)"},
    params={"mode": ["full", "same", "valid"]},
)
def convolve_adjoint(g, ans, a, v, mode="full"):
    return convolve_cotangents(g, a, v, mode, "convolve")


@adjoint(
    np.correlate,
    shapes={"long-first": "(5,),(3,)", "long-second": "(3,),(5,)", "equal": "(4,),(4,)"},
    params={"mode": ["valid", "same", "full"]},
)
def correlate_adjoint(g, ans, a, v, mode="valid"):
    return convolve_cotangents(g, a, v, mode, "correlate")


@adjoint(
    np.interp,
    domain={"xp": _increasing, "x": (-3.0, 5.0)},
    shapes={"vector": "(7,),(5,),(5,)"},
    params=[{}, {"left": [-1.0], "right": [2.5]}],
)
def interp_adjoint(g, ans, x, xp, fp, left=None, right=None, period=None):
    return interp_cotangents(g, x, xp, fp, left, right, period)


# --------------------------------------------------------------------------- grids


@adjoint(
    np.linspace,
    shapes={"floats": "s,s", "arrays": "(3,),(3,)", "mixed": "s,(2,3)"},
    params=[{"num": [5], "endpoint": [True, False]}, {"num": [4], "axis": [-1]}],
)
def linspace_adjoint(
    g, ans, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None
):
    return linspace_cotangents(g, start, stop, num, endpoint, axis, retstep)


@adjoint(
    np.logspace,
    domain=(-1.0, 1.0),
    shapes={"floats": "s,s", "arrays": "(3,),(3,)"},
    params={"num": [4], "endpoint": [True, False], "base": [10.0, 2.0]},
)
def logspace_adjoint(g, ans, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return logspace_cotangents(g, ans, start, stop, num, endpoint, base, axis)


@adjoint(
    np.geomspace,
    domain=_positive,
    shapes={"floats": "s,s", "arrays": "(3,),(3,)"},
    params={"num": [4], "endpoint": [True, False]},
)
def geomspace_adjoint(g, ans, start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return geomspace_cotangents(g, ans, start, stop, num, endpoint, axis)
