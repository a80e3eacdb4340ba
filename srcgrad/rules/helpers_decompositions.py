"""Rules of the decompositions' cotangent helpers (Cholesky, ``cho_solve``): higher-order
derivatives through ``np.linalg.cholesky``, ``scipy.linalg.cholesky``, ``cho_factor`` and
``cho_solve``.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  Each rule differentiates the helper as it computes,
for every matrix it is given (not only triangular or symmetric ones): the forward factor
it reads is an operand of its own, and emitted code sends that operand's cotangent back
through the factorisation's rule.

``cholesky_cotangent(ct, L, a) = T(L^-T P L^-1)`` symmetrised, with ``P = phi(L^T ct)``
(``phi``: the lower triangle, half the diagonal) and ``T`` the map onto the triangle
LAPACK reads.  With ``G`` the symmetric matrix of ``g``'s read triangle (``T``'s adjoint)
and ``M = L^-1 G L^-T``: ``ct`` gets ``L phi(M)`` (the Cholesky tangent in the direction
``G``), ``L`` gets ``ct phi(M)^T - L^-T (P + P^T) M``.  The upper factor (``upper=True``;
scipy's default) is the transpose of the lower one throughout.  ``cho_factor`` reads the
factor's triangle of ``c`` and passes the other triangle of its cotangent through.

``cho_solve_cotangent_b(ct, (c, lower), b) = A^-1 ct`` (``A = L L^T``) is symmetric in
``ct``: its cotangent for ``ct`` is the helper at ``g``, and for ``c`` it is
``cho_solve``'s own cotangent of ``c`` at ``g`` with ``A^-1 ct`` for the solution.
``cho_solve_cotangent_c(ct, x, (c, lower), b) = tri(-(z x^T + x z^T) L)`` with ``z =
A^-1 ct``: with ``Gl`` the cotangent read as ``L`` is read from ``c`` and ``K = Gl L^T +
L Gl^T``, ``x`` gets ``-K z``, ``z`` gets ``-K x`` (so ``ct`` gets ``A^-1`` of that), and
``L`` gets ``(z x^T + x z^T) Gl`` plus, through ``A``, the helper itself at ``(-K x, z)``.
The flag ``lower`` gets zeros (not ``None``: emitted code adds an unpacked flag's
cotangents with ``+``).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import (
    distinct_eigenvalues,
    distinct_singular_values,
    square_tensor,
    well_conditioned,
)
from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    cho_factor_cotangent,
    cho_solve_cotangent_b,
    cho_solve_cotangent_c,
    cholesky_cotangent,
    cond_cotangent,
    eig_cotangent,
    eigh_cotangent,
    eigvals_cotangent,
    eigvalsh_cotangent,
    mT,
    pinv_cotangent,
    qr_cotangent,
    require_distinct,
    require_nonzero,
    require_real,
    scipy_cholesky_cotangent,
    solve_cotangent_a,
    stop_gradient,
    svd_cotangent,
    svdvals_cotangent,
    tensorsolve_cotangent_a,
    tensorsolve_cotangent_b,
    unbroadcast,
    zeros_if_none,
)

__all__: list[str] = []


def factor_and_either_flag(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """``(c, lower)``: a matrix both of whose triangles are well-conditioned factors
    (``N(0, 1) + n I``), and for a 0-d entry the flag, drawn (either triangle)."""
    if not shape:
        return np.asarray(bool(rng.integers(2)))
    return well_conditioned(rng, shape)


# --------------------------------------------------------------------------- Cholesky

_FACTOR = {"matrix": "(3,3),(3,3),(3,3)", "batch": "(2,3,3),(2,3,3),(2,3,3)"}


@adjoint(
    cholesky_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    domain={"low": well_conditioned},
    shapes=_FACTOR,
    params={"upper": [False, True]},
)
def cholesky_cotangent_adjoint(g, ans, ct, low, a, upper=False):
    # the lower factor's formulas; an upper factor is their transpose throughout
    up = float(upper)
    f = up * mT(low) + (1.0 - up) * low
    c = up * mT(ct) + (1.0 - up) * ct
    h = up * mT(g) + (1.0 - up) * g
    sym = np.tril(h) + mT(np.tril(h, -1))
    inv = np.linalg.inv(f)
    inner = np.matmul(mT(f), c)
    p = 0.5 * (np.tril(inner) + np.tril(inner, -1))
    m = np.matmul(np.matmul(inv, sym), mT(inv))
    pm = 0.5 * (np.tril(m) + np.tril(m, -1))
    d_c = np.matmul(f, pm)
    d_f = np.matmul(c, mT(pm)) - np.matmul(np.matmul(mT(inv), p + mT(p)), m)
    return up * mT(d_c) + (1.0 - up) * d_c, up * mT(d_f) + (1.0 - up) * d_f


@adjoint(
    scipy_cholesky_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    domain={"factor": well_conditioned},
    shapes={"matrix": "(3,3),(3,3),(3,3)"},
    params={"lower": [False, True]},
)
def scipy_cholesky_cotangent_adjoint(g, ans, ct, factor, a, lower=False):
    # numpy's cholesky_cotangent with upper = not lower (its rule, as written there)
    up = 1.0 - float(lower)
    f = up * mT(factor) + (1.0 - up) * factor
    c = up * mT(ct) + (1.0 - up) * ct
    h = up * mT(g) + (1.0 - up) * g
    sym = np.tril(h) + mT(np.tril(h, -1))
    inv = np.linalg.inv(f)
    inner = np.matmul(mT(f), c)
    p = 0.5 * (np.tril(inner) + np.tril(inner, -1))
    m = np.matmul(np.matmul(inv, sym), mT(inv))
    pm = 0.5 * (np.tril(m) + np.tril(m, -1))
    d_c = np.matmul(f, pm)
    d_f = np.matmul(c, mT(pm)) - np.matmul(np.matmul(mT(inv), p + mT(p)), m)
    return up * mT(d_c) + (1.0 - up) * d_c, up * mT(d_f) + (1.0 - up) * d_f


@adjoint(
    cho_factor_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    sequence=("ct", "c_and_lower"),
    domain={"ct": factor_and_either_flag, "c_and_lower": factor_and_either_flag},
    shapes={"matrix": "[(3,3),()],[(3,3),()],(3,3)"},
    params={"lower": [False, True]},
)
def cho_factor_cotangent_adjoint(g, ans, ct, c_and_lower, a, lower=False):
    # the factor's triangle of c and of ct through Cholesky's (the lower factor, or the
    # transpose of the upper one), the other triangle of ct passed through to a's entries
    lw = float(lower)
    c = c_and_lower[0]
    gc = zeros_if_none(ct[0], c)
    f = lw * np.tril(c) + (1.0 - lw) * mT(np.triu(c))
    k = lw * np.tril(gc) + (1.0 - lw) * mT(np.triu(gc))
    h = lw * g + (1.0 - lw) * mT(g)
    sym = np.tril(h) + mT(np.tril(h, -1))
    inv = np.linalg.inv(f)
    inner = np.matmul(mT(f), k)
    p = 0.5 * (np.tril(inner) + np.tril(inner, -1))
    m = np.matmul(np.matmul(inv, sym), mT(inv))
    pm = 0.5 * (np.tril(m) + np.tril(m, -1))
    d_k = np.tril(np.matmul(f, pm))
    d_f = np.tril(np.matmul(k, mT(pm)) - np.matmul(np.matmul(mT(inv), p + mT(p)), m))
    kept = lw * np.triu(g, 1) + (1.0 - lw) * np.tril(g, -1)
    d_gc = lw * d_k + (1.0 - lw) * mT(d_k) + kept
    d_c = lw * d_f + (1.0 - lw) * mT(d_f)
    # the flag gets zeros, not None: emitted code adds its cotangents with +
    no = np.zeros_like(c_and_lower[1])
    return [d_gc, no], [d_c, no]


# --------------------------------------------------------------------------- cho_solve

_CHO_SOLVE = {
    "vector": "(3,),[(3,3),()],(3,)",
    "matrix": "(3,2),[(3,3),()],(3,2)",
    "batch": "(2,3,2),[(2,3,3),()],(2,3,2)",
    "broadcast-b": "(2,3,2),[(3,3),()],(2,3,2)",
}


@adjoint(
    cho_solve_cotangent_b,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    sequence=("c_and_lower",),
    domain={"c_and_lower": factor_and_either_flag},
    shapes=_CHO_SOLVE,
)
def cho_solve_cotangent_b_adjoint(g, ans, ct, c_and_lower, b):
    # ans = A^-1 ct (A symmetric): ct gets A^-1 g, c cho_solve's own cotangent of c at g
    # with A^-1 ct in the place of the solution
    x = cho_solve_cotangent_b(ct, c_and_lower, ct)
    w = cho_solve_cotangent_b(g, c_and_lower, ct)
    d_c = cho_solve_cotangent_c(g, x, c_and_lower, ct)[0]
    return w, [d_c, np.zeros_like(c_and_lower[1])]


@adjoint(
    cho_solve_cotangent_c,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    multi_output=True,
    sequence=("c_and_lower",),
    domain={"c_and_lower": factor_and_either_flag},
    shapes={
        "vector": "(3,),(3,),[(3,3),()],(3,)",
        "matrix": "(3,2),(3,2),[(3,3),()],(3,2)",
        "batch": "(2,3,2),(2,3,2),[(2,3,3),()],(2,3,2)",
        "broadcast-b": "(2,3,2),(2,3,2),[(3,3),()],(2,3,2)",
    },
)
def cho_solve_cotangent_c_adjoint(g, ans, ct, x, c_and_lower, b):
    c = c_and_lower[0]
    lower = stop_gradient(c_and_lower[1])  # a flag (an output of cho_factor)
    f = np.where(lower, np.tril(c), mT(np.triu(c)))
    gl = np.where(lower, np.tril(g[0]), mT(np.triu(g[0])))
    k = np.matmul(gl, mT(f)) + np.matmul(f, mT(gl))
    z = cho_solve_cotangent_b(ct, c_and_lower, x)
    dz = -np.matmul(k, x)
    d_ct = cho_solve_cotangent_b(dz, c_and_lower, ct)
    # z x^T + x z^T summed to the factor's shape (a vector x is one column)
    p = solve_cotangent_a(ct, x, np.matmul(f, mT(f)), ct)
    d_f = np.matmul(p + mT(p), gl)
    through_a = cho_solve_cotangent_c(dz, z, c_and_lower, ct)[0]
    d_c = np.where(lower, np.tril(d_f), np.triu(mT(d_f))) + through_a
    return d_ct, unbroadcast(-np.matmul(k, z), x), [d_c, np.zeros_like(lower)]


# --------------------------------------------------------------------------- eigh


def spectrum_and_vectors(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """``eigh``'s pair as its helpers get it: eigenvalues at least 1 apart (not square in
    their last two axes) and vectors (square: any matrix, their formulas hold for all).
    """
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        return rng.standard_normal(shape)
    return 1.0 + 1.5 * np.arange(shape[-1]) + rng.uniform(0, 0.3, size=shape)


@adjoint(
    eigh_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    sequence=("ct", "wv"),
    domain={"wv": spectrum_and_vectors},
    shapes={
        "matrix": "[(3,),(3,3)],[(3,),(3,3)],(3,3)",
        "batch": "[(2,3),(2,3,3)],[(2,3),(2,3,3)],(2,3,3)",
    },
    params={"UPLO": ["L", "U"]},
)
def eigh_cotangent_adjoint(g, ans, ct, wv, a, UPLO="L"):
    # ans = T(v B v^T), B = diag(c_w) + F * (v^T c_v), F_ij = 1 / (w_j - w_i) off the
    # diagonal (T: onto the triangle read; G below is the symmetric matrix of g's)
    w = require_distinct(wv[0], "np.linalg.eigh's eigenvectors at repeated eigenvalues")
    v = wv[1]
    cw = zeros_if_none(ct[0], w)
    cv = zeros_if_none(ct[1], v)
    lo = float(UPLO in ("L", "l"))
    h = lo * g + (1.0 - lo) * mT(g)
    sym = np.tril(h) + mT(np.tril(h, -1))
    eye = np.triu(np.tril(np.ones_like(v)))
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = gap / (gap * gap + eye)
    vtc = np.matmul(mT(v), cv)
    b = eye * np.expand_dims(cw, -1) + f * vtc
    hh = np.matmul(np.matmul(mT(v), sym), v)
    k = f * hh
    q = hh * vtc * f * f
    d_w = np.sum(q, axis=-1) - np.sum(q, axis=-2)
    d_v = np.matmul(np.matmul(sym, v), b + mT(b)) + np.matmul(cv, mT(k))
    return [np.sum(hh * eye, axis=-1), np.matmul(v, k)], [d_w, d_v]


@adjoint(
    eigvalsh_cotangent,
    python_floats=(),
    domain={"a": distinct_eigenvalues},
    shapes={"matrix": "(3,),(3,3)", "batch": "(2,3),(2,3,3)"},
    params={"UPLO": ["L", "U"]},
)
def eigvalsh_cotangent_adjoint(g, ans, ct, a, UPLO="L"):
    # ans = T(v diag(ct) v^T) with v = eigh(a)'s vectors: ct gets diag(v^T G v); a gets
    # eigh's cotangent of a for the vectors' cotangent d_v = 2 G v diag(ct), that is
    # T(v (F * (v^T d_v)) v^T)
    e = np.linalg.eigh(a, UPLO)
    v = e[1]
    w = require_distinct(e[0], "np.linalg.eigvalsh at repeated eigenvalues")
    eye = np.triu(np.tril(np.ones_like(v)))
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    lo = float(UPLO in ("L", "l"))
    h = lo * g + (1.0 - lo) * mT(g)
    sym = np.tril(h) + mT(np.tril(h, -1))
    gv = np.matmul(sym, v)
    d_v = 2.0 * gv * np.expand_dims(ct, -2)
    f = gap / (gap * gap + eye)
    x = np.matmul(np.matmul(v, f * np.matmul(mT(v), d_v)), mT(v))
    xs = x + mT(x)
    d_a = lo * np.tril(xs, -1) + (1.0 - lo) * np.triu(xs, 1) + x * eye
    return np.sum(v * gv, axis=-2), d_a


@adjoint(
    require_distinct,
    nondiff=("what",),
    shapes={"matrix": ("(3,4),-", {"what": "f"})},
    view=True,
)
def require_distinct_adjoint(g, ans, x, what):
    return g


# --------------------------------------------------------------------------- svd


def factors_and_values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``svd``'s triple as its helper gets it: singular values at least 1 apart (1-d) and
    factors (2-d: any matrix, the helper's formulas hold for all)."""
    if len(shape) == 1:
        return 1.0 + 1.5 * np.arange(shape[0])[::-1] + rng.uniform(0, 0.3, size=shape)
    return rng.standard_normal(shape)


