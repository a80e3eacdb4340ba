"""Rules for the runtime helpers that emitted code calls, so that an emitted gradient can be
differentiated again (higher-order derivatives)."""

from srcgrad.backend import namespace
from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    expand_like,
    expand_to,
    split_cotangent,
    extremum_share,
    mT,
    power_slope,
    reduce_like,
    reduction_size,
    scatter_to,
    unbroadcast,
    zeros_cotangent,
)

nondifferentiable(namespace, reduction_size, zeros_cotangent, extremum_share)


@adjoint(
    unbroadcast,
    nondiff=("x",),
    shape_only=("x",),
    shapes={"broadcast": "(3,4),(4,)", "same": "(3,4),(3,4)"},
    view=True,
)
def unbroadcast_adjoint(g, ans, x1, x):
    # the helper's own parameters are (g, x): here x1 is the cotangent being reduced
    return expand_to(g, x1)


@adjoint(
    expand_like,
    nondiff=("x",),
    shape_only=("x",),
    shapes={"all": "(),(3,4)"},
    view=True,
)
def expand_like_adjoint(g, ans, x1, x, axis=None, keepdims=False):
    return reduce_like(g, x1, axis, keepdims)


@adjoint(
    power_slope,
    nondiff=("x2",),
    domain=(0.5, 2.0),
    shapes={"scalar": "(3,4),-"},
    params={"x2": [2.0, 3.0]},
)
def power_slope_adjoint(g, ans, x1, x2):
    return unbroadcast(g * x2 * power_slope(x1, x2 - 1), x1)


@adjoint(mT, shapes={"matrix": "(3,4)"}, view=True)
def mT_adjoint(g, ans, x):
    return mT(g)


@adjoint(
    scatter_to,
    nondiff=("x", "key"),
    shape_only=("x",),
    shapes={"rows": "(2,4),(3,4),-"},
    params={"key": [slice(0, 2)]},
)
def scatter_to_adjoint(g, ans, x1, x, key):
    # the forward assignment broadcasts x1 (a Python float, say) over x[key]
    return unbroadcast(g[key], x1)


@adjoint(
    split_cotangent,
    nondiff=("x", "result", "other"),
    shapes={"same": "(3,4),(3,4),(3,4),(3,4)"},
)
def split_cotangent_adjoint(g, ans, g1, x, result, other):
    # linear in its cotangent argument g1 (broadcast against the share, which is shaped like
    # result); the share is piecewise constant in the rest
    return unbroadcast(split_cotangent(g, x, result, other), g1)
