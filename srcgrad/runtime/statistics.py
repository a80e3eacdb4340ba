"""Helpers of the statistics rules (``rules/statistics.py``): NaN-aware reductions, ties of
``ptp``/``nanmax``, ``average``'s weights and the order statistics (``median``, ``quantile``)
(conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _axis, _fit, _refuse_pair, as_array, normalize_axes
from srcgrad.runtime.broadcasting import expand_like
from srcgrad.runtime.reductions import reduction_size

__all__ = [
    "average_cotangent",
    "cov_cotangents",
    "cov_cross",
    "extremum_cotangent",
    "nan_count",
    "quantile_cotangent",
]

Array = Any


def nan_count(a: Array, axis: Any = None) -> Array:
    """How many non-NaN elements each group of a reduction over ``axis`` has (keepdims).

    Args:
        a: the reduced array, or a Python number.
        axis: the reduction's ``axis``.

    Returns:
        An array in ``a``'s (real) dtype with the reduced axes kept as size 1 (a Python
        ``1.0`` or ``0.0`` for a Python number).
    """
    if isinstance(a, (int, float, complex)):  # a Python number: one element, NaN or not
        return float(a == a)
    xp = namespace(a)
    mask = ~xp.isnan(a)
    dtype = a.real.dtype if a.dtype.kind == "c" else a.dtype
    return xp.sum(mask.astype(dtype), axis=axis, keepdims=True)


def extremum_cotangent(
    g: Array, a: Array, extremum: Array, axis: Any = None, keepdims: bool = False
) -> Array:
    """Cotangent of a max-like reduction: ``g`` shared evenly among the elements that attain it.

    Args:
        g: the cotangent of the reduction.
        a: the reduced array.
        extremum: the extremum with the reduced axes kept (``keepdims=True``); NaNs in ``a``
            never attain it, so this also serves ``nanmax``.
        axis: the reduction's ``axis``.
        keepdims: the forward ``keepdims``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, extremum)
    a = as_array(a, g, extremum)
    hits = (a == extremum).astype(a.dtype)
    share = hits / xp.sum(hits, axis=axis, keepdims=True)
    return expand_like(g, a, axis=axis, keepdims=keepdims) * share


def average_cotangent(
    g: Array,
    a: Array,
    axis: Any = None,
    weights: Any = None,
    returned: bool = False,
    keepdims: bool = False,
) -> Array:
    """Cotangent of ``np.average(a, axis, weights)`` for ``a`` (the weights are constants).

    Args:
        g: the cotangent of the average.
        a: the averaged array.
        axis: the forward ``axis`` (``None``, an int or a tuple).
        weights: the forward ``weights``: ``None``, an array shaped like ``a``, or a 1-D
            array (a tuple of axes: an array shaped like those axes) along ``axis``.
        returned: must be False (``returned=True`` makes a pair; not supported).
        keepdims: the forward ``keepdims``.

    Returns:
        An array shaped and typed like ``a``.

    Raises:
        NotImplementedError: for ``returned=True``.
    """
    if returned:
        _refuse_pair(
            "np.average(..., returned=True)",
            "compute the sum of the weights separately",
        )
    xp = namespace(g, a, weights)
    expanded = expand_like(g, a, axis=axis, keepdims=keepdims)
    if weights is None:
        return _fit(expanded / reduction_size(a, axis), a)
    w = xp.asarray(weights)
    if tuple(w.shape) != tuple(a.shape):
        axes = normalize_axes(axis, a.ndim) if axis is not None else ()
        if not isinstance(axis, (tuple, list)) and axis is not None:
            axes = (_axis(axis, a.ndim),)
        shape = [1] * a.ndim
        for k, ax in enumerate(axes):
            shape[ax] = w.shape[k]
        w = xp.reshape(w, tuple(shape))
    total = xp.sum(xp.broadcast_to(w, a.shape), axis=axis, keepdims=True)
    return _fit(expanded * (w / total), a)


