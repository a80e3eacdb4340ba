"""Helpers of the ``numpy.linalg`` rules (``rules/linalg.py``): norms, determinants, solves,
inverses, decompositions, least squares, matrix powers and condition numbers.  For real
matrices unless a docstring says otherwise (conventions in :mod:`srcgrad.runtime.arrays`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import (
    _axis,
    _conj_sign,
    _fit,
    _is_int,
    _mT,
    as_array,
    normalize_axes,
)
from srcgrad.runtime.broadcasting import expand_like, unbroadcast
from srcgrad.runtime.reductions import prod_others

__all__ = [
    "cholesky_cotangent",
    "cond_cotangent",
    "det_cotangent",
    "eig_cotangent",
    "eigh_cotangent",
    "eigvals_cotangent",
    "eigvalsh_cotangent",
    "lstsq_cotangent_a",
    "lstsq_cotangent_b",
    "matrix_norm_cotangent",
    "matrix_power_cotangent",
    "norm_cotangent",
    "pinv_cotangent",
    "qr_cotangent",
    "slogdet_cotangent",
    "solve_cotangent_a",
    "solve_cotangent_b",
    "svd_cotangent",
    "svdvals_cotangent",
    "tensorinv_cotangent",
    "tensorsolve_cotangent_a",
    "tensorsolve_cotangent_b",
    "vector_norm_cotangent",
]

Array = Any


# --------------------------------------------------------------------------- norms


def _safe_div(xp: Any, num: Array, den: Array) -> Array:
    """``num / den``, 0 where ``den`` is 0."""
    zero = den == 0
    return xp.where(zero, 0, num / xp.where(zero, 1, den))


def _vector_norm_cot(
    xp: Any, g: Array, x: Array, ans: Array, ord: Any, axes: Any, keepdims: bool
) -> Array:
    """Cotangent of a vector norm of ``x`` over ``axes`` (``None``: every axis)."""
    big = expand_like(g, x, axis=axes, keepdims=keepdims)
    norm = expand_like(ans, x, axis=axes, keepdims=keepdims)
    mag = xp.abs(x)
    if ord is None or ord == 2:
        return _safe_div(xp, big * xp.conj(x), norm)
    if ord == 0:
        return xp.zeros_like(x)
    if ord == 1:
        return big * _conj_sign(xp, x)
    if ord in (math.inf, -math.inf):
        hits = (mag == norm.real).astype(mag.dtype)
        share = hits / xp.sum(hits, axis=axes, keepdims=True)
        return big * share * _conj_sign(xp, x)
    p = float(ord)
    return big * _conj_sign(xp, x) * _safe_div(xp, mag ** (p - 1), norm.real ** (p - 1))


def _matrix_norm_cot(
    xp: Any,
    g: Array,
    x: Array,
    ans: Array,
    ord: Any,
    row: int,
    col: int,
    keepdims: bool,
) -> Array:
    """Cotangent of a matrix norm of ``x`` over the axes ``(row, col)``."""
    axes = (row, col)
    big = expand_like(g, x, axis=axes, keepdims=keepdims)
    norm = expand_like(ans, x, axis=axes, keepdims=keepdims)
    if ord is None or ord == "fro" or ord == "f":
        return _safe_div(xp, big * xp.conj(x), norm)
    if ord in ("nuc", 2, -2):
        moved = xp.moveaxis(x, axes, (-2, -1))
        u, s, vh = xp.linalg.svd(moved, full_matrices=False)
        if ord == "nuc":
            uv = u @ vh
        else:
            k = 0 if ord == 2 else s.shape[-1] - 1
            uv = u[..., :, k : k + 1] @ vh[..., k : k + 1, :]
        return big * xp.conj(xp.moveaxis(uv, (-2, -1), axes))
    mag = xp.abs(x)
    if ord in (1, -1):  # the extreme column sum (sum over rows, extremum over columns)
        sums = xp.sum(mag, axis=row, keepdims=True)
        along = col
    elif ord in (math.inf, -math.inf):  # the extreme row sum
        sums = xp.sum(mag, axis=col, keepdims=True)
        along = row
    else:
        raise ValueError(f"invalid norm order {ord!r} for matrices")
    hits = (sums == norm.real).astype(mag.dtype)
    share = hits / xp.sum(hits, axis=along, keepdims=True)
    return big * share * _conj_sign(xp, x)


def norm_cotangent(
    g: Array,
    x: Array,
    ans: Array,
    ord: Any = None,
    axis: Any = None,
    keepdims: bool = False,
) -> Array:
    """Cotangent of ``np.linalg.norm(x, ord, axis, keepdims)`` for every ``ord`` numpy accepts.

    Vector norms (``axis`` an int, or ``axis=None`` on a 1-D ``x``, or ``ord=None`` on any
    ``x``): 2 (``None``), 1, ``inf``, ``-inf``, 0 (zero gradient) and any other real ``p``.
    Matrix norms (``axis`` a pair, or ``axis=None`` on a 2-D ``x``): ``'fro'``, ``'nuc'``, 2,
    -2, 1, -1, ``inf``, ``-inf``.  Ties (several maxima) share the cotangent evenly; the
    2-norm's cotangent is 0 at ``x = 0``.  Complex ``x`` gets ``conj`` factors (autograd).

    Args:
        g: the cotangent of the norm.
        x: the operand.
        ans: the forward result.
        ord: the forward ``ord``.
        axis: the forward ``axis``.
        keepdims: the forward ``keepdims``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    x = as_array(x, g, ans)
    nd = x.ndim
    if axis is None:
        if ord is None:
            out = _vector_norm_cot(xp, g, x, ans, None, None, keepdims)
        elif nd == 1:
            out = _vector_norm_cot(xp, g, x, ans, ord, (0,), keepdims)
        elif nd == 2:
            out = _matrix_norm_cot(xp, g, x, ans, ord, 0, 1, keepdims)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    elif _is_int(axis) or len(axis) == 1:
        ax = _axis(axis if _is_int(axis) else axis[0], nd)
        out = _vector_norm_cot(xp, g, x, ans, ord, (ax,), keepdims)
    else:
        row, col = (_axis(a, nd) for a in axis)
        out = _matrix_norm_cot(xp, g, x, ans, ord, row, col, keepdims)
    return _fit(out, x)


