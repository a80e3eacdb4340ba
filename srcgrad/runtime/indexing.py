"""Helpers of the indexing rules (``rules/indexing.py``): subscripts (``index[...]`` spells a
key as a value; ``scatter_to``, ``assign_at``, ``gather_at``), gathers (``take``, ``choose``,
``select``, ``compress``, sliding windows), diagonals and sorts.  Gathers scatter their
cotangent back and accumulate repeated indices (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _axis,
    _fit,
    _is_int,
    _lanes,
    _shape_of,
    as_array,
    shape_only,
)
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "choose_cotangents",
    "compress_cotangent",
    "delete_cotangent",
    "diag_cotangent",
    "diagflat_cotangent",
    "diagonal_cotangent",
    "permutation_cotangent",
    "reduceat_cotangent",
    "strided_cotangent",
    "strided_index",
    "select_cotangents",
    "take_along_axis_cotangent",
    "take_cotangent",
    "trace_cotangent",
    "unwindow",
    "index",
    "scatter_to",
    "scatter_pieces",
    "assign_at",
    "added_at",
    "add_at",
    "zero_at",
    "gather_at",
]

Array = Any


# --------------------------------------------------------------------------- subscripts


class _Index:
    """``index[...]`` returns the key of a subscript: ``index[1:3, None]``."""

    def __getitem__(self, key: Any) -> Any:
        return key

    def __repr__(self) -> str:
        return "index"


index = _Index()


def _is_basic_key(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        p is None
        or p is Ellipsis
        or isinstance(p, (int, slice))
        and not isinstance(p, bool)
        for p in parts
    )


@shape_only(1)
def scatter_to(g: Any, x: Any, key: Any) -> Any:
    """The cotangent of ``x`` for ``ans = x[key]``: zeros with ``g`` added at ``key``.

    Basic keys (ints, slices, None, Ellipsis) assign; advanced keys (integer arrays, boolean
    masks) accumulate, so repeated indices add up.
    """
    xp = namespace(g, x)
    z = xp.zeros(x.shape, dtype=x.dtype)
    if _is_basic_key(key):
        z[key] = g
    else:
        xp.add.at(z, key, g)
    return z


@shape_only(1)
def scatter_pieces(pieces: Sequence[Any], x: Any, keys: Sequence[Any]) -> Any:
    """The cotangent of ``x`` read as ``x[k]`` for each key of ``keys``: the sum of
    ``scatter_to(g, x, k)`` over the pieces ``g`` and their keys, made in one array.

    Basic slices that tile one axis of ``x`` (``x[:, :h]``, ``x[:, h : 2 * h]``,
    ``x[:, 2 * h :]``), with pieces of ``x``'s dtype and of their slices' shapes, are
    joined (no zeros and no additions); otherwise the pieces are added into one array of
    zeros, in order.
    """
    xp = namespace(x, *pieces)
    tiled = _tiling(pieces, x, keys)
    if tiled is not None:
        axis, order = tiled
        return xp.concatenate([pieces[k] for k in order], axis=axis)
    z = xp.zeros(x.shape, dtype=x.dtype)
    for g, key in zip(pieces, keys):
        if _is_basic_key(key):
            part = g if getattr(g, "dtype", None) == x.dtype else xp.asarray(g, x.dtype)
            z[key] += part
        else:
            z += scatter_to(g, x, key)
    return z


def _tiling(
    pieces: Sequence[Any], x: Any, keys: Sequence[Any]
) -> tuple[int, list[int]] | None:
    """``(axis, order of the pieces)`` when ``keys`` are slices of one axis of ``x``
    (step 1, every other axis whole) that tile it, each piece exactly its slice's shape
    and ``x``'s dtype; else None."""
    axis = None
    spans = []
    for g, key in zip(pieces, keys):
        parts = key if isinstance(key, tuple) else (key,)
        if len(parts) > x.ndim or not all(isinstance(p, slice) for p in parts):
            return None
        cut = [i for i, p in enumerate(parts) if p != slice(None)]
        if len(cut) != 1 or axis not in (None, cut[0]):
            return None
        axis = cut[0]
        s = parts[axis]
        if s.step not in (None, 1):
            return None
        start, stop, _ = s.indices(x.shape[axis])
        stop = max(start, stop)
        want = x.shape[:axis] + (stop - start,) + x.shape[axis + 1 :]
        if getattr(g, "shape", None) != want or getattr(g, "dtype", None) != x.dtype:
            return None
        spans.append((start, stop))
    if axis is None:
        return None
    order = sorted(range(len(spans)), key=lambda k: spans[k])
    edge = 0
    for k in order:
        if spans[k][0] != edge:
            return None
        edge = spans[k][1]
    return (axis, order) if edge == x.shape[axis] else None


