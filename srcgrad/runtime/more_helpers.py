"""Runtime helpers for the breadth rules: special functions, scans, indexing, linalg and fft.

The rules in ``srcgrad/rules/{special,scans,indexing_more,linalg_more,fft,scipy_special}.py``
are straight-line code (see ``srcgrad/rules/registry.py``); everything that needs a branch
(``axis=None`` or an int, a pad mode, a norm order, the rank of an operand, which outputs of a
decomposition received a cotangent) lives here.  Emitted code imports these names from
:mod:`srcgrad.runtime`.

Every helper is device-agnostic: it takes its array namespace from its array arguments with
:func:`srcgrad.backend.namespace`, uses array methods and ``xp.*`` functions only, and never
converts array data to host values.  Shapes, axes, orders, pad widths and other Python values
are host values already and are used as such.  No helper writes into an array it did not
allocate itself, and cotangents come back with the operand's shape and dtype (a real operand
of a complex result gets the real part: autograd's convention for complex numbers, in which
the cotangent of ``z`` is ``dL/dRe(z) - i dL/dIm(z)`` and holomorphic functions need no
conjugation).

Linear-algebra helpers are for real matrices unless their docstring says otherwise.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import as_array, expand_like, unbroadcast
from srcgrad.runtime.shape_helpers import (
    dot_cotangent_a,
    dot_cotangent_b,
    normalize_axes,
    prod_others,
    reduction_size,
)

__all__ = [
    "abs_slope",
    "angle_cotangent",
    "append_cotangents",
    "atleast_cotangents",
    "average_cotangent",
    "broadcast_arrays_cotangents",
    "cholesky_cotangent",
    "choose_cotangents",
    "compress_cotangent",
    "cond_cotangent",
    "convolve_cotangents",
    "copysign_slope",
    "cross_cotangent_a",
    "cross_cotangent_b",
    "cumprod_cotangent",
    "cumsum_cotangent",
    "cumulative_cotangent",
    "delete_cotangent",
    "det_cotangent",
    "diag_cotangent",
    "diagflat_cotangent",
    "diagonal_cotangent",
    "diff_cotangent",
    "digamma",
    "eig_cotangent",
    "eigh_cotangent",
    "eigvals_cotangent",
    "eigvalsh_cotangent",
    "extremum_cotangent",
    "fft_cotangent",
    "fftn_cotangent",
    "geomspace_cotangents",
    "gradient_cotangents",
    "hfft_cotangent",
    "hsplit_axis",
    "ihfft_cotangent",
    "interp_cotangents",
    "irfft_cotangent",
    "irfftn_cotangent",
    "kron_cotangent_a",
    "kron_cotangent_b",
    "linspace_cotangents",
    "logspace_cotangents",
    "logsumexp_cotangent",
    "lstsq_cotangent_a",
    "lstsq_cotangent_b",
    "matrix_norm_cotangent",
    "matrix_power_cotangent",
    "matvec_cotangent_x1",
    "matvec_cotangent_x2",
    "meshgrid_cotangents",
    "multi_dot_cotangents",
    "nan_count",
    "nan_to_num_cotangent",
    "norm_cotangent",
    "pad_cotangent",
    "permutation_cotangent",
    "pinv_cotangent",
    "qr_cotangent",
    "quantile_cotangent",
    "rfft_cotangent",
    "rfftn_cotangent",
    "rollaxis_cotangent",
    "select_cotangents",
    "sinc_slope",
    "slogdet_cotangent",
    "solve_cotangent_a",
    "solve_cotangent_b",
    "stacked_cotangents",
    "svd_cotangent",
    "svdvals_cotangent",
    "take_along_axis_cotangent",
    "take_cotangent",
    "tensorinv_cotangent",
    "tensorsolve_cotangent_a",
    "tensorsolve_cotangent_b",
    "trace_cotangent",
    "trapezoid_cotangent",
    "trigamma",
    "unroll",
    "unstack_cotangent_pieces",
    "unwindow",
    "vecdot_cotangent_x1",
    "vecdot_cotangent_x2",
    "vecmat_cotangent_x1",
    "vecmat_cotangent_x2",
    "vector_norm_cotangent",
]

Array = Any


# --------------------------------------------------------------------------- small pieces


def _fit(x: Array, like: Any) -> Array:
    """``x`` in ``like``'s dtype: a complex ``x`` for a real ``like`` keeps its real part."""
    dtype = getattr(like, "dtype", None)
    if dtype is None:  # a Python number operand: a 0-d value
        return x
    if x.dtype == dtype:
        return x
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real
    return x.astype(dtype)


def _is_int(x: Any) -> bool:
    try:
        operator.index(x)
    except TypeError:
        return False
    return True


def _axis(axis: Any, ndim: int) -> int:
    """One axis, made non-negative."""
    ax = operator.index(axis)
    if not -ndim <= ax < ndim:
        raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
    return ax % ndim


def _flip(xp: Any, x: Array, axis: int) -> Array:
    return xp.flip(x, axis=axis)


def _rev_cumsum(xp: Any, x: Array, axis: int) -> Array:
    """``out[i] = sum(x[i:])`` along ``axis``."""
    return _flip(xp, xp.cumsum(_flip(xp, x, axis), axis=axis), axis)


def _take_range(xp: Any, x: Array, axis: int, start: int, stop: int) -> Array:
    key = (slice(None),) * axis + (slice(start, stop),)
    return x[key]


def _fit_length(xp: Any, x: Array, axis: int, n: int) -> Array:
    """Truncate ``x`` along ``axis`` to ``n`` entries, or pad it with zeros to ``n``."""
    m = x.shape[axis]
    if m == n:
        return x
    if m > n:
        return _take_range(xp, x, axis, 0, n)
    shape = list(x.shape)
    shape[axis] = n - m
    return xp.concatenate([x, xp.zeros(tuple(shape), dtype=x.dtype)], axis=axis)


def _zeros_like_shape(xp: Any, shape: tuple[int, ...], like: Array) -> Array:
    return xp.zeros(shape, dtype=like.dtype)


def _conj_sign(xp: Any, x: Array) -> Array:
    """``conj(x) / |x|`` (0 at 0): the cotangent factor of ``|x|``."""
    if x.dtype.kind != "c":
        return xp.sign(x)
    mag = xp.abs(x)
    return xp.conj(x) / xp.where(mag == 0, 1, mag)


def abs_slope(x: Array) -> Array:
    """``conj(x) / |x|`` (0 at 0): the cotangent factor of ``np.abs(x)``; ``np.sign(x)`` for
    real ``x``.  (numpy < 2 defines ``np.sign`` of a complex number as the sign of its real
    part, so the rule cannot use ``np.sign(x).conj()``.)"""
    if isinstance(x, complex):
        return x.conjugate() / abs(x) if x != 0 else 0j
    xp = namespace(x)
    if getattr(x, "dtype", None) is None or x.dtype.kind != "c":
        return xp.sign(x)
    return _conj_sign(xp, x)


def _mT(x: Array) -> Array:
    return x.swapaxes(-1, -2)


def _sum_to_shape(xp: Any, v: Array, shape: tuple[int, ...]) -> Array:
    """Sum the broadcast axes of ``v`` away so that it has ``shape``."""
    lead = v.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and v.shape[lead + i] != 1
    )
    if axes:
        v = xp.sum(v, axis=axes)
    return xp.reshape(v, shape)


# --------------------------------------------------------------------------- elementwise


def sinc_slope(x: Array) -> Array:
    """The derivative of ``np.sinc``: ``(cos(pi x) - sinc(x)) / x``, 0 at ``x = 0``.

    Args:
        x: the argument of ``np.sinc`` (an array or a Python number).

    Returns:
        The slope, shaped and typed like ``np.sinc(x)``.
    """
    xp = namespace(x)
    if not hasattr(x, "shape"):
        return (
            0.0 if x == 0 else (math.cos(math.pi * x) - math.sin(math.pi * x) / (math.pi * x)) / x
        )
    safe = xp.where(x == 0, 1, x)
    slope = (xp.cos(math.pi * safe) - xp.sinc(safe)) / safe
    return xp.where(x == 0, 0, slope)


def copysign_slope(x1: Any, x2: Any) -> Array:
    """The derivative of ``np.copysign(x1, x2)`` in ``x1``: ``sign(x1)`` times the sign of ``x2``.

    Args:
        x1: the magnitude operand.
        x2: the sign operand (its sign bit is read, so ``-0.0`` counts as negative).

    Returns:
        ``+1`` / ``-1`` (0 where ``x1`` is 0), broadcast like the result.
    """
    xp = namespace(x1, x2)
    return xp.sign(x1) * xp.where(xp.signbit(x2), -1, 1)


def angle_cotangent(g: Array, z: Any, deg: bool = False) -> Array:
    """Cotangent of ``np.angle(z, deg)`` for the operand ``z``.

    ``angle`` is ``atan2(Im z, Re z)``: its cotangent is ``g * conj(i z) / |z|^2`` (autograd's
    convention), zero at ``z = 0`` and zero for real ``z`` (where the angle is piecewise
    constant: 0 or pi).

    Args:
        g: the cotangent of the angle (real).
        z: the operand.
        deg: the forward ``deg`` flag (degrees scale the slope by 180 / pi).

    Returns:
        A cotangent shaped and typed like ``z``.
    """
    xp = namespace(g, z)
    scale = 180.0 / math.pi if deg else 1.0
    if getattr(getattr(z, "dtype", None), "kind", "") != "c" and not isinstance(z, complex):
        return unbroadcast(g * 0, z)
    mag2 = xp.real(z * xp.conj(z))
    d = g * scale * xp.conj(z * 1j) / xp.where(mag2 == 0, 1, mag2)
    return unbroadcast(xp.where(mag2 == 0, 0, d), z)


def nan_to_num_cotangent(g: Array, x: Any) -> Array:
    """Cotangent of ``np.nan_to_num(x)``: ``g`` where ``x`` is finite, 0 where it was replaced.

    Complex ``x`` has its real and imaginary parts replaced separately, so each part of the
    cotangent is masked by its own part of ``x``.

    Args:
        g: the cotangent of the result.
        x: the operand.

    Returns:
        A cotangent shaped and typed like ``x``.
    """
    xp = namespace(g, x)
    if getattr(getattr(x, "dtype", None), "kind", "") == "c":
        re = xp.where(xp.isfinite(x.real), xp.real(g), 0)
        im = xp.where(xp.isfinite(x.imag), xp.imag(g), 0)
        return unbroadcast(re + 1j * im, x)
    return unbroadcast(xp.where(xp.isfinite(x), g, 0), x)


