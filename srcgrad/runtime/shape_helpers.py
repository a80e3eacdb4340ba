"""Runtime helpers for the reduction, shape and linear-algebra rules.

The rules in ``srcgrad/rules/{reductions,shape,linalg}.py`` are straight-line code (see
``srcgrad/rules/registry.py``); everything that needs a branch (axis ``None`` or an int, 1-D or
n-D operands, ``order="A"``, an einsum's subscripts) lives here.  Emitted code imports these
names from :mod:`srcgrad.runtime`.

Every helper is device-agnostic: it takes its array namespace from its array arguments with
:func:`srcgrad.backend.namespace`, uses array methods and ``xp.*`` functions only, and never
converts array data to host values.  Shapes, axes, subscripts and ``repeats`` given as Python
ints are host values already and are used as such.  No helper writes into an array it did not
allocate itself, and cotangents come back with the operand's shape and dtype.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _is_python_scalar, as_array, unbroadcast

__all__ = [
    "cast_like",
    "concatenate_pieces",
    "dot_cotangent_a",
    "dot_cotangent_b",
    "einsum_cotangent",
    "einsum_cotangents",
    "inner_cotangent_a",
    "inner_cotangent_b",
    "inverse_permutation",
    "matmul_cotangent_x1",
    "matmul_cotangent_x2",
    "normalize_axes",
    "prod_others",
    "reduction_size",
    "reshape_like",
    "split_concatenated",
    "tensordot_cotangent_a",
    "tensordot_cotangent_b",
    "unrepeat",
    "unstack_like",
    "untile",
]

Array = Any
Axis = int | Sequence[int] | None


# --------------------------------------------------------------------------- small pieces


def cast_like(x: Array, like: Array) -> Array:
    """Return ``x`` in ``like``'s dtype, without a copy when it already has it.

    Args:
        x: an array.
        like: the array whose dtype ``x`` should get (a value without a dtype, such as a
            constant list among ``concatenate``'s operands, leaves ``x`` as it is).

    Returns:
        ``x`` itself if the dtypes agree, else ``x.astype(like.dtype)``.
    """
    dtype = getattr(like, "dtype", None)
    if dtype is None or x.dtype == dtype:
        return x
    return x.astype(dtype)


def _shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, or of host data such as a constant list (``np.shape``)."""
    shape = getattr(x, "shape", None)
    return tuple(shape) if shape is not None else np.shape(x)


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Turn a numpy ``axis`` argument into a sorted tuple of non-negative axes.

    Args:
        axis: ``None`` (every axis), an int (negative counts from the end) or a sequence of
            ints.
        ndim: the number of dimensions of the array the axis refers to.

    Returns:
        The axes as a sorted tuple of ints in ``range(ndim)``.

    Raises:
        ValueError: if an axis is out of range or repeated.
    """
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if _is_int(axis) else tuple(axis)
    out = []
    for ax in axes:
        ax = operator.index(ax)
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(ax % ndim if ndim else ax)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


def _is_int(x: Any) -> bool:
    try:
        operator.index(x)
    except TypeError:
        return False
    return True


def reduction_size(a: Array, axis: Axis = None) -> int:
    """How many elements of ``a`` a reduction over ``axis`` combines into each result.

    Args:
        a: the reduced array (only its shape is read); a Python number counts as 0-d.
        axis: the reduction's ``axis`` argument.

    Returns:
        The product of ``a.shape`` over the reduced axes, a Python int.
    """
    shape = getattr(a, "shape", ())
    return math.prod(shape[ax] for ax in normalize_axes(axis, len(shape)))


# --------------------------------------------------------------------------- reductions


def prod_others(a: Array, axis: Axis = None) -> Array:
    """For each element of ``a``, the product of the *other* elements of its reduction group.

    This is the derivative of ``np.prod(a, axis)`` with respect to each element.  It is
    computed from exclusive prefix and suffix products, with no division, so it is exact when
    ``a`` holds zeros (one zero: the gradient there is the product of the rest; two or more:
    the gradient is zero everywhere in the group).

    Args:
        a: the array that was reduced.
        axis: the reduction's ``axis`` argument (``None``, an int or a tuple).

    Returns:
        An array shaped like ``a``, in ``a``'s dtype (``1`` for a Python number: the empty
        product).
    """
    if _is_python_scalar(a):
        return type(a)(1)
    xp = namespace(a)
    if not a.ndim:  # numpy accepts axis 0 and -1 on a 0-d array
        return xp.ones_like(a)
    axes = normalize_axes(axis, a.ndim)
    if not axes:
        return xp.ones_like(a)
    kept = [ax for ax in range(a.ndim) if ax not in axes]
    perm = kept + list(axes)
    moved = xp.transpose(a, perm)
    lead = tuple(a.shape[ax] for ax in kept)
    flat = xp.reshape(moved, lead + (reduction_size(a, axes),))
    left = _exclusive_cumprod(xp, flat)
    right = _exclusive_cumprod(xp, flat[..., ::-1])[..., ::-1]
    others = xp.reshape(left * right, moved.shape)
    return xp.transpose(others, inverse_permutation(perm))


def _exclusive_cumprod(xp: Any, v: Array) -> Array:
    """``out[..., j] = prod(v[..., :j])`` along the last axis (1 at ``j = 0``)."""
    ones = xp.ones_like(v[..., :1])
    return xp.cumprod(xp.concatenate([ones, v[..., :-1]], axis=-1), axis=-1)


# --------------------------------------------------------------------------- shape


def inverse_permutation(axes: Sequence[int] | None) -> tuple[int, ...] | None:
    """The axes argument that undoes ``np.transpose(x, axes)``.

    Args:
        axes: a permutation of ``range(ndim)`` (negative entries allowed), or ``None`` for
            numpy's default (reverse the axes), which is its own inverse.

    Returns:
        The inverse permutation as a tuple, or ``None`` when ``axes`` is ``None``.
    """
    if axes is None:
        return None
    n = len(axes)
    inv = [0] * n
    for position, ax in enumerate(axes):
        inv[operator.index(ax) % n] = position
    return tuple(inv)


def _is_fortran(a: Array) -> bool:
    """numpy's ``PyArray_ISFORTRAN``: F-contiguous and not C-contiguous."""
    flags = a.flags
    return bool(flags.f_contiguous) and not bool(flags.c_contiguous)


