"""Adjoint rules for binary (and ternary) elementwise primitives (contract: registry.py).

Every operand may have been broadcast, so each cotangent goes through ``unbroadcast``, which
sums it back to the operand's shape, casts it to the operand's dtype, and returns it unchanged
when nothing needs doing.  Identity rules (``add``) therefore hand back the very same array
for both operands: emitted code must never accumulate into an adjoint in place.

``power_slope`` and ``split_cotangent``, the runtime helpers these rules emit, have rules here
too, so that an emitted gradient can be differentiated again (higher-order derivatives).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import log_or_zero, power_slope, split_cotangent, unbroadcast


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Test inputs in [-2, -0.5] U [0.5, 2] (for divisors)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def _coin(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random boolean mask (``where``'s condition)."""
    return rng.random(shape) < 0.5


# --------------------------------------------------------------------------- arithmetic


@adjoint(np.add, kind="binary", integer_result=True, operator="+", jvp="linear")
def add_adjoint(g, ans, x1, x2):
    return unbroadcast(g, x1), unbroadcast(g, x2)


@adjoint(np.subtract, kind="binary", integer_result=True, operator="-", jvp="linear")
def subtract_adjoint(g, ans, x1, x2):
    return unbroadcast(g, x1), unbroadcast(-g, x2)


@adjoint(np.multiply, kind="binary", integer_result=True, operator="*")
def multiply_adjoint(g, ans, x1, x2):
    return unbroadcast(g * x2, x1), unbroadcast(g * x1, x2)


# np.true_divide too
@adjoint(np.divide, kind="binary", operator="/", domain={"x2": _away_from_zero})
def divide_adjoint(g, ans, x1, x2):
    num_cotangent = g / x2  # before unbroadcast
    return unbroadcast(num_cotangent, x1), unbroadcast(-num_cotangent * ans, x2)


@adjoint(
    np.power,
    kind="binary",
    builtins=("pow",),
    math=("pow",),
    operator="**",
    domain=(0.5, 2.0),
)
def power_adjoint(g, ans, x1, x2):
    # power_slope: x2 * x1 ** (x2 - 1), 0 where x2 == 0; log_or_zero: log(x1), 0 where x1 <= 0
    return (
        unbroadcast(g * power_slope(x1, x2), x1),
        unbroadcast(g * ans * log_or_zero(x1), x2),
    )


@adjoint(
    np.floor_divide, operator="//", domain={"x2": _away_from_zero}, jvp="elementwise"
)
def floor_divide_adjoint(g, ans, x1, x2):
    # piecewise constant: zero almost everywhere, so no cotangent for either operand
    return None, None


@adjoint(
    np.remainder, operator="%", domain={"x2": _away_from_zero}, jvp="elementwise"
)  # np.mod too
def remainder_adjoint(g, ans, x1, x2):
    # x1 % x2 == x1 - floor_divide(x1, x2) * x2, and floor_divide is locally constant
    return unbroadcast(g, x1), unbroadcast(-g * np.floor_divide(x1, x2), x2)


# --------------------------------------------------------------------------- max, min, where, clip


@adjoint(np.maximum, kind="binary", integer_result=True, builtins=("max",))
def maximum_adjoint(g, ans, x1, x2):
    # ties split the cotangent evenly, as autograd does (see extremum_share)
    return (
        unbroadcast(split_cotangent(g, x1, ans, x2), x1),
        unbroadcast(split_cotangent(g, x2, ans, x1), x2),
    )


@adjoint(np.minimum, kind="binary", integer_result=True, builtins=("min",))
def minimum_adjoint(g, ans, x1, x2):
    return (
        unbroadcast(split_cotangent(g, x1, ans, x2), x1),
        unbroadcast(split_cotangent(g, x2, ans, x1), x2),
    )


