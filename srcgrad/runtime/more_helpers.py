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

import math
import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import expand_like, unbroadcast
from srcgrad.runtime.shape_helpers import normalize_axes, reduction_size

__all__ = [
    # elementwise and special
    "angle_cotangent",
    "nan_to_num_cotangent",
    "sinc_slope",
    "copysign_slope",
    # reductions and scans
    "average_cotangent",
    "cumprod_cotangent",
    "cumsum_cotangent",
    "cumulative_cotangent",
    "diff_cotangent",
    "extremum_cotangent",
    "gradient_cotangent",
    "nan_count",
    "quantile_cotangent",
    "trapezoid_cotangent",
    "linspace_cotangents",
    "logspace_cotangents",
    "geomspace_cotangents",
    "interp_cotangents",
    "convolve_cotangents",
    # norms
    "norm_cotangent",
    "vector_norm_cotangent",
    "matrix_norm_cotangent",
    # shape and indexing
    "append_cotangents",
    "atleast_cotangents",
    "broadcast_arrays_cotangents",
    "choose_cotangents",
    "compress_cotangent",
    "delete_cotangent",
    "diag_cotangent",
    "diagflat_cotangent",
    "diagonal_cotangent",
    "hsplit_axis",
    "kron_cotangent_a",
    "kron_cotangent_b",
    "meshgrid_cotangents",
    "pad_cotangent",
    "permutation_cotangent",
    "rollaxis_cotangent",
    "select_cotangents",
    "stacked_cotangents",
    "take_along_axis_cotangent",
    "take_cotangent",
    "trace_cotangent",
    "unroll",
    "unstack_cotangent_pieces",
    "unwindow",
    # linalg
    "cholesky_cotangent",
    "cond_cotangent",
    "cross_cotangent_a",
    "cross_cotangent_b",
    "det_cotangent",
    "eig_cotangent",
    "eigh_cotangent",
    "eigvals_cotangent",
    "eigvalsh_cotangent",
    "lstsq_cotangent_a",
    "lstsq_cotangent_b",
    "matrix_power_cotangent",
    "multi_dot_cotangents",
    "pinv_cotangent",
    "qr_cotangent",
    "slogdet_cotangent",
    "solve_cotangent_a",
    "solve_cotangent_b",
    "svd_cotangent",
    "svdvals_cotangent",
    "tensorinv_cotangent",
    "tensorsolve_cotangent_a",
    "tensorsolve_cotangent_b",
    "vecdot_cotangent_x1",
    "vecdot_cotangent_x2",
    "matvec_cotangent_x1",
    "matvec_cotangent_x2",
    "vecmat_cotangent_x1",
    "vecmat_cotangent_x2",
    # fft
    "fft_cotangent",
    "fftn_cotangent",
    "rfft_cotangent",
    "rfftn_cotangent",
    "irfft_cotangent",
    "irfftn_cotangent",
    "hfft_cotangent",
    "ihfft_cotangent",
    # special functions (scipy.special rules)
    "digamma",
    "trigamma",
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
        return 0.0 if x == 0 else (math.cos(math.pi * x) - math.sin(math.pi * x) / (math.pi * x)) / x
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
        a: the reduced array.
        axis: the reduction's ``axis``.

    Returns:
        An array in ``a``'s (real) dtype with the reduced axes kept as size 1.
    """
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
    if axis is None:
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
    ax = 0 if axis is None else _axis(axis, x.ndim)
    if include_initial:
        g = _take_range(xp, g, ax, 1, g.shape[ax])
        ans = _take_range(xp, ans, ax, 1, ans.shape[ax])
    if kind == "sum":
        return cumsum_cotangent(g, x, ax)
    return cumprod_cotangent(g, x, ans, ax)


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


def _gradient_weights(xp: Any, n: int, spacing: Any, edge_order: int, dtype: Any) -> tuple:
    """The three-point stencil of ``np.gradient`` along one axis of length ``n``.

    Returns ``(lo, mid, hi, first, last)``: interior row ``i`` (1 <= i <= n-2) is
    ``lo[i-1] f[i-1] + mid[i-1] f[i] + hi[i-1] f[i+1]``; ``first`` and ``last`` are the
    coefficient triples of the edge rows (on ``f[0:3]`` and ``f[n-3:n]``, or on two points
    for ``edge_order=1``).
    """
    if hasattr(spacing, "shape") and getattr(spacing, "ndim", 0) == 1 or isinstance(
        spacing, (list, tuple)
    ):
        coords = xp.asarray(spacing)
        if coords.dtype.kind not in "fc":
            coords = coords.astype(dtype)
        dx = xp.diff(coords)
    else:
        h = spacing
        dx = xp.full((n - 1,), h, dtype=dtype)
    dx1 = dx[:-1]
    dx2 = dx[1:]
    lo = -dx2 / (dx1 * (dx1 + dx2))
    mid = (dx2 - dx1) / (dx1 * dx2)
    hi = dx1 / (dx2 * (dx1 + dx2))
    if edge_order == 1:
        first = (-1 / dx[0], 1 / dx[0])
        last = (-1 / dx[-1], 1 / dx[-1])
    else:
        d1, d2 = dx[0], dx[1]
        first = (
            -(2 * d1 + d2) / (d1 * (d1 + d2)),
            (d1 + d2) / (d1 * d2),
            -d1 / (d2 * (d1 + d2)),
        )
        d1, d2 = dx[-2], dx[-1]
        last = (
            d2 / (d1 * (d1 + d2)),
            -(d2 + d1) / (d1 * d2),
            (2 * d2 + d1) / (d2 * (d1 + d2)),
        )
    return lo, mid, hi, first, last


def _gradient_transpose(
    xp: Any, g: Array, ax: int, spacing: Any, edge_order: int, dtype: Any
) -> Array:
    """The transpose of ``np.gradient``'s stencil along ``ax``, applied to ``g``."""
    n = g.shape[ax]
    lo, mid, hi, first, last = _gradient_weights(xp, n, spacing, edge_order, dtype)
    moved = xp.moveaxis(g, ax, -1)
    inner = moved[..., 1:-1]
    zeros1 = xp.zeros(moved.shape[:-1] + (1,), dtype=moved.dtype)
    zeros2 = xp.zeros(moved.shape[:-1] + (2,), dtype=moved.dtype)
    out = (
        xp.concatenate([lo * inner, zeros2], axis=-1)
        + xp.concatenate([zeros1, mid * inner, zeros1], axis=-1)
        + xp.concatenate([zeros2, hi * inner], axis=-1)
    )
    g0 = moved[..., :1]
    gn = moved[..., -1:]
    k = len(first)
    head = xp.concatenate([c * g0 for c in first], axis=-1)
    tail = xp.concatenate([c * gn for c in last], axis=-1)
    rest = xp.zeros(moved.shape[:-1] + (n - k,), dtype=moved.dtype)
    out = out + xp.concatenate([head, rest], axis=-1) + xp.concatenate([rest, tail], axis=-1)
    return xp.moveaxis(out, -1, ax)


def gradient_cotangent(
    g: Any, f: Array, varargs: Sequence[Any] = (), axis: Any = None, edge_order: int = 1
) -> Array:
    """Cotangent of ``np.gradient(f, *varargs, axis=axis, edge_order=edge_order)`` for ``f``.

    ``np.gradient`` is linear in ``f``: along each axis a three-point stencil (central
    differences inside, one- or two-sided at the edges) whose coefficients depend on the
    spacing only.  The cotangent applies each stencil's transpose.  The spacings are
    constants (a scalar step, or a 1-D array of coordinates, per axis).

    Args:
        g: the cotangent of the result: an array for one axis, a sequence of arrays (one per
            axis) when the result is a tuple.
        f: the sampled values.
        varargs: the forward spacings: none (step 1), one (all axes) or one per axis.
        axis: the forward ``axis`` (``None``: every axis).
        edge_order: 1 or 2.

    Returns:
        An array shaped and typed like ``f``.
    """
    parts = list(g) if isinstance(g, (list, tuple)) else [g]
    xp = namespace(f, *parts)
    axes = list(range(f.ndim)) if axis is None else list(normalize_axes(axis, f.ndim))
    if axis is not None and not isinstance(axis, (tuple, list)):
        axes = [_axis(axis, f.ndim)]
    elif isinstance(axis, (tuple, list)):
        axes = [_axis(a, f.ndim) for a in axis]
    spacings = list(varargs)
    if not spacings:
        spacings = [1.0] * len(axes)
    elif len(spacings) == 1 and len(axes) > 1:
        spacings = spacings * len(axes)
    dtype = f.dtype if f.dtype.kind in "fc" else parts[0].dtype
    total = None
    for part, ax, h in zip(parts, axes, spacings):
        if part is None:
            continue
        term = _gradient_transpose(xp, part, ax, h, operator.index(edge_order), dtype)
        total = term if total is None else total + term
    if total is None:
        return xp.zeros_like(f)
    return _fit(total, f)


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
    g: Array, start: Any, stop: Any, num: int = 50, endpoint: bool = True, axis: int = 0
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

    Returns:
        ``(cotangent of start, cotangent of stop)``.
    """
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
        t = xp.concatenate([_take_range(xp, t, ax, 0, num - 1), xp.ones_like(_take_range(xp, t, ax, 0, 1))], axis=ax)
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
        log_base = _expand_at(xp, xp.log(xp.asarray(base, dtype=ans.dtype)), ans, _axis(axis, ans.ndim))
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


def interp_cotangents(g: Array, x: Any, xp_: Any, fp: Any, left: Any = None, right: Any = None,
                      period: Any = None) -> tuple[Array, Array, Array]:
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
    n, m = a.shape[0], v.shape[0]
    if kind == "correlate":
        # correlate(a, v, mode) = convolve(a, conj(v)[::-1], mode), with numpy's default 'valid'
        w = xp.conj(v)[::-1]
    else:
        w = v
    start, stop = _conv_full_slice(mode, n, m)
    full = n + m - 1
    dtype = g.dtype
    gf = xp.concatenate(
        [xp.zeros((start,), dtype=dtype), g, xp.zeros((full - stop,), dtype=dtype)]
    )
    # y_k = sum_i a_i w_{k-i}:  d a_i = sum_k g_k w_{k-i},  d w_j = sum_k g_k a_{k-j}
    d_a = xp.convolve(gf, w[::-1], mode="valid")
    d_w = xp.convolve(gf, a[::-1], mode="valid")
    if kind == "correlate":
        d_v = xp.conj(d_w[::-1])
    else:
        d_v = d_w
    return _fit(d_a, a), _fit(d_v, v)
