"""``np.lib.stride_tricks.as_strided`` has a rule: each element of the view reads one
element of the operand (found from the operand's own strides, so non-contiguous operands
and zero strides work), and its cotangent is added there (overlapping windows add up).
Before, it had no rule: im2col convolutions written with it were refused, found by
``tests/realworld/resnet_im2col_strided.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import strided_src as src

W = np.array([0.3, -0.7, 1.1, 0.45, 0.2])
X = np.array([0.5, 0.2, -0.4, 0.9, -0.6])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4], ids=lambda f: f.__name__
)
def test_as_strided_views(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_float32_strides_are_read_from_the_float32_array():
    g = srcgrad.grad(src.f5)(W, X)
    v = (W * X).astype(np.float32).astype(np.float64)
    counts = np.array([1.0, 2.0, 2.0, 2.0, 1.0])  # windows of 2 over 5 entries
    np.testing.assert_allclose(g, 2 * v * counts * X, rtol=1e-6)