def reshape_like(g: Array, a: Array, order: str = "C") -> Array:
    """Undo ``np.reshape(a, ..., order=order)`` or ``np.ravel(a, order)`` on a cotangent.

    Args:
        g: the cotangent of the reshaped (or raveled) result.
        a: the array that was reshaped; its shape (and, for ``order`` ``"A"``/``"K"``, its
            memory layout) is read.
        order: the ``order`` the forward call used: ``"C"``, ``"F"``, ``"A"`` (F when ``a``
            is Fortran-contiguous only, else C) or, for ``ravel``, ``"K"`` (the order in
            memory, following numpy's rule of sorting axes by absolute stride).

    Returns:
        ``g`` reshaped to ``a.shape`` (a view where possible), in ``a``'s dtype.
    """
    xp = namespace(g, a)
    a = as_array(a, g)
    order = order.upper() if isinstance(order, str) else "C"
    if order == "A":
        order = "F" if _is_fortran(a) else "C"
    if order == "K":
        if a.flags.c_contiguous:
            order = "C"
        elif a.flags.f_contiguous:
            order = "F"
        else:
            perm = sorted(range(a.ndim), key=lambda ax: -abs(a.strides[ax]))
            moved_shape = tuple(a.shape[ax] for ax in perm)
            moved = xp.reshape(g, moved_shape)
            return cast_like(xp.transpose(moved, inverse_permutation(perm)), a)
    if order == "F":
        return cast_like(xp.reshape(g, a.shape, order="F"), a)
    return cast_like(xp.reshape(g, a.shape), a)


def split_concatenated(g: Array, arrays: Sequence[Array], axis: int | None = 0) -> list:
    """Cotangents of ``np.concatenate(arrays, axis)``: cut ``g`` back into pieces.

    Args:
        g: the cotangent of the concatenation.
        arrays: the concatenated operands (only shapes and dtypes are read).
        axis: the forward ``axis``; ``None`` means the operands were flattened first.

    Returns:
        A list with one cotangent per operand, each shaped and typed like it (views of ``g``
        where no cast is needed).
    """
    xp = namespace(g, *arrays)
    out = []
    start = 0
    if axis is None:
        for x in arrays:
            shape = _shape_of(x)
            stop = start + math.prod(shape)
            out.append(cast_like(xp.reshape(g[start:stop], shape), x))
            start = stop
        return out
    ax = normalize_axes(axis, g.ndim)[0]
    lead = (slice(None),) * ax
    for x in arrays:
        stop = start + _shape_of(x)[ax]
        out.append(cast_like(g[lead + (slice(start, stop),)], x))
        start = stop
    return out


