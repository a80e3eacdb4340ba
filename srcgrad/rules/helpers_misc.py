"""Rules of the remaining runtime helpers that emitted code calls: the softmax weights of
``logsumexp``, the extremum's share of a ``max``/``min``, the log of a power's base, the
run-time checks that pass their argument on, and the helpers whose output carries no
gradient (each declared with why).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here; a helper's own ``ans`` is named ``lse``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    copysign_slope,
    extremum_cotangent,
    log_or_zero,
    logsumexp_cotangent,
    reduce_like,
    require_float_dtype,
    require_length,
    require_not_array,
    require_unshared,
    unbroadcast,
)

# --------------------------------------------------------------------------- smooth helpers


@adjoint(
    logsumexp_cotangent,
    shapes={
        "rows": ("(3,),(3,4),(3,)", {"axis": 1}),
        "all": "s,(3,4),s",
        "keep": ("(1,4),(3,4),(1,4)", {"axis": 0, "keepdims": True}),
    },
    accepts={"return_sign": ((False,), "logsumexp(..., return_sign=False)")},
    check={"rtol": 1e-5},
)
def logsumexp_cotangent_adjoint(
    g, ans, ct, a, lse, axis=None, b=None, keepdims=False, return_sign=False
):
    # ans = expand(ct) * b * exp(a - expand(lse)): linear in ct, ans itself in a, -ans in lse
    weights = logsumexp_cotangent(np.ones_like(ct), a, lse, axis, b, keepdims)
    return (
        reduce_like(g * weights, ct, axis, keepdims),
        unbroadcast(g * ans, a),
        -reduce_like(g * ans, lse, axis, keepdims),
    )


def _ties(rng, shape):
    """Entries 1.0 and 2.0, a 2.0 at the start of every row and column (``extremum``: 2.0,
    with ties)."""
    a = np.where(rng.uniform(size=shape) < 0.5, 1.0, 2.0)
    a[..., 0] = 2.0
    a[0] = 2.0
    return a


@adjoint(
    extremum_cotangent,
    nondiff=("a", "extremum"),
    shapes={
        "rows": ("(3,),(3,4),-", {"axis": 1, "extremum": np.full((3, 1), 2.0)}),
        "all": ("s,(3,4),-", {"extremum": 2.0}),
        "keep": (
            "(1,4),(3,4),-",
            {"axis": 0, "keepdims": True, "extremum": np.full((1, 4), 2.0)},
        ),
    },
    domain={"a": _ties},
)
def extremum_cotangent_adjoint(g, ans, ct, a, extremum, axis=None, keepdims=False):
    # which entries share the extremum is constant almost everywhere: linear in ct only
    share = extremum_cotangent(np.ones_like(ct), a, extremum, axis, keepdims)
    return reduce_like(g * share, ct, axis, keepdims)


@adjoint(log_or_zero, shapes={"matrix": "(3,4)", "float": "s"})
def log_or_zero_adjoint(g, ans, x):
    # 1/x where x > 0; 0 where log_or_zero is the constant 0 (real x)
    return unbroadcast(g * (x > 0) / np.where(x > 0, x, 1.0), x)


# --------------------------------------------------------------------------- checks
# a run-time check returns its argument (or raises): the cotangent passes through


@adjoint(
    require_unshared,
    nondiff=("base", "where"),
    shapes={"apart": ("(3,4),(3,4),-", {"where": "f.py:1: x"})},
    view=True,
)
def require_unshared_adjoint(g, ans, view, base, where):
    return g


@adjoint(
    require_not_array,
    nondiff=("where",),
    shapes={"float": ("s,-", {"where": "f.py:1: x"})},
)
def require_not_array_adjoint(g, ans, value, where):
    return g


@adjoint(
    require_length,
    nondiff=("n",),
    shapes={"rows": ("(3,4),-", {"n": 3})},
    view=True,
)
def require_length_adjoint(g, ans, x, n):
    return g


# --------------------------------------------------------------------------- no gradient

nondifferentiable(
    copysign_slope, reason="a product of signs (+1, -1 or 0): piecewise constant"
)
nondifferentiable(require_float_dtype, reason="checks a dtype and returns it")
