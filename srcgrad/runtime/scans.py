"""Helpers of the scan rules (``rules/scans.py``): cumulative sums and products, differences,
``trapezoid`` and ``np.gradient``'s stencils (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _axis,
    _fit,
    _is_int,
    _lanes,
    _sum_to_shape,
    _take_range,
    as_array,
)
from srcgrad.runtime.broadcasting import expand_like, unbroadcast

__all__ = [
    "cumprod_cotangent",
    "cumsum_cotangent",
    "cumulative_cotangent",
    "diff_cotangent",
    "gradient_cotangents",
    "gradient_of",
    "running_extreme_index",
    "trapezoid_cotangent",
]

Array = Any


# --------------------------------------------------------------------------- cumulative


def running_extreme_index(a: Array, axis: int, op: str) -> Array:
    """The index along ``axis`` of the entry each value of ``np.maximum.accumulate(a, axis)``
    (``op`` "max") or ``np.minimum.accumulate`` ("min") is: the last entry so far that set
    the running extreme (the first NaN once one is met, as numpy propagates it).  An
    integer array: ``np.take_along_axis(a, index, axis)`` is the running extreme itself.
    """
    xp = namespace(a)
    run = (xp.maximum if op == "max" else xp.minimum).accumulate(a, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    pos = xp.reshape(xp.arange(a.shape[axis]), shape)
    hit = xp.where((a == run) | (a != a), pos, 0)
    return xp.maximum.accumulate(hit, axis=axis)


def _flip(xp: Any, x: Array, axis: int) -> Array:
    return xp.flip(x, axis=axis)


def _rev_cumsum(xp: Any, x: Array, axis: int) -> Array:
    """``out[i] = sum(x[i:])`` along ``axis``."""
    return _flip(xp, xp.cumsum(_flip(xp, x, axis), axis=axis), axis)


def cumsum_cotangent(g: Array, a: Any, axis: Any = None) -> Array:
    """Cotangent of ``np.cumsum(a, axis)``: the reversed cumulative sum of ``g``.

    Args:
        g: the cotangent of the cumulative sum.
        a: the operand (shape and dtype are read); ``axis=None`` means it was flattened.
        axis: the forward ``axis``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    shape = getattr(a, "shape", ())
    if axis is None:
        flat = xp.reshape(g, (-1,))
        return unbroadcast(xp.reshape(_rev_cumsum(xp, flat, 0), shape), a)
    return unbroadcast(_rev_cumsum(xp, g, _axis(axis, g.ndim)), a)


def cumprod_cotangent(g: Array, a: Any, ans: Array, axis: Any = None) -> Array:
    """Cotangent of ``ans = np.cumprod(a, axis)``, exact when ``a`` holds zeros.

    Before the first zero of a lane the cotangent is ``revcumsum(g * ans) / a``; at the first
    zero it is ``revcumsum(g * c)`` where ``c`` is the cumulative product with that zero
    replaced by 1; after it, every derivative contains the zero and vanishes.  No division by
    zero happens anywhere.

    Args:
        g: the cotangent of the cumulative product.
        a: the operand.
        ans: the forward result.
        axis: the forward ``axis`` (``None``: ``a`` was flattened).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, ans)
    shape = getattr(a, "shape", ())
    # numpy reads a 0-d a (a Python float) as 1-d
    x, ax = _lanes(xp, a, axis if shape else None)
    x = x.astype(ans.dtype) if x.dtype != ans.dtype else x
    gg = xp.reshape(g, ans.shape)
    zero = x == 0
    seen = xp.cumsum(zero.astype(ans.real.dtype), axis=ax)
    before = seen == 0
    first = zero & (seen == 1)
    safe = xp.where(zero, 1, x)
    part1 = _rev_cumsum(xp, gg * ans, ax) / safe
    skipped = xp.cumprod(xp.where(first, 1, x), axis=ax)
    part2 = _rev_cumsum(xp, gg * skipped, ax)
    out = xp.where(before, part1, 0) + xp.where(first, part2, 0)
    return unbroadcast(xp.reshape(out, shape), a)


def cumulative_cotangent(
    g: Array, x: Array, ans: Array, axis: Any, include_initial: bool, kind: str
) -> Array:
    """Cotangent of ``np.cumulative_sum`` / ``np.cumulative_prod`` (numpy >= 2.1).

    Args:
        g: the cotangent of the result.
        x: the operand (1-D when ``axis`` is None).
        ans: the forward result.
        axis: the forward ``axis``.
        include_initial: the forward flag (a leading 0 or 1 that does not depend on ``x``).
        kind: ``"sum"`` or ``"prod"``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    x = as_array(x, g, ans)
    flat = axis is None or x.ndim == 0  # numpy reads a 0-d x as 1-d
    ax = 0 if flat else _axis(axis, x.ndim)
    if include_initial:
        g = _take_range(xp, g, ax, 1, g.shape[ax])
        ans = _take_range(xp, ans, ax, 1, ans.shape[ax])
    if kind == "sum":
        return cumsum_cotangent(g, x, None if flat else ax)
    return cumprod_cotangent(g, x, ans, None if flat else ax)


