"""Bounds that carry a gradient: ``np.clip(x, lo, hi)`` (and ``x.clip``) with ``lo`` or ``hi``
computed from the differentiated inputs, and ``np.select(conds, choices, default)`` with such
a ``default``.  The bound (default) gets the cotangent where the result is the bound
(default).  Before, both were refused ("clip's rule treats 'a_max' as a constant"), a false
refusal found by ``tests/realworld/hbv_bucket_select.py`` (melt limited by
``np.clip(..., 0.0, snow)``, runoff regimes by ``np.select(..., default=...)``)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import active_bounds_src as src

W = np.array([0.3, -0.2, 0.45])
X = np.array([0.5, 0.1, -0.33])
FNS = [src.f1, src.f2, src.f3, src.f4, src.f5, src.f6, src.f7]
FNS += [src.s1, src.s2, src.s3, src.s4]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_bounds_that_carry_a_gradient(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_the_bound_gets_the_cotangent_where_it_is_taken():
    g = srcgrad.grad(src.f1)(W, X)  # sum(clip(x, 0, w) ** 2): x > w at 0, 1 only
    np.testing.assert_allclose(g, [2 * W[0], 2 * W[1], 0.0])
    g = srcgrad.grad(src.s2)(W, X)  # default sum(w) taken at x <= 0.3 (1 and 2)
    np.testing.assert_allclose(g, np.full(3, 4 * np.sum(W)))
