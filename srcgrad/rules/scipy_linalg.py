"""Adjoint rules for ``scipy.linalg`` (only when scipy is installed: it is optional).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The functions Gaussian-process,
Kalman-filter and Bayesian code calls: ``cholesky`` (the upper factor by default),
``cho_factor`` and ``cho_solve``, ``solve_triangular``, ``solve`` (with ``assume_a``),
``inv``, ``det`` and ``expm``.  Conventions:

* Real matrices; scipy's batch dimensions (``(..., n, n)``) are supported, and a 1-d
  right-hand side is one vector, as scipy reads it.
* A function that reads part of its operand (one triangle for ``cholesky``,
  ``solve_triangular`` and the symmetric ``assume_a`` structures; the diagonal or the band
  for ``'diagonal'`` / ``'tridiagonal'``) puts the cotangent on that part: it is the
  derivative of exactly what scipy computes, also for non-symmetric perturbations.
* ``cho_factor`` returns ``(c, lower)``: a multi-output primitive whose flag has no
  cotangent.  ``c``'s other triangle holds ``a``'s own entries (scipy's "random data"), and
  its cotangent goes back to them; ``cho_solve((c, lower), b)`` takes the pair as a sequence
  operand and reads the factor's triangle of ``c`` only.
* Refused at the user's line (``accepts``): ``overwrite_a=True`` / ``overwrite_b=True``
  (scipy may write the result over an operand the backward pass reads) and
  ``assume_a='banded'``.

The cotangents' helpers (:mod:`srcgrad.runtime.scipy_linalg`) use ``xp.linalg.solve`` and
``xp`` operations only, so the backward runs on any device; the forward is the user's scipy
call, on numpy arrays.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import cholesky_jvp, positive_definite, well_conditioned
from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.rules.tangent_calls import zero_tangent
from srcgrad.runtime import (
    cho_factor_cotangent,
    cho_solve_cotangent_b,
    cho_solve_cotangent_c,
    det_cotangent,
    expm_cotangent,
    mT,
    scipy_cholesky_cotangent,
    scipy_inv_cotangent,
    scipy_solve_cotangent_a,
    scipy_solve_cotangent_b,
    solve_triangular_cotangent_a,
    solve_triangular_cotangent_b,
)
from srcgrad.runtime import scipy_linalg as _scipy_rt

try:
    import scipy.linalg as _linalg
except ImportError:  # scipy is optional: without it this module registers nothing
    _linalg = None

__all__: list[str] = []

_KEEP_A = {
    "overwrite_a": ((False,), "leave overwrite_a out (the backward pass reads a)")
}
_KEEP_B = {
    "overwrite_b": ((False,), "leave overwrite_b out (the backward pass reads b)")
}
_STRUCTURES = (
    None,
    "general",
    "gen",
    "symmetric",
    "sym",
    "hermitian",
    "her",
    "positive definite",
    "pos",
    "diagonal",
    "tridiagonal",
    "upper triangular",
    "lower triangular",
)
_ASSUME_A = {
    "assume_a": (
        _STRUCTURES,
        "leave assume_a out (scipy then picks the solver, and the gradient is the "
        "general one)",
    )
}

# scipy's inv(a, assume_a="diagonal") returns a's off-diagonal entries as they are
_INV_ASSUME_A = {
    "assume_a": (
        tuple(s for s in _STRUCTURES if s != "diagonal"),
        "leave assume_a out, or for a diagonal matrix write np.diag(1 / np.diagonal(a)) "
        "(scipy.linalg.inv's assume_a='diagonal' keeps a's off-diagonal entries)",
    )
}


def factor_and_flag(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``cho_solve``'s pair: a matrix both of whose triangles are well-conditioned factors
    (``N(0, 1) + n I``), and for a 0-d entry the flag ``lower=True``."""
    if not shape:
        return np.asarray(True)
    return well_conditioned(rng, shape)


