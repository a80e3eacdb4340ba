"""Helpers of the ``scipy.linalg`` rules (``rules/scipy_linalg.py``): the matrix a structured
solver reads (a triangle, a symmetric matrix of one triangle, a diagonal, a band), Cholesky
factors and their solves, triangular solves, ``solve``/``inv`` with ``assume_a`` and the
matrix exponential's adjoint (conventions in :mod:`srcgrad.runtime.arrays`).

Every helper is device-agnostic: the solves go through ``xp.linalg.solve`` on the matrix
scipy reads (a triangle stays a triangle, so the answer is scipy's up to rounding), so the
cotangents run on cupy arrays too.  The forward calls stay the user's own scipy calls, which
take numpy arrays (cupy users call ``cupyx.scipy.linalg``, which has no rules here).
Real matrices only.
"""

from __future__ import annotations

from typing import Any

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import _fit, _mT, _shape_of, as_array
from srcgrad.runtime.broadcasting import unbroadcast
from srcgrad.runtime.linalg import cholesky_cotangent

__all__ = [
    "cho_factor_cotangent",
    "cho_solve_cotangent_b",
    "cho_solve_cotangent_c",
    "expm_cotangent",
    "scipy_cholesky_cotangent",
    "scipy_inv_cotangent",
    "scipy_solve_cotangent_a",
    "scipy_solve_cotangent_b",
    "solve_triangular_cotangent_a",
    "solve_triangular_cotangent_b",
]

Array = Any

# assume_a spellings scipy accepts, by the structure they stand for
_GENERAL = (None, "general", "gen")
_SYMMETRIC = ("symmetric", "sym", "hermitian", "her", "positive definite", "pos")
_TRIANGULAR = {"upper triangular": False, "lower triangular": True}


# --------------------------------------------------------------------------- read structure


def _real_namespace(*xs: Any) -> Any:
    """The arrays' namespace; complex data is refused (these cotangents are for real
    matrices: a complex one needs conjugates they do not take)."""
    for x in xs:
        if isinstance(x, (list, tuple)):
            _real_namespace(*x)
        elif getattr(getattr(x, "dtype", None), "kind", "") == "c" or isinstance(
            x, complex
        ):
            raise NotImplementedError(
                "srcgrad differentiates scipy.linalg's functions of real matrices only; "
                "hint: split a complex matrix into its real and imaginary parts"
            )
    return namespace(*(x for x in xs if not isinstance(x, (list, tuple))))


def _square(xp: Any, a: Any, *like: Any) -> Array:
    """``a`` as a stack of square matrices: scipy reads a number as a 1 x 1 matrix."""
    a = as_array(a, *like)
    return xp.reshape(a, (1, 1)) if a.ndim == 0 else a


def _back(xp: Any, cot: Array, x: Any) -> Array:
    """A cotangent computed for :func:`_square`'s matrix (or a column of ``b``), shaped and
    typed like the operand ``x`` again (a number gets a 0-d value)."""
    return _fit(xp.reshape(cot, _shape_of(x)), x)


def _eye(xp: Any, like: Array) -> Array:
    return xp.eye(like.shape[-1], dtype=like.dtype)


def _triangle(xp: Any, a: Array, lower: bool, unit: bool = False) -> Array:
    """The triangle of ``a`` a triangular solver reads (unit diagonal: ones on it)."""
    if unit:
        part = xp.tril(a, -1) if lower else xp.triu(a, 1)
        return part + _eye(xp, a)
    return xp.tril(a) if lower else xp.triu(a)


def _symmetric_of(xp: Any, a: Array, lower: bool) -> Array:
    """The symmetric matrix of ``a``'s lower (or upper) triangle."""
    part = xp.tril(a, -1) if lower else xp.triu(a, 1)
    return part + _mT(part) + a * _eye(xp, a)


def _band(xp: Any, a: Array) -> Array:
    """The tridiagonal mask (1 on the diagonal and its two neighbours) in ``a``'s dtype."""
    n = a.shape[-1]
    i = xp.arange(n)
    return (xp.abs(xp.expand_dims(i, -1) - i) <= 1).astype(a.dtype)