def vector_norm_cotangent(
    g: Array,
    x: Array,
    ans: Array,
    axis: Any = None,
    keepdims: bool = False,
    ord: Any = 2,
) -> Array:
    """Cotangent of ``np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)``.

    ``axis=None`` or a tuple treats those axes as one flattened vector.

    Args:
        g: the cotangent of the norm.
        x: the operand.
        ans: the forward result.
        axis: the forward ``axis``.
        keepdims: the forward ``keepdims``.
        ord: the forward ``ord``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    x = as_array(x, g, ans)
    axes = None if axis is None else normalize_axes(axis, x.ndim)
    return _fit(_vector_norm_cot(xp, g, x, ans, ord, axes, keepdims), x)


def matrix_norm_cotangent(
    g: Array, x: Array, ans: Array, keepdims: bool = False, ord: Any = "fro"
) -> Array:
    """Cotangent of ``np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)`` (last two axes).

    Args:
        g: the cotangent of the norm.
        x: the operand (a stack of matrices).
        ans: the forward result.
        keepdims: the forward ``keepdims``.
        ord: the forward ``ord``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, x, ans)
    nd = x.ndim
    return _fit(_matrix_norm_cot(xp, g, x, ans, ord, nd - 2, nd - 1, keepdims), x)


# --------------------------------------------------------------------------- small pieces


def _eye_like(xp: Any, n: int, like: Array) -> Array:
    return xp.eye(n, dtype=like.dtype)


def _triangle_form(xp: Any, grad: Array, uplo: str = "L") -> Array:
    """The gradient w.r.t. a matrix of which only one triangle is read (LAPACK ``uplo``).

    ``grad`` is the gradient for symmetric perturbations; the function really depends on the
    triangle ``T`` only (the matrix used is ``T + T^T - diag(T)``), so the off-diagonal
    entries of the triangle get ``grad + grad^T`` and the other triangle gets nothing.
    """
    n = grad.shape[-1]
    eye = _eye_like(xp, n, grad)
    both = grad + _mT(grad)
    side = xp.tril(both, -1) if str(uplo).upper() == "L" else xp.triu(both, 1)
    return side + grad * eye


def _diag_embed(xp: Any, v: Array) -> Array:
    n = v.shape[-1]
    return xp.expand_dims(v, -1) * _eye_like(xp, n, v)


def _off_diagonal_inverse(xp: Any, d: Array) -> Array:
    """``1 / d`` off the diagonal, 0 on it (``d`` is a stack of square matrices)."""
    n = d.shape[-1]
    eye = xp.eye(n, dtype=bool)
    return xp.where(eye, 0, 1 / xp.where(eye, 1, d))


