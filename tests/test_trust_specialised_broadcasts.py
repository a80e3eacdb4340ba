"""Specialised gradients elide a broadcast only where numpy broadcasts the same way.

Two classes that gave silently wrong gradients: both sides of ``a + b`` elided when each side's
shape was the only reason to elide the other (the sum kept neither full shape), and a
reduction over chosen axes (``x.sum(axis=1)``) of a square array elided although numpy aligns
trailing axes, which are not where the reduced axis was.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import broadcast_src as src

FUNCS = [
    src.transpose_then_two_reductions,
    src.axis1_sum_plus_mean,
    src.axis1_sum_times_row,
    src.three_reductions,
    src.axis0_and_axis1,
    src.mean_over_axis1_then_outer,
    src.scaled_broadcasts,
    src.comparison_of_reductions,
    src.keepdims_reductions,
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(4, 4), (3, 3), (2, 2)], ids=str)
def test_specialised_gradient_on_square_inputs(fn, shape):
    x = np.random.default_rng(3).standard_normal(shape)
    check_grad(fn, x)


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_specialised_and_generic_agree(fn, monkeypatch):
    x = np.random.default_rng(5).standard_normal((4, 4))
    value, spec = srcgrad.value_and_grad(fn)(x)
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    value0, generic = srcgrad.value_and_grad(fn)(x)
    assert value == value0 == fn(x)
    assert spec.shape == generic.shape == x.shape
    np.testing.assert_allclose(spec, generic, rtol=1e-12, atol=1e-12)


def test_transpose_case_on_non_square_input():
    x = np.random.default_rng(1).standard_normal((4, 5))
    check_grad(src.transpose_then_two_reductions, x)
    check_grad(src.three_reductions, x)


@pytest.mark.parametrize("shape", [(4, 5), (4, 4)], ids=str)
def test_vector_output_pullback(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    u = np.random.default_rng(2).standard_normal(shape[0])
    value, pullback = srcgrad.vjp(src.transpose_two_reductions_vector)(x)
    np.testing.assert_array_equal(value, src.transpose_two_reductions_vector(x))
    g = pullback(u)
    expected = u[None, :].T * x.mean() + np.sum(u * x.sum(axis=1)) / x.size
    assert g.shape == x.shape
    np.testing.assert_allclose(g, np.broadcast_to(expected, x.shape), rtol=1e-12)