def unstack_like(g: Array, arrays: Sequence[Array], axis: int = 0) -> list:
    """Cotangents of ``np.stack(arrays, axis)``: one slice of ``g`` per operand.

    Args:
        g: the cotangent of the stacked result.
        arrays: the stacked operands (only their dtypes are read).
        axis: the forward ``axis`` (an axis of the result).

    Returns:
        A list of views of ``g`` (casts where dtypes differ), one per operand.
    """
    ax = normalize_axes(axis, g.ndim)[0]
    lead = (slice(None),) * ax
    return [cast_like(g[lead + (i,)], x) for i, x in enumerate(arrays)]


def _split_bounds(n: int, indices_or_sections: Any) -> list[tuple[int, int]]:
    """The ``(start, stop)`` of each piece of ``np.array_split`` along an axis of length n."""
    if _is_int(indices_or_sections):
        sections = operator.index(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds, start = [], 0
        for size in sizes:
            bounds.append((start, start + size))
            start += size
        return bounds
    cuts = [operator.index(i) for i in indices_or_sections]
    edges = [0, *cuts, n]
    # numpy slices ary[edges[k]:edges[k + 1]], with the usual clipping of slice bounds
    return [slice(lo, hi).indices(n)[:2] for lo, hi in itertools.pairwise(edges)]


def concatenate_pieces(
    g: Sequence[Array | None], ary: Array, indices_or_sections: Any, axis: int = 0
) -> Array:
    """Cotangent of ``np.split`` / ``np.array_split``: join the pieces' cotangents.

    Args:
        g: one cotangent per piece; ``None`` marks a piece that was never used (zeros).
        ary: the array that was split (its shape and dtype are read).
        indices_or_sections: the forward call's argument (an int or a sequence of ints).
        axis: the forward ``axis``.

    Returns:
        An array shaped and typed like ``ary``.
    """
    xp = namespace(ary, *[p for p in g if p is not None])
    ax = normalize_axes(axis, ary.ndim)[0]
    bounds = _split_bounds(ary.shape[ax], indices_or_sections)
    if len(bounds) != len(g):
        raise ValueError(f"expected {len(bounds)} piece cotangents, got {len(g)}")
    stops = [max(start, stop) for start, stop in bounds]
    starts = [start for start, _ in bounds]
    if starts == [0, *stops[:-1]] and stops[-1] == ary.shape[ax]:
        # the pieces tile the axis in order (always, for increasing indices): join them
        pieces = []
        for (start, stop), piece in zip(bounds, g):
            if piece is None:
                shape = ary.shape[:ax] + (max(stop - start, 0),) + ary.shape[ax + 1 :]
                piece = xp.zeros(shape, dtype=ary.dtype)
            pieces.append(cast_like(piece, ary))
        return xp.concatenate(pieces, axis=ax)
    # decreasing indices make pieces overlap: accumulate into a fresh array
    total = xp.zeros(ary.shape, dtype=ary.dtype)
    lead = (slice(None),) * ax
    for (start, stop), piece in zip(bounds, g):
        if piece is not None and stop > start:
            where = lead + (slice(start, stop),)
            total[where] = total[where] + cast_like(piece, ary)
    return total


def untile(g: Array, A: Array, reps: int | Sequence[int]) -> Array:
    """Cotangent of ``np.tile(A, reps)``: sum ``g`` over the copies.

    Args:
        g: the cotangent of the tiled result.
        A: the tiled operand (shape and dtype are read).
        reps: the forward ``reps``.

    Returns:
        An array shaped and typed like ``A``.
    """
    xp = namespace(g, A)
    A = as_array(A, g)
    reps = (operator.index(reps),) if _is_int(reps) else tuple(map(operator.index, reps))
    ndim = max(len(reps), A.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - A.ndim) + tuple(A.shape)
    # g has shape reps[i] * shape[i] per axis, the copies outermost: split every axis in two
    split = tuple(d for pair in zip(reps, shape) for d in pair)
    total = xp.sum(xp.reshape(g, split), axis=tuple(range(0, 2 * ndim, 2)))
    return cast_like(xp.reshape(total, A.shape), A)


def unrepeat(g: Array, a: Array, repeats: Any, axis: int | None = None) -> Array:
    """Cotangent of ``np.repeat(a, repeats, axis)``: sum each element's copies.

    Args:
        g: the cotangent of the repeated result.
        a: the repeated operand (shape and dtype are read).
        repeats: an int, or an array or sequence of ints (one per element along ``axis``, or
            a single one that applies to all).
        axis: the forward ``axis``; ``None`` means ``a`` was flattened first.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    a = as_array(a, g)
    if axis is None or a.ndim == 0:  # numpy reads a 0-d a as 1-d
        ax, src_shape = 0, (a.size,)
    else:
        ax, src_shape = normalize_axes(axis, a.ndim)[0], tuple(a.shape)
    n = src_shape[ax]
    moved = xp.moveaxis(g, ax, 0) if ax else g
    if _is_int(repeats):
        r = operator.index(repeats)
        summed = xp.sum(xp.reshape(moved, (n, r) + moved.shape[1:]), axis=1)
    else:
        # segment sums over the runs of copies: a scatter-add into a fresh array
        # repeats is host data (cupy.repeat accepts only ints, lists and tuples): a host
        # numpy array becomes a list, a device array is passed on as it is
        counts = repeats.tolist() if isinstance(repeats, np.ndarray) else repeats
        segment = xp.repeat(xp.arange(n), counts)
        summed = _segment_sum(xp, moved, segment, n)
    summed = xp.moveaxis(summed, 0, ax) if ax else summed
    return cast_like(xp.reshape(summed, a.shape), a)


def _segment_sum(xp: Any, values: Array, segment: Array, n: int) -> Array:
    """``out[k] = sum(values[segment == k])`` along axis 0, into a fresh array."""
    shape = (n,) + tuple(values.shape[1:])
    add_at = getattr(getattr(xp, "add", None), "at", None)
    if add_at is not None:  # numpy; cupy >= 13
        out = xp.zeros(shape, dtype=values.dtype)
        add_at(out, segment, values)
        return out
    if getattr(xp, "__name__", "").startswith("cupy"):
        import cupyx  # only older cupy releases lack ufunc.at

        out = xp.zeros(shape, dtype=values.dtype)
        cupyx.scatter_add(out, segment, values)
        return out
    # any other namespace: multiply by the (n, m) one-hot matrix of the segments
    onehot = (xp.expand_dims(xp.arange(n), 1) == segment).astype(values.dtype)
    flat = xp.reshape(values, (values.shape[0], -1))
    return xp.reshape(onehot @ flat, shape)


# --------------------------------------------------------------------------- linalg


def matmul_cotangent_x1(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``x1 @ x2`` with respect to ``x1``: ``g @ x2^T``, summed to ``x1``.

    Handles what ``np.matmul`` does beyond 2-D products: a 1-D ``x1`` acts as a ``(1, k)``
    row and a 1-D ``x2`` as a ``(k, 1)`` column (those axes are missing from ``g``), and
    batch axes broadcast (the cotangent sums over the ones ``x1`` was broadcast along).

    Args:
        g: the cotangent of ``x1 @ x2``.
        x1: the left operand.
        x2: the right operand.

    Returns:
        An array shaped and typed like ``x1``.
    """
    xp = namespace(g, x1, x2)
    a, b, gm = _promote_matmul(xp, g, x1, x2)
    return xp.reshape(_matmul_unbroadcast(xp, gm, b.swapaxes(-1, -2), a), x1.shape)


def matmul_cotangent_x2(g: Array, x1: Array, x2: Array) -> Array:
    """Cotangent of ``x1 @ x2`` with respect to ``x2``: ``x1^T @ g``, summed to ``x2``.

    See :func:`matmul_cotangent_x1` for 1-D operands and broadcast batch axes.

    Args:
        g: the cotangent of ``x1 @ x2``.
        x1: the left operand.
        x2: the right operand.

    Returns:
        An array shaped and typed like ``x2``.
    """
    xp = namespace(g, x1, x2)
    a, b, gm = _promote_matmul(xp, g, x1, x2)
    return xp.reshape(_matmul_unbroadcast(xp, a.swapaxes(-1, -2), gm, b), x2.shape)


def _promote_matmul(xp: Any, g: Array, x1: Array, x2: Array) -> tuple[Array, Array, Array]:
    """Views of ``x1``, ``x2`` and ``g`` with the unit axes matmul adds for 1-D operands."""
    a, b = x1, x2
    if x2.ndim == 1:
        b = xp.expand_dims(x2, 1)  # (k,) -> (k, 1)
        g = xp.expand_dims(g, -1)
    if x1.ndim == 1:
        a = xp.expand_dims(x1, 0)  # (k,) -> (1, k)
        g = xp.expand_dims(g, -2)
    return a, b, g


def _matmul_unbroadcast(xp: Any, x: Array, y: Array, like: Array) -> Array:
    """``unbroadcast(x @ y, like)``, as one 2-D product in the two common batched cases.

    numpy's batched matmul is several times slower than one BLAS call, and a stack of
    products summed afterwards can be large, so:

    * the cotangent of a shared matrix, such as ``W`` in ``x @ W`` with a batched ``x``, is
      a sum over the batch of matrix products; with equal batch axes that sum is
      ``(p, B*m) @ (B*m, q)``, the batch folded into the contracted axis;
    * a batched ``x`` times a matrix ``y`` (the cotangent of the batched ``x`` itself) is
      ``(B*p, m) @ (m, q)``, the batch folded into the rows.
    """
    if like.ndim == 2 and x.ndim > 2 and x.shape[:-2] == y.shape[:-2]:
        p, q = x.shape[-2], y.shape[-1]
        folded_x = xp.reshape(x.swapaxes(-1, -2), (-1, p)).swapaxes(-1, -2)  # (p, B*m)
        folded_y = xp.reshape(y, (-1, q))  # (B*m, q)
        return cast_like(folded_x @ folded_y, like)
    if y.ndim == 2 and x.ndim > 2 and like.shape == x.shape[:-1] + y.shape[-1:]:
        rows = xp.reshape(x, (-1, x.shape[-1])) @ y  # (B*p, q)
        return cast_like(xp.reshape(rows, like.shape), like)
    return unbroadcast(x @ y, like)


def _tensordot(xp: Any, a: Array, b: Array, axes_a: Sequence[int], axes_b: Sequence[int]):
    """``tensordot`` over the paired axes.  A 0-d operand contracts nothing: the product is
    then ``a * b`` (cupy's ``tensordot`` refuses a 0-d operand with explicit axes)."""
    if a.ndim == 0 or b.ndim == 0:
        return xp.multiply(a, b)
    return xp.tensordot(a, b, axes=(list(axes_a), list(axes_b)))


def dot_cotangent_a(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.dot(a, b)`` with respect to ``a``, for every rank numpy allows.

    ``np.dot`` multiplies when either operand is 0-d, contracts the last axis of ``a`` with
    the only axis of a 1-D ``b``, and otherwise with the second-to-last axis of ``b``.

    Args:
        g: the cotangent of ``np.dot(a, b)``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b), as_array(b, g, a, weak=True)  # a Python float: 0-d
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(xp, g * b, a)
    p = a.ndim - 1
    if b.ndim == 1:
        return cast_like(xp.expand_dims(g, -1) * b, a)
    b_free = [ax for ax in range(b.ndim) if ax != b.ndim - 2]
    out = _tensordot(xp, g, b, range(p, g.ndim), b_free)
    return cast_like(out, a)


def dot_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.dot(a, b)`` with respect to ``b`` (see :func:`dot_cotangent_a`).

    Args:
        g: the cotangent of ``np.dot(a, b)``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``b``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b, weak=True), as_array(b, g, a)  # a Python float: 0-d
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(xp, g * a, b)
    p = a.ndim - 1
    out = _tensordot(xp, a, g, range(p), range(p))  # (k,) + b.shape[:-2] + b.shape[-1:]
    if b.ndim >= 2:
        out = xp.moveaxis(out, 0, -2)
    return cast_like(out, b)


