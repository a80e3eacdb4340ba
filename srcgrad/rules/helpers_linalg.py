"""Rules of the cotangent helpers of the determinant's and the solves' rules (``numpy.linalg.solve``,
``tensorsolve``) for the right-hand side: each is linear in the cotangent it maps
(higher-order derivatives through solves).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  ``solve_cotangent_b(ct, a, b)`` is
``solve(a^T, ct)`` summed to ``b``'s shape: its adjoint for ``ct`` is ``w = solve(a, g)``
(``g`` has ``b``'s shape, ``solve`` broadcasts it as the forward did), and for ``a`` it is
``-solve(a^T, ct) w^T``, which is ``solve_cotangent_a`` with ``w`` in the place of the
solution.  Likewise ``<h, m^-T ct> = <ct, solve(m, h)>`` for ``tensorsolve``: the
cotangent for the matrix is the solve's own first cotangent for it, at the cotangent
``ct`` and the solution ``solve(m, g)``.

``solve_cotangent_a(ct, x, a, b) = -z x^T`` with ``z = solve(a^T, ct)``: for ``ct`` it is
``-u`` with ``u = solve(a, g x)``, for ``x`` it is ``-g^T z``, and for ``a`` (``dz =
-a^-T da^T z``) it is ``z u^T``, the helper itself at ``(ct, u)`` negated.
``det_cotangent(ct, d, a) = ct adj(a)^T`` (``d``, the determinant, is not read): away from
singular matrices ``adj(a)^T = det(a) a^-T``, so for ``ct`` it is ``det(a) <g, a^-T>`` and
for ``a`` it is ``ct det(a) (<g, a^-T> a^-T - a^-T g^T a^-T)``.
``slogdet_cotangent((ct_sign, ct_log), sl, a) = ct_log a^-T`` for real ``a`` (a complex
``a`` is refused): for ``ct_log`` it is ``<g, a^-T>``, for the sign nothing, and for
``a`` it is ``-ct_log a^-T g^T a^-T``.

``matrix_power_cotangent(ct, a, n)`` and ``expm_cotangent(ct, a)`` are ``L(a^T, ct)``, the
Frechet derivative of the matrix function ``F`` (a power, the exponential) at ``a^T`` in
the direction ``ct``: the upper-right block of ``F(m)`` with ``m = [[a^T, ct], [0, a^T]]``
(real matrices; a complex ``a`` is refused).  Their rules differentiate that block: the
cotangent of ``m`` is the helper itself at ``m`` and ``[[0, g], [0, 0]]``, whose
upper-right block is the cotangent of ``ct`` and whose two diagonal blocks add up to the
cotangent of ``a^T``.

``scipy_inv_cotangent(ct, y, a) = -y^T ct y^T`` (``y`` the inverse, an operand of its
own; scipy's default ``assume_a``, the structured ones refused at that order): for ``ct``
it is ``-y g y``, for ``y`` ``-(ct y^T g^T + g^T y^T ct)``.  ``tensorinv_cotangent`` is
the same product of the matrices its tensors reshape to.

``scipy_solve_cotangent_b`` and ``scipy_solve_cotangent_a`` (``scipy.linalg.solve``'s)
follow ``solve_cotangent_b`` and ``solve_cotangent_a``, for a general matrix
(``assume_a=None``; the cotangent of ``a`` also untransposed): the solves with ``a``
itself are the ``b`` helper with ``transposed=True``.  ``solve_triangular``'s helpers
likewise, with the triangle ``t`` read (``op(t)``, ``t`` or ``t^T`` by ``trans``) for the
matrix: the solves with ``op(t)`` itself flip ``trans``, and the cotangent of ``a``'s
helper is first read as the solver reads ``a`` (its triangle, the diagonal left out for
``unit_diagonal``; transposed for a transposed solve).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import square_tensor, well_conditioned
from srcgrad.rules.registry import adjoint, numpy_at_least
from srcgrad.runtime import (
    det_cotangent,
    expm_cotangent,
    reduction_size,
    reshape_like,
    scipy_inv_cotangent,
    scipy_solve_cotangent_a,
    scipy_solve_cotangent_b,
    tensorinv_cotangent,
    matrix_power_cotangent,
    require_real,
    slogdet_cotangent,
    solve_triangular_cotangent_a,
    solve_triangular_cotangent_b,
    zeros_if_none,
    solve_cotangent_a,
    solve_cotangent_b,
    tensorsolve_cotangent_a,
    tensorsolve_cotangent_b,
    unbroadcast,
)


@adjoint(
    solve_cotangent_b,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": well_conditioned},
    shapes={
        "matrix": "(3,2),(3,3),(3,2)",
        "vector": "(3,),(3,3),(3,)",
        "batch": "(2,3,1),(2,3,3),(2,3,1)",
        "broadcast-a": "(2,3,2),(3,3),(2,3,2)",
        # numpy < 2 reads a b of a's ndim - 1 as a stack of vectors
        **(
            {
                "broadcast-b": "(2,3,2),(2,3,3),(3,2)",
                "batch-vector": "(2,3),(2,3,3),(3,)",
            }
            if numpy_at_least("2.0.0")
            else {}
        ),
    },
)
def solve_cotangent_b_adjoint(g, ans, ct, a, b):
    w = np.linalg.solve(a, g)
    return unbroadcast(w, ct), solve_cotangent_a(ct, w, a, b)


@adjoint(
    tensorsolve_cotangent_b,
    python_floats=(),
    nondiff=("x", "b"),
    shape_only=("x", "b"),
    domain={"a": square_tensor},
    shapes={
        "plain": "(6,),(6,),(2,3,6),(2,3)",
        "axes": ("(6,),(6,),(6,2,3),(2,3)", {"axes": (0,)}),
    },
)
def tensorsolve_cotangent_b_adjoint(g, ans, ct, x, a, b, axes=None):
    w = np.linalg.tensorsolve(a, g, axes)
    return unbroadcast(w, ct), tensorsolve_cotangent_a(ct, w, a, b, axes)


_SOLVE_A = {
    "matrix": "(3,2),(3,2),(3,3),(3,2)",
    "vector": "(3,),(3,),(3,3),(3,)",
    "batch": "(2,3,1),(2,3,1),(2,3,3),(2,3,1)",
    "broadcast-a": "(2,3,2),(2,3,2),(3,3),(2,3,2)",
}


@adjoint(
    solve_cotangent_a,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": well_conditioned},
    shapes=_SOLVE_A,
)
def solve_cotangent_a_adjoint(g, ans, ct, x, a, b):
    z = np.linalg.solve(np.swapaxes(a, -1, -2), ct)
    u = np.linalg.solve(a, np.matmul(g, x))
    dx = -np.matmul(np.swapaxes(g, -1, -2), z)
    return unbroadcast(-u, ct), unbroadcast(dx, x), -solve_cotangent_a(ct, u, a, b)


@adjoint(
    det_cotangent,
    python_floats=(),
    nondiff=("d",),
    shape_only=("d",),
    domain={"a": well_conditioned},
    shapes={"matrix": "(),(),(3,3)", "batch": "(2,),(2,),(2,3,3)"},
)
def det_cotangent_adjoint(g, ans, ct, d, a):
    inv_t = np.swapaxes(np.linalg.inv(a), -1, -2)
    det = np.linalg.det(a)
    s = np.sum(g * inv_t, axis=(-2, -1))
    outer = np.matmul(np.matmul(inv_t, np.swapaxes(g, -1, -2)), inv_t)
    coef = np.expand_dims(ct * det, (-2, -1))
    da = coef * (np.expand_dims(s, (-2, -1)) * inv_t - outer)
    return unbroadcast(s * det, ct), unbroadcast(da, a)


@adjoint(
    slogdet_cotangent,
    python_floats=(),
    nondiff=("sl",),
    shape_only=("sl",),
    sequence=("ct",),
    domain={"a": well_conditioned},
    shapes={
        "matrix": "[(),()],[(),()],(3,3)",
        "batch": "[(2,),(2,)],[(2,),(2,)],(2,3,3)",
    },
)
def slogdet_cotangent_adjoint(g, ans, ct, sl, a):
    inv_t = np.swapaxes(np.linalg.inv(require_real(a, "slogdet")), -1, -2)
    coef = np.expand_dims(zeros_if_none(ct[1], sl[1]), (-2, -1))
    da = -coef * np.matmul(np.matmul(inv_t, np.swapaxes(g, -1, -2)), inv_t)
    s = np.sum(g * inv_t, axis=(-2, -1))
    return [np.zeros_like(s), s], unbroadcast(da, a)


# --------------------------------------------------------------------------- matrix functions


def _near_identity(rng, shape):
    """Square matrices near the identity (invertible: negative powers)."""
    return 0.3 * rng.standard_normal(shape) + np.eye(shape[-1])


_MATRIX_FUNCTION = {"matrix": "(3,3),(3,3)", "batch": "(2,3,3),(2,3,3)"}


@adjoint(
    matrix_power_cotangent,
    python_floats=(),
    nondiff=("n",),
    domain={"a": _near_identity},
    shapes={k: v + ",-" for k, v in _MATRIX_FUNCTION.items()},
    params={"n": [0, 1, 3, -2]},
    view=True,  # n = 1: the cotangent itself
)
def matrix_power_cotangent_adjoint(g, ans, ct, a, n):
    at = np.swapaxes(require_real(a, "matrix_power"), -1, -2)
    m = np.concatenate(
        [
            np.concatenate([at, ct], axis=-1),
            np.concatenate([np.zeros_like(at), at], axis=-1),
        ],
        axis=-2,
    )
    gz = np.zeros_like(g)
    gm = np.concatenate(
        [np.concatenate([gz, g], axis=-1), np.concatenate([gz, gz], axis=-1)], axis=-2
    )
    dm = matrix_power_cotangent(gm, m, n)
    k = ans.shape[-1]
    d_at = dm[..., :k, :k] + dm[..., k:, k:]
    return unbroadcast(dm[..., :k, k:], ct), unbroadcast(np.swapaxes(d_at, -1, -2), a)


@adjoint(
    expm_cotangent,
    python_floats=(),
    shapes=_MATRIX_FUNCTION,
    domain={"a": (-1, 1)},
)
def expm_cotangent_adjoint(g, ans, ct, a):
    at = np.swapaxes(require_real(a, "expm"), -1, -2)
    m = np.concatenate(
        [
            np.concatenate([at, ct], axis=-1),
            np.concatenate([np.zeros_like(at), at], axis=-1),
        ],
        axis=-2,
    )
    gz = np.zeros_like(g)
    gm = np.concatenate(
        [np.concatenate([gz, g], axis=-1), np.concatenate([gz, gz], axis=-1)], axis=-2
    )
    dm = expm_cotangent(gm, m)
    k = ans.shape[-1]
    d_at = dm[..., :k, :k] + dm[..., k:, k:]
    return unbroadcast(dm[..., :k, k:], ct), unbroadcast(np.swapaxes(d_at, -1, -2), a)


# --------------------------------------------------------------------------- inverses


@adjoint(
    scipy_inv_cotangent,
    python_floats=(),
    nondiff=("a",),
    shape_only=("a",),
    shapes={"matrix": "(3,3),(3,3),(3,3)", "batch": "(2,3,3),(2,3,3),(2,3,3)"},
    domain={"inv": well_conditioned},
    accepts={
        "assume_a": (
            (None,),
            "a higher order through scipy.linalg.inv is written for a general matrix "
            "(assume_a=None)",
        )
    },
)
def scipy_inv_cotangent_adjoint(g, ans, ct, inv, a, assume_a=None, lower=False):
    y_t = np.swapaxes(inv, -1, -2)
    g_t = np.swapaxes(g, -1, -2)
    d_ct = -np.matmul(np.matmul(inv, g), inv)
    d_inv = -(np.matmul(np.matmul(ct, y_t), g_t) + np.matmul(np.matmul(g_t, y_t), ct))
    return unbroadcast(d_ct, ct), unbroadcast(d_inv, inv)


@adjoint(
    tensorinv_cotangent,
    python_floats=(),
    nondiff=("a", "ind"),
    shape_only=("a",),
    shapes={
        "matrix": ("(4,4),(4,4),(4,4)", {"ind": 1}),
        "first-axis": ("(2,3,6),(2,3,6),(6,2,3)", {"ind": 1}),
        "two-axes": "(6,2,3),(6,2,3),(2,3,6)",
    },
    domain={"inv": square_tensor},
)
def tensorinv_cotangent_adjoint(g, ans, ct, inv, a, ind=2):
    rows = reduction_size(ans, tuple(range(ind)))
    y = np.reshape(inv, (-1, rows))
    c = np.reshape(ct, (-1, rows))
    h = np.reshape(g, (rows, -1))
    y_t = np.transpose(y)
    h_t = np.transpose(h)
    d_ct = -np.matmul(np.matmul(y, h), y)
    d_inv = -(np.matmul(np.matmul(c, y_t), h_t) + np.matmul(np.matmul(h_t, y_t), c))
    return reshape_like(d_ct, ct), reshape_like(d_inv, inv)


_SCIPY_SOLVE = {
    "matrix": "(3,2),(3,2),(3,3),(3,2)",
    "vector": "(3,),(3,),(3,3),(3,)",
}
_GENERAL = (
    "a higher order through scipy.linalg.solve is written for a general matrix "
    "(assume_a=None)"
)


@adjoint(
    scipy_solve_cotangent_b,
    python_floats=(),
    nondiff=("x", "b"),
    shape_only=("x", "b"),
    domain={"a": well_conditioned},
    shapes=_SCIPY_SOLVE,
    params={"transposed": [False, True]},
    accepts={"assume_a": ((None,), _GENERAL)},
)
def scipy_solve_cotangent_b_adjoint(
    g, ans, ct, x, a, b, lower=False, assume_a=None, transposed=False
):
    # ans = m^-T ct (m = a, or a^T when transposed): ct gets w = m^-1 g, a the solve's
    # own cotangent of a at ct with w in the place of the solution
    w = scipy_solve_cotangent_b(g, ct, a, ct, lower, assume_a, not transposed)
    d_a = scipy_solve_cotangent_a(ct, w, a, b, lower, assume_a, transposed)
    return unbroadcast(w, ct), d_a


@adjoint(
    scipy_solve_cotangent_a,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": well_conditioned},
    shapes=_SCIPY_SOLVE,
    accepts={
        "assume_a": ((None,), _GENERAL),
        "transposed": ((False,), _GENERAL + " solved untransposed (transposed=False)"),
    },
)
def scipy_solve_cotangent_a_adjoint(
    g, ans, ct, x, a, b, lower=False, assume_a=None, transposed=False
):
    # ans = -z x^T, z = a^-T ct: ct gets -u with u = a^-1 g x, x gets -g^T z, a the
    # helper itself at (ct, u), negated
    z = scipy_solve_cotangent_b(ct, x, a, x, lower, assume_a, False)
    gx = np.matmul(g, x)
    u = scipy_solve_cotangent_b(gx, gx, a, gx, lower, assume_a, True)
    dx = -np.matmul(np.swapaxes(g, -1, -2), z)
    return (
        unbroadcast(-u, ct),
        unbroadcast(dx, x),
        -scipy_solve_cotangent_a(ct, u, a, b, lower, assume_a, False),
    )


_TRIANGULAR = {
    "matrix": "(3,2),(3,2),(3,3),(3,2)",
    "vector": "(3,),(3,),(3,3),(3,)",
}
_TRIANGULAR_FLAGS = {
    "lower": [False, True],
    "trans": [0, "T", 2],
    "unit_diagonal": [False, True],
}


@adjoint(
    solve_triangular_cotangent_b,
    python_floats=(),
    nondiff=("x", "b"),
    shape_only=("x", "b"),
    domain={"a": well_conditioned},
    shapes=_TRIANGULAR,
    params=_TRIANGULAR_FLAGS,
)
def solve_triangular_cotangent_b_adjoint(
    g, ans, ct, x, a, b, trans=0, lower=False, unit_diagonal=False
):
    # ans = op(t)^-T ct: ct gets w = op(t)^-1 g (the helper with trans flipped), a the
    # helper for a at ct with w in the place of the solution
    flipped = int(trans in (0, "N", "n"))
    w = solve_triangular_cotangent_b(g, ct, a, ct, flipped, lower, unit_diagonal)
    d_a = solve_triangular_cotangent_a(ct, w, a, b, trans, lower, unit_diagonal)
    return unbroadcast(w, ct), d_a


@adjoint(
    solve_triangular_cotangent_a,
    python_floats=(),
    nondiff=("b",),
    shape_only=("b",),
    domain={"a": well_conditioned},
    shapes=_TRIANGULAR,
    params=_TRIANGULAR_FLAGS,
)
def solve_triangular_cotangent_a_adjoint(
    g, ans, ct, x, a, b, trans=0, lower=False, unit_diagonal=False
):
    # ans = the read part of -z x^T (transposed for a transposed solve), z = op(t)^-T ct:
    # with m the read part of g as op(t)'s cotangent, ct gets -u (u = op(t)^-1 m x), x
    # gets -m^T z, a the helper itself at (ct, u), negated
    flip = float(trans not in (0, "N", "n"))
    skip = int(unit_diagonal)
    low = float(lower)
    read = low * np.tril(g, -skip) + (1.0 - low) * np.triu(g, skip)
    m = flip * np.swapaxes(read, -1, -2) + (1.0 - flip) * read
    flipped = int(trans in (0, "N", "n"))
    z = solve_triangular_cotangent_b(ct, x, a, x, trans, lower, unit_diagonal)
    mx = np.matmul(m, x)
    u = solve_triangular_cotangent_b(mx, mx, a, mx, flipped, lower, unit_diagonal)
    dx = -np.matmul(np.swapaxes(m, -1, -2), z)
    d_a = solve_triangular_cotangent_a(ct, u, a, b, trans, lower, unit_diagonal)
    return unbroadcast(-u, ct), unbroadcast(dx, x), -d_a