def _expm_domain(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Matrices ``N(0, 1) / 2``; a ``(4, 4)`` one is scaled by 3 (scaling and squaring)."""
    scale = 1.5 if shape[-1] == 4 else 0.5  # (4, 4): the adjoint's block needs squaring
    return scale * rng.standard_normal(shape)


if _linalg is not None:

    # ----------------------------------------------------------------------- Cholesky

    @adjoint(
        _linalg.cholesky,
        name="scipy.linalg.cholesky",
        domain=positive_definite,
        shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
        params={"lower": [False, True]},
        accepts=_KEEP_A,
    )
    def scipy_cholesky_adjoint(
        g, ans, a, lower=False, overwrite_a=False, check_finite=True
    ):
        return scipy_cholesky_cotangent(g, ans, a, lower)

    @jvp_of(scipy_cholesky_adjoint)
    def scipy_cholesky_jvp(ans, dots, b):
        # as numpy's (the upper factor reads a's upper triangle)
        return cholesky_jvp(ans, dots, {"upper": not b.get("lower", False)})

    @adjoint(
        _linalg.cho_factor,
        name="scipy.linalg.cho_factor",
        multi_output=True,
        domain=positive_definite,
        shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
        params={"lower": [False, True]},
        accepts=_KEEP_A,
    )
    def cho_factor_adjoint(
        g, ans, a, lower=False, overwrite_a=False, check_finite=True
    ):
        return cho_factor_cotangent(g, ans, a, lower)

    @jvp_of(cho_factor_adjoint)
    def cho_factor_jvp(ans, dots, b):
        # the factor's triangle moves as cholesky's; the other triangle holds a's own
        # entries; the flag is a constant
        c, flag = ans
        lower = bool(b.get("lower", False))
        t = np.asarray(dots[0])
        factor = np.tril(c) if lower else np.triu(c)
        moved = cholesky_jvp(factor, (t,), {"upper": not lower})
        rest = np.triu(t, 1) if lower else np.tril(t, -1)
        return [moved + rest, zero_tangent(flag)]

    @adjoint(
        _linalg.cho_solve,
        name="scipy.linalg.cho_solve",
        sequence=("c_and_lower",),
        domain={"c_and_lower": factor_and_flag},
        shapes={
            "vector": "[(3,3),()],(3,)",
            "matrix": "[(3,3),()],(3,2)",
            "batch": "[(2,3,3),()],(2,3,2)",
            "broadcast-b": "[(3,3),()],(2,3,2)",
        },
        accepts=_KEEP_B,
    )
    def cho_solve_adjoint(g, ans, c_and_lower, b, overwrite_b=False, check_finite=True):
        return cho_solve_cotangent_c(g, ans, c_and_lower, b), cho_solve_cotangent_b(
            g, c_and_lower, b
        )

    @jvp_of(cho_solve_adjoint)
    def cho_solve_jvp(ans, dots, b):
        # x = (F F^T)^-1 b with F the factor's triangle (F^T F for an upper one):
        # t_x = cho_solve(t_b - t_A x), t_A = t_F F^T + F t_F^T
        (c, lower), rhs = b["c_and_lower"], b["b"]
        t_pair, t_b = dots
        moved = np.zeros(np.shape(ans)) if t_b is None else np.asarray(t_b) + 0.0
        t_c = None if t_pair is None else t_pair[0]
        if t_c is not None:
            f = np.tril(c) if lower else mT(np.triu(c))
            t_f = np.tril(t_c) if lower else mT(np.triu(t_c))
            t_a = t_f @ mT(f) + f @ mT(t_f)
            x = ans[..., None] if np.ndim(rhs) == 1 else ans
            t_ax = t_a @ x
            moved = moved - (t_ax[..., 0] if np.ndim(rhs) == 1 else t_ax)
        return _linalg.cho_solve((c, lower), moved)

    # ----------------------------------------------------------------------- solves

    @adjoint(
        _linalg.solve_triangular,
        name="scipy.linalg.solve_triangular",
        domain={"a": well_conditioned},
        shapes={
            "vector": "(3,3),(3,)",
            "matrix": "(3,3),(3,2)",
            "batch": "(2,3,3),(2,3,2)",
        },
        params={
            "lower": [False, True],
            "trans": [0, "T", 2],
            "unit_diagonal": [False, True],
        },
        accepts=_KEEP_B,
    )
    def solve_triangular_adjoint(
        g,
        ans,
        a,
        b,
        trans=0,
        lower=False,
        unit_diagonal=False,
        overwrite_b=False,
        check_finite=True,
    ):
        return solve_triangular_cotangent_a(
            g, ans, a, b, trans, lower, unit_diagonal
        ), solve_triangular_cotangent_b(g, ans, a, b, trans, lower, unit_diagonal)

    @jvp_of(solve_triangular_adjoint)
    def solve_triangular_jvp(ans, dots, b):
        # op(T) x = b: op(T) t_x = t_b - op(t_T) x, t_T the triangle read (no unit diagonal)
        t_a, t_b = dots
        flags = {k: b[k] for k in ("trans", "lower", "unit_diagonal") if k in b}
        lower = bool(b.get("lower", False))
        moved = np.zeros(np.shape(ans)) if t_b is None else np.asarray(t_b) + 0.0
        if t_a is not None:
            k = -1 if b.get("unit_diagonal") else 0
            t_t = np.tril(t_a, k) if lower else np.triu(t_a, -k)
            if _scipy_rt._trans_flag(b.get("trans", 0)):
                t_t = mT(t_t)
            moved = moved - _apply(t_t, ans)
        return _linalg.solve_triangular(b["a"], moved, **flags)

    def _apply(m, x):
        """``m @ x`` with a 1-d ``x`` one column (scipy's rule)."""
        return (m @ x[..., None])[..., 0] if np.ndim(x) == 1 else m @ x

    @adjoint(
        _linalg.solve,
        name="scipy.linalg.solve",
        domain={"a": positive_definite},
        shapes={
            "vector": "(3,3),(3,)",
            "matrix": "(3,3),(3,2)",
            "batch": "(2,3,3),(2,3,2)",
            "broadcast-a": "(3,3),(2,3,2)",
        },
        params=[
            {"assume_a": [None, "sym", "pos", "diagonal", "tridiagonal"]},
            {"assume_a": ["upper triangular", "lower triangular"]},
            {"assume_a": ["symmetric", "positive definite"], "lower": [True]},
            {"transposed": [True]},
        ],
        accepts={**_KEEP_A, **_KEEP_B, **_ASSUME_A},
    )
    def scipy_solve_adjoint(
        g,
        ans,
        a,
        b,
        lower=False,
        overwrite_a=False,
        overwrite_b=False,
        check_finite=True,
        assume_a=None,
        transposed=False,
    ):
        return scipy_solve_cotangent_a(
            g, ans, a, b, lower, assume_a, transposed
        ), scipy_solve_cotangent_b(g, ans, a, b, lower, assume_a, transposed)

    @jvp_of(scipy_solve_adjoint)
    def scipy_solve_jvp(ans, dots, b):
        # M x = b with M the matrix scipy reads for assume_a (transposed: M^T):
        # t_x = solve(t_b - t_M x), t_M read from t_a the same way
        t_a, t_b = dots
        flags = {k: b[k] for k in ("lower", "assume_a", "transposed") if k in b}
        moved = np.zeros(np.shape(ans)) if t_b is None else np.asarray(t_b) + 0.0
        if t_a is not None:
            t_m = _scipy_rt._read_matrix(
                np, np.asarray(t_a), b.get("assume_a"), bool(b.get("lower", False))
            )
            moved = moved - _apply(mT(t_m) if b.get("transposed") else t_m, ans)
        return _linalg.solve(b["a"], moved, **flags)

    # ----------------------------------------------------------------------- inv, det, expm

    @adjoint(
        _linalg.inv,
        name="scipy.linalg.inv",
        domain=positive_definite,
        shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
        params=[
            {"assume_a": [None, "sym", "pos", "upper triangular"]},
            {"assume_a": ["sym", "pos", "lower triangular"], "lower": [True]},
        ],
        accepts={**_KEEP_A, **_INV_ASSUME_A},
    )
    def scipy_inv_adjoint(
        g, ans, a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False
    ):
        return scipy_inv_cotangent(g, ans, a, assume_a, lower)

    @jvp_of(scipy_inv_adjoint)
    def scipy_inv_jvp(ans, dots, b):
        # -X t_M X, t_M read from the tangent as scipy reads a for assume_a
        lower = bool(b.get("lower", False))
        t_m = _scipy_rt._read_matrix(np, np.asarray(dots[0]), b.get("assume_a"), lower)
        return -(ans @ t_m @ ans)

    @adjoint(
        _linalg.det,
        name="scipy.linalg.det",
        domain=well_conditioned,
        shapes={"matrix": "(3,3)", "batch": "(2,3,3)", "one": "(1,1)"},
        accepts=_KEEP_A,
        jvp="reduction",
    )
    def scipy_det_adjoint(g, ans, a, overwrite_a=False, check_finite=True):
        return det_cotangent(g, ans, a)

    @adjoint(
        _linalg.expm,
        name="scipy.linalg.expm",
        domain=_expm_domain,
        shapes={"matrix": "(3,3)", "batch": "(2,3,3)", "large": "(4,4)"},
    )
    def expm_adjoint(g, ans, A):
        return expm_cotangent(g, A)

    @jvp_of(expm_adjoint)
    def expm_jvp(ans, dots, b):
        # expm([[A, T], [0, A]]) holds the Frechet derivative L(A, T) in its upper right
        a = np.asarray(b["A"], dtype=float)
        n = a.shape[-1]
        block = np.zeros(a.shape[:-2] + (2 * n, 2 * n))
        block[..., :n, :n] = block[..., n:, n:] = a
        block[..., :n, n:] = dots[0]
        return _linalg.expm(block)[..., :n, n:]