def inner_cotangent_a(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.inner(a, b)`` with respect to ``a``.

    ``np.inner`` contracts the last axes of ``a`` and ``b`` and multiplies when either is 0-d.

    Args:
        g: the cotangent of ``np.inner(a, b)``, shaped ``a.shape[:-1] + b.shape[:-1]``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b), as_array(b, g, a, weak=True)  # a Python float: 0-d
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(xp, g * b, a)
    p, q = a.ndim - 1, b.ndim - 1
    return cast_like(_tensordot(xp, g, b, range(p, p + q), range(q)), a)


def inner_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.inner(a, b)`` with respect to ``b`` (see :func:`inner_cotangent_a`).

    Args:
        g: the cotangent of ``np.inner(a, b)``.
        a: the left operand.
        b: the right operand.

    Returns:
        An array shaped and typed like ``b``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b, weak=True), as_array(b, g, a)  # a Python float: 0-d
    if a.ndim == 0 or b.ndim == 0:
        return _sum_to(xp, g * a, b)
    p = a.ndim - 1
    return cast_like(_tensordot(xp, g, a, range(p), range(p)), b)


def _tensordot_axes(axes: Any, a_ndim: int, b_ndim: int) -> tuple[list[int], list[int]]:
    """numpy's ``tensordot`` ``axes`` argument as two lists of non-negative axes."""
    if _is_int(axes):
        n = operator.index(axes)
        return list(range(a_ndim - n, a_ndim)), list(range(n))
    axes_a, axes_b = axes
    axes_a = [axes_a] if _is_int(axes_a) else list(axes_a)
    axes_b = [axes_b] if _is_int(axes_b) else list(axes_b)
    return [operator.index(x) % a_ndim for x in axes_a], [
        operator.index(x) % b_ndim for x in axes_b
    ]


