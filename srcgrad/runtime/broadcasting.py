"""Broadcasting and its adjoint: ``unbroadcast`` (sum a cotangent back to an operand's shape
and dtype), ``expand_like`` (spread a reduction's cotangent back over the reduced axes), and
their own adjoints ``expand_to`` / ``reduce_like`` (rules in ``rules/broadcasting.py``, for
higher-order derivatives).  Every rule family uses them; conventions in
:mod:`srcgrad.runtime.arrays`.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _cast, _is_complex, shape_only

__all__ = [
    "expand_like",
    "unbroadcast",
    "broadcast_arrays_cotangents",
    "expand_to",
    "reduce_like",
]

Array = Any


@shape_only(1)
def unbroadcast(g: Array, x: Any) -> Array:
    """Reduce the cotangent ``g`` of a broadcast result to the shape and dtype of ``x``.

    Leading axes that broadcasting added are summed away, and so are axes where ``x`` has
    size 1 and ``g`` does not.  A floating or complex ``x`` also fixes the dtype: a float32
    operand of a float64 result gets a float32 cotangent, and a real operand of a complex
    result gets the real part (autograd's convention).

    Args:
        g: the cotangent of a result that ``x`` was broadcast into.
        x: the operand: an array, a numpy scalar or a Python number.  For a Python number
            the cotangent is the sum of ``g`` (a numpy scalar on numpy, a 0-d array on
            other devices).

    Returns:
        ``g`` itself when its shape and dtype already match (no copy), else the reduced
        and cast cotangent.

    Raises:
        ValueError: if ``g`` has fewer dimensions than ``x``, or cannot be reduced to its
            shape.
    """
    shape = getattr(x, "shape", None)
    if shape is None:  # a Python number: the sum of everything
        if getattr(g, "ndim", 0) != 0:
            g = g.sum()
        if not isinstance(x, complex) and _is_complex(g):
            g = g.real  # a real operand of a complex result gets the real part
        return g
    dtype = x.dtype
    g_shape = getattr(g, "shape", None)
    if g_shape is None:  # a Python number cotangent (of float(x), say): fill x's shape
        return namespace(x).full(shape, g, dtype=dtype if dtype.kind in "fc" else None)
    if g_shape == shape:
        if g.dtype == dtype or dtype.kind not in "fc":
            return g
        return _cast(g, dtype)
    lead = len(g_shape) - len(shape)
    if lead < 0:
        raise ValueError(
            f"unbroadcast: the cotangent has shape {tuple(g_shape)}, fewer dimensions "
            f"than its operand's shape {tuple(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and g_shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    if g.shape != shape:
        g = g.reshape(shape)  # ValueError if g is not a broadcast of shape
    if g.dtype == dtype or dtype.kind not in "fc":
        return g
    return _cast(g, dtype)


@shape_only(1)
def expand_like(g: Array, x: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """Broadcast the cotangent of a reduction back to the shape of the reduced array.

    Undoes the shape change of ``x.sum(axis, keepdims=keepdims)`` and friends: the reduced
    axes are reinserted with size 1 (unless ``keepdims``) and ``g`` is broadcast along them.
    The small ``g`` is cast to ``x``'s floating dtype first, so the result has ``x``'s dtype.

    Args:
        g: the cotangent of the reduction's result.
        x: the reduced array (its shape and dtype are read) or a Python number.
        axis: the reduction's ``axis``: ``None`` (all axes), an int or a tuple of ints,
            negative ones counting from the end.
        keepdims: the reduction's ``keepdims``.

    Returns:
        A read-only broadcast view shaped like ``x`` (copy it before writing into it), or
        ``g`` itself when nothing needs doing.
    """
    shape = getattr(x, "shape", None)
    if shape is None:  # a Python number reduces to itself
        return g
    xp = namespace(g, x)
    dtype = x.dtype
    if not hasattr(g, "shape"):  # a Python number cotangent
        return xp.full(shape, g, dtype=dtype if dtype.kind in "fc" else None)
    if dtype.kind in "fc" and g.dtype != dtype:
        g = _cast(g, dtype)
    if g.shape == shape:
        return g
    ndim = len(shape)
    if not keepdims and axis is not None and g.ndim:
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        reduced = {operator.index(a) % ndim for a in axes}
        g = g.reshape(tuple(1 if i in reduced else d for i, d in enumerate(shape)))
    return xp.broadcast_to(g, shape)


def expand_to(g: Any, like: Any) -> Any:
    """``g`` broadcast to the shape of ``like`` (the adjoint of ``unbroadcast``).

    A Python-number ``like`` is a cotangent that ``unbroadcast`` spread over its operand's
    shape (``xp.full``): its own cotangent is the sum of ``g``.
    """
    shape = getattr(like, "shape", None)
    if shape is None:
        return g.sum() if getattr(g, "ndim", 0) else g
    if getattr(g, "shape", ()) == shape:
        return g
    return namespace(g, like).broadcast_to(g, shape)


def reduce_like(g: Any, like: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``g`` summed back to the shape of ``like`` (the adjoint of ``expand_like``)."""
    if axis is None:
        out = g.sum()
    else:
        out = g.sum(axis=axis, keepdims=keepdims)
    shape = getattr(like, "shape", ())
    return out.reshape(shape) if getattr(out, "shape", ()) != shape else out


def broadcast_arrays_cotangents(g: Sequence[Any], args: Sequence[Any]) -> list:
    """Cotangents of ``np.broadcast_arrays(*args)``: each output's cotangent summed back."""
    return [None if part is None else unbroadcast(part, x) for part, x in zip(g, args)]