_SVD_ONLY = (
    "a higher order through np.linalg.svd is written for its factors of a real matrix "
    "(compute_uv=True, hermitian=False; np.linalg.svdvals for the values alone)"
)


@adjoint(
    svd_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    sequence=("ct", "usv"),
    domain={"usv": factors_and_values},
    shapes={
        "square": "[(3,3),(3,),(3,3)],[(3,3),(3,),(3,3)],(3,3)",
        "tall": (
            "[(4,3),(3,),(3,3)],[(4,3),(3,),(3,3)],(4,3)",
            {"full_matrices": False},
        ),
        "wide": (
            "[(3,3),(3,),(3,4)],[(3,3),(3,),(3,4)],(3,4)",
            {"full_matrices": False},
        ),
    },
    accepts={"compute_uv": ((True,), _SVD_ONLY), "hermitian": ((False,), _SVD_ONLY)},
)
def svd_cotangent_adjoint(
    g, ans, ct, usv, a, full_matrices=True, compute_uv=True, hermitian=False
):
    # ans = U inner V^T + tall (gU - U J) S^-1 V^T + wide U S^-1 (gV - V K)^T, with
    # J = U^T gU, K = V^T gV, inner = diag(gs) + (F * (J - J^T)) S + S (F * (K - K^T)),
    # F_ij = 1 / (s_j^2 - s_i^2), on the first k = min(m, n) vectors (the rest get 0)
    m = ans.shape[-2]
    n = ans.shape[-1]
    k = min(m, n)
    tall = float(m > k)
    wide = float(n > k)
    s = require_nonzero(usv[1], "np.linalg.svd's vectors at a zero singular value")
    s = require_distinct(s, "np.linalg.svd's vectors at repeated singular values")
    u = usv[0][..., :, :k]
    v = mT(usv[2][..., :k, :])
    gu = zeros_if_none(ct[0], usv[0])[..., :, :k]
    gs = zeros_if_none(ct[1], s)
    gv = mT(zeros_if_none(ct[2], usv[2])[..., :k, :])
    j = np.matmul(mT(u), gu)
    kk = np.matmul(mT(v), gv)
    eye = np.triu(np.tril(np.ones_like(j)))
    s_row = np.expand_dims(s, -2)
    s_col = np.expand_dims(s, -1)
    d2 = s_row * s_row - s_col * s_col
    f = d2 / (d2 * d2 + eye)
    ja = f * (j - mT(j))
    ka = f * (kk - mT(kk))
    inner = eye * np.expand_dims(gs, -1) + ja * s_row + s_col * ka
    r = gu - np.matmul(u, j)
    w = gv - np.matmul(v, kk)
    g_v = np.matmul(g, v)
    gt_u = np.matmul(mT(g), u)
    h = np.matmul(mT(u), g_v)
    dja = f * h * s_row
    dka = f * s_col * h
    q = ((j - mT(j)) * h * s_row + (kk - mT(kk)) * s_col * h) * f * f
    d_s = np.sum(h * ja, axis=-2) + np.sum(h * ka, axis=-1)
    d_s = d_s + 2.0 * s * (np.sum(q, axis=-1) - np.sum(q, axis=-2))
    d_s = d_s - tall * np.sum(r * g_v, axis=-2) / (s * s)
    d_s = d_s - wide * np.sum(u * np.matmul(g, w), axis=-2) / (s * s)
    dj = dja - mT(dja)
    dk = dka - mT(dka)
    dr = tall * g_v / s_row
    dw = wide * gt_u / s_row
    d_gu = np.matmul(u, dj) + dr - np.matmul(u, np.matmul(mT(u), dr))
    d_gv = np.matmul(v, dk) + dw - np.matmul(v, np.matmul(mT(v), dw))
    d_u = np.matmul(g_v, mT(inner)) + np.matmul(gu, mT(dj))
    d_u = d_u - np.matmul(dr, mT(j)) - np.matmul(gu, np.matmul(mT(dr), u))
    d_u = d_u + wide * np.matmul(g, w) / s_row
    d_v = np.matmul(gt_u, inner) + np.matmul(gv, mT(dk))
    d_v = d_v - np.matmul(dw, mT(kk)) - np.matmul(gv, np.matmul(mT(dw), v))
    d_v = d_v + tall * np.matmul(mT(g), r) / s_row
    zu = np.zeros_like(usv[0][..., :, k:])
    zv = np.zeros_like(usv[2][..., k:, :])
    return (
        [
            np.concatenate([d_gu, zu], axis=-1),
            np.sum(h * eye, axis=-1),
            np.concatenate([mT(d_gv), zv], axis=-2),
        ],
        [
            np.concatenate([d_u, zu], axis=-1),
            d_s,
            np.concatenate([mT(d_v), zv], axis=-2),
        ],
    )


