"""Helpers of the ``scipy.spatial.distance`` rules (``rules/scipy_spatial.py``): written with
``xp`` operations only, so the backward runs on any device."""

from __future__ import annotations

from typing import Any

from srcgrad.backend import namespace

__all__ = ["cdist_cotangents"]


def cdist_cotangents(
    g: Any, ans: Any, XA: Any, XB: Any, metric: str
) -> tuple[Any, Any]:
    """Cotangents of ``XA`` and ``XB`` for ``D = cdist(XA, XB, metric)`` given ``g = dL/dD``:
    ``"sqeuclidean"`` (2 (a_i - b_j) per pair), ``"euclidean"`` ((a_i - b_j) / D_ij, zero
    where rows coincide) and ``"cityblock"`` (sign(a_i - b_j), zero where coordinates
    coincide).  scipy computes in float64 whatever the inputs; each cotangent has its
    operand's dtype."""
    xp = namespace(g, XA, XB)
    if metric == "cityblock":
        weighted = g[:, :, None] * xp.sign(XA[:, None, :] - XB[None, :, :])
        d_XA, d_XB = xp.sum(weighted, axis=1), -xp.sum(weighted, axis=0)
        return d_XA.astype(XA.dtype, copy=False), d_XB.astype(XB.dtype, copy=False)
    if metric == "sqeuclidean":
        w = 2.0 * g
    else:
        positive = ans > 0
        w = xp.where(positive, g / xp.where(positive, ans, 1.0), 0.0)
    d_XA = xp.sum(w, axis=1)[:, None] * XA - w @ XB
    d_XB = xp.sum(w, axis=0)[:, None] * XB - w.T @ XA
    return d_XA.astype(XA.dtype, copy=False), d_XB.astype(XB.dtype, copy=False)
