"""Adjoint rules for ``scipy.stats`` distributions (only when scipy is installed).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The primitives are methods
bound to scipy's distribution objects (``scipy.stats.norm.logpdf``); the registry keys a
bound method by its object and function, so ``norm.logpdf`` read anywhere finds its rule.
``loc`` and ``scale`` are differentiated when a call passes them (``optional_operands``):

* ``norm``: ``logpdf``, ``pdf``, ``cdf``, ``logcdf`` in ``x``, ``loc``, ``scale``;
* ``t.logpdf`` in ``x``, ``df``, ``loc``, ``scale``;
* ``beta.logpdf`` and ``gamma.logpdf`` in ``x``, the shapes, ``loc``, ``scale``;
* ``poisson.logpmf`` in ``mu`` (the count ``k`` is data);
* ``multivariate_normal.logpdf`` in ``x``, ``mean``, ``cov`` (through
  :func:`srcgrad.runtime.multivariate_normal_logpdf_cotangents`).

``digamma`` comes from :mod:`srcgrad.runtime` (scipy's on numpy, a series elsewhere), so the
rule bodies stay device-agnostic.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import digamma, multivariate_normal_logpdf_cotangents, unbroadcast
from srcgrad.runtime import stats as _mvn

try:
    import scipy.stats as _stats
except ImportError:  # scipy is optional: without it this module registers nothing
    _stats = None

__all__: list[str] = []

_LOCATION_SCALE = {
    "same": "(3,4),(3,4),(3,4)",
    "broadcast": "(3,4),(4,),(3,1)",
    "float": "(3,4),s,s",
}


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform in (0.5, 2)."""
    return rng.uniform(0.5, 2.0, size=shape)


def _counts(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Poisson counts 0..6."""
    return rng.integers(0, 7, size=shape)


def _covariance(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A well-conditioned positive-definite matrix, or positive variances.

    A vector or a scalar is a diagonal covariance: positive entries.
    """
    if len(shape) < 2:
        return rng.uniform(0.5, 2.0, size=shape)
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) / shape[-1] + np.eye(shape[-1])