# --------------------------------------------------------------------------- solves


def det_cotangent(g: Array, ans: Array, a: Array) -> Array:
    """Cotangent of ``np.linalg.det(a)``: ``g`` times the adjugate's transpose.

    The adjugate is computed from an SVD, ``adj(A) = det(U) det(Vh) V diag(prod_{j != i} s_j)
    U^H``, so the cotangent stays finite (and exact) for singular matrices, where the usual
    ``det(A) inv(A)^T`` fails.  Real or complex (holomorphic: no conjugation).

    Args:
        g: the cotangent of the determinant(s).
        ans: the forward result.
        a: the operand (a stack of square matrices).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    u, s, vh = xp.linalg.svd(a)
    others = prod_others(s, -1)
    phase = xp.linalg.det(u) * xp.linalg.det(vh)
    adj = (_mT(xp.conj(vh)) * xp.expand_dims(others, -2)) @ _mT(xp.conj(u))
    coef = xp.expand_dims(xp.asarray(g) * phase, (-2, -1))
    return _fit(coef * _mT(adj), a)


def slogdet_cotangent(g: Sequence[Any], ans: Sequence[Array], a: Array) -> Array:
    """Cotangent of ``sign, logabsdet = np.linalg.slogdet(a)``.

    ``logabsdet`` contributes ``g_logabsdet * inv(a)^T``; for complex ``a`` the sign (a
    phase) moves too and contributes ``i Im(g_sign sign) inv(a)^T``.  A real sign is locally
    constant.

    Args:
        g: ``(cotangent of sign, cotangent of logabsdet)``; either may be ``None``.
        ans: the forward ``(sign, logabsdet)``.
        a: the operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    g_sign, g_log = g
    sign, logabs = ans
    xp = namespace(a, sign, logabs)
    coef = xp.zeros_like(logabs) if g_log is None else g_log
    if a.dtype.kind == "c" and g_sign is not None:
        coef = coef + 1j * xp.imag(g_sign * sign)
    inv_t = _mT(xp.linalg.inv(a))
    return _fit(xp.expand_dims(coef, (-2, -1)) * inv_t, a)


def _solve_cotangent(xp: Any, g: Array, a: Array, b: Array) -> tuple[Array, bool]:
    vector = b.ndim == 1
    rhs = xp.expand_dims(g, -1) if vector else g
    return xp.linalg.solve(_mT(a), rhs), vector


def solve_cotangent_b(g: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``np.linalg.solve(a, b)`` for ``b``: ``solve(a^T, g)``, summed to ``b``.

    numpy 2's rule applies: ``b`` is a vector only when it is 1-D.

    Args:
        g: the cotangent of the solution.
        a: the matrix (a stack of square matrices).
        b: the right-hand side.

    Returns:
        An array shaped and typed like ``b``.
    """
    xp = namespace(g, a, b)
    z, vector = _solve_cotangent(xp, g, a, b)
    if vector:
        z = z[..., 0]
    return unbroadcast(z, b)


def solve_cotangent_a(g: Array, ans: Array, a: Array, b: Array) -> Array:
    """Cotangent of ``x = np.linalg.solve(a, b)`` for ``a``: ``-solve(a^T, g) x^T``.

    Args:
        g: the cotangent of the solution.
        ans: the forward solution ``x``.
        a: the matrix.
        b: the right-hand side.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a, b)
    z, vector = _solve_cotangent(xp, g, a, b)
    x = xp.expand_dims(ans, -1) if vector else ans
    return unbroadcast(-(z @ _mT(x)), a)


def _pinv_cotangent(xp: Any, g: Array, a: Array, p: Array) -> Array:
    """Cotangent of ``p = pinv(a)`` for a full-rank ``a`` (real)."""
    m, n = a.shape[-2], a.shape[-1]
    eye_m = _eye_like(xp, m, p)
    eye_n = _eye_like(xp, n, p)
    pt = _mT(p)
    gt = _mT(g)
    return (
        -(pt @ g @ pt)
        + (eye_m - a @ p) @ gt @ (p @ pt)
        + (pt @ p) @ gt @ (eye_n - p @ a)
    )


