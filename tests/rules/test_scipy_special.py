"""``scipy.special`` rules: the ufunc rules against central differences, the series digamma and
trigamma against scipy, ``logsumexp`` end to end.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.testing import check_adjoint, check_grad
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import user_function


def _ufunc_rules():
    from srcgrad.rules import scipy_special as module

    return module.UFUNC_RULES


scipy_special = pytest.importorskip("scipy.special")


@pytest.mark.parametrize("entry", _ufunc_rules(), ids=lambda e: e[0].__name__)
def test_scipy_ufunc_rules_match_central_differences(entry):
    prim, fn, spec = entry
    domain = spec.get("domain", (-2.0, 2.0))
    rng = np.random.default_rng(32)
    n_in = len([p for p in fn.__code__.co_varnames[2 : fn.__code__.co_argcount]])

    def draw(name: str) -> np.ndarray:
        d = domain.get(name, (-2.0, 2.0)) if isinstance(domain, dict) else domain
        return d(rng, (3, 4)) if callable(d) else rng.uniform(*d, size=(3, 4))

    names = fn.__code__.co_varnames[2 : 2 + n_in]
    inputs = [draw(n) for n in names]
    check_adjoint(prim, fn, inputs, {}, rng)


def test_series_digamma_and_trigamma_match_scipy():
    from srcgrad.runtime.scipy_special import _series_polygamma

    x = np.concatenate([np.linspace(-3.7, -0.1, 9) + 0.03, np.linspace(0.05, 30.0, 40)])
    np.testing.assert_allclose(
        _series_polygamma(np, x, 0), scipy_special.digamma(x), rtol=1e-10, atol=1e-11
    )
    np.testing.assert_allclose(
        _series_polygamma(np, x, 1), scipy_special.polygamma(1, x), rtol=1e-10
    )


def test_logsumexp_end_to_end():
    f = user_function("""
        import scipy.special


        def f(x):
            return np.sum(scipy.special.logsumexp(x, axis=1)) + scipy.special.softmax(x)[0, 1]
        """)
    check_grad(f, np.random.default_rng(33).standard_normal((3, 4)))


def test_logsumexp_weights_that_carry_a_gradient_are_refused_with_a_hint_that_works():
    from srcgrad.errors import SrcgradError

    f = user_function(
        """
        from scipy.special import logsumexp


        def weighted(a, w):
            return np.sum(logsumexp(a, axis=1, b=w))


        def folded(a, w):
            return np.sum(logsumexp(a + np.log(w), axis=1))
        """,
        "weighted",
    )
    rng = np.random.default_rng(7)
    a, w = rng.standard_normal((2, 3)), rng.uniform(0.2, 1.0, 3)
    check_grad(f, a, w, wrt=0)  # constant weights: differentiated in a
    with pytest.raises(SrcgradError) as info:
        check_grad(f, a, w, wrt=(0, 1))
    err = info.value
    assert err.filename == f.__code__.co_filename, str(err)
    assert "'b'" in err.message and "np.log(w)" in err.hint, str(err)
    check_grad(f.__globals__["folded"], a, w, wrt=(0, 1))  # the hint, followed