def quantile_ranks(
    g: Array, a: Any, q: Any, axis: Any, method: str, scale: float
) -> tuple[Any, ...]:
    """What a linear-method quantile reads, shared by its cotangent and that cotangent's
    adjoint: ``(xp, a, axes, perm, lead, n, order, lo, hi, frac)``: ``a`` as an array,
    the reduced axes, the permutation moving them last, the kept shape ``lead``, the group
    size ``n``, each group's ``argsort`` ``order``, and per quantile the ranks ``lo``,
    ``hi`` it interpolates between with weight ``frac`` (in ``g``'s dtype) on ``hi``."""
    if method != "linear":
        raise NotImplementedError(
            f"srcgrad differentiates quantiles with method='linear' only, not {method!r}"
        )
    xp = namespace(g, a, q)
    a = as_array(a, g, q)
    axes = normalize_axes(axis, a.ndim)
    kept = [ax for ax in range(a.ndim) if ax not in axes]
    perm = kept + list(axes)
    lead = tuple(a.shape[ax] for ax in kept)
    n = reduction_size(a, axis)
    flat = xp.reshape(xp.transpose(a, perm), lead + (n,))
    order = xp.argsort(flat, axis=-1)
    qa = xp.asarray(q)
    pos = xp.reshape(qa, (math.prod(tuple(qa.shape)),)) * (scale * (n - 1))
    lo = xp.floor(pos)
    frac = (pos - lo).astype(g.dtype)
    lo = lo.astype(order.dtype)
    hi = xp.minimum(lo + 1, n - 1)
    return xp, a, axes, perm, lead, n, order, lo, hi, frac


def quantile_cotangent(
    g: Array,
    a: Array,
    q: Any,
    axis: Any = None,
    keepdims: bool = False,
    method: str = "linear",
    scale: float = 1.0,
) -> Array:
    """Cotangent of ``np.quantile`` / ``np.percentile`` / ``np.median`` (linear method).

    The result interpolates between two order statistics of each group: the cotangent goes to
    those two elements with weights ``1 - frac`` and ``frac`` (ties among equal values may
    receive it in any order: the result does not depend on which).

    Args:
        g: the cotangent of the result (``q``'s axes first for an array ``q``).
        a: the operand.
        q: the quantile(s), a number or an array (multiplied by ``scale`` first).
        axis: the forward ``axis`` (``None``, an int or a tuple).
        keepdims: the forward ``keepdims``.
        method: only ``"linear"`` (numpy's default) is supported.
        scale: ``0.01`` for ``np.percentile``, else 1.

    Returns:
        An array shaped and typed like ``a``.

    Raises:
        NotImplementedError: for other interpolation methods.
    """
    xp, a, axes, perm, lead, n, order, lo, hi, frac = quantile_ranks(
        g, a, q, axis, method, scale
    )
    q_count = int(frac.shape[0])
    gr = xp.reshape(g, (q_count,) + lead)
    out = xp.zeros(lead + (n,), dtype=g.dtype)
    unit = (1,) * len(lead)
    for k in range(q_count):
        w = xp.reshape(frac[k : k + 1], unit)
        for idx, weight in ((lo, 1 - w), (hi, w)):
            at = xp.broadcast_to(xp.reshape(idx[k : k + 1], unit + (1,)), lead + (1,))
            where = xp.take_along_axis(order, at, axis=-1)
            part = xp.zeros(lead + (n,), dtype=g.dtype)
            xp.put_along_axis(part, where, xp.expand_dims(gr[k] * weight, -1), axis=-1)
            out = out + part
    out = xp.reshape(out, lead + tuple(a.shape[ax] for ax in axes))
    inverse = [0] * a.ndim
    for i, ax in enumerate(perm):
        inverse[ax] = i
    return _fit(xp.transpose(out, inverse), a)