def _read_matrix(xp: Any, a: Array, assume_a: Any, lower: bool) -> Array:
    """The matrix scipy's solver for ``assume_a`` reads from ``a``.

    ``assume_a=None`` lets scipy detect a structure; what it detects holds exactly for
    ``a``, and nearby matrices without it get the general solver, so the general matrix is
    the one differentiated.
    """
    if assume_a in _GENERAL:
        return a
    if assume_a in _SYMMETRIC:
        return _symmetric_of(xp, a, lower)
    if assume_a in _TRIANGULAR:
        return _triangle(xp, a, _TRIANGULAR[assume_a])
    if assume_a == "diagonal":
        return a * _eye(xp, a)
    if assume_a == "tridiagonal":
        return a * _band(xp, a)
    raise NotImplementedError(
        f"srcgrad does not differentiate scipy.linalg's assume_a={assume_a!r}; "
        "hint: leave assume_a out (the general solver)"
    )


def _onto_read_entries(xp: Any, grad: Array, assume_a: Any, lower: bool) -> Array:
    """The cotangent of ``a`` from ``grad``, the gradient w.r.t. the matrix that the solver
    read (:func:`_read_matrix`): entries it never reads get nothing."""
    if assume_a in _GENERAL:
        return grad
    if assume_a in _SYMMETRIC:
        both = grad + _mT(grad)
        side = xp.tril(both, -1) if lower else xp.triu(both, 1)
        return side + grad * _eye(xp, grad)
    if assume_a in _TRIANGULAR:
        return _triangle(xp, grad, _TRIANGULAR[assume_a])
    if assume_a == "diagonal":
        return grad * _eye(xp, grad)
    return grad * _band(xp, grad)  # tridiagonal (others were refused by _read_matrix)


def _as_matrix(xp: Any, b: Array) -> tuple[Array, bool]:
    """A right-hand side as columns: a 1-d ``b`` is one column (scipy's rule), a number a
    column of one."""
    if b.ndim == 0:
        return xp.reshape(b, (1, 1)), True
    return (xp.expand_dims(b, -1), True) if b.ndim == 1 else (b, False)


def _solve_adjoint(
    xp: Any, m: Array, g: Array, ans: Array, b: Array
) -> tuple[Array, Array]:
    """For ``x = m^-1 b``: ``(z, -z x^T)`` with ``z = m^-T g`` (``b``'s cotangent before
    unbroadcasting, and ``m``'s, summed over broadcast batch axes later)."""
    _, vector = _as_matrix(xp, b)
    gm = xp.expand_dims(g, -1) if vector else g
    xm = xp.expand_dims(ans, -1) if vector else ans
    z = xp.linalg.solve(_mT(m), gm)
    return (z[..., 0] if vector else z), -(z @ _mT(xm))


# --------------------------------------------------------------------------- solve and inv


def _solve_parts(
    g: Array,
    ans: Array,
    a: Any,
    b: Any,
    lower: bool,
    assume_a: Any,
    transposed: bool,
) -> tuple[Any, Array, Array]:
    """``(xp, cotangent of b, cotangent of a)`` of ``scipy.linalg.solve`` (shaped and typed
    like the operands).  scipy divides by a number ``a`` (``b / a``, any ``b``)."""
    xp = _real_namespace(g, ans, a, b)
    b_arr = as_array(b, g, ans, a)
    a_arr = as_array(a, g, ans, b)
    if a_arr.ndim == 0:
        z = g / a_arr
        return xp, _back(xp, unbroadcast(z, b_arr), b), -xp.sum(z * ans)
    m = _read_matrix(xp, a_arr, assume_a, lower)
    z, d_m = _solve_adjoint(xp, _mT(m) if transposed else m, g, ans, b_arr)
    d_m = unbroadcast(d_m, m)
    d_read = _mT(d_m) if transposed else d_m
    d_a = _fit(_onto_read_entries(xp, d_read, assume_a, lower), a_arr)
    return xp, _back(xp, unbroadcast(z, b_arr), b), d_a