def tensordot_cotangent_a(g: Array, a: Array, b: Array, axes: Any = 2) -> Array:
    """Cotangent of ``np.tensordot(a, b, axes)`` with respect to ``a``.

    Args:
        g: the cotangent, shaped like ``a``'s free axes followed by ``b``'s.
        a: the left operand.
        b: the right operand.
        axes: the forward ``axes`` (an int, or a pair of ints or of sequences).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b), as_array(b, g, a, weak=True)  # a Python float: 0-d
    axes_a, axes_b = _tensordot_axes(axes, a.ndim, b.ndim)
    a_free = [ax for ax in range(a.ndim) if ax not in axes_a]
    b_free = [ax for ax in range(b.ndim) if ax not in axes_b]
    out = _tensordot(xp, g, b, range(len(a_free), g.ndim), b_free)
    # out's axes: a's free axes, then a's contracted axes in the order of b's axes
    paired = dict(zip(axes_b, axes_a))
    order = a_free + [paired[ax] for ax in sorted(axes_b)]
    return cast_like(xp.transpose(out, inverse_permutation(order)), a)


def tensordot_cotangent_b(g: Array, a: Array, b: Array, axes: Any = 2) -> Array:
    """Cotangent of ``np.tensordot(a, b, axes)`` with respect to ``b``.

    Args:
        g: the cotangent, shaped like ``a``'s free axes followed by ``b``'s.
        a: the left operand.
        b: the right operand.
        axes: the forward ``axes``.

    Returns:
        An array shaped and typed like ``b``.
    """
    xp = namespace(g, a, b)
    a, b = as_array(a, g, b, weak=True), as_array(b, g, a)  # a Python float: 0-d
    axes_a, axes_b = _tensordot_axes(axes, a.ndim, b.ndim)
    a_free = [ax for ax in range(a.ndim) if ax not in axes_a]
    b_free = [ax for ax in range(b.ndim) if ax not in axes_b]
    out = _tensordot(xp, a, g, a_free, range(len(a_free)))
    # out's axes: b's contracted axes in the order of a's axes, then b's free axes
    paired = dict(zip(axes_a, axes_b))
    order = [paired[ax] for ax in sorted(axes_a)] + b_free
    return cast_like(xp.transpose(out, inverse_permutation(order)), b)


def _sum_to(xp: Any, v: Array, x: Array) -> Array:
    """Sum ``v`` down to ``x``'s shape (leading axes and unit axes) and cast to its dtype."""
    lead = v.ndim - x.ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(x.shape) if d == 1 and v.shape[lead + i] != 1
    )
    if axes:
        v = xp.reshape(xp.sum(v, axis=axes), x.shape)
    return cast_like(v, x)


