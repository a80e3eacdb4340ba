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

from srcgrad.errors import MissingRuleError
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


@jvp_of(pinv_adjoint)
def pinv_jvp(ans, dots, b):
    # full rank: dP = -P t P + P P^T t^T (I - A P) + (I - P A) t^T P^T P
    a, p = np.asarray(b["a"]), ans
    t = _symmetric_read(dots[0], "L") if b.get("hermitian") else np.asarray(dots[0])
    if b.get("hermitian"):  # the symmetric matrix numpy inverts
        a = _symmetric_read(a, "L")
    out = -(p @ t @ p)
    out = out + p @ mT(p) @ mT(t) @ (np.eye(a.shape[-2]) - a @ p)
    return out + (np.eye(a.shape[-1]) - p @ a) @ mT(t) @ mT(p) @ p


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


@jvp_of(lstsq_adjoint)
def lstsq_jvp(ans, dots, b):
    # x = pinv(a) b; the residuals |b - a x|^2 move with 2 r^T (t_b - t_a x) (a^T r = 0);
    # the rank is an integer; the singular values move as svdvals'
    x, res, rank, s = ans
    a, rhs = np.asarray(b["a"]), np.asarray(b["b"])
    ta, tb = dots
    vector = rhs.ndim == 1
    xm, bm = (x[..., None], rhs[..., None]) if vector else (x, rhs)
    p = np.linalg.pinv(a)
    moved = np.zeros(np.shape(bm))  # t_b - t_a x
    t_x = np.zeros(np.shape(xm))
    t_s = zero_tangent(s)
    if tb is not None:
        tbm = np.asarray(tb)[..., None] if vector else np.asarray(tb)
        moved = moved + tbm
        t_x = t_x + p @ tbm
    if ta is not None:
        moved = moved - np.asarray(ta) @ xm
        t_x = t_x + pinv_jvp(p, (ta,), {"a": a}) @ bm
        t_s = svdvals_tangent(a, ta)
    t_res = zero_tangent(res)
    if np.shape(res)[-1] > 0:
        t_res = 2 * np.sum((bm - a @ xm) * moved, axis=-2)
    return [t_x[..., 0] if vector else t_x, t_res, zero_tangent(rank), t_s]


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


@jvp_of(tensorinv_adjoint)
def tensorinv_jvp(ans, dots, b):
    # the inverse of a reshaped to a square matrix: -inv t inv, reshaped back
    t = np.asarray(dots[0])
    n = int(np.prod(np.shape(ans)[: t.ndim - b.get("ind", 2)]))
    inv = ans.reshape(n, -1)
    return -(inv @ t.reshape(inv.shape[1], n) @ inv).reshape(np.shape(ans))


@adjoint(
    np.linalg.tensorsolve,
    domain={"a": square_tensor},
    shapes={"plain": "(2,3,6),(2,3)", "axes": ("(6,2,3),(2,3)", {"axes": (0,)})},
)
def tensorsolve_adjoint(g, ans, a, b, axes=None):
    return tensorsolve_cotangent_a(g, ans, a, b, axes), tensorsolve_cotangent_b(
        g, ans, a, b, axes
    )


@jvp_of(tensorsolve_adjoint)
def tensorsolve_jvp(ans, dots, b):
    # a x = b (a's axes moved as numpy moves them, then a matrix): a t_x = t_b - t_a x
    a, rhs, axes = np.asarray(b["a"]), np.asarray(b["b"]), b.get("axes")
    ta, tb = dots
    order = list(range(a.ndim))
    for k in axes or ():
        order.remove(k)
        order.insert(a.ndim, k)
    m = a.transpose(order).reshape(rhs.size, -1)
    moved = np.zeros(rhs.size) if tb is None else np.ravel(tb)
    if ta is not None:
        moved = moved - np.asarray(ta).transpose(order).reshape(m.shape) @ np.ravel(ans)
    return np.linalg.solve(m, moved).reshape(np.shape(ans))


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


def _qr_square_tangent(q, r, t):
    # a = q r (m >= n, reduced): with X = q^T t r^-1 and W = tril(X, -1) - its transpose
    # (q^T t_q, skew), t_r = (X - W) r and t_q = t r^-1 - q (X - W)
    t_rinv = mT(np.linalg.solve(mT(r), mT(t)))  # t r^-1
    x = mT(q) @ t_rinv
    low = np.tril(x, -1)
    upper = x - low + mT(low)
    return t_rinv - q @ upper, upper @ r


@jvp_of(qr_adjoint)
def qr_jvp(ans, dots, b):
    a, t, mode = np.asarray(b["a"]), np.asarray(dots[0]), b.get("mode", "reduced")
    m, n = a.shape[-2], a.shape[-1]
    if mode not in ("reduced", "complete", "r") or (mode == "complete" and m > n):
        raise MissingRuleError(
            f"linalg.qr(mode={mode!r}) of this shape has no tangent rule (the extra "
            "columns of Q are not determined by the matrix)",
            construct="linalg.qr",
            hint="use mode='reduced'",
        )
    q, r = np.linalg.qr(a) if mode == "r" else ans
    if m >= n:
        t_q, t_r = _qr_square_tangent(q, r, t)
    else:  # a = [X | Y]: X = q u square, and the rest of r is q^T Y
        t_q, t_u = _qr_square_tangent(q, r[..., :, :m], t[..., :, :m])
        t_v = mT(t_q) @ a[..., :, m:] + mT(q) @ t[..., :, m:]
        t_r = np.concatenate([t_u, t_v], axis=-1)
    return t_r if mode == "r" else [t_q, t_r]


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


