"""A tuple bound to constants before a loop (``state = (np.zeros(n), np.ones(n))``) that the
loop rebinds to values carrying a gradient (``state, q = step(state, w)``, ``state = (a -
w * b, ...)``) is carried item by item, as a tuple display of arguments was.  Before, it was
refused ("a tuple, list or dict that is one of several values"), a false refusal found by
``tests/realworld/hbv_bucket_select.py`` (an HBV model's 4-tuple state)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import constant_carried_tuples_src as src

W = np.array([0.3, -0.7])
X = np.array([0.5, 0.2])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_constant_tuples_carried_by_loops(fn):
    value, _ = srcgrad.value_and_grad(fn)(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X)
    check_grad(fn, W, X, wrt=1)
