"""Helpers of the reduction rules (``rules/reductions.py``): the size of a reduced group and
``prod``'s exact cotangent with zeros (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _is_python_scalar,
    inverse_permutation,
    normalize_axes,
    shape_only,
)

__all__ = [
    "prod_others",
    "reduction_size",
]

Array = Any
Axis = int | Sequence[int] | None


@shape_only(0)
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
