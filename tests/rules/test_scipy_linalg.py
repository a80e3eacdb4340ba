"""``scipy.linalg`` rules: the cases the registry's generic suites do not reach (the upper
factor of ``cho_factor`` / ``cho_solve``, Python-bool flags), Gaussian-process, Kalman and
linear-system code end to end in several spellings, and the calls refused at the user's
line (``overwrite_a=True``, ``assume_a='banded'``, ``logsumexp(..., return_sign=True)``).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.errors import MissingRuleError
from srcgrad.rules import lookup
from srcgrad.testing import check_grad
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_rule, user_function

linalg = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(43)


def _spd(n, *batch):
    b = RNG.standard_normal((*batch, n, n))
    return b @ np.swapaxes(b, -1, -2) / n + np.eye(n)


def _factor(n):
    """Both triangles are well-conditioned factors."""
    return RNG.standard_normal((n, n)) + n * np.eye(n)


def test_rules_are_registered_under_scipy_names():
    for name in (
        "cholesky",
        "cho_factor",
        "cho_solve",
        "solve_triangular",
        "solve",
        "inv",
        "det",
        "expm",
    ):
        rule = lookup(getattr(linalg, name))
        assert rule is not None and rule.name == f"scipy.linalg.{name}"
    assert (
        lookup(np.linalg.cholesky).name == "linalg.cholesky"
    )  # numpy's own rule stays


@pytest.mark.parametrize("lower", [False, True])
def test_factor_and_solve_rules_in_both_triangles(lower):
    check_rule(linalg.cho_factor, _spd(4), lower=lower)
    check_rule(linalg.cho_factor, _spd(3, 2), lower=lower)
    check_rule(linalg.cholesky, _spd(4), lower=lower)
    c = _factor(4)
    check_rule(linalg.cho_solve, (c, lower), RNG.standard_normal(4))
    check_rule(linalg.cho_solve, [c, lower], RNG.standard_normal((4, 2)))


def test_cho_factor_other_triangle_is_the_operand():
    # scipy's "random data" in c is a's own entries: their cotangent goes to a as it is
    a = _spd(3)
    c, lower = linalg.cho_factor(a)
    assert not lower
    np.testing.assert_array_equal(np.tril(c, -1), np.tril(a, -1))
    g = RNG.standard_normal((3, 3))
    d_a = lookup(linalg.cho_factor).adjoint([np.tril(g, -1), None], (c, lower), a)
    np.testing.assert_array_equal(d_a, np.tril(g, -1))


GP = """
import scipy.linalg
from scipy.linalg import cho_factor, cho_solve, cholesky, solve_triangular


def kernel(x, log_ls, log_amp, log_noise):
    d = (x[:, None] - x[None, :]) / np.exp(log_ls)
    k = np.exp(2 * log_amp) * np.exp(-0.5 * d**2)
    return k + np.exp(2 * log_noise) * np.eye(x.shape[0])


def by_pair(x, y, log_ls, log_amp, log_noise):
    K = kernel(x, log_ls, log_amp, log_noise)
    c, low = cho_factor(K, lower=True)
    alpha = cho_solve((c, low), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(c)))


def by_name(x, y, log_ls, log_amp, log_noise):
    K = kernel(x, log_ls, log_amp, log_noise)
    factor = scipy.linalg.cho_factor(K)
    alpha = scipy.linalg.cho_solve(factor, y)
    return 0.5 * np.dot(y, alpha) + np.sum(np.log(np.diagonal(factor[0])))


def nested(x, y, log_ls, log_amp, log_noise):
    K = kernel(x, log_ls, log_amp, log_noise)
    return 0.5 * y @ cho_solve(cho_factor(K), y)


def upper_factor(x, y, log_ls, log_amp, log_noise):
    K = kernel(x, log_ls, log_amp, log_noise)
    U = cholesky(K)
    v = solve_triangular(U, y, trans="T")
    return 0.5 * v @ v + np.sum(np.log(np.diag(U)))


def lower_factor(x, y, log_ls, log_amp, log_noise):
    K = kernel(x, log_ls, log_amp, log_noise)
    L = scipy.linalg.cholesky(K, lower=True)
    v = solve_triangular(L, y, lower=True, check_finite=False)
    alpha = solve_triangular(L.T, v, lower=False)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L)))