def assign_at(x: Any, key: Any, v: Any) -> Any:
    """``y = x.copy(); y[key] = v``: the functional form of a subscript write."""
    y = x.copy()
    y[key] = v
    return y


def added_at(x: Any, key: Any, v: Any) -> Any:
    """``y = x.copy(); np.add.at(y, key, v)``: the functional form of ``np.add.at``, in
    which repeated indices add up (unlike ``y[key] += v``, where the last one wins)."""
    y = x.copy()
    namespace(x, v).add.at(y, key, v)
    return y


def zero_at(g: Any, key: Any) -> Any:
    """``g`` with zeros where a write overwrote the old values (a new array)."""
    out = g.copy()
    out[key] = 0
    return out


def gather_at(g: Any, key: Any, v: Any) -> Any:
    """The cotangent of ``v`` in ``y[key] = v``: ``g[key]`` reduced to ``v``'s shape.

    With an advanced key that repeats a position, numpy keeps the last write, so the earlier
    duplicates get no gradient.
    """
    picked = g[key]
    if not _is_basic_key(key):
        xp = namespace(g)
        n = picked.size
        order = xp.arange(n).reshape(picked.shape)
        winners = xp.full(g.shape, -1)
        winners[key] = order
        picked = picked * (winners[key] == order)
    return unbroadcast(picked, v)


def add_at(d: Any, key: Any, g: Any) -> Any:
    """``d[key] += g`` in place (repeated advanced indices add up) and return ``d``.

    Emitted code uses it only on an accumulator it allocated itself for a loop and that
    nothing else refers to, so the in-place add is invisible.  An accumulator may be a
    list of cotangents (a loop that reads a list's entries), whose ``None`` entries (those
    of values that carry no gradient) take ``g`` itself.
    """
    if _is_basic_key(key):
        if isinstance(d, list) and d[key] is None:  # a list's entry nothing reached
            d[key] = g.copy() if hasattr(g, "copy") else g
        else:
            d[key] += g
    else:
        namespace(d, g).add.at(d, key, g)
    return d


# --------------------------------------------------------------------------- gathers


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


def _scatter_add_axis(
    xp: Any, shape: tuple[int, ...], dtype: Any, ax: int, idx: Array, g: Array
):
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


def take_along_axis_cotangent(
    g: Array, arr: Array, indices: Any, axis: Any = -1
) -> Array:
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


def select_cotangents(
    g: Array, condlist: Sequence[Any], choicelist: Sequence[Any]
) -> list:
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


def choose_cotangents(
    g: Array, a: Any, choices: Sequence[Any], mode: str = "raise"
) -> list:
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
    windows = (
        (operator.index(window_shape),)
        if _is_int(window_shape)
        else tuple(window_shape)
    )
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


# --------------------------------------------------------------------------- diagonals and sorts


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


def trace_cotangent(
    g: Array, a: Array, offset: int = 0, axis1: int = 0, axis2: int = 1
) -> Array:
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
    x, ax = _lanes(xp, a, axis)
    from_x = xp.argsort(x, axis=ax, kind="stable")  # (numpy 1.26 has no stable=)
    from_y = xp.argsort(ans, axis=ax, kind="stable")
    z = xp.zeros(x.shape, dtype=g.dtype)
    xp.put_along_axis(z, from_x, xp.take_along_axis(g, from_y, axis=ax), axis=ax)
    return _fit(xp.reshape(z, a.shape), a)


