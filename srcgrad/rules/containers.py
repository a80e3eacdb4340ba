"""Adjoint rules for functions of Python containers: ``sum(list)``, ``np.array(list)`` and
``max``/``min`` of an iterable (the builtins with one argument, as the primitives
``max_of``/``min_of``).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A sequence operand's cotangent
is a list with one entry per item.
"""

from __future__ import annotations

import builtins

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.rules.tangent_calls import zero_tangent
from srcgrad.runtime import pick_cotangents, sum_cotangents, unstack_cotangent


@adjoint(
    builtins.sum,
    name="builtin_sum",
    sequence=("iterable",),
    shapes={"list": "[(3,4),(3,4),(4,)]"},
    jvp="linear",
)
def builtin_sum_adjoint(g, ans, iterable, /, start=0):
    return sum_cotangents(g, iterable)


@adjoint(
    np.array,
    sequence=("object",),
    nondiff=("dtype",),
    shapes={"scalars": "[(),(),()]"},
    jvp="linear",
)
def array_adjoint(g, ans, object, dtype=None):
    return unstack_cotangent(g, object)


@adjoint(
    np.asarray,
    sequence=("a",),
    nondiff=("dtype",),
    shapes={"scalars": "[(),(),()]", "array": "(3,4)"},
    jvp="linear",
    view=True,  # an array of the dtype asked for is returned itself, not a copy
)
def asarray_adjoint(g, ans, a, dtype=None):
    return unstack_cotangent(g, a)


def max_of(iterable):  # noqa: ANN001, ANN201
    """``max(iterable)`` as a primitive (the builtin with one argument)."""
    return max(iterable)


def min_of(iterable):  # noqa: ANN001, ANN201
    """``min(iterable)`` as a primitive (the builtin with one argument)."""
    return min(iterable)


@adjoint(
    max_of,
    name="max_of",
    sequence=("iterable",),
    shapes={"floats": "[(),(),()]"},
    view=True,
)
@adjoint(
    min_of,
    name="min_of",
    sequence=("iterable",),
    shapes={"floats": "[(),(),()]"},
    view=True,
)
def extremum_of_adjoint(g, ans, iterable):
    return pick_cotangents(g, ans, iterable)


@jvp_of(extremum_of_adjoint)
def extremum_of_jvp(ans, dots, b):
    # the picked item's tangent (the adjoint says which)
    weights = extremum_of_adjoint(np.ones_like(np.asarray(ans, dtype=float)), ans, **b)
    out = zero_tangent(ans)
    for w, t in zip(weights, dots[0]):
        if w is not None and t is not None:
            out = out + w * t
    return out