# --------------------------------------------------------------------------- einsum

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parse_einsum(subscripts: Any, operands: Sequence[Array]) -> tuple[list[str], str]:
    """Explicit per-operand labels and output labels, with ``...`` spelled out in letters.

    Args:
        subscripts: the einsum subscripts string (explicit ``->`` or implicit form).
        operands: the operands (their ``ndim`` is read).

    Returns:
        ``(inputs, output)``: one label string per operand and the output label string.

    Raises:
        TypeError: for the interleaved ``einsum(op, sublist, ...)`` form.
        ValueError: for malformed subscripts.
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            "srcgrad supports np.einsum with a subscripts string only; "
            "write np.einsum('ij,jk->ik', a, b) instead of the sublist form"
        )
    ndims = [x.ndim for x in operands]
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ndims):
        raise ValueError(f"einsum {subscripts!r} names {len(terms)} operands, got {len(ndims)}")
    used = set(spec) - set(".,->")
    spare = [c for c in _LETTERS if c not in used]
    n_ell = max(
        [nd - len(t.replace("...", "")) for t, nd in zip(terms, ndims) if "..." in t],
        default=0,
    )
    if n_ell > len(spare):
        raise ValueError(f"einsum {subscripts!r}: too many broadcast dimensions")
    ell = "".join(spare[:n_ell])  # labels of the broadcast dims, right-aligned

    def expand(term: str, nd: int | None) -> str:
        if "..." not in term:
            return term
        k = n_ell if nd is None else nd - len(term.replace("...", ""))
        return term.replace("...", ell[len(ell) - k :] if k else "")

    inputs = [expand(t, nd) for t, nd in zip(terms, ndims)]
    if arrow:
        output = expand(rhs, None)
    else:
        counts = {c: lhs.count(c) for c in set(lhs) - set(".,")}
        single = sorted(c for c, k in counts.items() if k == 1)  # ASCII: upper before lower
        output = ell + "".join(single)
    return inputs, output


def einsum_cotangent(
    g: Array,
    subscripts: str,
    operands: Sequence[Array],
    index: int,
    optimize: Any = False,
) -> Array:
    """Cotangent of ``np.einsum(subscripts, *operands)`` with respect to one operand.

    The cotangent is itself an einsum of ``g`` with the other operands.  Labels that appear
    only in this operand (summed out by the forward einsum) are broadcast back with a vector
    of ones, labels repeated within this operand (diagonals, traces) are put back on the
    diagonal with identity matrices, and dimensions that einsum broadcast from size 1 are
    summed back.

    Args:
        g: the cotangent of the einsum's result.
        subscripts: the forward subscripts (explicit, implicit, with or without ``...``).
        operands: all the forward operands.
        index: which operand's cotangent to compute.
        optimize: passed on to ``einsum``.

    Returns:
        An array shaped and typed like ``operands[index]``.
    """
    xp = namespace(g, *operands)
    inputs, output = _parse_einsum(subscripts, operands)
    sizes: dict[str, int] = {}
    for labels, x in zip(inputs, operands):
        for c, d in zip(labels, x.shape):
            sizes[c] = max(sizes.get(c, 1), d)
    target = inputs[index]
    x = operands[index]
    terms = [output]
    args = [g]
    for j, (labels, y) in enumerate(zip(inputs, operands)):
        if j != index:
            terms.append(labels)
            args.append(y)
    available = set("".join(terms))
    spare = iter(c for c in _LETTERS if c not in set("".join(inputs)) | set(output))
    result = ""
    seen: set[str] = set()
    for c in target:
        if c in seen:  # a repeated label: a fresh label tied to c by an identity matrix
            fresh = next(spare)
            terms.append(c + fresh)
            args.append(xp.eye(sizes[c], dtype=x.dtype))
            result += fresh
            continue
        seen.add(c)
        if c not in available:  # summed out in this operand only: broadcast back
            terms.append(c)
            args.append(xp.ones((sizes[c],), dtype=x.dtype))
            available.add(c)
        result += c
    out = xp.einsum(",".join(terms) + "->" + result, *args, optimize=optimize)
    return _sum_to(xp, out, x)


def einsum_cotangents(
    g: Array, subscripts: str, operands: Sequence[Array], optimize: Any = False
) -> tuple:
    """Cotangents of ``np.einsum(subscripts, *operands)`` for every operand.

    Args:
        g: the cotangent of the einsum's result.
        subscripts: the forward subscripts.
        operands: the forward operands.
        optimize: passed on to ``einsum``.

    Returns:
        A tuple with one cotangent per operand (see :func:`einsum_cotangent`).
    """
    return tuple(
        einsum_cotangent(g, subscripts, operands, i, optimize) for i in range(len(operands))
    )
