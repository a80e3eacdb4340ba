"""Adjoint rules for subscripts, copies and casts."""

import builtins
import operator

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import assign_at, gather_at, zero_at, pick_cotangents, scatter_to, sum_cotangents, unbroadcast, unstack_cotangent


def _getitem_domain(rng, shape):  # noqa: ANN001, ANN202
    return rng.standard_normal(shape)


@adjoint(
    operator.getitem,
    nondiff=("key",),
    name="getitem",
    shapes=[((4, 5),)],
    params={"key": [1, (slice(1, 3), None), (Ellipsis, 0), (slice(None, None, 2), -1)]},
    view=True,
)
def getitem_adjoint(g, ans, x, key):
    return scatter_to(g, x, key)


@adjoint(np.copy, shapes=[((3, 4),)])
def copy_adjoint(g, ans, a):
    return g


def _astype(x, dtype, /, *, copy=True):  # noqa: ANN001, ANN202
    """``x.astype(dtype)``: the primitive ``x.astype`` stands for where numpy has no
    ``np.astype`` (numpy < 2.1)."""
    return x.astype(dtype, copy=copy)


ASTYPE = getattr(np, "astype", _astype)


@adjoint(
    ASTYPE,
    name="astype",
    nondiff=("dtype",),
    shapes=[((3, 4),)],
    params={"dtype": ["float64"]},
    view=True,  # copy=False returns the input itself when the dtype already matches
)
def astype_adjoint(g, ans, x, dtype, copy=True):
    return unbroadcast(g, x)


@adjoint(builtins.float, name="float", shapes=[((),)])
def float_adjoint(g, ans, x):
    return unbroadcast(g, x)


@adjoint(
    builtins.sum,
    name="builtin_sum",
    sequence=("iterable",),
    shapes={"list": "[(3,4),(3,4),(4,)]"},
)
def builtin_sum_adjoint(g, ans, iterable, /, start=0):
    return sum_cotangents(g, iterable)


@adjoint(np.array, sequence=("object",), nondiff=("dtype",), shapes={"scalars": "[(),(),()]"})
def array_adjoint(g, ans, object, dtype=None):
    return unstack_cotangent(g, object)


def max_of(iterable):  # noqa: ANN001, ANN201
    """``max(iterable)`` as a primitive (the builtin with one argument)."""
    return max(iterable)


def min_of(iterable):  # noqa: ANN001, ANN201
    """``min(iterable)`` as a primitive (the builtin with one argument)."""
    return min(iterable)


@adjoint(max_of, name="max_of", sequence=("iterable",), shapes={"floats": "[(),(),()]"}, view=True)
def max_of_adjoint(g, ans, iterable):
    return pick_cotangents(g, ans, iterable)


@adjoint(min_of, name="min_of", sequence=("iterable",), shapes={"floats": "[(),(),()]"}, view=True)
def min_of_adjoint(g, ans, iterable):
    return pick_cotangents(g, ans, iterable)


@adjoint(
    assign_at,
    name="assign_at",
    nondiff=("key",),
    shapes={"slice": "(4,5),-,(2,5)", "broadcast": "(4,5),-,(5,)"},
    params={"key": [(slice(1, 3),)]},
)
def assign_at_adjoint(g, ans, x, key, v):
    return zero_at(g, key), gather_at(g, key, v)