def reduceat_cotangent(g: Array, a: Any, indices: Any, axis: int = 0) -> Array:
    """Cotangent of ``a`` in ``np.add.reduceat(a, indices, axis)``.

    Output ``i`` sums ``a[indices[i]:indices[i + 1]]`` along ``axis`` (to the end for the
    last), or is ``a[indices[i]]`` alone where ``indices[i] >= indices[i + 1]``: each entry
    of ``a`` gets the cotangent of every output whose range holds it.  (Linear in ``g``: its
    own adjoint is ``np.add.reduceat`` again.)

    Args:
        g: the cotangent of the result.
        a: the reduced array (only its shape is read).
        indices: the segment starts (integers).
        axis: the reduced axis.

    Returns:
        An array shaped like ``a``.
    """
    xp = namespace(g)
    n = _shape_of(a)[axis]
    starts = xp.asarray(indices).astype(int)
    after = xp.concatenate([starts[1:], xp.asarray([n])])
    ends = xp.where(starts < after, after, starts + 1)
    pos = xp.arange(n)
    member = (pos[None, :] >= starts[:, None]) & (pos[None, :] < ends[:, None])
    moved = xp.moveaxis(g, axis, 0)
    out = xp.tensordot(member.T.astype(g.dtype), moved, axes=1)
    return xp.moveaxis(out, 0, axis)


def _element_offsets(xp: Any, shape: Sequence[int], strides: Sequence[int]) -> Array:
    """The byte offset of every element of a view of ``shape`` and ``strides`` (C order)."""
    off = xp.zeros((), dtype=xp.int64)
    for n, st in zip(shape, strides):
        off = off[..., None] + xp.arange(n, dtype=xp.int64) * int(st)
    return off


def strided_index(x: Array, shape: Any = None, strides: Any = None) -> Array:
    """For ``np.lib.stride_tricks.as_strided(x, shape, strides)``: the position in
    ``x.ravel()`` of the element each output element reads (an integer array of ``shape``).

    Raises:
        ValueError: where the view reads memory that is no element of ``x`` (outside it, or
            between its elements): no gradient reaches ``x`` from there.
    """
    xp = namespace(x)
    shape = tuple(x.shape) if shape is None else tuple(shape)
    if strides is None and shape != tuple(x.shape):
        # numpy reads a C-contiguous operand as C-contiguous in the new shape
        if type(x).__module__.split(".")[0] != "numpy":
            raise ValueError(
                "as_strided with a new shape and no strides: pass strides= (srcgrad "
                "follows numpy's reading of it only on numpy arrays)"
            )
        if x.flags.c_contiguous:
            strides = tuple(
                int(x.itemsize * math.prod(shape[k + 1 :])) for k in range(len(shape))
            )
    strides = tuple(x.strides) if strides is None else tuple(strides)
    own = _element_offsets(xp, x.shape, x.strides).ravel()
    order = xp.argsort(own, kind="stable")
    known = own[order]
    want = _element_offsets(xp, shape, strides).ravel()
    at = xp.clip(xp.searchsorted(known, want), 0, max(known.shape[0] - 1, 0))
    if want.size and (known.size == 0 or bool(xp.any(known[at] != want))):
        raise ValueError(
            "as_strided reads memory that is no element of its operand: srcgrad cannot "
            "send the gradient there (make the view of the whole array it reads)"
        )
    return order[at].reshape(shape)


def strided_cotangent(
    g: Array, x: Array, shape: Any = None, strides: Any = None
) -> Array:
    """Cotangent of ``x`` in ``as_strided(x, shape, strides)``: each output element's
    cotangent added to the element of ``x`` it reads (overlapping windows add up).

    Args:
        g: the cotangent of the view.
        x: the operand (its shape, strides and dtype are read).
        shape: the forward ``shape`` (None: ``x.shape``).
        strides: the forward ``strides`` in bytes (None: ``x.strides``).

    Returns:
        An array shaped like ``x``, in ``g``'s dtype.
    """
    xp = namespace(g, x)
    idx = strided_index(x, shape, strides)
    out = xp.zeros(x.size, dtype=g.dtype)
    xp.add.at(out, idx.ravel(), xp.reshape(g, (-1,)))
    return out.reshape(x.shape)