def _cov_rows(v: Any, rowvar: bool, xp: Any) -> Array:
    """``v`` as np.cov reads it: a 2-D array with one variable per row."""
    rows = xp.atleast_2d(xp.asarray(v))
    return rows.T if not rowvar and rows.shape[0] != 1 else rows


def cov_cotangents(
    g: Array, m: Any, y: Any, rowvar: bool, bias: bool, ddof: Any
) -> tuple[Any, Any]:
    """Cotangents of ``m`` and ``y`` in ``np.cov(m, y, rowvar, bias, ddof)`` (real data).

    With the variables stacked as rows ``X`` (``y``'s after ``m``'s), centred ``Xc`` and
    ``C = Xc @ Xc.T / f`` (``f = N - ddof``), the cotangent of ``X`` is
    ``(G + G.T) @ Xc / f``: the centring projection is absorbed, since ``Xc``'s rows
    already sum to zero.

    Args:
        g: the cotangent of the result (0-d for one variable).
        m: the first operand.
        y: the second operand, or None.
        rowvar: whether rows are variables.
        bias: normalise by ``N`` rather than ``N - 1`` (when ``ddof`` is None).
        ddof: the delta degrees of freedom, or None.

    Returns:
        ``(d_m, d_y)`` shaped as ``m`` and ``y`` (``d_y`` None when ``y`` is None).
    """
    xp = namespace(g, m)
    split, Xc, f = _cov_centred(m, y, rowvar, bias, ddof, xp)
    k = Xc.shape[0]
    G = xp.reshape(g, (k, k))
    dX = (G + G.T) @ Xc / f

    def back(part: Array, v: Any) -> Array:
        rows = xp.atleast_2d(xp.asarray(v))
        part = part.T if not rowvar and rows.shape[0] != 1 else part
        part = xp.reshape(part, xp.shape(v))  # (np.cov computes in float64 at least)
        return part.astype(rows.dtype) if rows.dtype.kind == "f" else part

    d_m = back(dX[:split], m)
    return d_m, None if y is None else back(dX[split:], y)


def _cov_centred(
    m: Any, y: Any, rowvar: bool, bias: bool, ddof: Any, xp: Any
) -> tuple[int, Array, Any]:
    """``(rows of m, Xc, f)``: the variables of ``np.cov(m, y, rowvar)`` as rows, centred
    along the observations, and the normaliser ``f = N - ddof``."""
    head = _cov_rows(m, rowvar, xp)
    X = head if y is None else xp.concatenate([head, _cov_rows(y, rowvar, xp)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    return head.shape[0], X - X.mean(axis=1, keepdims=True), X.shape[1] - ddof


def cov_cross(
    ct: Array, m: Any, y: Any, h_m: Any, h_y: Any, rowvar: bool, bias: bool, ddof: Any
) -> Array:
    """The cotangent of ``g`` in ``cov_cotangents(g, m, y, ...)`` paired with the
    cotangents ``(h_m, h_y)`` of its two results: ``(Hc Xc^T + Xc Hc^T) / f`` with ``H``
    the rows of ``(h_m, h_y)`` as :func:`cov_cotangents` reads ``(m, y)``, both centred.
    Bilinear in ``(m, y)`` and ``(h_m, h_y)`` (symmetric in the two pairs).

    Args:
        ct: the cotangent ``g`` of ``cov_cotangents`` (its shape and dtype are read).
        m, y: the data (``y`` may be None).
        h_m, h_y: cotangents shaped as ``m`` and ``y`` (``h_y`` None where ``y`` is).
        rowvar, bias, ddof: ``np.cov``'s.

    Returns:
        An array shaped and typed like ``ct``.
    """
    xp = namespace(ct, m, h_m)
    _, Xc, f = _cov_centred(m, y, rowvar, bias, ddof, xp)
    _, Hc, _ = _cov_centred(h_m, h_y, rowvar, bias, ddof, xp)
    cross = Hc @ Xc.T
    return _fit(xp.reshape((cross + cross.T) / f, xp.shape(ct)), ct)