def scipy_solve_cotangent_b(
    g: Array,
    ans: Array,
    a: Array,
    b: Array,
    lower: bool = False,
    assume_a: Any = None,
    transposed: bool = False,
) -> Array:
    """Cotangent of ``scipy.linalg.solve(a, b, lower, assume_a=, transposed=)`` for ``b``:
    ``m^-T g`` for the matrix ``m`` solved with.

    Args:
        g: the cotangent of the solution.
        ans: the forward solution.
        a: the matrix (a stack of square matrices, or a number).
        b: the right-hand side (a 1-d ``b`` is one vector).
        lower: the forward ``lower`` (read for the symmetric structures).
        assume_a: the forward ``assume_a``.
        transposed: the forward ``transposed`` (then ``a^T x = b`` was solved).

    Returns:
        An array shaped and typed like ``b``.
    """
    return _solve_parts(g, ans, a, b, lower, assume_a, transposed)[1]


def scipy_solve_cotangent_a(
    g: Array,
    ans: Array,
    a: Array,
    b: Array,
    lower: bool = False,
    assume_a: Any = None,
    transposed: bool = False,
) -> Array:
    """Cotangent of ``scipy.linalg.solve(a, b, lower, assume_a=, transposed=)`` for ``a``:
    ``-z x^T`` (``z = m^-T g`` for the matrix ``m`` solved with), on the entries the solver
    for ``assume_a`` reads.  Arguments as :func:`scipy_solve_cotangent_b`."""
    return _solve_parts(g, ans, a, b, lower, assume_a, transposed)[2]


def scipy_inv_cotangent(
    g: Array, ans: Array, a: Array, assume_a: Any = None, lower: bool = False
) -> Array:
    """Cotangent of ``scipy.linalg.inv(a, assume_a=, lower=)``: ``-y^T g y^T`` for the
    inverse ``y``, on the entries the solver for ``assume_a`` reads.

    Args:
        g: the cotangent of the inverse.
        ans: the forward inverse.
        a: the matrix (a stack of square matrices).
        assume_a: the forward ``assume_a``.
        lower: the forward ``lower``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = _real_namespace(g, ans, a)
    _read_matrix(xp, a, assume_a, lower)  # refuses a structure it does not know
    grad = -(_mT(ans) @ g @ _mT(ans))
    return _fit(_onto_read_entries(xp, grad, assume_a, lower), a)


# --------------------------------------------------------------------------- triangular


def _trans_flag(trans: Any) -> bool:
    """Whether ``solve_triangular``'s ``trans`` solves with the transpose (real matrices:
    ``1``/``'T'`` and ``2``/``'C'`` alike)."""
    if trans in (0, "N", "n"):
        return False
    if trans in (1, 2, "T", "t", "C", "c"):
        return True
    raise ValueError(f"invalid trans {trans!r}")


def _triangular_parts(
    g: Array, ans: Array, a: Array, b: Array, trans: Any, lower: bool, unit: bool
) -> tuple[Any, Array, Array, Array, bool]:
    xp = _real_namespace(g, ans, a, b)
    b_arr = as_array(b, g, ans, a)
    t = _triangle(xp, a, lower, unit)
    flip = _trans_flag(trans)
    z, d_m = _solve_adjoint(xp, _mT(t) if flip else t, g, ans, b_arr)
    return xp, b_arr, z, unbroadcast(d_m, t), flip


def solve_triangular_cotangent_b(
    g: Array,
    ans: Array,
    a: Array,
    b: Array,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
) -> Array:
    """Cotangent of ``scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal)`` for
    ``b``: ``op(T)^-T g`` for the triangle ``T`` of ``a`` the solver reads.

    Args:
        g: the cotangent of the solution.
        ans: the forward solution.
        a: the matrix (only one triangle is read; with ``unit_diagonal`` not its diagonal).
        b: the right-hand side (a 1-d ``b`` is one vector).
        trans: the forward ``trans`` (0/'N', 1/'T', 2/'C').
        lower: the forward ``lower``.
        unit_diagonal: the forward ``unit_diagonal``.

    Returns:
        An array shaped and typed like ``b``.
    """
    _, b_arr, z, _, _ = _triangular_parts(g, ans, a, b, trans, lower, unit_diagonal)
    return unbroadcast(_fit(z, b_arr), b)


def solve_triangular_cotangent_a(
    g: Array,
    ans: Array,
    a: Array,
    b: Array,
    trans: Any = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
) -> Array:
    """Cotangent of ``scipy.linalg.solve_triangular(...)`` for ``a``: ``-z x^T`` (or its
    transpose) on the triangle read, without the diagonal for ``unit_diagonal``.  Arguments
    as :func:`solve_triangular_cotangent_b`."""
    xp, _, _, d_m, flip = _triangular_parts(g, ans, a, b, trans, lower, unit_diagonal)
    d_t = _mT(d_m) if flip else d_m
    if unit_diagonal:
        d_t = xp.tril(d_t, -1) if lower else xp.triu(d_t, 1)
    else:
        d_t = _triangle(xp, d_t, lower)
    return _fit(d_t, a)


# --------------------------------------------------------------------------- Cholesky


def scipy_cholesky_cotangent(
    g: Array, ans: Array, a: Array, lower: bool = False
) -> Array:
    """Cotangent of ``scipy.linalg.cholesky(a, lower)``: the upper factor ``U`` (``a = U^T
    U``) by default, read from ``a``'s upper triangle; the lower one for ``lower=True``.

    Args:
        g: the cotangent of the factor.
        ans: the forward factor (zeros in the other triangle).
        a: the operand (real symmetric positive-definite).
        lower: the forward ``lower``.

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = _real_namespace(g, ans, a)
    square = _square(xp, a, g, ans)
    return _back(xp, cholesky_cotangent(g, ans, square, upper=not lower), a)