# --------------------------------------------------------------------------- differences


def diff_cotangent(
    g: Array,
    a: Array,
    n: int = 1,
    axis: int = -1,
    prepend: Any = None,
    append: Any = None,
) -> Array:
    """Cotangent of ``np.diff(a, n, axis, prepend, append)`` for ``a``.

    The adjoint of one difference is ``-diff`` of ``g`` padded with a zero on each side;
    ``n`` differences apply it ``n`` times, and the entries that ``prepend`` / ``append``
    contributed (constants) are cut off at the end.

    Args:
        g: the cotangent of the differences.
        a: the operand.
        n: the forward ``n``.
        axis: the forward ``axis``.
        prepend: the forward ``prepend`` (``None`` when not given).
        append: the forward ``append`` (``None`` when not given).

    Returns:
        An array shaped and typed like ``a``.
    """
    if (
        operator.index(n) == 0
    ):  # np.diff(a, n=0) is a itself (prepend and append unused)
        return _fit(g, a)
    xp = namespace(g, a)
    ax = _axis(axis, a.ndim)
    for _ in range(operator.index(n)):
        shape = list(g.shape)
        shape[ax] = 1
        z = xp.zeros(tuple(shape), dtype=g.dtype)
        padded = xp.concatenate([z, g, z], axis=ax)
        g = -xp.diff(padded, axis=ax)
    front = 0 if prepend is None else _extra_length(prepend, ax)
    back = 0 if append is None else _extra_length(append, ax)
    g = _take_range(xp, g, ax, front, g.shape[ax] - back)
    return _fit(g, a)


def _extra_length(v: Any, axis: int) -> int:
    shape = getattr(v, "shape", None)
    if shape is None:
        import numpy  # host data given as a list or a number: its shape is host data too

        shape = numpy.shape(v)
    return 1 if len(shape) == 0 else shape[axis]


def trapezoid_cotangent(
    g: Array, y: Array, x: Any = None, dx: float = 1.0, axis: int = -1
) -> Array:
    """Cotangent of ``np.trapezoid(y, x, dx, axis)`` for ``y`` (``x`` and ``dx`` are constants).

    Args:
        g: the cotangent of the integral.
        y: the sampled values.
        x: the sample points (1-D along ``axis``, or shaped like ``y``), or ``None``.
        dx: the spacing when ``x`` is ``None``.
        axis: the forward ``axis``.

    Returns:
        An array shaped and typed like ``y``.
    """
    xp = namespace(g, y, x)
    ax = _axis(axis, y.ndim)
    n = y.shape[ax]
    if x is None:
        d = xp.full((n - 1,), dx, dtype=y.dtype if y.dtype.kind == "f" else None)
        shape = [1] * y.ndim
        shape[ax] = n - 1
        d = xp.reshape(d, tuple(shape))
    else:
        xa = xp.asarray(x)
        if xa.ndim == 1:
            shape = [1] * y.ndim
            shape[ax] = n
            xa = xp.reshape(xa, tuple(shape))
        d = xp.diff(xa, axis=ax)
    shape = list(d.shape)
    shape[ax] = 1
    z = xp.zeros(tuple(shape), dtype=d.dtype)
    weights = (xp.concatenate([z, d], axis=ax) + xp.concatenate([d, z], axis=ax)) / 2
    expanded = expand_like(g, y, axis=ax, keepdims=False)
    return _fit(_sum_to_shape(xp, expanded * weights, y.shape), y)


