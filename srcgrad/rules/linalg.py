"""Adjoint rules for ``numpy.linalg``; its products (``linalg.matmul``, ``linalg.vecdot``, ...)
are in ``products.py``.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Conventions in this module:

* Decompositions with several outputs (``slogdet``, ``eigh``, ``eig``, ``svd``, ``qr``,
  ``lstsq``) are ``multi_output``: ``g`` holds one cotangent per output, ``None`` for an
  output that is not used.
* Functions that read one triangle of their operand (``cholesky``, ``eigh``,
  ``eigvalsh``, ``svd``/``pinv`` with ``hermitian=True``) put the cotangent on that triangle:
  it is the derivative of exactly what numpy computes, also for non-symmetric perturbations.
* Restricted domains are declared and tested inside them: positive-definite matrices for
  ``cholesky``, distinct eigenvalues for ``eigh``/``eig``, distinct nonzero singular values
  for ``svd``, full rank for ``pinv``/``lstsq``, invertible matrices for ``inv``/``solve``.
  ``det`` is exact at singular matrices too (adjugate through the SVD).
* ``eig``'s eigenvector cotangent is projected onto LAPACK's normalisation (unit norm,
  largest component real), so it is the derivative of the vectors numpy returns.
* Real matrices unless stated: ``inv``, ``det``, ``slogdet``, ``solve``, ``eig`` and
  ``eigvals`` also take complex ones (autograd's convention, see ``special.py``).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of, numpy_at_least, numpy_function
from srcgrad.rules.tangent_calls import zero_tangent
from srcgrad.runtime import (
    cholesky_cotangent,
    cond_cotangent,
    det_cotangent,
    diagonal_cotangent,
    eig_cotangent,
    eigh_cotangent,
    eigvals_cotangent,
    eigvalsh_cotangent,
    lstsq_cotangent_a,
    lstsq_cotangent_b,
    matrix_norm_cotangent,
    matrix_power_cotangent,
    mT,
    norm_cotangent,
    pinv_cotangent,
    qr_cotangent,
    slogdet_cotangent,
    solve_cotangent_a,
    solve_cotangent_b,
    svd_cotangent,
    svdvals_cotangent,
    tensorinv_cotangent,
    tensorsolve_cotangent_a,
    tensorsolve_cotangent_b,
    trace_cotangent,
    vector_norm_cotangent,
)

# --------------------------------------------------------------------------- test domains


def well_conditioned(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random square matrices pushed away from singularity (``N(0, 1) + n I``)."""
    n = shape[-1]
    return rng.standard_normal(shape) + n * np.eye(n)