@adjoint(
    svdvals_cotangent,
    python_floats=(),
    domain={"x": distinct_singular_values},
    shapes={"tall": "(3,),(4,3)", "wide": "(3,),(3,4)", "batch": "(2,3),(2,3,3)"},
)
def svdvals_cotangent_adjoint(g, ans, ct, x):
    # ans = U diag(ct) V^T with x's thin factors: ct gets diag(U^T G V), x svd's own
    # cotangent for the factors' cotangents G V diag(ct) and diag(ct) U^T G
    e = np.linalg.svd(x, full_matrices=False)
    u = e[0]
    vh = e[2]
    s = require_nonzero(e[1], "np.linalg.svd's vectors at a zero singular value")
    s = require_distinct(s, "np.linalg.svd's vectors at repeated singular values")
    g_v = np.matmul(g, mT(vh))
    d_u = g_v * np.expand_dims(ct, -2)
    d_vh = np.expand_dims(ct, -1) * np.matmul(mT(u), g)
    d_x = svd_cotangent([d_u, None, d_vh], [u, s, vh], x, False)
    return np.sum(u * g_v, axis=-2), d_x


# --------------------------------------------------------------------------- tensorsolve


@adjoint(
    tensorsolve_cotangent_a,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": square_tensor},
    shapes={
        "plain": "(6,),(6,),(2,3,6),(2,3)",
        "matrix": "(2,3),(2,3),(2,3,2,3),(2,3)",
    },
    accepts={
        "axes": (
            (None,),
            "a higher order through np.linalg.tensorsolve is written without axes "
            "(move them first: np.moveaxis(a, axes, range(-len(axes), 0)))",
        )
    },
)
def tensorsolve_cotangent_a_adjoint(g, ans, ct, x, a, b, axes=None):
    # as solve_cotangent_a's rule, on a folded to the solve's matrix M (b's axes first):
    # ans = -z x^T with z = M^-T ct; ct gets -u (u = M^-1 g x), x gets -g^T z, a the
    # helper itself at (ct, u), negated
    z = tensorsolve_cotangent_b(ct, x, a, b)
    u = np.linalg.tensorsolve(a, np.tensordot(g, x, np.ndim(x)))
    dx = -np.tensordot(z, g, np.ndim(z))
    return -u, dx, -tensorsolve_cotangent_a(ct, u, a, b)