# --------------------------------------------------------------------------- gradient


def _spacing_steps(xp: Any, spacing: Any, n: int, dtype: Any) -> Array:
    """The ``n - 1`` steps between samples: a scalar step repeated, or ``diff`` of coordinates."""
    if (
        hasattr(spacing, "shape")
        and spacing.ndim == 1
        or isinstance(spacing, (list, tuple))
    ):
        coords = xp.asarray(spacing)
        if coords.dtype.kind not in "fc":
            coords = coords.astype(dtype)
        return xp.diff(coords)
    return xp.full((n - 1,), spacing, dtype=dtype)


def _stencil(
    dx1: Any, dx2: Any, e1: Any, e2: Any, f1: Any, f2: Any, edge_order: int
) -> tuple:
    """``np.gradient``'s three-point weights, from the steps each row uses.

    Interior row ``i`` uses ``dx1 = dx[i-1]`` and ``dx2 = dx[i]``; the first edge row uses
    ``(e1, e2) = (dx[0], dx[1])`` and the last ``(f1, f2) = (dx[-2], dx[-1])`` (one-sided
    first-order edges use ``e1`` and ``f2`` only).  Returns ``(lo, mid, hi, first, last)``.
    """
    lo = -dx2 / (dx1 * (dx1 + dx2))
    mid = (dx2 - dx1) / (dx1 * dx2)
    hi = dx1 / (dx2 * (dx1 + dx2))
    if edge_order == 1:
        first = (-1 / e1, 1 / e1)
        last = (-1 / f2, 1 / f2)
    else:
        first = (
            -(2 * e1 + e2) / (e1 * (e1 + e2)),
            (e1 + e2) / (e1 * e2),
            -e1 / (e2 * (e1 + e2)),
        )
        last = (
            f2 / (f1 * (f1 + f2)),
            -(f2 + f1) / (f1 * f2),
            (2 * f2 + f1) / (f2 * (f1 + f2)),
        )
    return lo, mid, hi, first, last


def _stencil_rows(xp: Any, moved: Array, weights: tuple) -> Array:
    """``g`` (stencil rows on the last axis) times the stencil: the transpose, per column."""
    lo, mid, hi, first, last = weights
    n = moved.shape[-1]
    inner = moved[..., 1:-1]
    zeros1 = xp.zeros(moved.shape[:-1] + (1,), dtype=inner.dtype)
    zeros2 = xp.zeros(moved.shape[:-1] + (2,), dtype=inner.dtype)
    out = (
        xp.concatenate([lo * inner, zeros2], axis=-1)
        + xp.concatenate([zeros1, mid * inner, zeros1], axis=-1)
        + xp.concatenate([zeros2, hi * inner], axis=-1)
    )
    k = len(first)
    head = xp.concatenate([c * moved[..., :1] for c in first], axis=-1)
    tail = xp.concatenate([c * moved[..., -1:] for c in last], axis=-1)
    rest = xp.zeros(moved.shape[:-1] + (n - k,), dtype=out.dtype)
    return (
        out
        + xp.concatenate([head, rest], axis=-1)
        + xp.concatenate([rest, tail], axis=-1)
    )


