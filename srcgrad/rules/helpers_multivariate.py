"""Rules of ``scipy.stats.multivariate_normal.logpdf``'s cotangent helper and of its
pieces: higher-order derivatives through the multivariate normal log-density.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The helper's own first
parameter ``g`` is named ``ct`` here.  With the points as rows ``r = x - mean`` (``N x
d``), ``S`` the inverse of the full covariance ``C``, ``s = r S`` and the weights ``w``
(``ct`` per point), the helper returns ``d_rows = -w s`` (folded to ``x``, and summed,
negated, to ``mean``) and ``d_cov = T(grad)``, ``grad = (s^T W s - sum(w) S) / 2``, where
``T`` (:func:`~srcgrad.runtime.mvn_covariance_cotangent`) is the adjoint of the map ``cov
-> C`` (:func:`~srcgrad.runtime.mvn_full_covariance`): a scalar, a diagonal or the
symmetric matrix of ``cov``'s lower triangle, as scipy reads it.  The rule pairs
``(g_x, g_mean, g_cov)`` with that: ``d_rows`` gets ``t = g_x - g_mean`` (as rows),
``grad`` gets ``C(g_cov)``, and the chain goes back through ``s``, ``S``, ``C`` and ``w``.
The shapes are read through :func:`~srcgrad.runtime.mvn_dimension` and
:func:`~srcgrad.runtime.mvn_rows_shape` (no gradient: ints).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    multivariate_normal_logpdf_cotangents,
    mvn_covariance_cotangent,
    mvn_dimension,
    mvn_full_covariance,
    mvn_rows_shape,
    mT,
    reshape_like,
    unbroadcast,
    zeros_if_none,
)

__all__: list[str] = []

nondifferentiable(
    mvn_dimension, mvn_rows_shape, reason="an int or a shape, read from the operands"
)


def covariance(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A well-conditioned positive-definite matrix, or positive variances."""
    if len(shape) < 2:
        return rng.uniform(0.5, 2.0, size=shape)
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) / shape[-1] + np.eye(shape[-1])


@adjoint(
    mvn_full_covariance,
    nondiff=("d",),
    shapes={"scalar": "s", "vector": "(3,)", "matrix": "(3,3)"},
    params={"d": [3]},
)
def mvn_full_covariance_adjoint(g, ans, cov, d):
    return mvn_covariance_cotangent(g, cov)


@adjoint(
    mvn_covariance_cotangent,
    python_floats=(),
    nondiff=("cov",),
    shape_only=("cov",),
    shapes={"scalar": "(3,3),()", "vector": "(3,3),(3,)", "matrix": "(3,3),(3,3)"},
    view=True,
)
def mvn_covariance_cotangent_adjoint(g, ans, grad, cov):
    # the dimension: grad's side (its rows' width, read by a helper)
    return mvn_full_covariance(g, mvn_rows_shape(grad, 0)[-1])


@adjoint(
    multivariate_normal_logpdf_cotangents,
    python_floats=(),
    multi_output=True,
    optional_operands=("mean", "cov"),
    domain={"cov": covariance},
    shapes={
        "points": "(5,),(5,3),(3,),(3,3)",
        "point": "(),(3,),(3,),(3,3)",
        "diagonal": "(5,),(5,3),(3,),(3,)",
        "scalar": "(5,),(5,3),(3,),()",
        "one-dimensional": "(4,),(4,),(),()",
    },
)
def multivariate_normal_logpdf_cotangents_adjoint(g, ans, ct, x, mean=None, cov=1):
    d = mvn_dimension(x, mean, cov)
    rows = np.reshape(x, mvn_rows_shape(x, d))
    m = np.reshape(zeros_if_none(mean, rows[0]), (-1,))
    n = rows.shape[0]
    r = np.broadcast_to(rows - m, (n, d))
    inv = np.linalg.inv(mvn_full_covariance(cov, d))
    s = np.matmul(r, inv)
    w = np.reshape(np.broadcast_to(ct, (n,)), (-1, 1))
    t = np.broadcast_to(np.reshape(zeros_if_none(g[0], ans[0]), rows.shape), (n, d)) - np.broadcast_to(
        np.reshape(zeros_if_none(g[1], m), (-1,)), (n, d)
    )
    gg = mvn_full_covariance(zeros_if_none(g[2], ans[2]), d)
    sg = np.matmul(s, gg)
    d_s = 0.5 * w * (sg + np.matmul(s, mT(gg))) - w * t
    d_w = 0.5 * np.sum(sg * s, axis=-1, keepdims=True) - np.sum(t * s, axis=-1, keepdims=True)
    d_w = d_w - 0.5 * np.sum(gg * inv)
    d_inv = np.matmul(mT(r), d_s) - 0.5 * np.sum(w) * gg
    d_r = np.matmul(d_s, mT(inv))
    d_c = -np.matmul(np.matmul(mT(inv), d_inv), mT(inv))
    return (
        unbroadcast(np.reshape(d_w, (-1,)), ct),
        reshape_like(unbroadcast(d_r, rows), x),
        unbroadcast(-np.sum(d_r, axis=0), mean),
        mvn_covariance_cotangent(d_c, cov),
    )