# --------------------------------------------------------------------------- reductions


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
    if axis is None or not shape:  # numpy reads a 0-d a (a Python float) as 1-d
        x = xp.reshape(xp.asarray(a), (-1,))
        ax = 0
    else:
        x = a
        ax = _axis(axis, a.ndim)
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
        raise NotImplementedError(
            "np.average(..., returned=True) returns a pair, which srcgrad does not "
            "differentiate; hint: compute the sum of the weights separately"
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


def diff_cotangent(
    g: Array, a: Array, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None
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
    if operator.index(n) == 0:  # np.diff(a, n=0) is a itself (prepend and append unused)
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


def _spacing_steps(xp: Any, spacing: Any, n: int, dtype: Any) -> Array:
    """The ``n - 1`` steps between samples: a scalar step repeated, or ``diff`` of coordinates."""
    if hasattr(spacing, "shape") and spacing.ndim == 1 or isinstance(spacing, (list, tuple)):
        coords = xp.asarray(spacing)
        if coords.dtype.kind not in "fc":
            coords = coords.astype(dtype)
        return xp.diff(coords)
    return xp.full((n - 1,), spacing, dtype=dtype)


def _stencil(dx1: Any, dx2: Any, e1: Any, e2: Any, f1: Any, f2: Any, edge_order: int) -> tuple:
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
        first = (-(2 * e1 + e2) / (e1 * (e1 + e2)), (e1 + e2) / (e1 * e2), -e1 / (e2 * (e1 + e2)))
        last = (f2 / (f1 * (f1 + f2)), -(f2 + f1) / (f1 * f2), (2 * f2 + f1) / (f2 * (f1 + f2)))
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
    return out + xp.concatenate([head, rest], axis=-1) + xp.concatenate([rest, tail], axis=-1)


def _row_values(xp: Any, fm: Array, weights: tuple) -> tuple:
    """Per stencil row, the weighted sum of ``f``: interior rows, first row, last row."""
    lo, mid, hi, first, last = weights
    interior = lo * fm[..., :-2] + mid * fm[..., 1:-1] + hi * fm[..., 2:]
    head = sum(c * fm[..., i] for i, c in enumerate(first))
    k = len(last)
    tail = sum(c * fm[..., fm.shape[-1] - k + i] for i, c in enumerate(last))
    return interior, head, tail


_STEP = 1e-30  # complex-step size: exact derivatives of the (analytic) stencil weights


def _step_cotangent(xp: Any, g: Array, f: Array, ax: int, dx: Array, edge_order: int) -> Array:
    """Cotangent of the ``n - 1`` steps of one axis of ``np.gradient``.

    Each stencil row depends on two steps; the derivatives of its weights with respect to
    each are taken by the complex step (exact for these rational functions), one role at a
    time, and contracted with ``g`` and ``f``.
    """
    gm = xp.moveaxis(g, ax, -1)
    fm = xp.moveaxis(f, ax, -1)
    lanes = tuple(range(gm.ndim - 1))
    two = dx.shape[0] > 1
    base = (dx[:-1], dx[1:], dx[0], dx[1] if two else dx[0], dx[-2] if two else dx[-1], dx[-1])
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
            contrib = xp.sum(gm[..., 1:-1] * d_int, axis=lanes) if lanes else gm[1:-1] * d_int
            total = total + xp.concatenate([contrib, xp.zeros((1,), dtype=total.dtype)])
        elif role == 1:  # interior dx2 = dx[i] = dx[1..n-2]
            contrib = xp.sum(gm[..., 1:-1] * d_int, axis=lanes) if lanes else gm[1:-1] * d_int
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


def gradient_cotangents(
    g: Any, ans: Any, f: Array, varargs: Sequence[Any] = (), axis: Any = None, edge_order: int = 1
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
        term = xp.moveaxis(_stencil_rows(xp, xp.moveaxis(part, ax, -1), weights), -1, ax)
        d_f = term if d_f is None else d_f + term
        if varargs:
            d_dx = _step_cotangent(xp, part, f, ax, dx, order)
            d_steps[k] = d_dx if d_steps[k] is None else d_steps[k] + d_dx
    d_f = xp.zeros_like(f) if d_f is None else _fit(d_f, f)
    d_vars = []
    for spacing, d_dx in zip(varargs, d_steps):
        if d_dx is None:
            d_vars.append(None)
        elif hasattr(spacing, "shape") and spacing.ndim == 1 or isinstance(spacing, (list, tuple)):
            zero = xp.zeros((1,), dtype=d_dx.dtype)
            d_coords = xp.concatenate([zero, d_dx]) - xp.concatenate([d_dx, zero])
            d_vars.append(unbroadcast(d_coords, spacing))
        else:
            d_vars.append(unbroadcast(xp.sum(d_dx), spacing))
    return d_f, d_vars


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
    q_shape = tuple(qa.shape)
    q_count = math.prod(q_shape)
    pos = xp.reshape(qa, (q_count,)) * (scale * (n - 1))
    lo = xp.floor(pos)
    frac = (pos - lo).astype(g.dtype)
    lo = lo.astype(order.dtype)
    hi = xp.minimum(lo + 1, n - 1)
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
        raise NotImplementedError(
            "np.linspace(..., retstep=True) returns a pair, which srcgrad does not "
            "differentiate; hint: compute the step as (stop - start) / (num - 1)"
        )
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
            [_take_range(xp, t, ax, 0, num - 1), xp.ones_like(_take_range(xp, t, ax, 0, 1))],
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
    g: Array, ans: Array, start: Any, stop: Any, num: int = 50, endpoint: bool = True, axis: int = 0
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
    d_start, _ = linspace_cotangents(g * ans / a_start, start, stop, num, endpoint, axis)
    _, d_stop = linspace_cotangents(g * ans / a_stop, start, stop, num, endpoint, axis)
    return d_start, d_stop


def _expand_at(xp: Any, v: Array, ans: Array, ax: int) -> Array:
    """``v`` (shaped like ``ans`` without axis ``ax``, or broadcastable) with a unit axis."""
    if v.ndim == 0:
        return v
    return xp.expand_dims(v, ax)


def interp_cotangents(
    g: Array, x: Any, xp_: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None
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
        raise NotImplementedError("srcgrad differentiates np.interp without `period` only")
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


def _conv_full_slice(mode: str, n: int, m: int) -> tuple[int, int]:
    """Where ``np.convolve(a, v, mode)`` sits in the full convolution (length n + m - 1)."""
    full = n + m - 1
    if mode == "full":
        return 0, full
    if mode == "same":
        length = max(n, m)
        start = (min(n, m) - 1) // 2
        return start, start + length
    if mode == "valid":
        length = max(n, m) - min(n, m) + 1
        start = min(n, m) - 1
        return start, start + length
    raise ValueError(f"unknown convolution mode {mode!r}")


def convolve_cotangents(g: Array, a: Array, v: Array, mode: str = "full", kind: str = "convolve"):
    """Cotangents of ``np.convolve(a, v, mode)`` or ``np.correlate(a, v, mode)``.

    Both are bilinear: the cotangent of one operand is a correlation of the (zero-padded to
    full length) output cotangent with the other operand.  ``np.correlate`` conjugates ``v``.

    Args:
        g: the cotangent of the result.
        a: the first 1-D operand.
        v: the second 1-D operand.
        mode: ``"full"``, ``"same"`` or ``"valid"``.
        kind: ``"convolve"`` or ``"correlate"``.

    Returns:
        ``(cotangent of a, cotangent of v)``.
    """
    xp = namespace(g, a, v)
    a_shape, v_shape = _shape_of(a), _shape_of(v)
    a_in, v_in = a, v
    # numpy reads a 0-d operand (a Python float) as a 1-d one of length 1
    a, v = (xp.reshape(as_array(x, g, a, v), (-1,)) for x in (a, v))
    n, m = a.shape[0], v.shape[0]
    if kind == "correlate":
        # correlate(a, v, mode) = convolve(a, conj(v)[::-1], mode), with numpy's default 'valid'
        w = xp.conj(v)[::-1]
    else:
        w = v
    start, stop = _conv_full_slice(mode, n, m)
    full = n + m - 1
    dtype = g.dtype
    gf = xp.concatenate([xp.zeros((start,), dtype=dtype), g, xp.zeros((full - stop,), dtype=dtype)])
    # y_k = sum_i a_i w_{k-i}:  d a_i = sum_k g_k w_{k-i},  d w_j = sum_k g_k a_{k-j}
    d_a = xp.convolve(gf, w[::-1], mode="valid")
    d_w = xp.convolve(gf, a[::-1], mode="valid")
    if kind == "correlate":
        d_v = xp.conj(d_w[::-1])
    else:
        d_v = d_w
    return _fit(xp.reshape(d_a, a_shape), a_in), _fit(xp.reshape(d_v, v_shape), v_in)


# --------------------------------------------------------------------------- norms


def _safe_div(xp: Any, num: Array, den: Array) -> Array:
    """``num / den``, 0 where ``den`` is 0."""
    zero = den == 0
    return xp.where(zero, 0, num / xp.where(zero, 1, den))


def _vector_norm_cot(
    xp: Any, g: Array, x: Array, ans: Array, ord: Any, axes: Any, keepdims: bool
) -> Array:
    """Cotangent of a vector norm of ``x`` over ``axes`` (``None``: every axis)."""
    big = expand_like(g, x, axis=axes, keepdims=keepdims)
    norm = expand_like(ans, x, axis=axes, keepdims=keepdims)
    mag = xp.abs(x)
    if ord is None or ord == 2:
        return _safe_div(xp, big * xp.conj(x), norm)
    if ord == 0:
        return xp.zeros_like(x)
    if ord == 1:
        return big * _conj_sign(xp, x)
    if ord in (math.inf, -math.inf):
        hits = (mag == norm.real).astype(mag.dtype)
        share = hits / xp.sum(hits, axis=axes, keepdims=True)
        return big * share * _conj_sign(xp, x)
    p = float(ord)
    return big * _conj_sign(xp, x) * _safe_div(xp, mag ** (p - 1), norm.real ** (p - 1))


def _matrix_norm_cot(
    xp: Any, g: Array, x: Array, ans: Array, ord: Any, row: int, col: int, keepdims: bool
) -> Array:
    """Cotangent of a matrix norm of ``x`` over the axes ``(row, col)``."""
    axes = (row, col)
    big = expand_like(g, x, axis=axes, keepdims=keepdims)
    norm = expand_like(ans, x, axis=axes, keepdims=keepdims)
    if ord is None or ord == "fro" or ord == "f":
        return _safe_div(xp, big * xp.conj(x), norm)
    if ord in ("nuc", 2, -2):
        moved = xp.moveaxis(x, axes, (-2, -1))
        u, s, vh = xp.linalg.svd(moved, full_matrices=False)
        if ord == "nuc":
            uv = u @ vh
        else:
            k = 0 if ord == 2 else s.shape[-1] - 1
            uv = u[..., :, k : k + 1] @ vh[..., k : k + 1, :]
        return big * xp.conj(xp.moveaxis(uv, (-2, -1), axes))
    mag = xp.abs(x)
    if ord in (1, -1):  # the extreme column sum (sum over rows, extremum over columns)
        sums = xp.sum(mag, axis=row, keepdims=True)
        along = col
    elif ord in (math.inf, -math.inf):  # the extreme row sum
        sums = xp.sum(mag, axis=col, keepdims=True)
        along = row
    else:
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    hits = (sums == norm.real).astype(mag.dtype)
    share = hits / xp.sum(hits, axis=along, keepdims=True)
    return big * share * _conj_sign(xp, x)


def norm_cotangent(
    g: Array, x: Array, ans: Array, ord: Any = None, axis: Any = None, keepdims: bool = False
) -> Array:
    """Cotangent of ``np.linalg.norm(x, ord, axis, keepdims)`` for every ``ord`` numpy accepts.

    Vector norms (``axis`` an int, or ``axis=None`` on a 1-D ``x``, or ``ord=None`` on any
    ``x``): 2 (``None``), 1, ``inf``, ``-inf``, 0 (zero gradient) and any other real ``p``.
    Matrix norms (``axis`` a pair, or ``axis=None`` on a 2-D ``x``): ``'fro'``, ``'nuc'``, 2,
    -2, 1, -1, ``inf``, ``-inf``.  Ties (several maxima) share the cotangent evenly; the
    2-norm's cotangent is 0 at ``x = 0``.  Complex ``x`` gets ``conj`` factors (autograd).

    Args:
        g: the cotangent of the norm.
        x: the operand.
        ans: the forward result.
        ord: the forward ``ord``.
        axis: the forward ``axis``.
        keepdims: the forward ``keepdims``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    x = as_array(x, g, ans)
    nd = x.ndim
    if axis is None:
        if ord is None:
            out = _vector_norm_cot(xp, g, x, ans, None, None, keepdims)
        elif nd == 1:
            out = _vector_norm_cot(xp, g, x, ans, ord, (0,), keepdims)
        elif nd == 2:
            out = _matrix_norm_cot(xp, g, x, ans, ord, 0, 1, keepdims)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    elif _is_int(axis) or len(axis) == 1:
        ax = _axis(axis if _is_int(axis) else axis[0], nd)
        out = _vector_norm_cot(xp, g, x, ans, ord, (ax,), keepdims)
    else:
        row, col = (_axis(a, nd) for a in axis)
        out = _matrix_norm_cot(xp, g, x, ans, ord, row, col, keepdims)
    return _fit(out, x)


def vector_norm_cotangent(
    g: Array, x: Array, ans: Array, axis: Any = None, keepdims: bool = False, ord: Any = 2
) -> Array:
    """Cotangent of ``np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)``.

    ``axis=None`` or a tuple treats those axes as one flattened vector.

    Args:
        g: the cotangent of the norm.
        x: the operand.
        ans: the forward result.
        axis: the forward ``axis``.
        keepdims: the forward ``keepdims``.
        ord: the forward ``ord``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    x = as_array(x, g, ans)
    axes = None if axis is None else normalize_axes(axis, x.ndim)
    return _fit(_vector_norm_cot(xp, g, x, ans, ord, axes, keepdims), x)


def matrix_norm_cotangent(
    g: Array, x: Array, ans: Array, keepdims: bool = False, ord: Any = "fro"
) -> Array:
    """Cotangent of ``np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)`` (last two axes).

    Args:
        g: the cotangent of the norm.
        x: the operand (a stack of matrices).
        ans: the forward result.
        keepdims: the forward ``keepdims``.
        ord: the forward ``ord``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    nd = x.ndim
    return _fit(_matrix_norm_cot(xp, g, x, ans, ord, nd - 2, nd - 1, keepdims), x)


# --------------------------------------------------------------------------- shape


def unroll(g: Array, shift: Any, axis: Any = None) -> Array:
    """Cotangent of ``np.roll(a, shift, axis)``: roll ``g`` back by ``-shift``.

    Args:
        g: the cotangent of the rolled array.
        shift: the forward ``shift`` (an int or a tuple of ints).
        axis: the forward ``axis``.

    Returns:
        ``g`` rolled back.
    """
    xp = namespace(g)
    back = -shift if _is_int(shift) else tuple(-operator.index(s) for s in shift)
    return xp.roll(g, back, axis=axis)


def rollaxis_cotangent(g: Array, a: Array, axis: int, start: int = 0) -> Array:
    """Cotangent of ``np.rollaxis(a, axis, start)``: the inverse permutation of ``g``'s axes.

    Args:
        g: the cotangent of the result.
        a: the operand (its ``ndim`` is read).
        axis: the forward ``axis``.
        start: the forward ``start``.

    Returns:
        ``g`` transposed back to ``a``'s layout.
    """
    xp = namespace(g)
    n = a.ndim
    ax = _axis(axis, n)
    st = operator.index(start)
    if st < 0:
        st += n
    if ax < st:
        st -= 1
    order = [i for i in range(n) if i != ax]
    order.insert(st, ax)
    inverse = [0] * n
    for i, p in enumerate(order):
        inverse[p] = i
    return xp.transpose(g, inverse)


def hsplit_axis(ary: Array) -> int:
    """The axis ``np.hsplit`` splits along: 1, or 0 for a 1-D array."""
    return 1 if ary.ndim > 1 else 0


def _promoted_shape(shape: tuple[int, ...], kind: str) -> tuple[int, ...]:
    """The shape ``np.vstack`` / ``hstack`` / ``dstack`` / ``column_stack`` give an operand."""
    nd = len(shape)
    if kind in ("vstack", "row_stack"):
        return shape if nd >= 2 else ((1, 1) if nd == 0 else (1,) + shape)
    if kind == "hstack":
        return shape if nd >= 1 else (1,)
    if kind == "dstack":
        if nd == 0:
            return (1, 1, 1)
        if nd == 1:
            return (1,) + shape + (1,)
        if nd == 2:
            return shape + (1,)
        return shape
    if kind == "column_stack":
        if nd == 0:
            return (1, 1)
        if nd == 1:
            return shape + (1,)
        return shape
    raise ValueError(kind)


def _shape_of(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    if shape is None:
        import numpy  # host data (a constant list or a number): its shape is host data

        return tuple(numpy.shape(x))
    return tuple(shape)


def stacked_cotangents(g: Array, tup: Sequence[Any], kind: str) -> list:
    """Cotangents of ``np.vstack`` / ``hstack`` / ``dstack`` / ``column_stack`` operands.

    Args:
        g: the cotangent of the stacked result.
        tup: the stacked operands.
        kind: ``"vstack"``, ``"hstack"``, ``"dstack"`` or ``"column_stack"``.

    Returns:
        A list with one cotangent per operand, shaped and typed like it.
    """
    xp = namespace(g, *tup)
    shapes = [_promoted_shape(_shape_of(x), kind) for x in tup]
    if kind in ("vstack", "row_stack"):
        ax = 0
    elif kind == "hstack":
        ax = 0 if shapes and len(shapes[0]) == 1 else 1
    elif kind == "dstack":
        ax = 2
    else:
        ax = 1
    out = []
    start = 0
    for x, shape in zip(tup, shapes):
        stop = start + shape[ax]
        piece = _take_range(xp, g, ax, start, stop)
        out.append(unbroadcast(xp.reshape(piece, _shape_of(x)), x))
        start = stop
    return out


def atleast_cotangents(g: Any, arys: Sequence[Any]) -> list:
    """Cotangents of ``np.atleast_1d/2d/3d(*arys)``: ``g`` reshaped back to each operand.

    Args:
        g: the cotangent of the result: an array for one operand, else a sequence.
        arys: the operands.

    Returns:
        A list with one cotangent per operand.
    """
    parts = [g] if len(arys) == 1 else list(g)
    out = []
    for part, x in zip(parts, arys):
        if part is None:
            out.append(None)
            continue
        xp = namespace(part, x)
        out.append(unbroadcast(xp.reshape(part, _shape_of(x)), x))
    return out


def append_cotangents(g: Array, arr: Any, values: Any, axis: Any = None) -> tuple:
    """Cotangents of ``np.append(arr, values, axis)``.

    Args:
        g: the cotangent of the result.
        arr: the first operand.
        values: the appended operand.
        axis: the forward ``axis`` (``None``: both were flattened).

    Returns:
        ``(cotangent of arr, cotangent of values)``.
    """
    xp = namespace(g, arr, values)
    a_shape, v_shape = _shape_of(arr), _shape_of(values)
    if axis is None:
        k = math.prod(a_shape)
        first = xp.reshape(g[:k], a_shape)
        second = xp.reshape(g[k:], v_shape)
    else:
        ax = _axis(axis, g.ndim)
        k = a_shape[ax]
        first = _take_range(xp, g, ax, 0, k)
        second = _take_range(xp, g, ax, k, g.shape[ax])
    return unbroadcast(first, arr), unbroadcast(second, values)


def delete_cotangent(g: Array, arr: Array, obj: Any, axis: Any = None) -> Array:
    """Cotangent of ``np.delete(arr, obj, axis)``: ``g`` put back where the kept entries were.

    Args:
        g: the cotangent of the result.
        arr: the operand.
        obj: the forward ``obj`` (indices, a slice, or a boolean mask).
        axis: the forward ``axis`` (``None``: ``arr`` was flattened).

    Returns:
        An array shaped and typed like ``arr``.
    """
    xp = namespace(g, arr)
    if axis is None:
        n = arr.size
        kept = xp.delete(xp.arange(n), obj)
        z = xp.zeros((n,), dtype=g.dtype)
        z[kept] = g
        return _fit(xp.reshape(z, arr.shape), arr)
    ax = _axis(axis, arr.ndim)
    kept = xp.delete(xp.arange(arr.shape[ax]), obj)
    z = xp.zeros(arr.shape, dtype=g.dtype)
    z[(slice(None),) * ax + (kept,)] = g
    return _fit(z, arr)


def compress_cotangent(g: Array, condition: Any, a: Array, axis: Any = None) -> Array:
    """Cotangent of ``np.compress(condition, a, axis)`` (and ``np.extract``: ``axis=None``).

    Args:
        g: the cotangent of the selected entries.
        condition: the forward 1-D boolean condition (for ``axis=None``: over the flattened
            ``a``; for ``np.extract`` any shape, flattened).
        a: the operand.
        axis: the forward ``axis``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, condition)
    cond = xp.reshape(xp.asarray(condition), (-1,))
    kept = xp.nonzero(cond)[0]
    if axis is None:
        z = xp.zeros((a.size,), dtype=g.dtype)
        z[kept] = g
        return _fit(xp.reshape(z, a.shape), a)
    ax = _axis(axis, a.ndim)
    z = xp.zeros(a.shape, dtype=g.dtype)
    z[(slice(None),) * ax + (kept,)] = g
    return _fit(z, a)


def _pairs(value: Any, ndim: int, default: Any = None) -> list[tuple[Any, Any]]:
    """numpy's ``_as_pairs``: a (before, after) pair per axis from a pad-style argument."""
    if value is None:
        return [(default, default)] * ndim
    import numpy  # pad widths and stat lengths are host values

    arr = numpy.asarray(value)
    if arr.size == 1:
        v = arr.ravel()[0].item()
        return [(v, v)] * ndim
    if arr.size == 2 and arr.shape != (2, 1):
        a, b = (v.item() for v in arr.ravel())
        return [(a, b)] * ndim
    full = numpy.broadcast_to(arr, (ndim, 2))
    return [(full[i, 0].item(), full[i, 1].item()) for i in range(ndim)]


def _pad_axis(
    xp: Any, x: Array, ax: int, before: int, after: int, mode: str, options: dict[str, Any]
) -> Array:
    widths = [(0, 0)] * x.ndim
    widths[ax] = (before, after)
    return xp.pad(x, widths, mode=mode, **options)


def _unpad_axis(
    xp: Any,
    g: Array,
    x: Array,
    ax: int,
    before: int,
    after: int,
    mode: str,
    options: dict[str, Any],
) -> Array:
    """The adjoint of padding ``x`` along ``ax`` only, applied to ``g``."""
    n = x.shape[ax]
    total = g.shape[ax]
    if mode in ("constant", "empty"):
        return _take_range(xp, g, ax, before, before + n)
    if mode in ("edge", "wrap") or (
        mode in ("reflect", "symmetric") and options.get("reflect_type", "even") == "even"
    ):
        source = xp.pad(xp.arange(n), (before, after), mode=mode)
        moved = xp.moveaxis(g, ax, 0)
        z = xp.zeros((n,) + moved.shape[1:], dtype=g.dtype)
        xp.add.at(z, source, moved)
        return xp.moveaxis(z, 0, ax)
    if mode in ("reflect", "symmetric", "linear_ramp", "mean"):
        # linear in x along the axis: the (total, n) matrix of the map, applied transposed
        kwargs: dict[str, Any] = {}
        if mode in ("reflect", "symmetric"):
            kwargs["reflect_type"] = options.get("reflect_type", "even")
        if mode == "linear_ramp":
            kwargs["end_values"] = 0
        if mode == "mean" and options.get("stat_length") is not None:
            kwargs["stat_length"] = (options["stat_length"],)
        eye = xp.eye(n, dtype=g.dtype if g.dtype.kind in "fc" else None)
        matrix = xp.pad(eye, ((before, after), (0, 0)), mode=mode, **kwargs)
        moved = xp.moveaxis(g, ax, -1)
        return xp.moveaxis(moved @ matrix, -1, ax)
    if mode in ("maximum", "minimum", "median"):
        length = options.get("stat_length")
        left_len, right_len = (n, n) if length is None else length
        left_len = min(max(left_len, 1), n) if left_len is not None else n
        right_len = min(max(right_len, 1), n) if right_len is not None else n
        out = _take_range(xp, g, ax, before, before + n)
        parts = []
        if before:
            g_side = xp.sum(_take_range(xp, g, ax, 0, before), axis=ax, keepdims=True)
            region = _take_range(xp, x, ax, 0, left_len)
            parts.append((g_side, region, 0))
        if after:
            g_side = xp.sum(_take_range(xp, g, ax, before + n, total), axis=ax, keepdims=True)
            region = _take_range(xp, x, ax, n - right_len, n)
            parts.append((g_side, region, n - right_len))
        for g_side, region, start in parts:
            if mode == "median":
                share = quantile_cotangent(xp.squeeze(g_side, ax), region, 0.5, axis=ax)
            else:
                pick = xp.max if mode == "maximum" else xp.min
                ext = pick(region, axis=ax, keepdims=True)
                share = extremum_cotangent(g_side, region, ext, axis=ax, keepdims=True)
            k = region.shape[ax]
            shape = list(out.shape)
            pieces = []
            if start:
                shape[ax] = start
                pieces.append(xp.zeros(tuple(shape), dtype=out.dtype))
            pieces.append(share.astype(out.dtype))
            if start + k < n:
                shape[ax] = n - start - k
                pieces.append(xp.zeros(tuple(shape), dtype=out.dtype))
            out = out + xp.concatenate(pieces, axis=ax)
        return out
    raise NotImplementedError(f"srcgrad cannot differentiate np.pad with mode={mode!r}")


def pad_cotangent(
    g: Array,
    array: Array,
    pad_width: Any,
    mode: Any = "constant",
    stat_length: Any = None,
    reflect_type: str = "even",
) -> Array:
    """Cotangent of ``np.pad(array, pad_width, mode, ...)`` for every mode with a gradient.

    numpy pads one axis after the other, each time reading the array padded so far.  The
    cotangent undoes the axes in reverse order:

    * ``constant`` / ``empty``: the padding is constant, the cotangent is the centre of ``g``;
    * ``edge``, ``wrap``, ``reflect`` and ``symmetric`` (even): every padded entry copies an
      entry of the axis; their cotangents are scattered back through the index map that
      padding ``arange(n)`` the same way gives (any pad width);
    * ``reflect`` / ``symmetric`` with ``reflect_type='odd'``, ``linear_ramp`` and ``mean``:
      linear along the axis, applied as the transpose of the map's matrix (built by padding an
      identity matrix; memory ``(n + pad) * n`` per axis);
    * ``maximum`` / ``minimum`` / ``median``: the pad cotangent goes to the extreme (or
      middle) elements of the ``stat_length`` window, ties sharing evenly.

    ``constant_values`` and ``end_values`` are constants.

    Args:
        g: the cotangent of the padded array.
        array: the operand.
        pad_width: the forward ``pad_width``.
        mode: the forward ``mode`` (a callable mode is not supported).
        stat_length: the forward ``stat_length``.
        reflect_type: the forward ``reflect_type``.

    Returns:
        An array shaped and typed like ``array``.
    """
    if not isinstance(mode, str):
        raise NotImplementedError("srcgrad cannot differentiate np.pad with a callable mode")
    xp = namespace(g, array)
    array = as_array(array, g)
    nd = array.ndim
    widths = _pairs(pad_width, nd)
    lengths = _pairs(stat_length, nd)
    nonlinear = mode in ("maximum", "minimum", "median")
    for ax in reversed(range(nd)):
        before, after = widths[ax]
        if not before and not after:
            continue
        options: dict[str, Any] = {"reflect_type": reflect_type}
        if stat_length is not None:
            options["stat_length"] = lengths[ax]
        if nonlinear:
            # the array as numpy saw it when padding this axis: earlier axes padded already
            earlier = [w if i < ax else (0, 0) for i, w in enumerate(widths)]
            kwargs = {} if stat_length is None else {"stat_length": stat_length}
            x = xp.pad(array, earlier, mode=mode, **kwargs)
        else:
            shape = list(g.shape)
            shape[ax] -= before + after
            x = _ShapeOnly(tuple(shape))
        g = _unpad_axis(xp, g, x, ax, before, after, mode, options)
    return _fit(g, array)


class _ShapeOnly:
    """Stands for an array whose shape alone is read."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.ndim = len(shape)


def _scatter_add_axis(xp: Any, shape: tuple[int, ...], dtype: Any, ax: int, idx: Array, g: Array):
    """Zeros of ``shape`` with ``g`` added at ``idx`` along ``ax`` (repeats accumulate).

    ``g`` is laid out as ``shape[:ax] + idx.shape + shape[ax + 1:]`` (what ``np.take`` makes).
    """
    n = shape[ax]
    pre, post = shape[:ax], shape[ax + 1 :]
    k = idx.ndim
    moved = g
    # bring the index axes to the front: idx.shape + pre + post
    moved = xp.moveaxis(moved, tuple(range(ax, ax + k)), tuple(range(k)))
    moved = xp.reshape(moved, (idx.size,) + pre + post)
    z = xp.zeros((n,) + pre + post, dtype=dtype)
    xp.add.at(z, xp.reshape(idx, (-1,)), moved)
    return xp.moveaxis(z, 0, ax)


def take_cotangent(
    g: Array, a: Array, indices: Any, axis: Any = None, mode: str = "raise"
) -> Array:
    """Cotangent of ``np.take(a, indices, axis, mode=mode)``: ``g`` added back at the indices.

    Args:
        g: the cotangent of the taken entries.
        a: the operand.
        indices: the forward indices (an int, a list or an integer array).
        axis: the forward ``axis`` (``None``: ``a`` was flattened).
        mode: ``"raise"`` (negative indices count from the end), ``"wrap"`` or ``"clip"``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, indices)
    a = as_array(a, g, indices)
    idx = xp.asarray(indices)
    if axis is None or a.ndim == 0:  # numpy reads a 0-d a as 1-d
        n = a.size
        shape: tuple[int, ...] = (n,)
        ax = 0
    else:
        ax = _axis(axis, a.ndim)
        shape = tuple(a.shape)
        n = shape[ax]
    if mode == "clip":
        idx = xp.clip(idx, 0, n - 1)
    else:
        idx = idx % n
    dtype = g.dtype
    out = _scatter_add_axis(xp, shape, dtype, ax, idx, g)
    return _fit(xp.reshape(out, a.shape), a)


def take_along_axis_cotangent(g: Array, arr: Array, indices: Any, axis: Any = -1) -> Array:
    """Cotangent of ``np.take_along_axis(arr, indices, axis)`` (repeated indices accumulate).

    Args:
        g: the cotangent of the result.
        arr: the operand.
        indices: the forward indices.
        axis: the forward ``axis`` (``None``: ``arr`` was flattened).

    Returns:
        An array shaped and typed like ``arr``.
    """
    xp = namespace(g, arr, indices)
    idx = xp.asarray(indices)
    if axis is None:
        z = xp.zeros((arr.size,), dtype=g.dtype)
        xp.add.at(z, idx % arr.size, g)
        return _fit(xp.reshape(z, arr.shape), arr)
    ax = _axis(axis, arr.ndim)
    n = arr.shape[ax]
    key = []
    for d in range(arr.ndim):
        if d == ax:
            key.append(xp.broadcast_to(idx % n, g.shape))
            continue
        shape = [1] * arr.ndim
        shape[d] = g.shape[d]
        if arr.shape[d] == 1:
            key.append(xp.zeros(tuple(shape), dtype=idx.dtype))
        else:
            key.append(xp.reshape(xp.arange(g.shape[d]), tuple(shape)))
    z = xp.zeros(arr.shape, dtype=g.dtype)
    xp.add.at(z, tuple(key), g)
    return _fit(z, arr)


def diagonal_cotangent(
    g: Array, a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1
) -> Array:
    """Cotangent of ``np.diagonal(a, offset, axis1, axis2)``, any shape and offset.

    Args:
        g: the cotangent of the diagonal (the diagonal is its last axis).
        a: the operand.
        offset: the forward ``offset``.
        axis1: the forward ``axis1``.
        axis2: the forward ``axis2``.

    Returns:
        An array shaped and typed like ``a``: ``g`` on the diagonal, zeros elsewhere.
    """
    xp = namespace(g, a)
    a1, a2 = _axis(axis1, a.ndim), _axis(axis2, a.ndim)
    n1, n2 = a.shape[a1], a.shape[a2]
    rest = tuple(d for i, d in enumerate(a.shape) if i not in (a1, a2))
    z = xp.zeros(rest + (n1, n2), dtype=g.dtype)
    k = operator.index(offset)
    length = g.shape[-1]
    steps = xp.arange(length)
    rows, cols = (steps, steps + k) if k >= 0 else (steps - k, steps)
    z[..., rows, cols] = g
    return _fit(xp.moveaxis(z, (-2, -1), (a1, a2)), a)


def trace_cotangent(g: Array, a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """Cotangent of ``np.trace(a, offset, axis1, axis2)``: ``g`` on the diagonal.

    Args:
        g: the cotangent of the trace.
        a: the operand.
        offset: the forward ``offset``.
        axis1: the forward ``axis1``.
        axis2: the forward ``axis2``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    a1, a2 = _axis(axis1, a.ndim), _axis(axis2, a.ndim)
    n1, n2 = a.shape[a1], a.shape[a2]
    k = operator.index(offset)
    length = max(0, min(n1, n2 - k) if k >= 0 else min(n1 + k, n2))
    gd = xp.asarray(g)
    diag = xp.broadcast_to(xp.expand_dims(gd, -1), gd.shape + (length,))
    return diagonal_cotangent(diag, a, k, a1, a2)


def diag_cotangent(g: Array, v: Array, k: int = 0) -> Array:
    """Cotangent of ``np.diag(v, k)``: a diagonal of ``g`` (1-D ``v``) or ``g`` on one (2-D).

    Args:
        g: the cotangent of the result.
        v: the operand (1-D: ``diag`` built a matrix; 2-D: it extracted a diagonal).
        k: the forward ``k``.

    Returns:
        An array shaped and typed like ``v``.
    """
    xp = namespace(g, v)
    if v.ndim == 1:
        return _fit(xp.diagonal(g, k), v)
    return diagonal_cotangent(g, v, k, 0, 1)


def diagflat_cotangent(g: Array, v: Any, k: int = 0) -> Array:
    """Cotangent of ``np.diagflat(v, k)``: the ``k``-th diagonal of ``g`` in ``v``'s shape."""
    xp = namespace(g, v)
    return unbroadcast(xp.reshape(xp.diagonal(g, k), _shape_of(v)), v)


def permutation_cotangent(g: Array, a: Array, ans: Array, axis: Any = -1) -> Array:
    """Cotangent of a function that permutes ``a`` along ``axis`` (``np.sort``, ``partition``).

    The ``r``-th smallest entry of each lane of ``ans`` is the ``r``-th smallest of ``a``, so
    ranking both (stable argsorts) says where each output entry came from; equal values are
    interchangeable, so any matching of ties is exact.

    Args:
        g: the cotangent of the permuted array.
        a: the operand.
        ans: the forward result.
        axis: the forward ``axis`` (``None``: ``a`` was flattened).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, ans)
    a = as_array(a, g, ans)
    if axis is None:
        x = xp.reshape(a, (-1,))
        ax = 0
    else:
        x = a
        ax = _axis(axis, a.ndim)
    from_x = xp.argsort(x, axis=ax, kind="stable")  # (numpy 1.26 has no stable=)
    from_y = xp.argsort(ans, axis=ax, kind="stable")
    z = xp.zeros(x.shape, dtype=g.dtype)
    xp.put_along_axis(z, from_x, xp.take_along_axis(g, from_y, axis=ax), axis=ax)
    return _fit(xp.reshape(z, a.shape), a)


def kron_cotangent_a(g: Array, a: Any, b: Any) -> Array:
    """Cotangent of ``np.kron(a, b)`` for ``a``: each block of ``g`` contracted with ``b``."""
    return _kron_cotangent(g, a, b, first=True)


def kron_cotangent_b(g: Array, a: Any, b: Any) -> Array:
    """Cotangent of ``np.kron(a, b)`` for ``b``: ``g``'s blocks weighted by ``a`` and summed."""
    return _kron_cotangent(g, a, b, first=False)


def _kron_cotangent(g: Array, a: Any, b: Any, first: bool) -> Array:
    xp = namespace(g, a, b)
    a_shape, b_shape = _shape_of(a), _shape_of(b)
    nd = max(len(a_shape), len(b_shape))
    sa = (1,) * (nd - len(a_shape)) + a_shape
    sb = (1,) * (nd - len(b_shape)) + b_shape
    split = tuple(d for pair in zip(sa, sb) for d in pair)
    blocks = xp.reshape(g, split)
    if first:
        other = xp.reshape(xp.asarray(b), tuple(d for s in sb for d in (1, s)))
        out = xp.sum(blocks * other, axis=tuple(range(1, 2 * nd, 2)))
        return unbroadcast(xp.reshape(out, a_shape), a)
    other = xp.reshape(xp.asarray(a), tuple(d for s in sa for d in (s, 1)))
    out = xp.sum(blocks * other, axis=tuple(range(0, 2 * nd, 2)))
    return unbroadcast(xp.reshape(out, b_shape), b)


def select_cotangents(g: Array, condlist: Sequence[Any], choicelist: Sequence[Any]) -> list:
    """Cotangents of the choices of ``np.select(condlist, choicelist, default)``.

    Choice ``k`` gets ``g`` where condition ``k`` is the first true one.

    Args:
        g: the cotangent of the result.
        condlist: the forward conditions.
        choicelist: the forward choices.

    Returns:
        A list with one cotangent per choice.
    """
    xp = namespace(g, *condlist, *choicelist)
    taken = None
    out = []
    for cond, choice in zip(condlist, choicelist):
        c = xp.asarray(cond)
        mine = c if taken is None else c & ~taken
        out.append(unbroadcast(xp.where(mine, g, 0), choice))
        taken = c if taken is None else taken | c
    return out


def choose_cotangents(g: Array, a: Any, choices: Sequence[Any], mode: str = "raise") -> list:
    """Cotangents of the choices of ``np.choose(a, choices, mode=mode)``.

    Args:
        g: the cotangent of the result.
        a: the forward index array.
        choices: the forward choices.
        mode: ``"raise"``, ``"wrap"`` or ``"clip"``.

    Returns:
        A list with one cotangent per choice.
    """
    xp = namespace(g, a, *choices)
    idx = xp.asarray(a)
    n = len(choices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = xp.clip(idx, 0, n - 1)
    return [unbroadcast(xp.where(idx == k, g, 0), c) for k, c in enumerate(choices)]


def unwindow(g: Array, x: Array, window_shape: Any, axis: Any = None) -> Array:
    """Cotangent of ``sliding_window_view(x, window_shape, axis)``: add every window back.

    Args:
        g: the cotangent of the windows: ``x``'s shape with each windowed axis shortened,
            followed by one axis per window dimension.
        x: the operand.
        window_shape: the forward ``window_shape`` (an int or a tuple).
        axis: the forward ``axis`` (``None``: every axis; an axis may repeat).

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x)
    windows = (operator.index(window_shape),) if _is_int(window_shape) else tuple(window_shape)
    if axis is None:
        axes = tuple(range(x.ndim))
    elif _is_int(axis):
        axes = (_axis(axis, x.ndim),)
    else:
        axes = tuple(_axis(a, x.ndim) for a in axis)
    out_shape = g.shape[: x.ndim]
    z = xp.zeros(x.shape, dtype=g.dtype)
    for offsets in _product(windows):
        starts = [0] * x.ndim
        for ax, off in zip(axes, offsets):
            starts[ax] += off
        key = tuple(slice(s, s + d) for s, d in zip(starts, out_shape))
        z[key] = z[key] + g[(Ellipsis,) + tuple(offsets)]
    return _fit(z, x)


def _product(sizes: Sequence[int]):
    return itertools.product(*(range(s) for s in sizes))


def meshgrid_cotangents(g: Sequence[Any], xi: Sequence[Any], indexing: str = "xy") -> list:
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


def broadcast_arrays_cotangents(g: Sequence[Any], args: Sequence[Any]) -> list:
    """Cotangents of ``np.broadcast_arrays(*args)``: each output's cotangent summed back."""
    return [None if part is None else unbroadcast(part, x) for part, x in zip(g, args)]


def unstack_cotangent_pieces(g: Sequence[Any], x: Array, axis: int = 0) -> Array:
    """Cotangent of ``np.unstack(x, axis=axis)``: the pieces stacked again (zeros for unused)."""
    xp = namespace(x, *[p for p in g if p is not None])
    ax = _axis(axis, x.ndim)
    shape = tuple(d for i, d in enumerate(x.shape) if i != ax)
    pieces = [xp.zeros(shape, dtype=x.dtype) if p is None else _fit(p, x) for p in g]
    return xp.stack(pieces, axis=ax)


# --------------------------------------------------------------------------- linalg


def _eye_like(xp: Any, n: int, like: Array) -> Array:
    return xp.eye(n, dtype=like.dtype)


def _triangle_form(xp: Any, grad: Array, uplo: str = "L") -> Array:
    """The gradient w.r.t. a matrix of which only one triangle is read (LAPACK ``uplo``).

    ``grad`` is the gradient for symmetric perturbations; the function really depends on the
    triangle ``T`` only (the matrix used is ``T + T^T - diag(T)``), so the off-diagonal
    entries of the triangle get ``grad + grad^T`` and the other triangle gets nothing.
    """
    n = grad.shape[-1]
    eye = _eye_like(xp, n, grad)
    both = grad + _mT(grad)
    side = xp.tril(both, -1) if str(uplo).upper() == "L" else xp.triu(both, 1)
    return side + grad * eye


def _diag_embed(xp: Any, v: Array) -> Array:
    n = v.shape[-1]
    return xp.expand_dims(v, -1) * _eye_like(xp, n, v)


def _off_diagonal_inverse(xp: Any, d: Array) -> Array:
    """``1 / d`` off the diagonal, 0 on it (``d`` is a stack of square matrices)."""
    n = d.shape[-1]
    eye = xp.eye(n, dtype=bool)
    return xp.where(eye, 0, 1 / xp.where(eye, 1, d))


def det_cotangent(g: Array, ans: Array, a: Array) -> Array:
    """Cotangent of ``np.linalg.det(a)``: ``g`` times the adjugate's transpose.

    The adjugate is computed from an SVD, ``adj(A) = det(U) det(Vh) V diag(prod_{j != i} s_j)
    U^H``, so the cotangent stays finite (and exact) for singular matrices, where the usual
    ``det(A) inv(A)^T`` fails.  Real or complex (holomorphic: no conjugation).

    Args:
        g: the cotangent of the determinant(s).
        ans: the forward result.
        a: the operand (a stack of square matrices).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    u, s, vh = xp.linalg.svd(a)
    others = prod_others(s, -1)
    phase = xp.linalg.det(u) * xp.linalg.det(vh)
    adj = (_mT(xp.conj(vh)) * xp.expand_dims(others, -2)) @ _mT(xp.conj(u))
    coef = xp.expand_dims(xp.asarray(g) * phase, (-2, -1))
    return _fit(coef * _mT(adj), a)


def slogdet_cotangent(g: Sequence[Any], ans: Sequence[Array], a: Array) -> Array:
    """Cotangent of ``sign, logabsdet = np.linalg.slogdet(a)``.

    ``logabsdet`` contributes ``g_logabsdet * inv(a)^T``; for complex ``a`` the sign (a
    phase) moves too and contributes ``i Im(g_sign sign) inv(a)^T``.  A real sign is locally
    constant.

    Args:
        g: ``(cotangent of sign, cotangent of logabsdet)``; either may be ``None``.
        ans: the forward ``(sign, logabsdet)``.
        a: the operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    g_sign, g_log = g
    sign, logabs = ans
    xp = namespace(a, sign, logabs)
    coef = xp.zeros_like(logabs) if g_log is None else g_log
    if a.dtype.kind == "c" and g_sign is not None:
        coef = coef + 1j * xp.imag(g_sign * sign)
    inv_t = _mT(xp.linalg.inv(a))
    return _fit(xp.expand_dims(coef, (-2, -1)) * inv_t, a)


def _solve_cotangent(xp: Any, g: Array, a: Array, b: Array) -> tuple[Array, bool]:
    vector = b.ndim == 1
    rhs = xp.expand_dims(g, -1) if vector else g
    return xp.linalg.solve(_mT(a), rhs), vector


def solve_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.linalg.solve(a, b)`` for ``b``: ``solve(a^T, g)``, summed to ``b``.

    numpy 2's rule applies: ``b`` is a vector only when it is 1-D.

    Args:
        g: the cotangent of the solution.
        a: the matrix (a stack of square matrices).
        b: the right-hand side.

    Returns:
        An array shaped and typed like ``b``.
    """
    xp = namespace(g, a, b)
    z, vector = _solve_cotangent(xp, g, a, b)
    if vector:
        z = z[..., 0]
    return unbroadcast(z, b)


def solve_cotangent_a(g: Array, ans: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``x = np.linalg.solve(a, b)`` for ``a``: ``-solve(a^T, g) x^T``.

    Args:
        g: the cotangent of the solution.
        ans: the forward solution ``x``.
        a: the matrix.
        b: the right-hand side.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a, b)
    z, vector = _solve_cotangent(xp, g, a, b)
    x = xp.expand_dims(ans, -1) if vector else ans
    return unbroadcast(-(z @ _mT(x)), a)


def _pinv_cotangent(xp: Any, g: Array, a: Array, p: Array) -> Array:
    """Cotangent of ``p = pinv(a)`` for a full-rank ``a`` (real)."""
    m, n = a.shape[-2], a.shape[-1]
    eye_m = _eye_like(xp, m, p)
    eye_n = _eye_like(xp, n, p)
    pt = _mT(p)
    gt = _mT(g)
    return -(pt @ g @ pt) + (eye_m - a @ p) @ gt @ (p @ pt) + (pt @ p) @ gt @ (eye_n - p @ a)


def pinv_cotangent(g: Array, ans: Array, a: Array, hermitian: bool = False) -> Array:
    """Cotangent of ``np.linalg.pinv(a, hermitian=hermitian)`` for a full-rank real ``a``.

    Args:
        g: the cotangent of the pseudo-inverse.
        ans: the forward result.
        a: the operand (a stack of matrices).
        hermitian: the forward flag (then only the lower triangle of ``a`` is read).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    if not hermitian:
        return _fit(_pinv_cotangent(xp, g, a, ans), a)
    low = xp.tril(a, -1)
    used = low + _mT(low) + a * _eye_like(xp, a.shape[-1], a)  # the matrix numpy inverts
    return _fit(_triangle_form(xp, _pinv_cotangent(xp, g, used, ans), "L"), a)


def cholesky_cotangent(g: Array, ans: Array, a: Array, upper: bool = False) -> Array:
    """Cotangent of ``np.linalg.cholesky(a, upper=upper)`` (real symmetric positive-definite).

    Murray's formula (arXiv:1602.07527) gives the gradient for symmetric perturbations,
    ``S = L^-T Phi(L^T g) L^-1`` symmetrised; LAPACK reads one triangle of ``a`` only (the
    lower one, or the upper one for ``upper=True``), so that triangle gets the cotangent.

    Args:
        g: the cotangent of the factor.
        ans: the forward factor (``L``, or ``U = L^T`` for ``upper=True``).
        a: the operand.
        upper: the forward flag.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    low = _mT(ans) if upper else ans
    g_low = _mT(g) if upper else g
    n = low.shape[-1]
    eye = _eye_like(xp, n, low)
    inner = _mT(low) @ g_low
    phi = xp.tril(inner) - 0.5 * inner * eye
    low_inv = xp.linalg.inv(low)
    s = _mT(low_inv) @ phi @ low_inv
    sym = (s + _mT(s)) / 2
    return _fit(_triangle_form(xp, sym, "U" if upper else "L"), a)


def eigh_cotangent(g: Sequence[Any], ans: Sequence[Array], a: Array, UPLO: str = "L") -> Array:
    """Cotangent of ``w, v = np.linalg.eigh(a, UPLO)`` (real symmetric, distinct eigenvalues).

    ``v (diag(g_w) + F * (v^T g_v)) v^T`` with ``F_ij = 1 / (w_j - w_i)`` off the diagonal,
    moved onto the triangle LAPACK reads.  Without a cotangent for ``v`` the eigenvector term
    is skipped, so functions of the eigenvalues alone stay finite at repeated eigenvalues.

    Args:
        g: ``(cotangent of w, cotangent of v)``; either may be ``None``.
        ans: the forward ``(w, v)``.
        a: the operand.
        UPLO: the forward ``UPLO``.

    Returns:
        An array shaped and typed like ``a``.
    """
    g_w, g_v = g
    w, v = ans
    xp = namespace(a, w, v)
    inner = xp.zeros(v.shape, dtype=v.dtype) if g_w is None else _diag_embed(xp, g_w)
    if g_v is not None:
        f = _off_diagonal_inverse(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = inner + f * (_mT(v) @ g_v)
    return _fit(_triangle_form(xp, v @ inner @ _mT(v), UPLO), a)


def eigvalsh_cotangent(g: Array, a: Array, UPLO: str = "L") -> Array:
    """Cotangent of ``np.linalg.eigvalsh(a, UPLO)``: ``v diag(g) v^T`` on the read triangle.

    Args:
        g: the cotangent of the eigenvalues.
        a: the operand.
        UPLO: the forward ``UPLO``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    _, v = xp.linalg.eigh(a, UPLO=UPLO)
    return _fit(_triangle_form(xp, (v * xp.expand_dims(g, -2)) @ _mT(v), UPLO), a)


def _svd_core(
    xp: Any, u: Array, s: Array, vh: Array, gu: Any, gs: Any, gvh: Any, a: Array
) -> Array:
    """Cotangent of the thin SVD ``a = u diag(s) vh`` (real, distinct nonzero s)."""
    m, n = a.shape[-2], a.shape[-1]
    k = s.shape[-1]
    eye = _eye_like(xp, k, s)
    v = _mT(vh)
    out = xp.zeros(a.shape, dtype=u.dtype)
    inner = xp.zeros(s.shape + (k,), dtype=u.dtype)
    if gs is not None:
        inner = inner + xp.expand_dims(gs, -1) * eye
    s_row = xp.expand_dims(s, -2)
    s_col = xp.expand_dims(s, -1)
    f = _off_diagonal_inverse(xp, s_row**2 - s_col**2)
    if gu is not None:
        utgu = _mT(u) @ gu
        inner = inner + (f * (utgu - _mT(utgu))) * s_row
    if gvh is not None:
        gv = _mT(gvh)
        vtgv = _mT(v) @ gv
        inner = inner + s_col * (f * (vtgv - _mT(vtgv)))
    out = u @ inner @ vh
    if gu is not None and m > k:
        out = out + (gu - u @ (_mT(u) @ gu)) @ (_mT(v) / s_col)
    if gvh is not None and n > k:
        gv = _mT(gvh)
        out = out + (u / s_row) @ _mT(gv - v @ (_mT(v) @ gv))
    return out


def svd_cotangent(
    g: Any,
    ans: Any,
    a: Array,
    full_matrices: bool = True,
    compute_uv: bool = True,
    hermitian: bool = False,
) -> Array:
    """Cotangent of ``np.linalg.svd(a, full_matrices, compute_uv, hermitian)`` (real ``a``).

    Distinct, nonzero singular values are assumed where the singular vectors get a cotangent
    (Townsend's formula, with the extra terms for non-square ``a``).  With
    ``full_matrices=True`` the columns beyond ``min(m, n)`` are not determined by ``a``, so
    they may not carry a cotangent.  ``compute_uv=False`` (a single output, ``s``) needs the
    vectors only: ``u diag(g) vh``.

    Args:
        g: ``(g_u, g_s, g_vh)`` (entries may be ``None``), or ``g_s`` when
            ``compute_uv=False``.
        ans: the forward ``(u, s, vh)``, or ``s``.
        a: the operand.
        full_matrices: the forward flag.
        compute_uv: the forward flag.
        hermitian: the forward flag (then only the lower triangle of ``a`` is read).

    Returns:
        An array shaped and typed like ``a``.

    Raises:
        NotImplementedError: for a cotangent on the undetermined columns.
    """
    xp = namespace(a, *(x for x in (ans if compute_uv else (ans,))))
    if not compute_uv:
        u, s, vh = xp.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        out = (u * xp.expand_dims(g, -2)) @ vh
    else:
        u, s, vh = ans
        gu, gs, gvh = g
        m, n = a.shape[-2], a.shape[-1]
        k = min(m, n)
        if full_matrices and m != n:
            if (gu is not None and m > k) or (gvh is not None and n > k):
                raise NotImplementedError(
                    "the extra singular vectors of np.linalg.svd(..., full_matrices=True) "
                    "are not determined by the matrix, so they have no gradient; "
                    "hint: pass full_matrices=False"
                )
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        out = _svd_core(xp, u, s, vh, gu, gs, gvh, a)
    if hermitian:
        out = _triangle_form(xp, out, "L")
    return _fit(out, a)


def svdvals_cotangent(g: Array, x: Array) -> Array:
    """Cotangent of ``np.linalg.svdvals(x)``: ``u diag(g) vh``."""
    return svd_cotangent(g, None, x, full_matrices=False, compute_uv=False)


def _syml(xp: Any, m: Array) -> Array:
    """The symmetric matrix with ``m``'s lower triangle (``copyltu``)."""
    low = xp.tril(m, -1)
    n = m.shape[-1]
    return low + _mT(low) + m * _eye_like(xp, n, m)


def _qr_tall(xp: Any, q: Array, r: Array, gq: Any, gr: Any) -> Array:
    """Cotangent of the reduced QR of a tall or square matrix (m >= n)."""
    gq = xp.zeros(q.shape, dtype=q.dtype) if gq is None else gq
    gr = xp.zeros(r.shape, dtype=r.dtype) if gr is None else gr
    m_ = r @ _mT(gr) - _mT(gq) @ q
    b = gq + q @ _syml(xp, m_)
    return _mT(xp.linalg.solve(r, _mT(b)))


def qr_cotangent(g: Any, ans: Any, a: Array, mode: str = "reduced") -> Array:
    """Cotangent of ``np.linalg.qr(a, mode)`` (real; ``R`` with a nonzero diagonal).

    Tall and square matrices use ``(g_Q + Q copyltu(M)) R^-T`` with ``M = R g_R^T - g_Q^T Q``;
    wide matrices split ``a = [X | Y]`` with ``X = Q U`` square.  ``mode='r'`` returns ``R``
    only (a single output); ``mode='complete'`` on a tall matrix has undetermined columns of
    ``Q``, which may not carry a cotangent.

    Args:
        g: ``(g_Q, g_R)`` (entries may be ``None``), or ``g_R`` for ``mode='r'``.
        ans: the forward ``(Q, R)``, or ``R``.
        a: the operand.
        mode: the forward mode: ``"reduced"``, ``"complete"`` or ``"r"``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(a)
    m, n = a.shape[-2], a.shape[-1]
    if mode == "r":
        q, r = xp.linalg.qr(a)
        gq, gr = None, g
    elif mode in ("reduced", "complete"):
        q, r = ans
        gq, gr = g
        if mode == "complete" and m > n:
            if gq is not None:
                raise NotImplementedError(
                    "the extra columns of Q from np.linalg.qr(..., mode='complete') are not "
                    "determined by the matrix; hint: use mode='reduced'"
                )
            q, r = q[..., :, :n], r[..., :n, :]
            gr = None if gr is None else gr[..., :n, :]
    else:
        raise NotImplementedError(f"srcgrad cannot differentiate np.linalg.qr(mode={mode!r})")
    if m >= n:
        return _fit(_qr_tall(xp, q, r, gq, gr), a)
    u = r[..., :, :m]
    y = a[..., :, m:]
    gu = None if gr is None else gr[..., :, :m]
    gv = None if gr is None else gr[..., :, m:]
    gq2 = gq
    if gv is not None:
        extra = y @ _mT(gv)
        gq2 = extra if gq is None else gq + extra
    gx = _qr_tall(xp, q, u, gq2, gu)
    gy = xp.zeros(y.shape, dtype=a.dtype) if gv is None else q @ gv
    return _fit(xp.concatenate([gx, gy], axis=-1), a)


def _eig_core(xp: Any, w: Array, v: Array, gw: Any, gv: Any, a: Array) -> Array:
    n = w.shape[-1]
    inner = xp.zeros(v.shape, dtype=v.dtype if v.dtype.kind == "c" else w.dtype)
    if gw is not None:
        inner = inner + _diag_embed(xp, gw)
    if gv is not None:
        # LAPACK's gauge: unit norm and the largest component real; project the cotangent
        beta = xp.sum(gv * v, axis=-2)
        pivot = xp.argmax(xp.abs(v), axis=-2)
        at = xp.expand_dims(pivot, -2)
        vp = xp.real(xp.take_along_axis(v, at, axis=-2))[..., 0, :]
        onehot = xp.expand_dims(xp.arange(n), -1) == at
        gv2 = (
            gv
            - xp.expand_dims(xp.real(beta), -2) * xp.conj(v)
            - 1j * xp.expand_dims(xp.imag(beta) / vp, -2) * onehot
        )
        f = _off_diagonal_inverse(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = inner + f * (_mT(v) @ gv2)
    out = xp.linalg.solve(_mT(v), inner @ _mT(v))
    return _fit(out, a)


def eig_cotangent(g: Sequence[Any], ans: Sequence[Array], a: Array) -> Array:
    """Cotangent of ``w, v = np.linalg.eig(a)`` (distinct eigenvalues; real or complex ``a``).

    ``v^-T (diag(g_w) + F * (v^T g_v')) v^T`` with ``F_jk = 1 / (w_k - w_j)``, where ``g_v'``
    is ``g_v`` projected for LAPACK's normalisation of each eigenvector (unit norm, largest
    component real), so the result is the derivative of exactly what numpy returns.

    Args:
        g: ``(cotangent of w, cotangent of v)``; either may be ``None``.
        ans: the forward ``(w, v)``.
        a: the operand.

    Returns:
        An array shaped and typed like ``a`` (the real part for a real ``a``).
    """
    w, v = ans
    xp = namespace(a, w, v)
    return _eig_core(xp, w, v, g[0], g[1], a)


def eigvals_cotangent(g: Array, ans: Array, a: Array) -> Array:
    """Cotangent of ``np.linalg.eigvals(a)``: ``v^-T diag(g) v^T`` (distinct eigenvalues).

    The eigenvectors are recomputed with ``eig`` and matched to ``ans`` by value.

    Args:
        g: the cotangent of the eigenvalues.
        ans: the forward eigenvalues.
        a: the operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    w, v = xp.linalg.eig(a)
    match = xp.argmin(xp.abs(xp.expand_dims(ans, -1) - xp.expand_dims(w, -2)), axis=-1)
    v = xp.take_along_axis(v, xp.expand_dims(match, -2), axis=-1)
    return _eig_core(xp, ans, v, g, None, a)


def lstsq_cotangent_a(g: Sequence[Any], ans: Sequence[Any], a: Array, b: Array) -> Array:
    """Cotangent of ``x, residuals, rank, s = np.linalg.lstsq(a, b)`` for ``a`` (full rank).

    ``x = pinv(a) b``; the residuals ``|b - a x|^2`` (present for tall full-rank ``a``) add
    ``-2 r (g_res x)^T``; the singular values add ``u diag(g_s) vh``.

    Args:
        g: one cotangent per output (``None`` for unused outputs; ``rank`` never has one).
        ans: the forward outputs.
        a: the matrix.
        b: the right-hand side(s).

    Returns:
        An array shaped and typed like ``a``.
    """
    gx, gres, _, gs = g
    x, res, _, _ = ans
    xp = namespace(a, b, x)
    vector = b.ndim == 1
    bm = xp.expand_dims(b, -1) if vector else b
    xm = xp.expand_dims(x, -1) if vector else x
    out = xp.zeros(a.shape, dtype=x.dtype)
    if gx is not None:
        p = xp.linalg.pinv(a)
        gxm = xp.expand_dims(gx, -1) if vector else gx
        out = out + _pinv_cotangent(xp, gxm @ _mT(bm), a, p)
    if gres is not None and res.shape[-1] > 0:
        r = bm - a @ xm
        out = out - 2 * (r * gres) @ _mT(xm)
    if gs is not None:
        u, _, vh = xp.linalg.svd(a, full_matrices=False)
        out = out + (u * xp.expand_dims(gs, -2)) @ vh
    return _fit(out, a)


def lstsq_cotangent_b(g: Sequence[Any], ans: Sequence[Any], a: Array, b: Array) -> Array:
    """Cotangent of ``np.linalg.lstsq(a, b)`` for ``b``: ``pinv(a)^T g_x + 2 r g_res``.

    Args:
        g: one cotangent per output.
        ans: the forward outputs.
        a: the matrix.
        b: the right-hand side(s).

    Returns:
        An array shaped and typed like ``b``.
    """
    gx, gres, _, _ = g
    x, res, _, _ = ans
    xp = namespace(a, b, x)
    vector = b.ndim == 1
    bm = xp.expand_dims(b, -1) if vector else b
    xm = xp.expand_dims(x, -1) if vector else x
    out = xp.zeros(bm.shape, dtype=x.dtype)
    if gx is not None:
        gxm = xp.expand_dims(gx, -1) if vector else gx
        out = out + _mT(xp.linalg.pinv(a)) @ gxm
    if gres is not None and res.shape[-1] > 0:
        out = out + 2 * (bm - a @ xm) * gres
    return _fit(out[..., 0] if vector else out, b)


def matrix_power_cotangent(g: Array, a: Array, n: int) -> Array:
    """Cotangent of ``np.linalg.matrix_power(a, n)`` for any integer ``n``.

    ``sum_k (a^T)^k g (a^T)^(n-1-k)`` for ``n > 0``; a negative power goes through the inverse.

    Args:
        g: the cotangent of the power.
        a: the operand.
        n: the forward exponent.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    n = operator.index(n)
    if n == 0:
        return xp.zeros_like(a)
    base = a if n > 0 else xp.linalg.inv(a)
    k = abs(n)
    powers = [None]
    for _ in range(1, k):
        powers.append(base if powers[-1] is None else powers[-1] @ base)
    total = None
    for i in range(k):
        left, right = powers[i], powers[k - 1 - i]
        term = g if left is None else _mT(left) @ g
        term = term if right is None else term @ _mT(right)
        total = term if total is None else total + term
    if n < 0:
        total = -(_mT(base) @ total @ _mT(base))
    return _fit(total, a)


def multi_dot_cotangents(g: Array, arrays: Sequence[Array]) -> list:
    """Cotangents of ``np.linalg.multi_dot(arrays)`` (a 1-D first or last operand allowed).

    Args:
        g: the cotangent of the product.
        arrays: the operands.

    Returns:
        A list with one cotangent per operand.
    """
    if len(arrays) == 2:  # numpy's multi_dot of two operands is np.dot (any ranks, floats)
        return [dot_cotangent_a(g, *arrays), dot_cotangent_b(g, *arrays)]
    xp = namespace(g, *arrays)
    mats = list(arrays)
    first_vec, last_vec = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_vec:
        mats[0] = xp.expand_dims(mats[0], 0)
    if last_vec:
        mats[-1] = xp.expand_dims(mats[-1], 1)
    gm = xp.reshape(g, (mats[0].shape[0], mats[-1].shape[1]))
    count = len(mats)
    prefix = [None] * count
    for i in range(1, count):
        prefix[i] = mats[0] if i == 1 else prefix[i - 1] @ mats[i - 1]
    suffix = [None] * count
    for i in range(count - 2, -1, -1):
        suffix[i] = mats[-1] if i == count - 2 else mats[i + 1] @ suffix[i + 1]
    out = []
    for i, x in enumerate(arrays):
        term = gm if prefix[i] is None else _mT(prefix[i]) @ gm
        term = term if suffix[i] is None else term @ _mT(suffix[i])
        out.append(_fit(xp.reshape(term, x.shape), x))
    return out


def _cross_parts(g: Array, a: Array, b: Array, axisa: int, axisb: int, axisc: int, axis: Any):
    xp = namespace(g, a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    am = xp.moveaxis(a, axisa, -1)
    bm = xp.moveaxis(b, axisb, -1)
    da, db = am.shape[-1], bm.shape[-1]

    def three(v: Array) -> Array:
        if v.shape[-1] == 3:
            return v
        return xp.concatenate([v, xp.zeros(v.shape[:-1] + (1,), dtype=v.dtype)], axis=-1)

    if da == 2 and db == 2:
        zeros = xp.zeros(g.shape + (2,), dtype=g.dtype)
        g3 = xp.concatenate([zeros, xp.expand_dims(g, -1)], axis=-1)
    else:
        g3 = xp.moveaxis(g, axisc, -1)
    return xp, three(am), three(bm), g3, da, db, axisa, axisb


def cross_cotangent_a(
    g: Array,
    a: Array,
    b: Array,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Array:
    """Cotangent of ``np.cross(a, b, ...)`` for ``a``: ``cross(b, g)`` (2- or 3-vectors)."""
    xp, _, b3, g3, da, _, axisa, _ = _cross_parts(g, a, b, axisa, axisb, axisc, axis)
    full = xp.cross(b3, g3)[..., :da]
    moved = _sum_to_shape(xp, full, tuple(xp.moveaxis(a, axisa, -1).shape))
    return _fit(xp.moveaxis(moved, -1, axisa), a)


def cross_cotangent_b(
    g: Array,
    a: Array,
    b: Array,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Array:
    """Cotangent of ``np.cross(a, b, ...)`` for ``b``: ``cross(g, a)`` (2- or 3-vectors)."""
    xp, a3, _, g3, _, db, _, axisb = _cross_parts(g, a, b, axisa, axisb, axisc, axis)
    full = xp.cross(g3, a3)[..., :db]
    moved = _sum_to_shape(xp, full, tuple(xp.moveaxis(b, axisb, -1).shape))
    return _fit(xp.moveaxis(moved, -1, axisb), b)


def _vec_axis(axis: Any, x1: Array, x2: Array) -> int:
    nd = max(x1.ndim, x2.ndim)
    return _axis(-1 if axis is None else axis, nd) - nd


def vecdot_cotangent_x1(g: Array, x1: Array, x2: Array, axis: Any = -1) -> Array:
    """Cotangent of ``np.vecdot(x1, x2, axis=axis)`` (``sum(conj(x1) * x2)``) for ``x1``."""
    xp = namespace(g, x1, x2)
    ax = _vec_axis(axis, x1, x2)
    return unbroadcast(xp.conj(xp.expand_dims(g, ax) * xp.moveaxis(x2, ax, ax)), x1)


def vecdot_cotangent_x2(g: Array, x1: Array, x2: Array, axis: Any = -1) -> Array:
    """Cotangent of ``np.vecdot(x1, x2, axis=axis)`` for ``x2``: ``g * conj(x1)``."""
    xp = namespace(g, x1, x2)
    ax = _vec_axis(axis, x1, x2)
    return unbroadcast(xp.expand_dims(g, ax) * xp.conj(x1), x2)


def matvec_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.matvec(x1, x2)`` (``x1 @ x2`` on vectors) for the matrix ``x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.expand_dims(g, -1) * xp.expand_dims(x2, -2), x1)


def matvec_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.matvec(x1, x2)`` for the vector ``x2``: ``g @ x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast((xp.expand_dims(g, -2) @ x1)[..., 0, :], x2)


def vecmat_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.vecmat(x1, x2)`` (``conj(x1) @ x2``) for the vector ``x1``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.conj((x2 @ xp.expand_dims(g, -1))[..., 0]), x1)


def vecmat_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``np.vecmat(x1, x2)`` for the matrix ``x2``: ``outer(conj(x1), g)``."""
    xp = namespace(g, x1, x2)
    return unbroadcast(xp.expand_dims(xp.conj(x1), -1) * xp.expand_dims(g, -2), x2)


def tensorinv_cotangent(g: Array, ans: Array, a: Array, ind: int = 2) -> Array:
    """Cotangent of ``np.linalg.tensorinv(a, ind)``: the matrix-inverse rule, reshaped."""
    xp = namespace(g, ans, a)
    rows = math.prod(a.shape[:ind])
    cols = math.prod(a.shape[ind:])
    y = xp.reshape(ans, (cols, rows))
    gm = xp.reshape(g, (cols, rows))
    return _fit(xp.reshape(-(_mT(y) @ gm @ _mT(y)), a.shape), a)


def _tensorsolve_layout(a: Array, b: Array, axes: Any) -> tuple[list[int], tuple, int, int]:
    an = a.ndim
    order = list(range(an))
    if axes is not None:
        for k in axes:
            order.remove(k % an)
            order.insert(an, k % an)
    moved_shape = tuple(a.shape[i] for i in order)
    rows = math.prod(b.shape)
    cols = math.prod(moved_shape[b.ndim :])
    return order, moved_shape, rows, cols


def tensorsolve_cotangent_b(g: Array, ans: Array, a: Array, b: Array, axes: Any = None) -> Array:
    """Cotangent of ``np.linalg.tensorsolve(a, b, axes)`` for ``b``."""
    xp = namespace(g, ans, a, b)
    order, _, rows, cols = _tensorsolve_layout(a, b, axes)
    mat = xp.reshape(xp.transpose(a, order), (rows, cols))
    z = xp.linalg.solve(_mT(mat), xp.reshape(g, (cols,)))
    return _fit(xp.reshape(z, b.shape), b)


def tensorsolve_cotangent_a(g: Array, ans: Array, a: Array, b: Array, axes: Any = None) -> Array:
    """Cotangent of ``np.linalg.tensorsolve(a, b, axes)`` for ``a``."""
    xp = namespace(g, ans, a, b)
    order, moved_shape, rows, cols = _tensorsolve_layout(a, b, axes)
    mat = xp.reshape(xp.transpose(a, order), (rows, cols))
    z = xp.linalg.solve(_mT(mat), xp.reshape(g, (cols,)))
    ga = -xp.expand_dims(z, -1) * xp.expand_dims(xp.reshape(ans, (cols,)), 0)
    inverse = [0] * a.ndim
    for i, p in enumerate(order):
        inverse[p] = i
    return _fit(xp.transpose(xp.reshape(ga, moved_shape), inverse), a)


def cond_cotangent(g: Array, ans: Array, x: Array, p: Any = None) -> Array:
    """Cotangent of ``np.linalg.cond(x, p)`` (real, invertible for ``p`` other than 2 / -2).

    Args:
        g: the cotangent of the condition number.
        ans: the forward result.
        x: the operand.
        p: the forward ``p``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, ans, x)
    if p is None or p in (2, -2):
        u, s, vh = xp.linalg.svd(x, full_matrices=False)
        hi, lo = s[..., 0], s[..., -1]
        k = s.shape[-1]
        first = xp.expand_dims(xp.arange(k) == 0, 0)
        last = xp.expand_dims(xp.arange(k) == k - 1, 0)
        if p == -2:
            d_hi, d_lo = -g * lo / hi**2, g / hi
        else:
            d_hi, d_lo = g / lo, -g * hi / lo**2
        gs = xp.where(first, xp.expand_dims(d_hi, -1), 0) + xp.where(
            last, xp.expand_dims(d_lo, -1), 0
        )
        gs = xp.reshape(gs, s.shape)
        return _fit((u * xp.expand_dims(gs, -2)) @ vh, x)
    inv = xp.linalg.inv(x)
    axes = (-2, -1)
    n1 = xp.linalg.norm(x, ord=p, axis=axes)
    n2 = xp.linalg.norm(inv, ord=p, axis=axes)
    d_x = norm_cotangent(g * n2, x, n1, p, axes)
    d_inv = norm_cotangent(g * n1, inv, n2, p, axes)
    return _fit(d_x - _mT(inv) @ d_inv @ _mT(inv), x)


# --------------------------------------------------------------------------- fft


def _fft_axes(a: Array, s: Any, axes: Any) -> tuple[list[int], list[int]]:
    """The transformed axes and their lengths, as numpy's ``_cook_nd_args`` finds them."""
    nd = a.ndim
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(nd))
    axes = [_axis(ax, nd) for ax in axes]
    if s is None:
        sizes = [a.shape[ax] for ax in axes]
    else:
        sizes = [
            a.shape[ax] if n is None or n == -1 else operator.index(n) for n, ax in zip(s, axes)
        ]
    return axes, sizes


def _swap_norm(norm: Any) -> Any:
    return {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]


def fft_cotangent(
    g: Array, a: Any, n: Any = None, axis: int = -1, norm: Any = None, inverse: bool = False
) -> Array:
    """Cotangent of ``np.fft.fft`` (or ``ifft`` with ``inverse=True``) for ``a``.

    The DFT matrix is symmetric, so the cotangent (autograd's convention: no conjugation) is
    the same transform of ``g`` with the same ``norm``, cut or zero-padded back from ``n``
    to ``a``'s length.  A real ``a`` gets the real part.

    Args:
        g: the cotangent of the transform.
        a: the operand.
        n: the forward ``n``.
        axis: the forward ``axis``.
        norm: the forward ``norm``.
        inverse: True for ``ifft``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, g.ndim)
    fn = xp.fft.ifft if inverse else xp.fft.fft
    out = fn(g, axis=ax, norm=norm)
    out = _fit_length(xp, out, ax, _shape_of(a)[ax])
    return unbroadcast(out, a)


def fftn_cotangent(
    g: Array, a: Any, s: Any = None, axes: Any = None, norm: Any = None, inverse: bool = False
) -> Array:
    """Cotangent of ``np.fft.fftn`` / ``fft2`` (``ifftn`` / ``ifft2`` with ``inverse=True``).

    Args:
        g: the cotangent of the transform.
        a: the operand.
        s: the forward ``s``.
        axes: the forward ``axes`` (``None``: the last ``len(s)`` axes, or all).
        norm: the forward ``norm``.
        inverse: True for the inverse transforms.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    a = as_array(a, g)
    ax_list, _ = _fft_axes(a, s, axes)
    fn = xp.fft.ifftn if inverse else xp.fft.fftn
    out = fn(g, axes=ax_list, norm=norm)
    for ax in ax_list:
        out = _fit_length(xp, out, ax, a.shape[ax])
    return unbroadcast(out, a)


def rfft_cotangent(g: Array, a: Array, n: Any = None, axis: int = -1, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.rfft(a, n, axis, norm)`` for the real ``a``.

    ``rfft`` keeps the first ``n // 2 + 1`` entries of the full DFT, so the cotangent is the
    real part of the DFT of ``g`` zero-padded to ``n``.

    Args:
        g: the cotangent of the half spectrum.
        a: the real operand.
        n: the forward ``n``.
        axis: the forward ``axis``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, a.ndim)
    length = a.shape[ax] if n is None else operator.index(n)
    full = xp.fft.fft(_fit_length(xp, g, ax, length), axis=ax, norm=norm)
    return _fit(_fit_length(xp, xp.real(full), ax, a.shape[ax]), a)


def rfftn_cotangent(g: Array, a: Array, s: Any = None, axes: Any = None, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.rfftn`` / ``rfft2`` for the real ``a``.

    Args:
        g: the cotangent of the transform.
        a: the real operand.
        s: the forward ``s``.
        axes: the forward ``axes``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax_list, sizes = _fft_axes(a, s, axes)
    padded = _fit_length(xp, g, ax_list[-1], sizes[-1])
    full = xp.real(xp.fft.fftn(padded, axes=ax_list, norm=norm))
    for ax in ax_list:
        full = _fit_length(xp, full, ax, a.shape[ax])
    return _fit(full, a)


def _hermitian_weights(xp: Any, n: int, ax: int, ndim: int, dtype: Any) -> Array:
    """Weights 1, 2, ..., 2, (1 for even n) of the ``n // 2 + 1`` bins ``irfft`` reads."""
    h = n // 2 + 1
    w = xp.full((h,), 2.0, dtype=dtype)
    ones = xp.ones((1,), dtype=dtype)
    if n % 2 == 0 and h > 1:
        w = xp.concatenate([ones, w[1:-1], ones])
    else:
        w = xp.concatenate([ones, w[1:]])
    shape = [1] * ndim
    shape[ax] = h
    return xp.reshape(w, tuple(shape))


def _real_dtype(xp: Any, g: Array) -> Any:
    return g.real.dtype if g.dtype.kind == "c" else g.dtype


def irfft_cotangent(g: Array, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.irfft(a, n, axis, norm)`` for the (complex) half spectrum ``a``.

    ``irfft`` extends its first ``n // 2 + 1`` inputs Hermitian-symmetrically and ignores the
    imaginary parts of the 0-th (and, for even ``n``, the ``n/2``-th) bin.  In autograd's
    convention the cotangent is ``ifft(g)`` over those bins times 1, 2, ..., 2, (1 for even
    ``n``); inputs beyond them get 0.

    Args:
        g: the cotangent of the real signal (length ``n``).
        a: the operand.
        n: the forward ``n`` (default ``2 (m - 1)``).
        axis: the forward ``axis``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax = _axis(axis, g.ndim)
    m = _shape_of(a)[ax]
    length = 2 * (m - 1) if n is None else operator.index(n)
    full = xp.fft.ifft(g, axis=ax, norm=norm)
    h = length // 2 + 1
    half = _take_range(xp, full, ax, 0, h)
    half = half * _hermitian_weights(xp, length, ax, g.ndim, _real_dtype(xp, g))
    return unbroadcast(_fit_length(xp, half, ax, m), a)


def irfftn_cotangent(g: Array, a: Any, s: Any = None, axes: Any = None, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.irfftn`` / ``irfft2`` for the (complex) half spectrum ``a``.

    Args:
        g: the cotangent of the real result.
        a: the operand.
        s: the forward ``s``.
        axes: the forward ``axes``.
        norm: the forward ``norm``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    ax_list, sizes = _fft_axes(a, s, axes)
    last = ax_list[-1]
    if s is None:
        sizes[-1] = 2 * (a.shape[last] - 1)
    full = xp.fft.ifftn(g, axes=ax_list, norm=norm)
    h = sizes[-1] // 2 + 1
    half = _take_range(xp, full, last, 0, h)
    half = half * _hermitian_weights(xp, sizes[-1], last, g.ndim, _real_dtype(xp, g))
    for ax in ax_list:
        half = _fit_length(xp, half, ax, a.shape[ax])
    return unbroadcast(half, a)


def hfft_cotangent(g: Array, a: Any, n: Any = None, axis: int = -1, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.hfft(a, n, axis, norm)`` (``irfft(conj(a))`` with the other norm)."""
    xp = namespace(g, a)
    return xp.conj(irfft_cotangent(g, a, n, axis, _swap_norm(norm)))


def ihfft_cotangent(g: Array, a: Array, n: Any = None, axis: int = -1, norm: Any = None) -> Array:
    """Cotangent of ``np.fft.ihfft(a, n, axis, norm)`` (``conj(rfft(a))`` with the other norm)."""
    xp = namespace(g, a)
    return rfft_cotangent(xp.conj(g), a, n, axis, _swap_norm(norm))


# --------------------------------------------------------------------------- special functions


def digamma(x: Array) -> Array:
    """The digamma function ``psi(x)`` on any device (for ``gammaln``'s cotangent).

    numpy arrays use ``scipy.special.digamma`` when scipy is installed; other namespaces
    (and numpy without scipy) use the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to
    ``x >= 16``, the asymptotic series there, and the reflection formula for ``x < 0.5``
    (about 1e-15 relative error).

    Args:
        x: a real array or Python float.

    Returns:
        ``psi(x)``, shaped and typed like ``x``.
    """
    xp = namespace(x)
    if _host_scipy(xp):
        from scipy.special import digamma as psi  # scipy is optional (_host_scipy)

        return _like(psi(x), x)
    return _like(_series_polygamma(xp, x, 0), x)


def trigamma(x: Array) -> Array:
    """The trigamma function ``psi'(x)`` on any device (for ``digamma``'s cotangent).

    Args:
        x: a real array or Python float.

    Returns:
        ``psi'(x)``, shaped and typed like ``x``.
    """
    xp = namespace(x)
    if _host_scipy(xp):
        from scipy.special import polygamma  # scipy is optional (_host_scipy)

        return _like(polygamma(1, x), x)
    return _like(_series_polygamma(xp, x, 1), x)


def _like(value: Any, x: Any) -> Any:
    """``value`` in ``x``'s floating dtype (scipy's polygamma answers float32 in float64).

    For a Python-number ``x`` a 0-d result becomes a numpy scalar: a host 0-d array would
    refuse to meet the device arrays that the cotangent multiplies it with.
    """
    if getattr(value, "ndim", None) == 0 and not hasattr(x, "dtype"):
        return value[()]
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and getattr(value, "dtype", dtype) != dtype:
        return value.astype(dtype)
    return value


def _host_scipy(xp: Any) -> bool:
    if getattr(xp, "__name__", "") != "numpy":
        return False
    try:
        import scipy.special  # noqa: F401
    except ImportError:
        return False
    return True


def _series_polygamma(xp: Any, x: Any, order: int) -> Array:
    """psi (order 0) or psi' (order 1) from the recurrence, asymptotic series and reflection."""
    xa = xp.asarray(x)
    dtype = xa.dtype if xa.dtype.kind == "f" else None
    reflect = xa < 0.5
    z = xp.where(reflect, 1 - xa, xa)
    acc = xp.zeros_like(z)
    for _ in range(16):  # shift to z >= 16, where the series is exact to about 1e-16
        small = z < 16
        step = 1 / z if order == 0 else 1 / (z * z)
        acc = acc + xp.where(small, step, 0)
        z = xp.where(small, z + 1, z)
    inv = 1 / z
    inv2 = inv * inv
    if order == 0:
        series = (
            xp.log(z)
            - 0.5 * inv
            - inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
        )
        value = series - acc
        pi_cot = math.pi / xp.tan(math.pi * xa)
        out = xp.where(reflect, value - pi_cot, value)
    else:
        series = (
            inv
            + inv2 / 2
            + inv
            * inv2
            * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66))))
        )
        value = series + acc
        sin = xp.sin(math.pi * xa)
        out = xp.where(reflect, -value + (math.pi * math.pi) / (sin * sin), value)
    return out.astype(dtype) if dtype is not None else out


def logsumexp_cotangent(
    g: Array,
    a: Array,
    ans: Array,
    axis: Any = None,
    b: Any = None,
    keepdims: bool = False,
    return_sign: bool = False,
) -> Array:
    """Cotangent of ``scipy.special.logsumexp(a, axis, b, keepdims)`` for ``a``: softmax weights.

    Args:
        g: the cotangent of the result.
        a: the operand.
        ans: the forward result.
        axis: the forward ``axis``.
        b: the forward weights (constants), or ``None``.
        keepdims: the forward ``keepdims``.
        return_sign: must be False (a pair is not differentiated).

    Returns:
        An array shaped and typed like ``a``.
    """
    if return_sign:
        raise NotImplementedError(
            "logsumexp(..., return_sign=True) returns a pair, which srcgrad does not "
            "differentiate"
        )
    xp = namespace(g, a, ans, b)
    a_in, shape = a, _shape_of(a)
    a = as_array(a, g, ans, b)
    if not shape:  # scipy reads a 0-d a as 1-d: keepdims gives a (1,) result
        a = xp.reshape(a, (1,))
    weights = xp.exp(a - expand_like(ans, a, axis=axis, keepdims=keepdims))
    if b is not None:
        weights = weights * xp.asarray(b)
    d_a = _sum_to_shape(xp, expand_like(g, a, axis=axis, keepdims=keepdims) * weights, a.shape)
    return _fit(xp.reshape(d_a, shape), a_in)