def cho_factor_cotangent(g: Any, ans: Any, a: Array, lower: bool = False) -> Array:
    """Cotangent of ``c, lower = scipy.linalg.cho_factor(a, lower)``.

    scipy's ``c`` holds the factor in one triangle and ``a``'s own entries, untouched, in
    the other one (the "random data" of its documentation is exactly that), so the
    factor's triangle of ``g_c`` goes through the Cholesky cotangent and the other triangle
    goes to ``a``'s same entries.  ``cho_solve`` reads the factor's triangle only.

    Args:
        g: ``(cotangent of c, cotangent of lower)``; the first may be ``None`` (the flag
            has none).
        ans: the forward ``(c, lower)``.
        a: the operand (real symmetric positive-definite).
        lower: the forward ``lower``.

    Returns:
        An array shaped and typed like ``a``.
    """
    g_c = g[0]
    c = ans[0]
    xp = _real_namespace(a, c)
    square = _square(xp, a, c)
    if g_c is None:
        return _back(xp, xp.zeros_like(square), a)
    factor = _triangle(xp, c, lower)
    d_factor = cholesky_cotangent(_triangle(xp, g_c, lower), factor, square, not lower)
    kept = xp.triu(g_c, 1) if lower else xp.tril(g_c, -1)
    return _back(xp, d_factor + kept, a)


def _lower_factor(xp: Any, c: Array, lower: Any) -> Array:
    """The lower Cholesky factor ``L`` (``A = L L^T``) of a ``cho_factor`` result."""
    return xp.tril(c) if lower else _mT(xp.triu(c))


def cho_solve_cotangent_b(g: Array, c_and_lower: Any, b: Array) -> Array:
    """Cotangent of ``scipy.linalg.cho_solve((c, lower), b)`` for ``b``: ``A^-1 g``.

    Args:
        g: the cotangent of the solution.
        c_and_lower: the forward ``(c, lower)`` (``c`` as ``cho_factor`` returns it).
        b: the right-hand side (a 1-d ``b`` is one vector).

    Returns:
        An array shaped and typed like ``b``.
    """
    c, lower = c_and_lower
    xp = _real_namespace(g, c, b)
    b_arr = as_array(b, g, c)
    low = _lower_factor(xp, c, lower)
    gm, vector = _as_matrix(xp, g) if b_arr.ndim == 1 else (g, False)
    z = xp.linalg.solve(_mT(low), xp.linalg.solve(low, gm))
    return unbroadcast(_fit(z[..., 0] if vector else z, b_arr), b)


