"""Helpers of the shape rules (``rules/shape.py``): reshapes in every memory order,
transposes, concatenations and splits, tiles and repeats, rolls, stacks and pads (conventions in
:mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _axis,
    _fit,
    _is_int,
    _shape_of,
    _take_range,
    as_array,
    cast_like,
    inverse_permutation,
    normalize_axes,
    shape_only,
)
from srcgrad.runtime.broadcasting import unbroadcast
from srcgrad.runtime.statistics import extremum_cotangent, quantile_cotangent

__all__ = [
    "mT",
    "atleast_part",
    "concatenate_pieces",
    "reshape_like",
    "split_concatenated",
    "split_sections",
    "unrepeat",
    "unstack_like",
    "untile",
    "append_cotangents",
    "atleast_cotangents",
    "hsplit_axis",
    "pad_cotangent",
    "rollaxis_cotangent",
    "stacked_cotangents",
    "unroll",
    "unstack_cotangent_pieces",
]

Array = Any


# --------------------------------------------------------------------------- reshapes and pieces


def mT(x: Array) -> Array:
    """Swap the last two axes (the matrix transpose of a stack of matrices).

    Args:
        x: an array.

    Returns:
        A view of ``x`` with its last two axes swapped; ``x`` itself when it has fewer than
        two dimensions.
    """
    if getattr(x, "ndim", 0) < 2:
        return x
    return x.swapaxes(-1, -2)


def _is_fortran(a: Array) -> bool:
    """numpy's ``PyArray_ISFORTRAN``: F-contiguous and not C-contiguous."""
    flags = a.flags
    return bool(flags.f_contiguous) and not bool(flags.c_contiguous)


@shape_only(1, max_args=2)  # order "A"/"K" reads the memory layout
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


def split_sections(ary: Array, sections: int, axis: int = 0) -> list:
    """``np.split(ary, sections, axis)`` for a number of equal sections: the same views,
    made by basic slicing (numpy's ``split`` spends most of its time in Python).  Anything
    else (no shape, an axis that does not divide, a bad axis) goes to ``split`` itself,
    which also raises its errors."""
    shape = getattr(ary, "shape", None)
    if (
        shape is None
        or not isinstance(sections, int)
        or isinstance(sections, bool)
        or sections <= 0
        or not isinstance(axis, int)
        or not -len(shape) <= axis < len(shape)
        or shape[axis] % sections
    ):
        return namespace(ary).split(ary, sections, axis=axis)
    step = shape[axis] // sections
    lead = (slice(None),) * (axis % len(shape))
    return [ary[lead + (slice(k * step, (k + 1) * step),)] for k in range(sections)]


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
    reps = (
        (operator.index(reps),) if _is_int(reps) else tuple(map(operator.index, reps))
    )
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


# --------------------------------------------------------------------------- rolls and stacks


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


def atleast_part(h: Sequence[Any], ct: Any) -> Any:
    """The cotangent of ``atleast_cotangents``' one array ``ct`` given the cotangents
    ``h`` of its result (a list of one): ``h[0]`` shaped like ``ct`` (the adjoint of a
    reshape).  Several arrays (``ct`` a sequence) are refused at a higher order."""
    if isinstance(ct, (list, tuple)):
        from srcgrad.errors import SrcgradError

        raise SrcgradError(
            "a higher-order gradient through np.atleast_1d/2d/3d of several arrays",
            construct="atleast",
            hint="call it once per array",
        )
    xp = namespace(h[0], ct)
    return unbroadcast(xp.reshape(h[0], _shape_of(ct)), ct)


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


def unstack_cotangent_pieces(g: Sequence[Any], x: Array, axis: int = 0) -> Array:
    """Cotangent of ``np.unstack(x, axis=axis)``: the pieces stacked again (zeros for unused)."""
    xp = namespace(x, *[p for p in g if p is not None])
    ax = _axis(axis, x.ndim)
    shape = tuple(d for i, d in enumerate(x.shape) if i != ax)
    pieces = [xp.zeros(shape, dtype=x.dtype) if p is None else _fit(p, x) for p in g]
    return xp.stack(pieces, axis=ax)


# --------------------------------------------------------------------------- pad


def _pairs(value: Any, ndim: int, default: Any = None) -> list[tuple[Any, Any]]:
    """numpy's ``_as_pairs``: a (before, after) pair per axis from a pad-style argument."""
    if value is None:
        return [(default, default)] * ndim
    arr = np.asarray(value)  # pad widths and stat lengths are host values
    if arr.size == 1:
        v = arr.ravel()[0].item()
        return [(v, v)] * ndim
    if arr.size == 2 and arr.shape != (2, 1):
        a, b = (v.item() for v in arr.ravel())
        return [(a, b)] * ndim
    full = np.broadcast_to(arr, (ndim, 2))
    return [(full[i, 0].item(), full[i, 1].item()) for i in range(ndim)]


def _pad_axis(
    xp: Any,
    x: Array,
    ax: int,
    before: int,
    after: int,
    mode: str,
    options: dict[str, Any],
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
        mode in ("reflect", "symmetric")
        and options.get("reflect_type", "even") == "even"
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
            g_side = xp.sum(
                _take_range(xp, g, ax, before + n, total), axis=ax, keepdims=True
            )
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
        raise NotImplementedError(
            "srcgrad cannot differentiate np.pad with a callable mode"
        )
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