@adjoint(
    np.where,
    nondiff=("condition",),
    domain={"condition": _coin},
    shapes={
        "same": "(3,4),(3,4),(3,4)",
        "broadcast": "(3,4),(4,),(3,1)",
        "condition-broadcast": "(4,),(3,4),(3,4)",
        "float": "(3,4),(3,4),s",
    },
    jvp="elementwise",
)
def where_adjoint(g, ans, condition, x, y):
    return (
        unbroadcast(np.where(condition, g, 0), x),
        unbroadcast(np.where(condition, 0, g), y),
    )


@adjoint(
    np.clip,
    methods=("clip",),
    shapes={
        "arrays": "(3,4),(3,4),(4,)",
        "floats": "(3,4),s,s",
        "no-min": ("(3,4),-,(3,1)", {"a_min": None}),
        "no-max": ("(3,4),(4,),-", {"a_max": None}),
    },
    optional_operands=("a_min", "a_max"),
    jvp="elementwise",
)
def clip_adjoint(g, ans, a, a_min=None, a_max=None, *, min=None, max=None):
    # the cotangent passes to a where clipping left the value alone (also exactly at a
    # bound), else to the bound it was clipped to: a_min where the result equals it (numpy
    # applies it first), a_max elsewhere (also where a_min > a_max).  A bound that is None
    # is never differentiated (ans == None is all False, so the other bound takes the rest)
    kept = ans == a
    low = ~kept & (ans == a_min)
    return (
        unbroadcast(np.where(kept, g, 0), a),
        unbroadcast(np.where(low, g, 0), a_min),
        unbroadcast(np.where(kept | low, 0, g), a_max),
    )


# --------------------------------------------------------------------------- other binary ufuncs


@adjoint(np.arctan2, kind="binary", math=("atan2",))
def arctan2_adjoint(g, ans, x1, x2):
    scale = g / (x1 * x1 + x2 * x2)
    return unbroadcast(scale * x2, x1), unbroadcast(-scale * x1, x2)


@adjoint(np.hypot, kind="binary", math=("hypot",))
def hypot_adjoint(g, ans, x1, x2):
    scale = g / ans
    return unbroadcast(scale * x1, x1), unbroadcast(scale * x2, x2)


@adjoint(np.logaddexp, kind="binary")
def logaddexp_adjoint(g, ans, x1, x2):
    # exp(x - ans), with ans read as 0 where it is -inf: two -inf operands (x - ans
    # would be nan) get the weight 0, so no nan reaches the cotangents
    top = np.where(ans == -np.inf, 0.0, ans)
    w1 = np.exp(x1 - top)
    w2 = np.exp(x2 - top)
    return unbroadcast(g * w1, x1), unbroadcast(g * w2, x2)


@adjoint(np.logaddexp2, kind="binary")
def logaddexp2_adjoint(g, ans, x1, x2):
    # as logaddexp: ans read as 0 where it is -inf (two -inf operands give no nan)
    top = np.where(ans == -np.inf, 0.0, ans)
    w1 = np.exp2(x1 - top)
    w2 = np.exp2(x2 - top)
    return unbroadcast(g * w1, x1), unbroadcast(g * w2, x2)


# --------------------------------------------------------------------------- runtime helpers


@adjoint(
    power_slope,
    nondiff=("x2",),
    domain=(0.5, 2.0),
    shapes={"scalar": "(3,4),-"},
    params={"x2": [2.0, 3.0]},
    jvp="elementwise",
)
def power_slope_adjoint(g, ans, x1, x2):
    return unbroadcast(g * x2 * power_slope(x1, x2 - 1), x1)


@adjoint(
    split_cotangent,
    nondiff=("x", "result", "other"),
    shapes={"same": "(3,4),(3,4),(3,4),(3,4)"},
    jvp="linear",
)
def split_cotangent_adjoint(g, ans, g1, x, result, other):
    # linear in its cotangent argument g1 (broadcast against the share, which is shaped like
    # result); the share is piecewise constant in the rest
    return unbroadcast(split_cotangent(g, x, result, other), g1)