def cho_solve_cotangent_c(
    g: Array, ans: Array, c_and_lower: Any, b: Array
) -> tuple[Array, Array]:
    """Cotangent of ``x = scipy.linalg.cho_solve((c, lower), b)`` for ``(c, lower)``.

    With ``A = L L^T`` and ``z = A^-1 g``: ``dL = -tril((z x^T + x z^T) L)``; for an upper
    factor ``U = L^T`` the transpose, on the upper triangle.  The other triangle of ``c`` is
    never read, and the flag's cotangent is zeros.

    Args:
        g: the cotangent of the solution.
        ans: the forward solution.
        c_and_lower: the forward ``(c, lower)``.
        b: the right-hand side.

    Returns:
        ``(cotangent of c, zeros like the flag)``.
    """
    c, lower = c_and_lower
    xp = _real_namespace(g, ans, c, b)
    b_arr = as_array(b, g, c)
    low = _lower_factor(xp, c, lower)
    gm, vector = _as_matrix(xp, g) if b_arr.ndim == 1 else (g, False)
    xm = xp.expand_dims(ans, -1) if vector else ans
    z = xp.linalg.solve(_mT(low), xp.linalg.solve(low, gm))
    outer = z @ _mT(xm)
    d_low = -((outer + _mT(outer)) @ low)
    d_c = xp.tril(d_low) if lower else xp.triu(_mT(d_low))
    # the flag's cotangent is zeros, not None: emitted code adds an unpacked flag's
    # cotangents with + (several solves, or a higher order)
    return _fit(unbroadcast(d_c, c), c), xp.zeros_like(xp.asarray(lower))


# --------------------------------------------------------------------------- expm

# Pade coefficients of degree 13 (Higham 2005, as scipy.linalg.expm uses them)
_PADE13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152


def _expm(xp: Any, m: Array) -> Array:
    """``exp(m)`` for a stack of square matrices: degree-13 Pade with scaling and squaring
    (one scaling for the whole stack, from its largest 1-norm); runs on any namespace.
    """
    norm = xp.max(xp.sum(xp.abs(m), axis=-2))
    s = 0
    while s < 64 and bool(
        norm > _THETA13 * 2.0**s
    ):  # a 0-d comparison, as ``if`` reads
        s += 1
    m = m / (2.0**s)
    eye = _eye(xp, m)
    m2 = m @ m
    m4 = m2 @ m2
    m6 = m4 @ m2
    b = _PADE13
    u = m @ (
        m6 @ (b[13] * m6 + b[11] * m4 + b[9] * m2)
        + b[7] * m6
        + b[5] * m4
        + b[3] * m2
        + b[1] * eye
    )
    v = (
        m6 @ (b[12] * m6 + b[10] * m4 + b[8] * m2)
        + b[6] * m6
        + b[4] * m4
        + b[2] * m2
        + b[0] * eye
    )
    out = xp.linalg.solve(v - u, v + u)
    for _ in range(s):
        out = out @ out
    return out


def expm_cotangent(g: Array, a: Array) -> Array:
    """Cotangent of ``scipy.linalg.expm(a)``: the Frechet derivative of ``exp`` at ``a^T`` in
    the direction ``g``, the upper-right block of ``exp([[a^T, g], [0, a^T]])``.

    The block exponential uses scaling and squaring with a degree-13 Pade approximant (as
    scipy does) written with ``xp`` operations, so it runs on any device; choosing the
    scaling compares the block's 1-norm with thresholds (a 0-d comparison, as an ``if``).

    Args:
        g: the cotangent of the exponential.
        a: the operand (a stack of real square matrices).

    Returns:
        An array shaped and typed like ``a``.
    """
    xp = _real_namespace(g, a)
    at = _mT(_square(xp, a, g))
    n = at.shape[-1]
    top = xp.concatenate([at, g], axis=-1)
    bottom = xp.concatenate([xp.zeros_like(at), at], axis=-1)
    big = _expm(xp, xp.concatenate([top, bottom], axis=-2))
    return _back(xp, big[..., :n, n:], a)