# --------------------------------------------------------------------------- pinv


@adjoint(
    pinv_cotangent,
    python_floats=(),
    shapes={
        "tall": "(3,4),(3,4),(4,3)",
        "wide": "(4,3),(4,3),(3,4)",
        "batch": "(2,3,4),(2,3,4),(2,4,3)",
    },
    accepts={
        "hermitian": (
            (False,),
            "a higher order through np.linalg.pinv is written for hermitian=False",
        )
    },
)
def pinv_cotangent_adjoint(g, ans, ct, p, a, hermitian=False):
    # ans = -P^T C P^T + (C^T Q - A P C^T Q) + (R C^T - R C^T P A), Q = P P^T,
    # R = P^T P (C: ct, P: p, A: a), a polynomial in the three
    pt = mT(p)
    gt = mT(g)
    q = np.matmul(p, pt)
    r = np.matmul(pt, p)
    d_e = np.matmul(np.matmul(g, q), ct)
    d_f = np.matmul(np.matmul(ct, r), g)
    d_q = np.matmul(ct, g) - np.matmul(np.matmul(np.matmul(ct, pt), mT(a)), g)
    d_r = np.matmul(g, ct) - np.matmul(np.matmul(np.matmul(g, mT(a)), pt), ct)
    d_ct = -np.matmul(np.matmul(p, g), p)
    d_ct = d_ct + np.matmul(q, gt) - np.matmul(np.matmul(np.matmul(q, gt), a), p)
    d_ct = d_ct + np.matmul(gt, r) - np.matmul(np.matmul(np.matmul(p, a), gt), r)
    d_p = -(np.matmul(np.matmul(ct, pt), gt) + np.matmul(np.matmul(gt, pt), ct))
    d_p = d_p - np.matmul(mT(a), d_e) + np.matmul(d_q + mT(d_q), p)
    d_p = d_p + np.matmul(p, d_r + mT(d_r)) - np.matmul(d_f, mT(a))
    d_a = -np.matmul(d_e, pt) - np.matmul(pt, d_f)
    return unbroadcast(d_ct, ct), unbroadcast(d_p, p), unbroadcast(d_a, a)


