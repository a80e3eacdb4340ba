"""An array a call writes in place (``np.add.at(s, key, v)``, ``np.subtract.at``,
``np.fill_diagonal(s, v)``) inside a loop is carried by the loop like one written by a
subscript assignment.  Before, the loop did not see the write: the next iteration read the
array from before the loop, so the value and the gradient were silently wrong (found while
adding ``out=`` writes for ``tests/realworld/mlp_out_buffers.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import call_writes_in_loops_src as src

W = np.array([0.3, -0.7, 1.1])
X = np.array([0.5, 0.2, -0.4])
FNS = [src.f1, src.f2, src.f3, src.f4, src.f5, src.f6]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_call_writes_in_loops(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))
