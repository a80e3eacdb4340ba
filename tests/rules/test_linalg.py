"""``numpy.linalg`` rules beyond the registry's grids: complex matrices, decompositions through
gauge-invariant functions end to end, ``mode``/``compute_uv`` forms, infinity norms and ties.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.rules import lookup
from srcgrad.rules.registry import numpy_at_least
from srcgrad.testing import check_grad
from tests.rules._checks import EPS, check_complex, check_rule, crandn, user_function
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
import srcgrad


@pytest.mark.parametrize("prim", [np.linalg.inv, np.linalg.det, np.linalg.slogdet])
def test_linalg_on_complex_matrices(prim):
    rng = np.random.default_rng(13)
    a = crandn(rng, 2, 3, 3) + 3 * np.eye(3)
    check_complex(prim, [a])


def test_solve_on_complex_matrices():
    rng = np.random.default_rng(14)
    check_complex(
        np.linalg.solve, [crandn(rng, 3, 3) + 3 * np.eye(3), crandn(rng, 3, 2)]
    )
    if numpy_at_least("2.0.0"):  # a 1-d b for a batch of matrices: numpy >= 2
        check_complex(
            np.linalg.solve, [crandn(rng, 2, 3, 3) + 3 * np.eye(3), crandn(rng, 3)]
        )


def test_eig_and_eigvals_on_complex_matrices():
    rng = np.random.default_rng(15)
    a = crandn(rng, 3, 3) + np.diag([0.0, 3.0, 6.0])
    check_complex(np.linalg.eig, [a])
    check_complex(np.linalg.eigvals, [a])


def test_svd_through_gauge_invariant_functions_end_to_end():
    f = user_function("""
        def f(a):
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            top = u[:, :2] @ np.diag(s[:2]) @ vh[:2, :]  # best rank-2 approximation
            proj = u @ u.T  # projector onto the column space
            return np.sum(top * top) + np.sum(np.sin(3 * proj)) + np.sum(np.sqrt(s))
        """)
    rng = np.random.default_rng(16)
    for shape in [(4, 3), (3, 4), (3, 3)]:
        a = rng.standard_normal(shape)
        check_grad(f, a)


def test_eigh_through_a_matrix_function_end_to_end():
    f = user_function("""
        def f(a):
            w, v = np.linalg.eigh(a)
            expm = (v * np.exp(w)) @ v.T  # exp of the symmetric matrix the lower triangle makes
            return np.sum(expm * expm) + np.sum(v[:, -1] ** 2 * np.arange(3.0))
        """)
    rng = np.random.default_rng(17)
    a = rng.standard_normal((3, 3))
    a = a + a.T + np.diag([0.0, 3.0, 6.0])
    check_grad(f, a)


def test_eig_through_gauge_invariant_functions():
    rng = np.random.default_rng(18)
    a = 0.3 * rng.standard_normal((3, 3)) + np.array(
        [[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0]]
    )
    rule = lookup(np.linalg.eig)

    def invariant(x):
        w, v = np.linalg.eig(x)
        p = (
            v[:, :1] @ np.linalg.inv(v)[:1, :]
        )  # spectral projector: independent of the gauge
        return np.sum(np.real(p) ** 2) + np.sum(np.real(w * w))

    w, v = np.linalg.eig(a)
    assert np.iscomplexobj(
        v
    )  # a complex pair: the phase of those vectors is LAPACK's choice
    # cotangents of the two outputs from the projector expression, chained by hand
    eps = 1e-6
    grad_num = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            d = np.zeros_like(a)
            d[i, j] = eps
            grad_num[i, j] = (invariant(a + d) - invariant(a - d)) / (2 * eps)

    # d/dv and d/dw of the invariant, taken numerically on the outputs (complex: two parts)
    def outer(w_, v_):
        p = v_[:, :1] @ np.linalg.inv(v_)[:1, :]
        return np.sum(np.real(p) ** 2) + np.sum(np.real(w_ * w_))

    g_w = 2 * w
    g_v = np.zeros_like(v)
    for i in range(3):
        for j in range(3):
            for unit in (1, 1j):
                d = np.zeros_like(v)
                d[i, j] = eps * unit
                slope = (outer(w, v + d) - outer(w, v - d)) / (2 * eps)
                g_v[i, j] += slope * (1 if unit == 1 else -1j)  # autograd's convention
    got = rule.adjoint([g_w, g_v], (w, v), a)
    np.testing.assert_allclose(got, grad_num, rtol=1e-5, atol=1e-6)


def test_eigh_eigenvalues_only_stay_finite_at_repeated_eigenvalues():
    f = user_function("""
        def f(a):
            w, v = np.linalg.eigh(a)
            return np.sum(w * w)
        """)
    a = np.eye(3) * 2.0
    _, grads = srcgrad.value_and_grad(f)(a)
    assert np.all(np.isfinite(grads))
    np.testing.assert_allclose(
        grads, np.diag([4.0] * 3)
    )  # d sum(w^2) = 2 A on the diagonal


@pytest.mark.skipif(
    not hasattr(np.linalg, "svdvals"), reason="np.linalg.svdvals: numpy >= 2.0"
)
def test_svd_values_only_and_svdvals_end_to_end():
    f = user_function("""
        def f(a):
            s = np.linalg.svd(a, compute_uv=False)
            return np.sum(s ** 3) + np.sum(np.linalg.svdvals(a))
        """)
    a = np.random.default_rng(19).standard_normal((4, 3))
    check_grad(f, a)


def test_qr_r_mode_and_complete_mode():
    rule = lookup(np.linalg.qr)
    rng = np.random.default_rng(20)
    for shape in [(4, 3), (3, 3), (3, 5)]:
        a = rng.standard_normal(shape)

        def r_only(x):
            return np.linalg.qr(x, mode="r")

        r = r_only(a)
        u = rng.standard_normal(r.shape)
        got = rule.adjoint(u, r, a, "r")
        d = rng.standard_normal(shape)
        numeric = np.sum(u * (r_only(a + EPS * d) - r_only(a - EPS * d))) / (2 * EPS)
        assert abs(np.sum(got * d) - numeric) < 1e-6 * max(1, abs(numeric))


def test_cholesky_on_a_positive_definite_batch_and_symmetric_perturbations():
    rng = np.random.default_rng(21)
    b = rng.standard_normal((2, 4, 4))
    a = b @ np.swapaxes(b, -1, -2) + 4 * np.eye(4)
    check_rule(np.linalg.cholesky, a)
    if numpy_at_least("2.0.0"):  # upper=: numpy >= 2
        check_rule(np.linalg.cholesky, a, upper=True)
    # the symmetric gradient (what autograd returns) is the symmetric part of ours
    rule = lookup(np.linalg.cholesky)
    low = np.linalg.cholesky(a)
    u = rng.standard_normal(low.shape)
    ours = rule.adjoint(u, low, a)
    d = rng.standard_normal(a.shape)
    d = d + np.swapaxes(d, -1, -2)
    numeric = np.sum(
        u * (np.linalg.cholesky(a + EPS * d) - np.linalg.cholesky(a - EPS * d))
    ) / (2 * EPS)
    assert abs(np.sum(ours * d) - numeric) < 1e-6 * max(1, abs(numeric))


@pytest.mark.parametrize("ord_", [np.inf, -np.inf])
def test_infinity_norms(ord_):
    rng = np.random.default_rng(22)
    check_rule(np.linalg.norm, rng.standard_normal(5), ord=ord_)
    check_rule(np.linalg.norm, rng.standard_normal((3, 4)), ord=ord_)
    check_rule(
        np.linalg.norm,
        rng.standard_normal((2, 3, 4)),
        ord=ord_,
        axis=(2, 0),
        keepdims=True,
    )
    check_rule(np.linalg.norm, rng.standard_normal((2, 3, 4)), ord=ord_, axis=1)
    if hasattr(np.linalg, "vector_norm"):  # numpy >= 2.0
        check_rule(np.linalg.vector_norm, rng.standard_normal((2, 3)), ord=ord_)
        check_rule(np.linalg.matrix_norm, rng.standard_normal((2, 3, 4)), ord=ord_)
    check_rule(np.linalg.cond, rng.standard_normal((3, 3)) + 3 * np.eye(3), p=ord_)


def test_norm_ties_share_the_cotangent():
    x = np.array([1.0, -3.0, 3.0, 2.0])
    rule = lookup(np.linalg.norm)
    got = rule.adjoint(np.float64(1.0), np.linalg.norm(x, np.inf), x, np.inf)
    np.testing.assert_allclose(got, [0.0, -0.5, 0.5, 0.0])
    zero = rule.adjoint(np.float64(1.0), np.float64(0.0), np.zeros(3))
    np.testing.assert_array_equal(zero, np.zeros(3))


def test_norms_end_to_end_with_axis_keepdims_and_inf():
    f = user_function("""
        def f(x):
            a = np.linalg.norm(x, axis=1, keepdims=True)
            b = np.linalg.norm(x, ord=np.inf, axis=(0, 2))
            c = np.linalg.norm(x, ord="nuc", axis=(1, 2))
            return np.sum(a * a) + np.sum(b) + np.sum(c)
        """)
    check_grad(f, np.random.default_rng(23).standard_normal((2, 3, 4)))