def pinv_cotangent(g: Array, ans: Array, a: Array, hermitian: bool = False) -> Array:
    """Cotangent of ``np.linalg.pinv(a, hermitian=hermitian)`` for a full-rank real ``a``.

    Args:
        g: the cotangent of the pseudo-inverse.
        ans: the forward result.
        a: the operand (a stack of matrices).
        hermitian: the forward flag (then only the lower triangle of ``a`` is read).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    if not hermitian:
        return _fit(_pinv_cotangent(xp, g, a, ans), a)
    low = xp.tril(a, -1)
    used = (
        low + _mT(low) + a * _eye_like(xp, a.shape[-1], a)
    )  # the matrix numpy inverts
    return _fit(_triangle_form(xp, _pinv_cotangent(xp, g, used, ans), "L"), a)


# --------------------------------------------------------------------------- decompositions


def cholesky_cotangent(g: Array, ans: Array, a: Array, upper: bool = False) -> Array:
    """Cotangent of ``np.linalg.cholesky(a, upper=upper)`` (real symmetric positive-definite).

    Murray's formula (arXiv:1602.07527) gives the gradient for symmetric perturbations,
    ``S = L^-T Phi(L^T g) L^-1`` symmetrised; LAPACK reads one triangle of ``a`` only (the
    lower one, or the upper one for ``upper=True``), so that triangle gets the cotangent.

    Args:
        g: the cotangent of the factor.
        ans: the forward factor (``L``, or ``U = L^T`` for ``upper=True``).
        a: the operand.
        upper: the forward flag.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    low = _mT(ans) if upper else ans
    g_low = _mT(g) if upper else g
    n = low.shape[-1]
    eye = _eye_like(xp, n, low)
    inner = _mT(low) @ g_low
    phi = xp.tril(inner) - 0.5 * inner * eye
    low_inv = xp.linalg.inv(low)
    s = _mT(low_inv) @ phi @ low_inv
    sym = (s + _mT(s)) / 2
    return _fit(_triangle_form(xp, sym, "U" if upper else "L"), a)


