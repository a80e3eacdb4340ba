"""Segment sums of flat ragged data: ``np.add.reduceat(a, starts, axis)`` (each entry gets
the cotangent of the segment that holds it; a start not below the next one is a lone entry,
as numpy reads it) and ``np.bincount(ids, weights=w, minlength=n)`` (each weight gets its
bin's cotangent).  Before, ``np.add.reduceat`` was refused as an unknown call and
``np.bincount`` had no rule, found by ``tests/realworld/embedding_bag_segments.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import segment_sums_src as src

W = np.array([0.3, -0.7, 1.1, 0.45, -0.2, 0.6, 0.9])
X = np.array([0.5, 0.2, -0.4, 0.9, 0.1, -0.3, 0.7])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_segment_sums(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_float32_weights_get_float32_cotangents():
    g = srcgrad.grad(src.f4)(W.astype(np.float32), X.astype(np.float32))
    assert g.dtype == np.float32
