"""Rules of the remaining runtime helpers that emitted code calls: the softmax weights of
``logsumexp``, the extremum's share of a ``max``/``min``, the log of a power's base, the
run-time checks that pass their argument on, and the helpers whose output carries no
gradient (each declared with why).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here; a helper's own ``ans`` is named ``lse``.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.elementwise import _away_from_zero
from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    cast_like,
    cdist_cotangents,
    zeros_if_none,
    abs_slope,
    angle_cotangent,
    copysign_slope,
    list_length,
    sign_slope_cotangent,
    stop_gradient,
    extremum_cotangent,
    log_or_zero,
    matrix_norm_cotangent,
    norm_cotangent,
    vector_norm_cotangent,
    logsumexp_cotangent,
    reduce_like,
    require_float_dtype,
    require_length,
    require_not_array,
    prod_others,
    require_nonzero,
    require_real,
    require_unshared,
    sinc_slope,
    unbroadcast,
)

# --------------------------------------------------------------------------- smooth helpers


@adjoint(
    logsumexp_cotangent,
    python_floats=("a",),
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


def _twos(rng, shape):
    """2.0 everywhere (the extremum of ``_ties``)."""
    return np.full(shape, 2.0)


@adjoint(
    extremum_cotangent,
    python_floats=("a", "extremum"),
    nondiff=("a", "extremum"),
    shapes={
        "rows": ("(3,),(3,4),(3,1)", {"axis": 1}),
        "all": "s,(3,4),()",
        "keep": ("(1,4),(3,4),(1,4)", {"axis": 0, "keepdims": True}),
    },
    domain={"a": _ties, "extremum": _twos},
)
def extremum_cotangent_adjoint(g, ans, ct, a, extremum, axis=None, keepdims=False):
    # which entries share the extremum is constant almost everywhere: linear in ct only
    share = extremum_cotangent(np.ones_like(ct), a, extremum, axis, keepdims)
    return reduce_like(g * share, ct, axis, keepdims)


@adjoint(sinc_slope, shapes={"matrix": "(3,4)", "float": "s"})
def sinc_slope_adjoint(g, ans, x):
    # sinc'' = (-pi sin(pi x) - 2 sinc'(x)) / x, -pi^2 / 3 at x = 0 (real x)
    safe = np.where(x == 0, 1.0, x)
    curve = (-np.pi * np.sin(np.pi * safe) - 2 * sinc_slope(safe)) / safe
    return unbroadcast(g * np.where(x == 0, -np.pi**2 / 3, curve), x)


@adjoint(log_or_zero, shapes={"matrix": "(3,4)", "float": "s"})
def log_or_zero_adjoint(g, ans, x):
    # 1/x where x > 0; 0 where log_or_zero is the constant 0 (real x)
    return unbroadcast(g * (x > 0) / np.where(x > 0, x, 1.0), x)


# the 2-norm's cotangent H(ct, x, n) = expand(ct) * x / expand(n) (0 where n is 0), with
# ct, x and the norm n independent operands: H is linear in ct and in x, and H(1, 1, n)
# is 1 / n; other orders are refused (accepts)

_NORM = {
    "all": "(),(3,4),()",
    "rows": ("(3,),(3,4),(3,)", {"axis": 1}),
    "keep": ("(3,1),(3,4),(3,1)", {"axis": 1, "keepdims": True}),
    "float": "s,(4,),s",
}
_TWO_NORM = "a derivative of this order through a norm is written for the 2-norm"


@adjoint(
    norm_cotangent,
    shapes={**_NORM, "fro": ("(),(3,4),()", {"ord": "fro"})},
    domain={"norm": (0.5, 2.0)},
    accepts={"ord": ((None, "fro"), _TWO_NORM + " (ord=None or 'fro')")},
)
def norm_cotangent_adjoint(g, ans, ct, x, norm, ord=None, axis=None, keepdims=False):
    per_ct = norm_cotangent(np.ones_like(ct), x, norm, ord, axis, keepdims)
    per_x = norm_cotangent(ct, np.ones_like(x), norm, ord, axis, keepdims)
    inverse = norm_cotangent(
        np.ones_like(ct), np.ones_like(x), norm, ord, axis, keepdims
    )
    return (
        unbroadcast(reduce_like(g * per_ct, ct, axis, keepdims), ct),
        unbroadcast(g * per_x, x),
        -unbroadcast(reduce_like(g * ans * inverse, norm, axis, keepdims), norm),
    )


@adjoint(
    vector_norm_cotangent,
    shapes=_NORM,
    domain={"norm": (0.5, 2.0)},
    accepts={"ord": ((2,), _TWO_NORM + " (ord=2)")},
)
def vector_norm_cotangent_adjoint(
    g, ans, ct, x, norm, axis=None, keepdims=False, ord=2
):
    per_ct = vector_norm_cotangent(np.ones_like(ct), x, norm, axis, keepdims)
    per_x = vector_norm_cotangent(ct, np.ones_like(x), norm, axis, keepdims)
    inverse = vector_norm_cotangent(
        np.ones_like(ct), np.ones_like(x), norm, axis, keepdims
    )
    return (
        unbroadcast(reduce_like(g * per_ct, ct, axis, keepdims), ct),
        unbroadcast(g * per_x, x),
        -unbroadcast(reduce_like(g * ans * inverse, norm, axis, keepdims), norm),
    )


@adjoint(
    matrix_norm_cotangent,
    shapes={
        "one": "(),(3,4),()",
        "stack": "(2,),(2,3,4),(2,)",
        "keep": ("(2,1,1),(2,3,4),(2,1,1)", {"keepdims": True}),
    },
    domain={"norm": (0.5, 2.0)},
    accepts={"ord": (("fro",), _TWO_NORM + " of the entries (ord='fro')")},
)
def matrix_norm_cotangent_adjoint(g, ans, ct, x, norm, keepdims=False, ord="fro"):
    per_ct = matrix_norm_cotangent(np.ones_like(ct), x, norm, keepdims)
    per_x = matrix_norm_cotangent(ct, np.ones_like(x), norm, keepdims)
    inverse = matrix_norm_cotangent(np.ones_like(ct), np.ones_like(x), norm, keepdims)
    return (
        unbroadcast(reduce_like(g * per_ct, ct, (-2, -1), keepdims), ct),
        unbroadcast(g * per_x, x),
        -unbroadcast(reduce_like(g * ans * inverse, norm, (-2, -1), keepdims), norm),
    )


# --------------------------------------------------------------------------- checks
# a run-time check returns its argument (or raises): the cotangent passes through (the
# helpers' ``where``, the place in the user's source, is ``place`` here)


@adjoint(
    require_unshared,
    nondiff=("base", "place"),
    shapes={"apart": ("(3,4),(3,4),-", {"place": "f.py:1: x"})},
    view=True,
)
def require_unshared_adjoint(g, ans, view, base, place):
    return g


@adjoint(
    require_not_array,
    nondiff=("place",),
    shapes={"float": ("s,-", {"place": "f.py:1: x"})},
)
def require_not_array_adjoint(g, ans, value, place):
    return g


@adjoint(
    require_length,
    nondiff=("n",),
    shapes={"rows": ("(3,4),-", {"n": 3})},
    view=True,
)
def require_length_adjoint(g, ans, x, n):
    return g


@adjoint(
    require_nonzero,
    nondiff=("what",),
    shapes={"matrix": ("(3,4),-", {"what": "f"})},
    domain=(0.5, 2.0),
    view=True,
)
def require_nonzero_adjoint(g, ans, x, what):
    return g


@adjoint(
    require_real,
    nondiff=("what",),
    shapes={"matrix": ("(3,4),-", {"what": "f"})},
    view=True,
)
def require_real_adjoint(g, ans, x, what):
    return g


@adjoint(
    angle_cotangent,
    python_floats=(),
    shapes={"matrix": "(3,4),(3,4)", "float": "s,s"},
    params={"deg": [False, True]},
)
def angle_cotangent_adjoint(g, ans, ct, z, deg=False):
    # zero for a real z (the angle is 0 or pi there, a constant almost everywhere); a
    # complex z is refused
    zero = angle_cotangent(g, require_real(z, "angle"), deg)
    return unbroadcast(zero, ct), zero


# cdist_cotangents(ct, dist, XA, XB) for "sqeuclidean" and "euclidean" is (rowsum(w) XA -
# w XB, colsum(w) XB - w^T XA) with w = 2 ct, or ct / dist (0 where dist is 0, where the
# first order puts 0 too); paired with (h_a, h_b) it is sum_ij w_ij m_ij, m_ij = <h_a_i -
# h_b_j, XA_i - XB_j>, so w gets m, XA and XB get w's products with h_a and h_b.  For
# "cityblock" it is sum_j ct_ij sign(XA_i - XB_j) (and minus that for XB): ct gets
# <h_a_i - h_b_j, sign(XA_i - XB_j)>, the points nothing (the signs are piecewise constant).


@adjoint(
    cdist_cotangents,
    python_floats=(),
    nondiff=("metric",),
    multi_output=True,
    shapes={"points": "(3,4),(3,4),(3,2),(4,2),-"},
    params={"metric": ["sqeuclidean", "euclidean", "cityblock"]},
    domain={"dist": (0.5, 2.0)},
)
def cdist_cotangents_adjoint(g, ans, ct, dist, XA, XB, metric):
    h_a = zeros_if_none(g[0], ans[0])
    h_b = zeros_if_none(g[1], ans[1])
    city = float(metric == "cityblock")
    square = float(metric == "sqeuclidean")
    euclid = 1.0 - city - square
    apart = dist > 0
    inverse = np.where(apart, 1.0 / np.where(apart, dist, 1.0), 0.0)
    w = square * 2.0 * ct + euclid * ct * inverse
    m = (
        np.expand_dims(np.sum(h_a * XA, axis=1), 1)
        - np.matmul(h_a, np.swapaxes(XB, 0, 1))
        - np.matmul(XA, np.swapaxes(h_b, 0, 1))
        + np.expand_dims(np.sum(h_b * XB, axis=1), 0)
    )
    diff = np.expand_dims(h_a, 1) - np.expand_dims(h_b, 0)
    signs = np.sign(np.expand_dims(XA, 1) - np.expand_dims(XB, 0))
    m_city = np.sum(diff * signs, axis=2)
    d_ct = city * m_city + (square * 2.0 + euclid * inverse) * m
    d_xa = np.expand_dims(np.sum(w, axis=1), 1) * h_a - np.matmul(w, h_b)
    d_xb = np.expand_dims(np.sum(w, axis=0), 1) * h_b - np.matmul(
        np.swapaxes(w, 0, 1), h_a
    )
    return (
        cast_like(d_ct, ct),
        cast_like(-euclid * m * ct * inverse * inverse, dist),
        cast_like(d_xa, XA),
        cast_like(d_xb, XB),
    )


# --------------------------------------------------------------------------- no gradient

nondifferentiable(
    copysign_slope, reason="a product of signs (+1, -1 or 0): piecewise constant"
)
nondifferentiable(require_float_dtype, reason="checks a dtype and returns it")
nondifferentiable(list_length, reason="an int: the number of items of a list")
nondifferentiable(
    stop_gradient,
    reason="the identity that marks a constant: no gradient flows through",
)
nondifferentiable(
    sign_slope_cotangent, reason="zeros (the cotangent of a sign), or a refusal"
)


@adjoint(
    prod_others,
    python_floats=(),
    domain=_away_from_zero,
    shapes={"matrix": "(3,4)"},
    params={"axis": [None, 0, -1, (0, 1)]},
)
def prod_others_adjoint(g, ans, a, axis=None):
    # others_i = P / a_i: d others_i / d a_k = P / (a_i a_k) for k != i, so the cotangent
    # of a_k is (sum_i g_i others_i - g_k others_k) / a_k (a with zeros is refused)
    total = np.sum(g * ans, axis=axis, keepdims=True)
    return (total - g * ans) / require_nonzero(a, "prod")


@adjoint(abs_slope, domain=_away_from_zero)
def abs_slope_adjoint(g, ans, x):
    # a sign for real x: zeros; complex x is refused by the helper
    return sign_slope_cotangent(g, x)