def _eig_tangents(w, v, t):
    # v^-1 t v = M: t_w = diag(M), t_v = v (F * M) with F_ij = 1 / (w_j - w_i), then held
    # to LAPACK's normalisation (unit norm, largest component real)
    m = np.linalg.solve(v, t @ v)
    gap = w[..., None, :] - w[..., :, None]
    off = ~np.eye(w.shape[-1], dtype=bool)
    t_v = v @ np.where(off, m / np.where(off, gap, 1.0), 0.0)
    along = np.sum(np.conj(v) * t_v, axis=-2, keepdims=True)
    pivot = np.argmax(np.abs(v), axis=-2)[..., None, :]
    at = np.take_along_axis(v, pivot, axis=-2)
    turn = np.imag(np.take_along_axis(t_v, pivot, axis=-2)) / np.real(at)
    t_v = t_v - v * (np.real(along) + 1j * turn)
    return np.diagonal(m, axis1=-2, axis2=-1), t_v


@jvp_of(eig_adjoint)
def eig_jvp(ans, dots, b):
    w, v = ans
    t_w, t_v = _eig_tangents(w, v, np.asarray(dots[0]))
    if not np.iscomplexobj(w):  # real eigenvalues of a real matrix stay real
        t_w, t_v = np.real(t_w), np.real(t_v)
    return [t_w, t_v]


@adjoint(np.linalg.eigvals, shapes={"matrix": "(3,3)", "batch": "(2,3,3)"})
def eigvals_adjoint(g, ans, a):
    return eigvals_cotangent(g, ans, a)


@jvp_of(eigvals_adjoint)
def eigvals_jvp(ans, dots, b):
    w, v = np.linalg.eig(b["a"])  # the vectors, matched to ans by value
    match = np.argmin(np.abs(ans[..., :, None] - w[..., None, :]), axis=-1)
    v = np.take_along_axis(v, match[..., None, :], axis=-1)
    m = np.linalg.solve(v, np.asarray(dots[0]) @ v)
    t_w = np.diagonal(m, axis1=-2, axis2=-1)
    return t_w if np.iscomplexobj(ans) else np.real(t_w)


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


@jvp_of(svd_adjoint)
def svd_jvp(ans, dots, b):
    # distinct nonzero singular values: with P = u^T t v, t_s = diag(P), and for the
    # vectors F_ij = 1 / (s_j^2 - s_i^2) plus the parts outside the spans of u and v
    a = np.asarray(b["a"])
    t = np.asarray(dots[0])
    if b.get("hermitian"):  # numpy reads the lower triangle
        t = _symmetric_read(t, "L")
    if not b.get("compute_uv", True):
        a = _symmetric_read(a, "L") if b.get("hermitian") else a
        return svdvals_tangent(a, t)
    u, s, vh = ans
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    if b.get("full_matrices", True) and m != n:
        raise MissingRuleError(
            "linalg.svd(full_matrices=True) of a non-square matrix has no tangent rule "
            "(the extra singular vectors are not determined by the matrix)",
            construct="linalg.svd",
            hint="pass full_matrices=False",
        )
    v = mT(vh)
    p = mT(u) @ t @ v
    s2 = s[..., None, :] ** 2 - s[..., :, None] ** 2  # s_j^2 - s_i^2
    off = ~np.eye(k, dtype=bool)
    f = np.where(off, 1.0 / np.where(off, s2, 1.0), 0.0)
    sp, ps = s[..., None, :] * p, p * s[..., :, None]  # P S, S P
    t_u = u @ (f * (sp + mT(sp))) + (t @ v - u @ p) / s[..., None, :]
    t_v = v @ (f * (ps + mT(ps))) + (mT(t) @ u - v @ mT(p)) / s[..., None, :]
    return [t_u, np.diagonal(p, axis1=-2, axis2=-1).copy(), mT(t_v)]


@adjoint(
    numpy_function("linalg.svdvals"),
    domain=distinct_singular_values,
    shapes={"tall": "(4,3)", "wide": "(3,4)", "batch": "(2,3,3)"},
)
def svdvals_adjoint(g, ans, x, /):
    return svdvals_cotangent(g, x)


def svdvals_tangent(a, t):
    """The tangent of the singular values of ``a`` (distinct): ``d s_i = u_i^T t v_i``."""
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    m = mT(u) @ np.asarray(t) @ mT(vh)
    return np.diagonal(m, axis1=-2, axis2=-1).copy()


@jvp_of(svdvals_adjoint)
def svdvals_jvp(ans, dots, b):
    return svdvals_tangent(b["x"], dots[0])


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
