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

from srcgrad.rules.linalg import positive_definite, well_conditioned
from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    cho_factor_cotangent,
    cho_solve_cotangent_b,
    cho_solve_cotangent_c,
    det_cotangent,
    expm_cotangent,
    scipy_cholesky_cotangent,
    scipy_inv_cotangent,
    scipy_solve_cotangent_a,
    scipy_solve_cotangent_b,
    solve_triangular_cotangent_a,
    solve_triangular_cotangent_b,
)

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