def eigh_cotangent(
    g: Sequence[Any], ans: Sequence[Array], a: Array, UPLO: str = "L"
) -> Array:
    """Cotangent of ``w, v = np.linalg.eigh(a, UPLO)`` (real symmetric, distinct eigenvalues).

    ``v (diag(g_w) + F * (v^T g_v)) v^T`` with ``F_ij = 1 / (w_j - w_i)`` off the diagonal,
    moved onto the triangle LAPACK reads.  Without a cotangent for ``v`` the eigenvector term
    is skipped, so functions of the eigenvalues alone stay finite at repeated eigenvalues.

    Args:
        g: ``(cotangent of w, cotangent of v)``; either may be ``None``.
        ans: the forward ``(w, v)``.
        a: the operand.
        UPLO: the forward ``UPLO``.

    Returns:
        An array shaped and typed like ``a``.
    """
    g_w, g_v = g
    w, v = ans
    xp = namespace(a, w, v)
    inner = xp.zeros(v.shape, dtype=v.dtype) if g_w is None else _diag_embed(xp, g_w)
    if g_v is not None:
        f = _off_diagonal_inverse(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = inner + f * (_mT(v) @ g_v)
    return _fit(_triangle_form(xp, v @ inner @ _mT(v), UPLO), a)


def eigvalsh_cotangent(g: Array, a: Array, UPLO: str = "L") -> Array:
    """Cotangent of ``np.linalg.eigvalsh(a, UPLO)``: ``v diag(g) v^T`` on the read triangle.

    Args:
        g: the cotangent of the eigenvalues.
        a: the operand.
        UPLO: the forward ``UPLO``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    _, v = xp.linalg.eigh(a, UPLO=UPLO)
    return _fit(_triangle_form(xp, (v * xp.expand_dims(g, -2)) @ _mT(v), UPLO), a)


def _svd_core(
    xp: Any, u: Array, s: Array, vh: Array, gu: Any, gs: Any, gvh: Any, a: Array
) -> Array:
    """Cotangent of the thin SVD ``a = u diag(s) vh`` (real, distinct nonzero s)."""
    m, n = a.shape[-2], a.shape[-1]
    k = s.shape[-1]
    eye = _eye_like(xp, k, s)
    v = _mT(vh)
    out = xp.zeros(a.shape, dtype=u.dtype)
    inner = xp.zeros(s.shape + (k,), dtype=u.dtype)
    if gs is not None:
        inner = inner + xp.expand_dims(gs, -1) * eye
    s_row = xp.expand_dims(s, -2)
    s_col = xp.expand_dims(s, -1)
    f = _off_diagonal_inverse(xp, s_row**2 - s_col**2)
    if gu is not None:
        utgu = _mT(u) @ gu
        inner = inner + (f * (utgu - _mT(utgu))) * s_row
    if gvh is not None:
        gv = _mT(gvh)
        vtgv = _mT(v) @ gv
        inner = inner + s_col * (f * (vtgv - _mT(vtgv)))
    out = u @ inner @ vh
    if gu is not None and m > k:
        out = out + (gu - u @ (_mT(u) @ gu)) @ (_mT(v) / s_col)
    if gvh is not None and n > k:
        gv = _mT(gvh)
        out = out + (u / s_row) @ _mT(gv - v @ (_mT(v) @ gv))
    return out


def svd_cotangent(
    g: Any,
    ans: Any,
    a: Array,
    full_matrices: bool = True,
    compute_uv: bool = True,
    hermitian: bool = False,
) -> Array:
    """Cotangent of ``np.linalg.svd(a, full_matrices, compute_uv, hermitian)`` (real ``a``).

    Distinct, nonzero singular values are assumed where the singular vectors get a cotangent
    (Townsend's formula, with the extra terms for non-square ``a``).  With
    ``full_matrices=True`` the columns beyond ``min(m, n)`` are not determined by ``a``, so
    they may not carry a cotangent.  ``compute_uv=False`` (a single output, ``s``) needs the
    vectors only: ``u diag(g) vh``.

    Args:
        g: ``(g_u, g_s, g_vh)`` (entries may be ``None``), or ``g_s`` when
            ``compute_uv=False``.
        ans: the forward ``(u, s, vh)``, or ``s``.
        a: the operand.
        full_matrices: the forward flag.
        compute_uv: the forward flag.
        hermitian: the forward flag (then only the lower triangle of ``a`` is read).

    Returns:
        An array shaped and typed like ``a``.

    Raises:
        NotImplementedError: for a cotangent on the undetermined columns.
    """
    xp = namespace(a, *(x for x in (ans if compute_uv else (ans,))))
    if not compute_uv:
        u, s, vh = xp.linalg.svd(a, full_matrices=False, hermitian=hermitian)
        out = (u * xp.expand_dims(g, -2)) @ vh
    else:
        u, s, vh = ans
        gu, gs, gvh = g
        m, n = a.shape[-2], a.shape[-1]
        k = min(m, n)
        if full_matrices and m != n:
            if (gu is not None and m > k) or (gvh is not None and n > k):
                raise NotImplementedError(
                    "the extra singular vectors of np.linalg.svd(..., full_matrices=True) "
                    "are not determined by the matrix, so they have no gradient; "
                    "hint: pass full_matrices=False"
                )
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = None if gu is None else gu[..., :, :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        out = _svd_core(xp, u, s, vh, gu, gs, gvh, a)
    if hermitian:
        out = _triangle_form(xp, out, "L")
    return _fit(out, a)


def svdvals_cotangent(g: Array, x: Array) -> Array:
    """Cotangent of ``np.linalg.svdvals(x)``: ``u diag(g) vh``."""
    return svd_cotangent(g, None, x, full_matrices=False, compute_uv=False)


def _syml(xp: Any, m: Array) -> Array:
    """The symmetric matrix with ``m``'s lower triangle (``copyltu``)."""
    low = xp.tril(m, -1)
    n = m.shape[-1]
    return low + _mT(low) + m * _eye_like(xp, n, m)


def _qr_tall(xp: Any, q: Array, r: Array, gq: Any, gr: Any) -> Array:
    """Cotangent of the reduced QR of a tall or square matrix (m >= n)."""
    gq = xp.zeros(q.shape, dtype=q.dtype) if gq is None else gq
    gr = xp.zeros(r.shape, dtype=r.dtype) if gr is None else gr
    m_ = r @ _mT(gr) - _mT(gq) @ q
    b = gq + q @ _syml(xp, m_)
    return _mT(xp.linalg.solve(r, _mT(b)))


def qr_cotangent(g: Any, ans: Any, a: Array, mode: str = "reduced") -> Array:
    """Cotangent of ``np.linalg.qr(a, mode)`` (real; ``R`` with a nonzero diagonal).

    Tall and square matrices use ``(g_Q + Q copyltu(M)) R^-T`` with ``M = R g_R^T - g_Q^T Q``;
    wide matrices split ``a = [X | Y]`` with ``X = Q U`` square.  ``mode='r'`` returns ``R``
    only (a single output); ``mode='complete'`` on a tall matrix has undetermined columns of
    ``Q``, which may not carry a cotangent.

    Args:
        g: ``(g_Q, g_R)`` (entries may be ``None``), or ``g_R`` for ``mode='r'``.
        ans: the forward ``(Q, R)``, or ``R``.
        a: the operand.
        mode: the forward mode: ``"reduced"``, ``"complete"`` or ``"r"``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(a)
    m, n = a.shape[-2], a.shape[-1]
    if mode == "r":
        q, r = xp.linalg.qr(a)
        gq, gr = None, g
    elif mode in ("reduced", "complete"):
        q, r = ans
        gq, gr = g
        if mode == "complete" and m > n:
            if gq is not None:
                raise NotImplementedError(
                    "the extra columns of Q from np.linalg.qr(..., mode='complete') are not "
                    "determined by the matrix; hint: use mode='reduced'"
                )
            q, r = q[..., :, :n], r[..., :n, :]
            gr = None if gr is None else gr[..., :n, :]
    else:
        raise NotImplementedError(
            f"srcgrad cannot differentiate np.linalg.qr(mode={mode!r})"
        )
    if m >= n:
        return _fit(_qr_tall(xp, q, r, gq, gr), a)
    u = r[..., :, :m]
    y = a[..., :, m:]
    gu = None if gr is None else gr[..., :, :m]
    gv = None if gr is None else gr[..., :, m:]
    gq2 = gq
    if gv is not None:
        extra = y @ _mT(gv)
        gq2 = extra if gq is None else gq + extra
    gx = _qr_tall(xp, q, u, gq2, gu)
    gy = xp.zeros(y.shape, dtype=a.dtype) if gv is None else q @ gv
    return _fit(xp.concatenate([gx, gy], axis=-1), a)


def _eig_core(xp: Any, w: Array, v: Array, gw: Any, gv: Any, a: Array) -> Array:
    n = w.shape[-1]
    inner = xp.zeros(v.shape, dtype=v.dtype if v.dtype.kind == "c" else w.dtype)
    if gw is not None:
        inner = inner + _diag_embed(xp, gw)
    if gv is not None:
        # LAPACK's gauge: unit norm and the largest component real; project the cotangent
        beta = xp.sum(gv * v, axis=-2)
        pivot = xp.argmax(xp.abs(v), axis=-2)
        at = xp.expand_dims(pivot, -2)
        vp = xp.real(xp.take_along_axis(v, at, axis=-2))[..., 0, :]
        onehot = xp.expand_dims(xp.arange(n), -1) == at
        gv2 = (
            gv
            - xp.expand_dims(xp.real(beta), -2) * xp.conj(v)
            - 1j * xp.expand_dims(xp.imag(beta) / vp, -2) * onehot
        )
        f = _off_diagonal_inverse(xp, xp.expand_dims(w, -2) - xp.expand_dims(w, -1))
        inner = inner + f * (_mT(v) @ gv2)
    out = xp.linalg.solve(_mT(v), inner @ _mT(v))
    return _fit(out, a)


def eig_cotangent(g: Sequence[Any], ans: Sequence[Array], a: Array) -> Array:
    """Cotangent of ``w, v = np.linalg.eig(a)`` (distinct eigenvalues; real or complex ``a``).

    ``v^-T (diag(g_w) + F * (v^T g_v')) v^T`` with ``F_jk = 1 / (w_k - w_j)``, where ``g_v'``
    is ``g_v`` projected for LAPACK's normalisation of each eigenvector (unit norm, largest
    component real), so the result is the derivative of exactly what numpy returns.

    Args:
        g: ``(cotangent of w, cotangent of v)``; either may be ``None``.
        ans: the forward ``(w, v)``.
        a: the operand.

    Returns:
        An array shaped and typed like ``a`` (the real part for a real ``a``).
    """
    w, v = ans
    xp = namespace(a, w, v)
    return _eig_core(xp, w, v, g[0], g[1], a)


def eigvals_cotangent(g: Array, ans: Array, a: Array) -> Array:
    """Cotangent of ``np.linalg.eigvals(a)``: ``v^-T diag(g) v^T`` (distinct eigenvalues).

    The eigenvectors are recomputed with ``eig`` and matched to ``ans`` by value.

    Args:
        g: the cotangent of the eigenvalues.
        ans: the forward eigenvalues.
        a: the operand.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, ans, a)
    w, v = xp.linalg.eig(a)
    match = xp.argmin(xp.abs(xp.expand_dims(ans, -1) - xp.expand_dims(w, -2)), axis=-1)
    v = xp.take_along_axis(v, xp.expand_dims(match, -2), axis=-1)
    return _eig_core(xp, ans, v, g, None, a)


# --------------------------------------------------------------------------- tensors and powers


def _lstsq_parts(ans: Sequence[Any], a: Array, b: Array, gx: Any) -> tuple:
    """What both lstsq cotangents read: the namespace, whether ``b`` is a vector, ``b``, ``x``
    and ``g_x`` as matrices (a vector as one column; ``g_x`` may be None), and the residuals.
    """
    x, res, _, _ = ans
    xp = namespace(a, b, x)
    vector = b.ndim == 1
    bm, xm = (xp.expand_dims(b, -1), xp.expand_dims(x, -1)) if vector else (b, x)
    gxm = xp.expand_dims(gx, -1) if vector and gx is not None else gx
    return xp, vector, bm, xm, gxm, res


def lstsq_cotangent_a(
    g: Sequence[Any], ans: Sequence[Any], a: Array, b: Array
) -> Array:
    """Cotangent of ``x, residuals, rank, s = np.linalg.lstsq(a, b)`` for ``a`` (full rank).

    ``x = pinv(a) b``; the residuals ``|b - a x|^2`` (present for tall full-rank ``a``) add
    ``-2 r (g_res x)^T``; the singular values add ``u diag(g_s) vh``.

    Args:
        g: one cotangent per output (``None`` for unused outputs; ``rank`` never has one).
        ans: the forward outputs.
        a: the matrix.
        b: the right-hand side(s).

    Returns:
        An array shaped and typed like ``a``.
    """
    gx, gres, _, gs = g
    xp, _, bm, xm, gxm, res = _lstsq_parts(ans, a, b, gx)
    out = xp.zeros(a.shape, dtype=xm.dtype)
    if gx is not None:
        p = xp.linalg.pinv(a)
        out = out + _pinv_cotangent(xp, gxm @ _mT(bm), a, p)
    if gres is not None and res.shape[-1] > 0:
        r = bm - a @ xm
        out = out - 2 * (r * gres) @ _mT(xm)
    if gs is not None:
        u, _, vh = xp.linalg.svd(a, full_matrices=False)
        out = out + (u * xp.expand_dims(gs, -2)) @ vh
    return _fit(out, a)


def lstsq_cotangent_b(
    g: Sequence[Any], ans: Sequence[Any], a: Array, b: Array
) -> Array:
    """Cotangent of ``np.linalg.lstsq(a, b)`` for ``b``: ``pinv(a)^T g_x + 2 r g_res``, shaped
    and typed like ``b`` (see :func:`lstsq_cotangent_a`)."""
    gx, gres, _, _ = g
    xp, vector, bm, xm, gxm, res = _lstsq_parts(ans, a, b, gx)
    out = xp.zeros(bm.shape, dtype=xm.dtype)
    if gx is not None:
        out = out + _mT(xp.linalg.pinv(a)) @ gxm
    if gres is not None and res.shape[-1] > 0:
        out = out + 2 * (bm - a @ xm) * gres
    return _fit(out[..., 0] if vector else out, b)


def matrix_power_cotangent(g: Array, a: Array, n: int) -> Array:
    """Cotangent of ``np.linalg.matrix_power(a, n)`` for any integer ``n``.

    ``sum_k (a^T)^k g (a^T)^(n-1-k)`` for ``n > 0``; a negative power goes through the inverse.

    Args:
        g: the cotangent of the power.
        a: the operand.
        n: the forward exponent.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = namespace(g, a)
    n = operator.index(n)
    if n == 0:
        return xp.zeros_like(a)
    base = a if n > 0 else xp.linalg.inv(a)
    k = abs(n)
    powers = [None]
    for _ in range(1, k):
        powers.append(base if powers[-1] is None else powers[-1] @ base)
    total = None
    for i in range(k):
        left, right = powers[i], powers[k - 1 - i]
        term = g if left is None else _mT(left) @ g
        term = term if right is None else term @ _mT(right)
        total = term if total is None else total + term
    if n < 0:
        total = -(_mT(base) @ total @ _mT(base))
    return _fit(total, a)


def tensorinv_cotangent(g: Array, ans: Array, a: Array, ind: int = 2) -> Array:
    """Cotangent of ``np.linalg.tensorinv(a, ind)``: the matrix-inverse rule, reshaped."""
    xp = namespace(g, ans, a)
    rows = math.prod(a.shape[:ind])
    cols = math.prod(a.shape[ind:])
    y = xp.reshape(ans, (cols, rows))
    gm = xp.reshape(g, (cols, rows))
    return _fit(xp.reshape(-(_mT(y) @ gm @ _mT(y)), a.shape), a)


def _tensorsolve_layout(
    a: Array, b: Array, axes: Any
) -> tuple[list[int], tuple, int, int]:
    an = a.ndim
    order = list(range(an))
    if axes is not None:
        for k in axes:
            order.remove(k % an)
            order.insert(an, k % an)
    moved_shape = tuple(a.shape[i] for i in order)
    rows = math.prod(b.shape)
    cols = math.prod(moved_shape[b.ndim :])
    return order, moved_shape, rows, cols


def _tensorsolve_adjoint(xp: Any, g: Array, a: Array, b: Array, axes: Any) -> tuple:
    """``z = mat^-T g`` for ``a`` folded to the matrix ``mat`` of the solve (``z`` is the
    cotangent of ``b``, flat), with the axis order and shapes of that folding."""
    order, moved_shape, rows, cols = _tensorsolve_layout(a, b, axes)
    mat = xp.reshape(xp.transpose(a, order), (rows, cols))
    z = xp.linalg.solve(_mT(mat), xp.reshape(g, (cols,)))
    return z, order, moved_shape, cols


def tensorsolve_cotangent_b(
    g: Array, ans: Array, a: Array, b: Array, axes: Any = None
) -> Array:
    """Cotangent of ``np.linalg.tensorsolve(a, b, axes)`` for ``b``."""
    xp = namespace(g, ans, a, b)
    z, _, _, _ = _tensorsolve_adjoint(xp, g, a, b, axes)
    return _fit(xp.reshape(z, b.shape), b)


def tensorsolve_cotangent_a(
    g: Array, ans: Array, a: Array, b: Array, axes: Any = None
) -> Array:
    """Cotangent of ``np.linalg.tensorsolve(a, b, axes)`` for ``a``."""
    xp = namespace(g, ans, a, b)
    z, order, moved_shape, cols = _tensorsolve_adjoint(xp, g, a, b, axes)
    ga = -xp.expand_dims(z, -1) * xp.expand_dims(xp.reshape(ans, (cols,)), 0)
    inverse = [0] * a.ndim
    for i, p in enumerate(order):
        inverse[p] = i
    return _fit(xp.transpose(xp.reshape(ga, moved_shape), inverse), a)


def cond_cotangent(g: Array, ans: Array, x: Array, p: Any = None) -> Array:
    """Cotangent of ``np.linalg.cond(x, p)`` (real, invertible for ``p`` other than 2 / -2).

    Args:
        g: the cotangent of the condition number.
        ans: the forward result.
        x: the operand.
        p: the forward ``p``.

    Returns:
        An array shaped and typed like ``x``.
    """
    xp = namespace(g, ans, x)
    if p is None or p in (2, -2):
        u, s, vh = xp.linalg.svd(x, full_matrices=False)
        hi, lo = s[..., 0], s[..., -1]
        k = s.shape[-1]
        first = xp.expand_dims(xp.arange(k) == 0, 0)
        last = xp.expand_dims(xp.arange(k) == k - 1, 0)
        if p == -2:
            d_hi, d_lo = -g * lo / hi**2, g / hi
        else:
            d_hi, d_lo = g / lo, -g * hi / lo**2
        gs = xp.where(first, xp.expand_dims(d_hi, -1), 0) + xp.where(
            last, xp.expand_dims(d_lo, -1), 0
        )
        gs = xp.reshape(gs, s.shape)
        return _fit((u * xp.expand_dims(gs, -2)) @ vh, x)
    inv = xp.linalg.inv(x)
    axes = (-2, -1)
    n1 = xp.linalg.norm(x, ord=p, axis=axes)
    n2 = xp.linalg.norm(inv, ord=p, axis=axes)
    d_x = norm_cotangent(g * n2, x, n1, p, axes)
    d_inv = norm_cotangent(g * n1, inv, n2, p, axes)
    return _fit(d_x - _mT(inv) @ d_inv @ _mT(inv), x)