def _row_values(xp: Any, fm: Array, weights: tuple) -> tuple:
    """Per stencil row, the weighted sum of ``f``: interior rows, first row, last row."""
    lo, mid, hi, first, last = weights
    interior = lo * fm[..., :-2] + mid * fm[..., 1:-1] + hi * fm[..., 2:]
    head = sum(c * fm[..., i] for i, c in enumerate(first))
    k = len(last)
    tail = sum(c * fm[..., fm.shape[-1] - k + i] for i, c in enumerate(last))
    return interior, head, tail


_STEP = 1e-30  # complex-step size: exact derivatives of the (analytic) stencil weights


def _step_cotangent(
    xp: Any, g: Array, f: Array, ax: int, dx: Array, edge_order: int
) -> Array:
    """Cotangent of the ``n - 1`` steps of one axis of ``np.gradient``.

    Each stencil row depends on two steps; the derivatives of its weights with respect to
    each are taken by the complex step (exact for these rational functions), one role at a
    time, and contracted with ``g`` and ``f``.
    """
    gm = xp.moveaxis(g, ax, -1)
    fm = xp.moveaxis(f, ax, -1)
    lanes = tuple(range(gm.ndim - 1))
    two = dx.shape[0] > 1
    base = (
        dx[:-1],
        dx[1:],
        dx[0],
        dx[1] if two else dx[0],
        dx[-2] if two else dx[-1],
        dx[-1],
    )
    total = xp.zeros(dx.shape, dtype=_real_of(dx.dtype, g.dtype, xp))
    n = dx.shape[0] + 1
    # role k of base moves step index: interior dx1 -> i - 1, dx2 -> i; edges fixed indices
    for role in range(6):
        args = [b.astype(complex) if hasattr(b, "astype") else complex(b) for b in base]
        args[role] = args[role] + 1j * _STEP
        interior, head, tail = _row_values(xp, fm, _stencil(*args, edge_order))
        d_int = xp.imag(interior) / _STEP
        d_head = xp.imag(head) / _STEP
        d_tail = xp.imag(tail) / _STEP
        if role == 0:  # interior rows 1..n-2, their dx1 = dx[i-1] = dx[0..n-3]
            contrib = (
                xp.sum(gm[..., 1:-1] * d_int, axis=lanes) if lanes else gm[1:-1] * d_int
            )
            total = total + xp.concatenate([contrib, xp.zeros((1,), dtype=total.dtype)])
        elif role == 1:  # interior dx2 = dx[i] = dx[1..n-2]
            contrib = (
                xp.sum(gm[..., 1:-1] * d_int, axis=lanes) if lanes else gm[1:-1] * d_int
            )
            total = total + xp.concatenate([xp.zeros((1,), dtype=total.dtype), contrib])
        else:
            rows = gm[..., 0] * d_head if role in (2, 3) else gm[..., -1] * d_tail
            value = xp.sum(rows) if lanes else rows
            index = {2: 0, 3: 1, 4: n - 3, 5: n - 2}[role]
            hit = (xp.arange(n - 1) == index).astype(total.dtype)
            total = total + hit * value
    return total


def _real_of(dtype: Any, other: Any, xp: Any) -> Any:
    kinds = [d for d in (dtype, other) if getattr(d, "kind", "") == "f"]
    return kinds[0] if kinds else float


def _used(c: Any) -> bool:
    """Whether the cotangent ``c`` may be other than zero (a device array is not read
    back: there any array counts as used)."""
    if c is None:
        return False
    if namespace(c) is not np:
        return True
    return bool(np.any(np.asarray(c) != 0))