# --------------------------------------------------------------------------- qr


def leading_block_invertible(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """Matrices ``N(0, 1) + k I`` (``I`` the rectangular identity, ``k`` its side): their
    leading square block is well-conditioned (QR's ``R``; any ``Q``)."""
    m, n = shape[-2], shape[-1]
    return rng.standard_normal(shape) + min(m, n) * np.eye(m, n)


@adjoint(
    qr_cotangent,
    python_floats=(),
    sequence=("ct", "qr"),
    domain={"qr": leading_block_invertible},
    shapes={
        "tall": "[(4,3),(3,3)],[(4,3),(3,3)],(4,3)",
        "square": "[(3,3),(3,3)],[(3,3),(3,3)],(3,3)",
        "wide": "[(3,3),(3,5)],[(3,3),(3,5)],(3,5)",
        "batch": "[(2,4,3),(2,3,3)],[(2,4,3),(2,3,3)],(2,4,3)",
        "complete": ("[(3,3),(3,5)],[(3,3),(3,5)],(3,5)", {"mode": "complete"}),
    },
    accepts={
        "mode": (
            ("reduced", "complete"),
            "a higher order through np.linalg.qr is written for its factors "
            "(mode='reduced' or 'complete'; take R from them)",
        )
    },
)
def qr_cotangent_adjoint(g, ans, ct, qr, a, mode="reduced"):
    # on the first k = min(m, n) columns of Q and rows of R (the rest get 0), with R =
    # [U | V] and a = [X | Y] split after k columns: ans = [B U^-T | Q g_V], B = g_Q2 +
    # Q syml(M), g_Q2 = g_Q + Y g_V^T, M = U g_U^T - g_Q2^T Q
    k = min(ans.shape[-2], ans.shape[-1])
    q = qr[0][..., :, :k]
    u = qr[1][..., :k, :k]
    gq = zeros_if_none(ct[0], qr[0])[..., :, :k]
    gr = zeros_if_none(ct[1], qr[1])[..., :k, :]
    gu = gr[..., :, :k]
    gv = gr[..., :, k:]
    y = a[..., :, k:]
    gx = g[..., :, :k]
    gy = g[..., :, k:]
    gq2 = gq + np.matmul(y, mT(gv))
    mm = np.matmul(u, mT(gu)) - np.matmul(mT(gq2), q)
    s = np.tril(mm) + mT(np.tril(mm, -1))
    b = gq2 + np.matmul(q, s)
    uinv = np.linalg.inv(u)
    gb = np.matmul(gx, uinv)
    ds = np.matmul(mT(q), gb)
    dm = np.tril(ds + mT(ds), -1) + np.tril(ds) - np.tril(ds, -1)
    d_gq2 = gb - np.matmul(q, mT(dm))
    d_q = np.matmul(gb, mT(s)) - np.matmul(gq2, dm) + np.matmul(gy, mT(gv))
    d_u = np.matmul(dm, gu) - np.matmul(
        np.matmul(mT(uinv), mT(gx)), np.matmul(b, mT(uinv))
    )
    d_gv = np.matmul(mT(q), gy) + np.matmul(mT(d_gq2), y)
    zq = np.zeros_like(qr[0][..., :, k:])
    zr = np.zeros_like(qr[1][..., k:, :])
    d_gr = np.concatenate([np.matmul(mT(dm), u), d_gv], axis=-1)
    d_r = np.concatenate([d_u, np.zeros_like(gv)], axis=-1)
    return (
        [np.concatenate([d_gq2, zq], axis=-1), np.concatenate([d_gr, zr], axis=-2)],
        [np.concatenate([d_q, zq], axis=-1), np.concatenate([d_r, zr], axis=-2)],
        np.concatenate([np.zeros_like(gx), np.matmul(d_gq2, gv)], axis=-1),
    )


# --------------------------------------------------------------------------- cond


@adjoint(
    cond_cotangent,
    python_floats=(),
    nondiff=("ans_",),
    shape_only=("ans_",),
    domain={"x": distinct_singular_values},
    shapes={
        "matrix": "(),(),(3,3)",
        "tall": "(),(),(4,3)",
        "batch": "(2,),(2,),(2,3,3)",
    },
    params={"p": [None, 2, -2]},
    accepts={
        "p": (
            (None, 2, -2),
            "a higher order through np.linalg.cond is written for the 2-norm (p=None, 2 "
            "or -2)",
        )
    },
)
def cond_cotangent_adjoint(g, ans, ct, ans_, x, p=None):
    # ans = U diag(c) V^T (x's thin factors), c = first * c_hi + last * c_lo: for p = -2
    # c_hi = -ct lo / hi^2, c_lo = ct / hi, else c_hi = ct / lo, c_lo = -ct hi / lo^2 (hi,
    # lo: the extreme singular values); x gets svd's cotangent for the factors and c
    e = np.linalg.svd(x, full_matrices=False)
    u = e[0]
    vh = e[2]
    s = require_nonzero(e[1], "np.linalg.cond at a zero singular value")
    s = require_distinct(s, "np.linalg.cond at repeated singular values")
    neg = float(p == -2)
    one = np.ones_like(s)
    count = np.cumsum(one, axis=-1)
    first = (count == 1.0) * one
    last = (count == s.shape[-1]) * one
    hi = s[..., 0]
    lo = s[..., -1]
    c_hi = neg * (-ct * lo / (hi * hi)) + (1.0 - neg) * ct / lo
    c_lo = neg * ct / hi - (1.0 - neg) * ct * hi / (lo * lo)
    c = first * np.expand_dims(c_hi, -1) + last * np.expand_dims(c_lo, -1)
    g_v = np.matmul(g, mT(vh))
    dc = np.sum(u * g_v, axis=-2)
    dh = np.sum(dc * first, axis=-1)
    dl = np.sum(dc * last, axis=-1)
    d_ct = neg * (dl / hi - dh * lo / (hi * hi)) + (1.0 - neg) * (
        dh / lo - dl * hi / (lo * lo)
    )
    d_hi = neg * ct * (2.0 * dh * lo / hi - dl) / (hi * hi) - (1.0 - neg) * dl * ct / (
        lo * lo
    )
    d_lo = -neg * dh * ct / (hi * hi) + (1.0 - neg) * ct * (2.0 * dl * hi / lo - dh) / (
        lo * lo
    )
    ds = first * np.expand_dims(d_hi, -1) + last * np.expand_dims(d_lo, -1)
    d_u = g_v * np.expand_dims(c, -2)
    d_vh = np.expand_dims(c, -1) * np.matmul(mT(u), g)
    # (a 0-d ct: numpy 1.26 makes float32 scalar arithmetic float64; ct's dtype back)
    return unbroadcast(d_ct, ct), svd_cotangent([d_u, ds, d_vh], [u, s, vh], x, False)


# --------------------------------------------------------------------------- eigvals


def _spectrum(n: int) -> np.ndarray:
    return 1.0 + 1.5 * np.arange(n)


def real_spectrum(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """The eigenvalues ``1, 2.5, 4, ...`` (those of :func:`similar_to_spectrum`'s matrices
    up to 0.2, as ``eigvals_cotangent`` matches them)."""
    return np.broadcast_to(_spectrum(shape[-1]), shape).copy()


def similar_to_spectrum(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Non-symmetric matrices ``Q diag(w) Q^-1`` (``Q`` well-conditioned) with real
    eigenvalues ``w`` within 0.2 of ``1, 2.5, 4, ...``."""
    n = shape[-1]
    q = rng.standard_normal(shape) + n * np.eye(n)
    w = _spectrum(n) + rng.uniform(0, 0.2, size=shape[:-1])
    return np.linalg.solve(
        np.swapaxes(q, -1, -2), np.swapaxes(q * w[..., None, :], -1, -2)
    )


@adjoint(
    eigvals_cotangent,
    python_floats=(),
    domain={"w": real_spectrum, "a": similar_to_spectrum},
    shapes={"matrix": "(3,),(3,),(3,3)", "batch": "(2,3),(2,3),(2,3,3)"},
)
def eigvals_cotangent_adjoint(g, ans, ct, w, a):
    # ans = V^-T diag(ct) V^T with V eig(a)'s vectors matched to w (w is read for that
    # order alone: it gets zeros); invariant to V's column scales, so a gets eig's
    # cotangent V^-T (F * (V^T d_V)) V^T of the vectors' cotangent d_V, unprojected
    e = np.linalg.eig(a)
    at = np.expand_dims(
        np.argmin(np.abs(np.expand_dims(w, -1) - np.expand_dims(e[0], -2)), axis=-1), -2
    )
    v = np.take_along_axis(e[1], at, axis=-1)
    lam = require_real(np.take_along_axis(e[0], at[..., 0, :], axis=-1), "eigvals")
    lam = require_distinct(lam, "np.linalg.eigvals at repeated eigenvalues")
    vi = np.linalg.inv(v)
    eye = np.triu(np.tril(np.ones_like(vi)))
    d = eye * np.expand_dims(ct, -2)
    gv = np.matmul(g, v)
    vtd = np.matmul(mT(vi), d)
    d_v = np.matmul(mT(g), vtd) - np.matmul(
        np.matmul(vtd, mT(v)), np.matmul(mT(g), mT(vi))
    )
    gap = np.expand_dims(lam, -2) - np.expand_dims(lam, -1)
    f = gap / (gap * gap + eye)
    d_a = np.matmul(np.matmul(mT(vi), f * np.matmul(mT(v), d_v)), mT(v))
    return np.sum(mT(vi) * gv, axis=-2), np.zeros_like(w), d_a


# --------------------------------------------------------------------------- eig


def spectrum_and_invertible_vectors(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> np.ndarray:
    """``eig``'s pair as its helper gets it: real eigenvalues at least 1 apart and
    well-conditioned vectors (``N(0, 1) + n I``)."""
    if len(shape) >= 2 and shape[-1] == shape[-2]:
        return well_conditioned(rng, shape)
    return spectrum_and_vectors(rng, shape)


@adjoint(
    eig_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    sequence=("ct", "wv"),
    domain={"wv": spectrum_and_invertible_vectors},
    shapes={
        "matrix": "[(3,),(3,3)],[(3,),(3,3)],(3,3)",
        "batch": "[(2,3),(2,3,3)],[(2,3),(2,3,3)],(2,3,3)",
    },
)
def eig_cotangent_adjoint(g, ans, ct, wv, a):
    # real eigenvalues: ans = V^-T B V^T, B = diag(c_w) + F * (V^T P), P = c_v - V
    # diag(beta), beta_k = <c_v_k, V_k> (the projection for LAPACK's unit norm), F_ij =
    # 1 / (w_j - w_i) off the diagonal
    w = require_real(wv[0], "np.linalg.eig")
    w = require_distinct(w, "np.linalg.eig's eigenvectors at repeated eigenvalues")
    v = wv[1]
    cw = zeros_if_none(ct[0], w)
    cv = zeros_if_none(ct[1], v)
    eye = np.triu(np.tril(np.ones_like(v)))
    gap = np.expand_dims(w, -2) - np.expand_dims(w, -1)
    f = gap / (gap * gap + eye)
    vi = np.linalg.inv(v)
    beta = np.expand_dims(np.sum(cv * v, axis=-2), -2)
    p = cv - v * beta
    vtp = np.matmul(mT(v), p)
    b = eye * np.expand_dims(cw, -1) + f * vtp
    h = np.matmul(np.matmul(vi, g), v)
    k = f * h
    q = h * vtp * f * f
    d_p = np.matmul(v, k)
    d_beta = -np.expand_dims(np.sum(d_p * v, axis=-2), -2)
    d_v = np.matmul(p, mT(k)) - d_p * beta + cv * d_beta
    d_v = d_v + np.matmul(np.matmul(mT(g), mT(vi)), b)
    d_v = d_v - np.matmul(
        np.matmul(np.matmul(mT(vi), b), mT(v)), np.matmul(mT(g), mT(vi))
    )
    d_cv = d_p + v * d_beta
    d_w = np.sum(q, axis=-1) - np.sum(q, axis=-2)
    return [np.sum(h * eye, axis=-1), d_cv], [d_w, d_v]
