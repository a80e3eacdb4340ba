"""``scipy.stats`` distribution rules: bound methods found in the registry, each rule against
central differences (loc and scale by position, by keyword and left out), a Bayesian
regression's log-posterior end to end, and the refusal of a method without a rule.

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

stats = pytest.importorskip("scipy.stats")

RNG = np.random.default_rng(41)


def test_bound_methods_are_found_however_they_are_read():
    # every attribute access makes a new bound method: the registry keys it by object and
    # function, so two reads find one rule and another distribution's method finds none
    first, second = stats.norm.logpdf, stats.norm.logpdf
    assert first is not second
    rule = lookup(first)
    assert rule is not None and rule.name == "stats.norm.logpdf"
    assert lookup(second) is rule
    assert lookup(stats.expon.logpdf) is None  # same function, another distribution
    assert lookup(stats.norm(0.0, 1.0).logpdf) is None  # a frozen distribution
    assert rule.operands == ("x", "loc", "scale")


def _positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


@pytest.mark.parametrize(
    "method", ["logpdf", "pdf", "cdf", "logcdf"], ids=lambda m: f"norm.{m}"
)
def test_norm_rules_match_central_differences(method):
    prim = getattr(stats.norm, method)
    x, loc = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    check_rule(prim, x, loc, _positive(3, 1))
    check_rule(prim, x, 0.3, 1.7)


def test_shape_parameter_rules_match_central_differences():
    x = RNG.standard_normal((3, 4))
    check_rule(stats.t.logpdf, x, RNG.uniform(1, 6, (3, 4)), 0.2, _positive(4))
    check_rule(
        stats.gamma.logpdf,
        RNG.uniform(1, 3, (3, 4)),
        _positive(4),
        0.1,
        _positive(3, 1),
    )
    check_rule(
        stats.beta.logpdf,
        RNG.uniform(0.3, 0.7, (3, 4)),
        _positive(3, 4),
        _positive(4),
        -0.1,
        1.1,
    )
    check_rule(stats.poisson.logpmf, RNG.integers(0, 7, (3, 4)), _positive(4))


def test_multivariate_normal_rule_matches_central_differences():
    a = RNG.standard_normal((3, 3))
    cov = a @ a.T / 3 + np.eye(3)
    x, mean = RNG.standard_normal((5, 3)), RNG.standard_normal(3)
    check_rule(stats.multivariate_normal.logpdf, x, mean, cov)
    check_rule(stats.multivariate_normal.logpdf, x[0], mean, cov)
    check_rule(stats.multivariate_normal.logpdf, x, mean, _positive(3))
    check_rule(stats.multivariate_normal.logpdf, x, mean, 1.3)


def test_bayesian_regression_log_posterior_end_to_end():
    f = user_function(
        """
        from scipy.stats import multivariate_normal, norm


        def log_posterior(w, X, y, sigma, prior_cov):
            prior = multivariate_normal.logpdf(w, np.zeros(w.shape[0]), prior_cov)
            return np.sum(norm.logpdf(y, X @ w, sigma)) + prior
        """,
        "log_posterior",
    )
    X, w = RNG.standard_normal((8, 3)), RNG.standard_normal(3)
    y = X @ w + 0.3 * RNG.standard_normal(8)
    a = RNG.standard_normal((3, 3))
    prior_cov = a @ a.T / 3 + np.eye(3)
    check_grad(f, w, X, y, 0.7, prior_cov, wrt=(0, 3, 4))


def test_location_and_scale_by_keyword_left_out_and_positional_end_to_end():
    f = user_function("""
        import scipy.stats
        from scipy import stats
        from scipy.stats import beta, gamma, multivariate_normal, norm, poisson, t


        def f(x, mu, s, a):
            total = np.sum(norm.logpdf(x)) + np.sum(norm.logpdf(x, loc=mu))
            total = total + np.sum(stats.norm.cdf(x, mu, scale=s)) + norm.pdf(mu, 0.5, s)
            total = total + np.sum(scipy.stats.norm.logcdf(x, mu, s))
            total = total + np.sum(t.logpdf(x, a + 2.0, loc=mu, scale=s))
            total = total + np.sum(t.logpdf(x, df=3.0))
            total = total + np.sum(gamma.logpdf(x * x + 1.0, a, scale=s))
            total = total + np.sum(beta.logpdf(0.5 + 0.1 * np.tanh(x), a, 2.0 * a))
            total = total + np.sum(poisson.logpmf(np.arange(4), a * s))
            return total + multivariate_normal.logpdf(x, mean=mu * np.ones(4))
        """)
    x = RNG.standard_normal(4)
    check_grad(f, x, 0.3, 1.4, 1.2, wrt=(0, 1, 2, 3))


def test_distribution_method_without_a_rule_is_refused_at_the_users_line():
    f = user_function("""
        from scipy.stats import norm


        def f(p):
            return np.sum(norm.ppf(p))
        """)
    with pytest.raises(MissingRuleError) as info:
        check_grad(f, np.full(3, 0.3))
    err = info.value
    assert err.filename == f.__code__.co_filename, str(err)  # the user's file ...
    line = open(err.filename).read().splitlines()[err.lineno - 1]
    assert "norm.ppf(p)" in line, str(err)  # ... and line, never scipy's
    text = str(err)
    assert "norm.ppf" in text and "stop_gradient" in text and "numpy" in text
    assert "scipy.stats.norm.logpdf" in text  # the supported methods are named


def test_other_distribution_frozen_distribution_and_constant_calls():
    f = user_function(
        """
        from scipy.stats import expon, norm

        STANDARD = norm(0.0, 1.0)


        def unsupported(x):
            return np.sum(expon.logpdf(x))


        def frozen(x):
            return np.sum(STANDARD.logpdf(x))


        def constant(x):
            return np.sum(x * norm.ppf(0.975))
        """,
        "unsupported",
    )
    frozen = f.__globals__["frozen"]
    constant = f.__globals__["constant"]
    for fn, name in ((f, "expon.logpdf"), (frozen, "STANDARD.logpdf")):
        with pytest.raises(MissingRuleError, match=name.replace(".", r"\.")) as info:
            check_grad(fn, np.full(3, 0.5))
        assert info.value.filename == fn.__code__.co_filename
    check_grad(constant, np.full(3, 0.5))


def test_optional_operands_must_be_parameters_with_a_default():
    from srcgrad.rules.registry import adjoint

    with pytest.raises(
        TypeError, match="optional_operands"
    ):  # raised before registering

        @adjoint(np.tanh, optional_operands=("x",))
        def tanh_adjoint(g, ans, x):
            return g