def gradient_of(
    f: Array,
    varargs: Sequence[Any] = (),
    axis: Any = None,
    edge_order: int = 1,
    spacing_cotangents: Any = None,
) -> Array:
    """``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` along one axis: the
    adjoint of ``gradient_cotangents``' map of a cotangent (its rule's own rule calls
    it).  Refused at a higher order: several axes (a list of arrays), and spacings whose
    cotangents are used (``spacing_cotangents`` holds one that is not ``None``: the
    stencil's weights are not linear in the spacings; zeros, those of spacings nothing
    differentiates, are not used)."""
    from srcgrad.errors import SrcgradError

    if spacing_cotangents is not None and any(_used(c) for c in spacing_cotangents):
        raise SrcgradError(
            "a higher-order gradient through np.gradient with respect to its spacings",
            construct="gradient",
            hint="stop at the order below, or pass the spacings as constants",
        )
    out = namespace(f).gradient(f, *varargs, axis=axis, edge_order=edge_order)
    if isinstance(out, (list, tuple)):
        raise SrcgradError(
            "a higher-order gradient through np.gradient along several axes",
            construct="gradient",
            hint="call np.gradient once per axis (axis=k)",
        )
    return out


def gradient_cotangents(
    g: Any,
    ans: Any,
    f: Array,
    varargs: Sequence[Any] = (),
    axis: Any = None,
    edge_order: int = 1,
) -> tuple:
    """Cotangents of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)``.

    ``np.gradient`` is linear in ``f``: along each axis a three-point stencil (central
    differences inside, one- or two-sided at the edges) whose weights depend on the spacing.
    ``f`` gets each stencil's transpose applied to its cotangent.  The spacings are
    differentiable too: a scalar step gets the sum of its steps' cotangents, a 1-D array of
    coordinates gets them through the differences of its entries.

    Args:
        g: the cotangent of the result: an array for one axis, a sequence of arrays (one per
            axis) when the result is a tuple.
        ans: the forward result (unused; the weights are recomputed).
        f: the sampled values.
        varargs: the forward spacings: none (step 1), one (all axes) or one per axis.
        axis: the forward ``axis`` (``None``: every axis).
        edge_order: 1 or 2.

    Returns:
        ``(cotangent of f, [cotangent of each spacing])``.
    """
    parts = list(g) if isinstance(g, (list, tuple)) else [g]
    xp = namespace(f, *parts)
    f = as_array(f, *parts)
    if axis is None:
        axes = list(range(f.ndim))
    elif _is_int(axis):
        axes = [_axis(axis, f.ndim)]
    else:
        axes = [_axis(a, f.ndim) for a in axis]
    spacings = list(varargs)
    which = list(range(len(axes))) if len(spacings) > 1 else [0] * len(axes)
    if not spacings:
        spacings = [1.0]
    dtype = f.dtype if f.dtype.kind == "f" else parts[0].dtype
    order = operator.index(edge_order)
    d_f = None
    d_steps: list[Any] = [None] * len(spacings)
    for part, ax, k in zip(parts, axes, which):
        if part is None:
            continue
        n = f.shape[ax]
        dx = _spacing_steps(xp, spacings[k], n, dtype)
        second, before_last = (dx[1], dx[-2]) if n > 2 else (dx[0], dx[-1])
        weights = _stencil(dx[:-1], dx[1:], dx[0], second, before_last, dx[-1], order)
        term = xp.moveaxis(
            _stencil_rows(xp, xp.moveaxis(part, ax, -1), weights), -1, ax
        )
        d_f = term if d_f is None else d_f + term
        if varargs:
            d_dx = _step_cotangent(xp, part, f, ax, dx, order)
            d_steps[k] = d_dx if d_steps[k] is None else d_steps[k] + d_dx
    d_f = xp.zeros_like(f) if d_f is None else _fit(d_f, f)
    d_vars = []
    for spacing, d_dx in zip(varargs, d_steps):
        if d_dx is None:
            d_vars.append(None)
        elif (
            hasattr(spacing, "shape")
            and spacing.ndim == 1
            or isinstance(spacing, (list, tuple))
        ):
            zero = xp.zeros((1,), dtype=d_dx.dtype)
            d_coords = xp.concatenate([zero, d_dx]) - xp.concatenate([d_dx, zero])
            d_vars.append(unbroadcast(d_coords, spacing))
        else:
            d_vars.append(unbroadcast(xp.sum(d_dx), spacing))
    return d_f, d_vars