if _stats is not None:
    _norm, _t = _stats.norm, _stats.t

    # ----------------------------------------------------------------------- norm

    @adjoint(
        _norm.logpdf,
        name="stats.norm.logpdf",
        optional_operands=("loc", "scale"),
        shapes=_LOCATION_SCALE,
        domain={"scale": _positive},
        jvp="elementwise",
    )
    def norm_logpdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        d_x = g * z / scale
        return (
            unbroadcast(-d_x, x),
            unbroadcast(d_x, loc),
            unbroadcast(g * (z * z - 1) / scale, scale),
        )

    @adjoint(
        _norm.pdf,
        name="stats.norm.pdf",
        optional_operands=("loc", "scale"),
        shapes=_LOCATION_SCALE,
        domain={"scale": _positive},
        jvp="elementwise",
    )
    def norm_pdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        d_x = g * ans * z / scale
        return (
            unbroadcast(-d_x, x),
            unbroadcast(d_x, loc),
            unbroadcast(g * ans * (z * z - 1) / scale, scale),
        )

    @adjoint(
        _norm.cdf,
        name="stats.norm.cdf",
        optional_operands=("loc", "scale"),
        shapes=_LOCATION_SCALE,
        domain={"scale": _positive},
        jvp="elementwise",
    )
    def norm_cdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        d_x = g * 0.3989422804014327 * np.exp(-0.5 * z * z) / scale  # 1 / sqrt(2 pi)
        return unbroadcast(d_x, x), unbroadcast(-d_x, loc), unbroadcast(-d_x * z, scale)

    @adjoint(
        _norm.logcdf,
        name="stats.norm.logcdf",
        optional_operands=("loc", "scale"),
        shapes=_LOCATION_SCALE,
        domain={"scale": _positive},
        jvp="elementwise",
    )
    def norm_logcdf_adjoint(g, ans, x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        d_x = g * 0.3989422804014327 * np.exp(-0.5 * z * z - ans) / scale
        return unbroadcast(d_x, x), unbroadcast(-d_x, loc), unbroadcast(-d_x * z, scale)

    # ----------------------------------------------------------------------- t

    @adjoint(
        _t.logpdf,
        name="stats.t.logpdf",
        optional_operands=("loc", "scale"),
        shapes={
            "same": "(3,4),(3,4),(3,4),(3,4)",
            "broadcast": "(3,4),(4,),(3,1),()",
            "float": "(3,4),s,s,s",
        },
        domain={"df": (1.0, 6.0), "scale": _positive},
        jvp="elementwise",
    )
    def t_logpdf_adjoint(g, ans, x, df, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        q = df + z * z
        d_z = -(df + 1) * z / q
        d_df = 0.5 * (
            digamma((df + 1) / 2) - digamma(df / 2) - 1 / df - np.log(q / df)
        ) + 0.5 * (df + 1) * z * z / (df * q)
        return (
            unbroadcast(g * d_z / scale, x),
            unbroadcast(g * d_df, df),
            unbroadcast(-g * d_z / scale, loc),
            unbroadcast(-g * (1 + z * d_z) / scale, scale),
        )

    # ----------------------------------------------------------------------- beta, gamma

    @adjoint(
        _stats.beta.logpdf,
        name="stats.beta.logpdf",
        optional_operands=("loc", "scale"),
        shapes={
            "same": "(3,4),(3,4),(3,4),(3,4),(3,4)",
            "broadcast": "(3,4),(4,),(3,1),(),s",
        },
        domain={
            "x": (0.3, 0.7),
            "a": (0.5, 3.0),
            "b": (0.5, 3.0),
            "loc": (-0.2, 0.1),
            "scale": (1.0, 1.2),
        },
        jvp="elementwise",
    )
    def beta_logpdf_adjoint(g, ans, x, a, b, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        d_y = (a - 1) / y - (b - 1) / (1 - y)
        both = digamma(a + b)
        return (
            unbroadcast(g * d_y / scale, x),
            unbroadcast(g * (np.log(y) - digamma(a) + both), a),
            unbroadcast(g * (np.log1p(-y) - digamma(b) + both), b),
            unbroadcast(-g * d_y / scale, loc),
            unbroadcast(-g * (1 + y * d_y) / scale, scale),
        )

    @adjoint(
        _stats.gamma.logpdf,
        name="stats.gamma.logpdf",
        optional_operands=("loc", "scale"),
        shapes={
            "same": "(3,4),(3,4),(3,4),(3,4)",
            "broadcast": "(3,4),(4,),(3,1),s",
        },
        domain={
            "x": (1.0, 3.0),
            "a": (0.5, 3.0),
            "loc": (-0.5, 0.5),
            "scale": _positive,
        },
        jvp="elementwise",
    )
    def gamma_logpdf_adjoint(g, ans, x, a, loc=0.0, scale=1.0):
        y = (x - loc) / scale
        d_y = (a - 1) / y - 1
        return (
            unbroadcast(g * d_y / scale, x),
            unbroadcast(g * (np.log(y) - digamma(a)), a),
            unbroadcast(-g * d_y / scale, loc),
            unbroadcast(-g * (1 + y * d_y) / scale, scale),
        )

    # ----------------------------------------------------------------------- poisson

    @adjoint(
        _stats.poisson.logpmf,
        name="stats.poisson.logpmf",
        nondiff=("k",),
        shapes={"same": "(3,4),(3,4)", "broadcast": "(3,4),(4,)", "float": "(3,4),s"},
        domain={"k": _counts, "mu": _positive},
        jvp="elementwise",
    )
    def poisson_logpmf_adjoint(g, ans, k, mu, loc=0):
        return unbroadcast(g * (k / mu - 1), mu)

    # ----------------------------------------------------------------------- multivariate

    @adjoint(
        _stats.multivariate_normal.logpdf,
        name="stats.multivariate_normal.logpdf",
        optional_operands=("mean", "cov"),
        shapes={
            "points": "(5,3),(3,),(3,3)",
            "point": "(3,),(3,),(3,3)",
            "diagonal": "(5,3),(3,),(3,)",
            "scalar": "(5,3),(3,),s",
        },
        domain={"cov": _covariance},
    )
    def multivariate_normal_logpdf_adjoint(
        g, ans, x, mean=None, cov=1, allow_singular=False
    ):
        return multivariate_normal_logpdf_cotangents(g, x, mean, cov)

    @jvp_of(multivariate_normal_logpdf_adjoint)
    def multivariate_normal_logpdf_jvp(ans, dots, b):
        # per point, with r = x - mean and S = cov^-1: -r^T S (t_x - t_mean)
        # - tr(S t_cov) / 2 + r^T S t_cov S r / 2 (t_cov as scipy reads cov)
        t_x, t_mean, t_cov = dots
        x, mean = np.asarray(b["x"]), b.get("mean")
        cov = np.asarray(b.get("cov", 1.0), dtype=float)
        d = _mvn._dimension(np, x, mean, cov)
        rows = _mvn._points(np, x, d)
        m = 0.0 if mean is None else np.reshape(np.asarray(mean), (-1,))
        r = np.broadcast_to(rows - m, (rows.shape[0], d))
        inv = np.linalg.inv(_mvn._full_covariance(np, cov, d))
        s = r @ inv
        moved = np.zeros(r.shape)
        if t_x is not None:
            moved = moved + _mvn._points(np, np.asarray(t_x, dtype=float), d)
        if t_mean is not None:
            moved = moved - np.reshape(np.asarray(t_mean), (-1,))
        out = -np.sum(s * moved, axis=-1)
        if t_cov is not None:
            tc = _mvn._full_covariance(np, np.asarray(t_cov, dtype=float), d)
            out = out - 0.5 * np.trace(inv @ tc) + 0.5 * np.sum((s @ tc) * s, axis=-1)
        return out.reshape(np.shape(ans))