def positive_definite(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Symmetric positive-definite matrices ``B B^T + n I``."""
    n = shape[-1]
    b = rng.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def distinct_eigenvalues(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """Symmetric matrices ``Q diag(w) Q^T`` with eigenvalues at least 1 apart (distinct |w|)."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    w = 1.0 + 1.5 * np.arange(n) + rng.uniform(0, 0.3, size=shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def distinct_singular_values(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """Matrices ``U diag(s) V^T`` with singular values at least 1 apart."""
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    s = 1.0 + 1.5 * np.arange(k)[::-1] + rng.uniform(0, 0.3, size=shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def square_tensor(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A tensor whose square-matrix reshape is well conditioned (tensorinv, tensorsolve)."""
    total = int(np.prod(shape))
    n = round(total**0.5)
    return well_conditioned(rng, (n, n)).reshape(shape)


def _maybe_singular(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random matrices; 4 x 4 ones have rank 3 (``det`` is exact at singular matrices)."""
    if shape[-1] == 4:
        return rng.standard_normal(shape[:-1] + (3,)) @ rng.standard_normal(
            shape[:-2] + (3, 4)
        )
    return rng.standard_normal(shape)


def _full_rank(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Square: well conditioned (also its symmetric part); else distinct singular values."""
    if shape[-1] == shape[-2]:
        return well_conditioned(rng, shape)
    return distinct_singular_values(rng, shape)


def _norm_domain(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Vectors away from 0; matrices with distinct singular values."""
    if len(shape) < 2:
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    return distinct_singular_values(rng, shape)


# --------------------------------------------------------------------------- norm test cases


_VECTOR_ORDS = [None, 1, 0, -1.5]
_MATRIX_ORDS = [None, "nuc", 1, -1, 2, -2]
_NORM_CASES = (
    [("(5,)", {"ord": o}) for o in _VECTOR_ORDS]
    + [("(3,4)", {"ord": o}) for o in _MATRIX_ORDS]
    + [
        ("(2,3,4)", {"ord": 0.5, "axis": 1}),
        ("(2,3,4)", {"ord": "nuc", "axis": (2, 0)}),
        ("(2,3,4)", {"ord": 1, "axis": (0, 2), "keepdims": True}),
        ("(2,3,4)", {"ord": -2, "axis": (1, 2)}),
        ("(2,3,4)", {"keepdims": True}),
    ]
)


# --------------------------------------------------------------------------- inverses


@adjoint(
    np.linalg.inv,
    domain=well_conditioned,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
)
def inv_adjoint(g, ans, a):
    return -(mT(ans) @ g @ mT(ans))


@jvp_of(inv_adjoint)
def inv_jvp(ans, dots, b):
    return -(ans @ dots[0] @ ans)


@adjoint(
    np.linalg.pinv,
    domain=_full_rank,
    shapes={
        "tall": "(4,3)",
        "wide": "(3,4)",
        "square": "(3,3)",
        "batch": "(2,4,3)",
        "hermitian": ("(3,3)", {"hermitian": True}),
    },
)
def pinv_adjoint(g, ans, a, rcond=None, hermitian=False, *, rtol=None):
    return pinv_cotangent(g, ans, a, hermitian)


@adjoint(
    np.linalg.det,
    domain=_maybe_singular,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)", "one": "(1,1)", "singular": "(4,4)"},
    jvp="reduction",
)
def det_adjoint(g, ans, a):
    return det_cotangent(g, ans, a)


@adjoint(
    np.linalg.slogdet,
    multi_output=True,
    domain=well_conditioned,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
)
def slogdet_adjoint(g, ans, a):
    return slogdet_cotangent(g, ans, a)


@jvp_of(slogdet_adjoint)
def slogdet_jvp(ans, dots, b):
    sign, logdet = ans
    inv = np.linalg.inv(b["a"])
    return [zero_tangent(sign), np.einsum("...ij,...ji->...", inv, dots[0])]


@adjoint(
    np.linalg.solve,
    domain={"a": well_conditioned},
    shapes={
        "matrix": "(3,3),(3,2)",
        "vector": "(3,3),(3,)",
        "batch": "(2,3,3),(2,3,1)",
        "broadcast-a": "(3,3),(2,3,2)",
        # numpy 2 reads a 1-d b as one vector for every matrix of a batch; 1.26 refuses it
        **({"batch-vector": "(2,3,3),(3,)"} if numpy_at_least("2.0.0") else {}),
    },
)
def solve_adjoint(g, ans, a, b):
    return solve_cotangent_a(g, ans, a, b), solve_cotangent_b(g, a, b)


@jvp_of(solve_adjoint)
def solve_jvp(ans, dots, b):
    ta, tb = dots
    a = b["a"]
    vector = np.ndim(b["b"]) == 1  # numpy's rule: a 1-d b is one vector
    x = ans[..., None] if vector else ans
    rhs = np.zeros(np.shape(x)) if tb is None else np.asarray(tb)
    if tb is not None and vector:
        rhs = rhs[..., None]
    rhs = np.broadcast_to(rhs, np.shape(x))
    if ta is not None:
        rhs = rhs - ta @ x
    out = np.linalg.solve(np.broadcast_to(a, np.shape(x)[:-2] + np.shape(a)[-2:]), rhs)
    return out[..., 0] if vector else out


@adjoint(
    np.linalg.lstsq,
    multi_output=True,
    domain={"a": distinct_singular_values},
    shapes={"tall": "(5,3),(5,)", "tall-matrix": "(5,3),(5,2)", "wide": "(3,5),(3,)"},
)
def lstsq_adjoint(g, ans, a, b, rcond=None):
    return lstsq_cotangent_a(g, ans, a, b), lstsq_cotangent_b(g, ans, a, b)


@adjoint(
    np.linalg.matrix_power,
    nondiff=("n",),
    domain=lambda rng, shape: 0.3 * rng.standard_normal(shape) + np.eye(shape[-1]),
    shapes={"matrix": "(3,3),-", "batch": "(2,3,3),-"},
    params={"n": [0, 3, -2]},
    view=True,
)
def matrix_power_adjoint(g, ans, a, n):
    return matrix_power_cotangent(g, a, n)


@jvp_of(matrix_power_adjoint)
def matrix_power_jvp(ans, dots, b):
    a, t, n = np.asarray(b["a"]), np.asarray(dots[0]), int(b["n"])
    if n == 0:
        return zero_tangent(ans)
    if n < 0:  # (a^-1)^|n|, and d(a^-1) = -a^-1 t a^-1
        a = np.linalg.inv(a)
        t = -(a @ t @ a)
        n = -n
    powers = [np.broadcast_to(np.eye(a.shape[-1]), a.shape)]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum(powers[k] @ t @ powers[n - 1 - k] for k in range(n))


@adjoint(
    np.linalg.tensorinv,
    domain=square_tensor,
    shapes={"ind2": ("(2,3,6)", {"ind": 2}), "ind1": ("(6,2,3)", {"ind": 1})},
)
def tensorinv_adjoint(g, ans, a, ind=2):
    return tensorinv_cotangent(g, ans, a, ind)


@adjoint(
    np.linalg.tensorsolve,
    domain={"a": square_tensor},
    shapes={"plain": "(2,3,6),(2,3)", "axes": ("(6,2,3),(2,3)", {"axes": (0,)})},
)
def tensorsolve_adjoint(g, ans, a, b, axes=None):
    return tensorsolve_cotangent_a(g, ans, a, b, axes), tensorsolve_cotangent_b(
        g, ans, a, b, axes
    )


# --------------------------------------------------------------------------- decompositions


@adjoint(
    np.linalg.cholesky,
    domain=positive_definite,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
    params={"upper": [False, True]} if numpy_at_least("2.0.0") else None,
)
def cholesky_adjoint(
    g, ans, a, *, upper=False
):  # (numpy 1.26 also takes a= by keyword)
    return cholesky_cotangent(g, ans, a, upper)


@jvp_of(cholesky_adjoint)
def cholesky_jvp(ans, dots, b):
    upper = bool(b.get("upper"))
    low = np.swapaxes(ans, -1, -2) if upper else ans
    t = np.asarray(dots[0])
    if upper:  # numpy reads the upper triangle only
        t = np.swapaxes(t, -1, -2)
    t = np.tril(t)  # numpy reads the lower triangle only
    t = t + np.swapaxes(np.tril(t, -1), -1, -2)
    inv = np.linalg.inv(low)
    phi = inv @ t @ np.swapaxes(inv, -1, -2)
    phi = np.tril(phi) - 0.5 * np.eye(phi.shape[-1]) * phi
    t_low = low @ phi
    return np.swapaxes(t_low, -1, -2) if upper else t_low


@adjoint(
    np.linalg.qr,
    multi_output=True,
    single_output_when=("mode", "r"),
    shapes={
        "tall": "(4,3)",
        "square": "(3,3)",
        "wide": "(3,5)",
        "batch": "(2,4,3)",
        "complete": ("(3,3)", {"mode": "complete"}),
    },
)
def qr_adjoint(g, ans, a, mode="reduced"):
    return qr_cotangent(g, ans, a, mode)


@adjoint(
    np.linalg.eigh,
    multi_output=True,
    domain=distinct_eigenvalues,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
    params={"UPLO": ["L", "U"]},
)
def eigh_adjoint(g, ans, a, UPLO="L"):
    return eigh_cotangent(g, ans, a, UPLO)


def _symmetric_read(t, uplo):
    """The symmetric tangent numpy's ``eigh`` sees: the triangle it reads, mirrored."""
    t = np.asarray(t)
    tri = np.tril(t) if uplo == "L" else np.triu(t)
    off = np.tril(tri, -1) if uplo == "L" else np.triu(tri, 1)
    return tri + np.swapaxes(off, -1, -2)


def _eigh_parts(b, t):
    w, v = np.linalg.eigh(b["a"], UPLO=b.get("UPLO", "L"))
    m = np.swapaxes(v, -1, -2) @ _symmetric_read(t, b.get("UPLO", "L")) @ v
    return w, v, m


@jvp_of(eigh_adjoint)
def eigh_jvp(ans, dots, b):
    w, v, m = _eigh_parts(b, dots[0])
    gap = w[..., None, :] - w[..., :, None]  # w_j - w_i
    n = w.shape[-1]
    off = ~np.eye(n, dtype=bool)
    f = np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)
    return [np.diagonal(m, axis1=-2, axis2=-1).copy(), v @ (f * m)]


@adjoint(
    np.linalg.eigvalsh,
    domain=distinct_eigenvalues,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
    params={"UPLO": ["L", "U"]},
)
def eigvalsh_adjoint(g, ans, a, UPLO="L"):
    return eigvalsh_cotangent(g, a, UPLO)


@jvp_of(eigvalsh_adjoint)
def eigvalsh_jvp(ans, dots, b):
    _, _, m = _eigh_parts(b, dots[0])
    return np.diagonal(m, axis1=-2, axis2=-1).copy()


@adjoint(
    np.linalg.eig, multi_output=True, shapes={"matrix": "(3,3)", "batch": "(2,3,3)"}
)
def eig_adjoint(g, ans, a):
    return eig_cotangent(g, ans, a)


@adjoint(np.linalg.eigvals, shapes={"matrix": "(3,3)", "batch": "(2,3,3)"})
def eigvals_adjoint(g, ans, a):
    return eigvals_cotangent(g, ans, a)


@adjoint(
    np.linalg.svd,
    multi_output=True,
    single_output_when=("compute_uv", False),
    domain=distinct_singular_values,
    shapes={
        "square": "(3,3)",
        "tall": ("(4,3)", {"full_matrices": False}),
        "wide": ("(3,4)", {"full_matrices": False}),
        "batch": ("(2,4,3)", {"full_matrices": False}),
        "hermitian": ("(3,3)", {"hermitian": True}),
    },
)
def svd_adjoint(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_cotangent(g, ans, a, full_matrices, compute_uv, hermitian)


@adjoint(
    numpy_function("linalg.svdvals"),
    domain=distinct_singular_values,
    shapes={"tall": "(4,3)", "wide": "(3,4)", "batch": "(2,3,3)"},
)
def svdvals_adjoint(g, ans, x, /):
    return svdvals_cotangent(g, x)


@jvp_of(svdvals_adjoint)
def svdvals_jvp(ans, dots, b):
    # distinct singular values: d s_i = u_i^T t v_i
    u, _, vh = np.linalg.svd(b["x"], full_matrices=False)
    m = np.swapaxes(u, -1, -2) @ np.asarray(dots[0]) @ np.swapaxes(vh, -1, -2)
    return np.diagonal(m, axis1=-2, axis2=-1).copy()


# --------------------------------------------------------------------------- norms


@adjoint(np.linalg.norm, domain=_norm_domain, shapes=_NORM_CASES, jvp="reduction")
def norm_adjoint(g, ans, x, ord=None, axis=None, keepdims=False):
    return norm_cotangent(g, x, ans, ord, axis, keepdims)


@adjoint(
    numpy_function("linalg.vector_norm"),
    shapes=[("(5,)", {"ord": o}) for o in (2, 1, 0, -1.5)]
    + [("(2,3,4)", {"axis": (0, 2)}), ("(2,3,4)", {"axis": 1, "keepdims": True})],
    jvp="reduction",
)
def vector_norm_adjoint(g, ans, x, /, *, axis=None, keepdims=False, ord=2):
    return vector_norm_cotangent(g, x, ans, axis, keepdims, ord)


@adjoint(
    numpy_function("linalg.matrix_norm"),
    domain=distinct_singular_values,
    shapes={"stack": "(2,3,4)"},
    params=[{"ord": ["fro", "nuc", 1, -1, 2, -2]}, {"ord": [2], "keepdims": [True]}],
    jvp="reduction",
)
def matrix_norm_adjoint(g, ans, x, /, *, keepdims=False, ord="fro"):
    return matrix_norm_cotangent(g, x, ans, keepdims, ord)


@adjoint(
    np.linalg.cond,
    domain=well_conditioned,
    shapes={"matrix": "(3,3)", "batch": "(2,3,3)"},
    params={"p": [None, -2, "fro", -1]},
    jvp="reduction",
)
def cond_adjoint(g, ans, x, p=None):
    return cond_cotangent(g, ans, x, p)


# --------------------------------------------------------------------------- array API names


@adjoint(
    numpy_function("linalg.matrix_transpose"),
    shapes={"matrix": "(3,4)", "stack": "(2,3,4)"},
    view=True,
    jvp="linear",
)
def linalg_matrix_transpose_adjoint(g, ans, x, /):
    return mT(g)


@adjoint(
    numpy_function("linalg.trace"),
    shapes={"matrix": "(3,4)", "stack": "(2,3,3)"},
    params={"offset": [0, 1, -1]},
    jvp="linear",
)
def linalg_trace_adjoint(g, ans, x, /, *, offset=0, dtype=None):
    return trace_cotangent(g, x, offset, -2, -1)


@adjoint(
    numpy_function("linalg.diagonal"),
    shapes={"matrix": "(3,4)", "stack": "(2,3,3)"},
    params={"offset": [0, 1, -1]},
    view=True,
    jvp="linear",
)
def linalg_diagonal_adjoint(g, ans, x, /, *, offset=0):
    return diagonal_cotangent(g, x, offset, -2, -1)