"""


@pytest.mark.parametrize(
    "name", ["by_pair", "by_name", "nested", "upper_factor", "lower_factor"]
)
def test_gaussian_process_likelihood_end_to_end(name):
    f = user_function(GP, name)
    x = np.linspace(-1.0, 1.0, 6)
    y = np.sin(3 * x) + 0.1 * RNG.standard_normal(6)
    check_grad(f, x, y, 0.2, 0.1, -1.0, wrt=(0, 1, 2, 3, 4))


KALMAN = """
import scipy.linalg
from scipy import linalg


def kalman_step(m, P, F, Q, H, R, y):
    m = F @ m
    P = F @ P @ F.T + Q
    S = H @ P @ H.T + R
    K = scipy.linalg.solve(S, H @ P, assume_a="pos").T
    m = m + K @ (y - H @ m)
    P = P - K @ S @ K.T
    resid = y - H @ m
    return np.log(linalg.det(S)) + resid @ linalg.inv(S) @ resid + np.trace(P)


def discretised(A, dt, x):
    Phi = linalg.expm(A * dt)
    return np.sum(Phi @ x) + np.sum(linalg.solve(Phi, x, transposed=True))
"""


def test_kalman_step_end_to_end():
    f = user_function(KALMAN, "kalman_step")
    F = np.eye(3) + 0.1 * RNG.standard_normal((3, 3))
    H = RNG.standard_normal((2, 3))
    args = (RNG.standard_normal(3), _spd(3), F, 0.1 * _spd(3), H, _spd(2), np.ones(2))
    check_grad(f, *args, wrt=(0, 1, 2, 3, 4, 5))


def test_matrix_exponential_end_to_end():
    f = user_function(KALMAN, "discretised")
    check_grad(f, RNG.standard_normal((3, 3)), 0.7, RNG.standard_normal(3), wrt=(0, 1))


REFUSED = """
import scipy.linalg
import scipy.special


def overwrite(a, b):
    return np.sum(scipy.linalg.solve(a, b, overwrite_a=True))


def banded(a, b):
    return np.sum(scipy.linalg.solve(a, b, assume_a="banded"))


def diagonal_inverse(a):
    return np.sum(scipy.linalg.inv(a, assume_a="diagonal"))


def signed(x):
    return scipy.special.logsumexp(x, return_sign=True)[0]


def flag_from_data(a, b, how):
    return np.sum(scipy.linalg.solve(a, b, overwrite_b=how))
"""


@pytest.mark.parametrize(
    "name, text, args",
    [
        ("overwrite", "overwrite_a=True", 2),
        ("banded", "assume_a='banded'", 2),
        ("diagonal_inverse", "assume_a='diagonal'", 1),
        ("signed", "return_sign=True", 0),
        ("flag_from_data", "overwrite_b=how", 3),
    ],
)
def test_unsupported_parameters_are_refused_at_the_users_line(name, text, args):
    f = user_function(REFUSED, name)
    inputs = {
        0: (RNG.standard_normal(4),),
        1: (_spd(3),),
        2: (_spd(3), np.ones(3)),
        3: (_spd(3), np.ones(3), False),
    }[args]
    with pytest.raises(MissingRuleError) as info:
        check_grad(f, *inputs)
    err = info.value
    assert err.filename == f.__code__.co_filename, str(err)
    line = open(err.filename).read().splitlines()[err.lineno - 1]
    assert text.replace("'", '"').split("=")[0] in line, str(err)
    assert text.split("=")[0] in str(err) and err.hint, str(err)


def test_refusal_hints_work():
    # the hint of each refusal, followed: the parameter left out
    f = user_function("""
        import scipy.linalg
        import scipy.special


        def f(a, b, x):
            total = np.sum(scipy.linalg.solve(a, b))
            total = total + np.sum(scipy.linalg.inv(a))
            return total + scipy.special.logsumexp(x)
        """)
    check_grad(f, _spd(3), np.ones(3), RNG.standard_normal(4), wrt=(0, 1, 2))


def test_complex_matrices_are_refused_not_differentiated_wrongly():
    a = _spd(3) + 0.1j * RNG.standard_normal((3, 3))
    b = RNG.standard_normal(3) + 0j
    x = linalg.solve(a, b)
    with pytest.raises(NotImplementedError, match="real matrices only"):
        lookup(linalg.solve).adjoint(np.ones_like(x), x, a, b)
    with pytest.raises(NotImplementedError, match="real matrices only"):
        lookup(linalg.expm).adjoint(np.ones_like(a), linalg.expm(a), a)
