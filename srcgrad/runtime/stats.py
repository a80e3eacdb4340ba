"""Helpers of the ``scipy.stats`` distribution rules (``rules/stats.py``): the cotangents
of ``multivariate_normal.logpdf``, whose shapes (one point or rows of points; a scalar,
diagonal or full covariance) need branches a rule body may not hold.
"""

from __future__ import annotations

from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import as_array
from srcgrad.runtime.broadcasting import unbroadcast

__all__ = [
    "multivariate_normal_logpdf_cotangents",
    "mvn_covariance_cotangent",
    "mvn_dimension",
    "mvn_full_covariance",
    "mvn_rows_shape",
]

Array = Any


def _dimension(xp: Any, x: Array, mean: Any, cov: Array) -> int:
    """The distribution's dimension, as scipy reads it: from ``mean``, else ``cov``, else 1."""
    if mean is not None and xp.asarray(mean).ndim > 0:
        return int(xp.asarray(mean).shape[0])
    if cov.ndim > 0:
        return int(cov.shape[0])
    return 1


def _points(xp: Any, x: Array, d: int) -> Array:
    """``x`` as rows of points, as scipy reads it: a scalar is one point, a vector is one
    point (or, for ``d = 1``, one point per entry); a last axis of 1 broadcasts."""
    if x.ndim == 0:
        return xp.reshape(x, (1, 1))
    if x.ndim == 1:
        return xp.reshape(x, (-1, 1) if d == 1 else (1, -1))
    return xp.reshape(x, (-1, x.shape[-1]))


def _full_covariance(xp: Any, cov: Array, d: int) -> Array:
    """The ``d x d`` matrix scipy uses: ``cov * I`` for a scalar, ``diag(cov)`` for a vector,
    else the symmetric matrix of ``cov``'s lower triangle (the one LAPACK's ``eigh`` reads).
    """
    eye = xp.eye(d, dtype=cov.dtype if cov.dtype.kind == "f" else None)
    if cov.ndim == 0:
        return cov * eye
    if cov.ndim == 1:
        return cov * eye
    return xp.tril(cov) + xp.tril(cov, -1).T


def _covariance_cotangent(xp: Any, grad: Array, cov: Array) -> Array:
    """The cotangent of ``cov`` from ``grad``, the gradient for symmetric perturbations of
    the full matrix: its trace (scalar), its diagonal (vector), or the lower triangle with
    doubled off-diagonal entries (matrix: the upper triangle is never read)."""
    if cov.ndim == 0:
        return xp.sum(xp.diagonal(grad))
    if cov.ndim == 1:
        return xp.diagonal(grad)
    return xp.tril(grad + grad.T, -1) + xp.diag(xp.diagonal(grad))


def multivariate_normal_logpdf_cotangents(
    g: Array, x: Any, mean: Any = None, cov: Any = 1
) -> tuple[Array, Array | None, Array]:
    """Cotangents of ``scipy.stats.multivariate_normal.logpdf(x, mean, cov)``.

    With ``r = x - mean`` per point and ``S = cov^{-1}``: ``d/dx = -S r``, ``d/dmean = S r``
    and ``d/dcov = (S r r^T S - S) / 2`` (summed over points, weighted by ``g``).

    Args:
        g: the cotangent of the log-density (one value, or one per point).
        x: one point (``(d,)``) or points (``(..., d)``); for ``d = 1`` also ``(n,)``.
        mean: the mean (``(d,)`` or a scalar), or ``None`` for zeros.
        cov: the covariance: a scalar, a vector (diagonal) or a ``(d, d)`` matrix.

    Returns:
        ``(d_x, d_mean, d_cov)``, each shaped and typed like its operand (``d_mean`` is
        ``None`` when ``mean`` is).
    """
    xp = namespace(g, x, mean, cov)
    xa = xp.asarray(x)
    c = xp.asarray(cov)
    d = _dimension(xp, xa, mean, c)
    rows = _points(xp, xa, d)
    m = 0 if mean is None else xp.reshape(xp.asarray(mean), (-1,))
    r = xp.broadcast_to(rows - m, (rows.shape[0], d))
    inv = xp.linalg.inv(_full_covariance(xp, c, d))
    s = r @ inv
    weights = xp.reshape(xp.broadcast_to(xp.asarray(g), (rows.shape[0],)), (-1, 1))
    d_rows = -weights * s
    d_x = unbroadcast(xp.reshape(unbroadcast(d_rows, rows), xa.shape), x)
    d_mean = None if mean is None else unbroadcast(-xp.sum(d_rows, axis=0), mean)
    grad = 0.5 * (s.T @ (weights * s) - xp.sum(weights) * inv)
    d_cov = unbroadcast(_covariance_cotangent(xp, grad, c), cov)
    return d_x, d_mean, d_cov


# --------------------------------------------------------------------------- the pieces
# what the rule of multivariate_normal_logpdf_cotangents (a higher order) reads of the
# shapes, and the covariance as a full matrix and back (each other's adjoints)


def mvn_dimension(x: Any, mean: Any, cov: Any) -> int:
    """The distribution's dimension, as scipy reads it (an int)."""
    xp = namespace(x, mean, cov)
    return _dimension(xp, xp.asarray(x), mean, as_array(cov))


def mvn_rows_shape(x: Any, d: int) -> tuple[int, int]:
    """The shape that makes rows of points of ``x`` (a last axis of 1 broadcasts later)."""
    nd = len(getattr(x, "shape", ()))
    if nd == 0:
        return (1, 1)
    if nd == 1:
        return (-1, 1) if d == 1 else (1, -1)
    return (-1, x.shape[-1])


def mvn_full_covariance(cov: Any, d: int) -> Array:
    """The ``d x d`` matrix scipy uses for ``cov`` (linear in ``cov``)."""
    c = as_array(cov)
    return _full_covariance(namespace(c), c, d)


def mvn_covariance_cotangent(grad: Array, cov: Any) -> Array:
    """The cotangent of ``cov`` from ``grad``, that of :func:`mvn_full_covariance`'s
    matrix (its adjoint), shaped and typed like ``cov``."""
    c = as_array(cov, grad)
    return unbroadcast(_covariance_cotangent(namespace(grad), grad, c), cov)
