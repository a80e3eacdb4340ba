"""``np.split`` into equal sections in the forward pass (srcgrad/codegen/specialise_forward.py,
runtime ``split_sections``): the same views by basic slicing; anything else is numpy's.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.runtime import split_sections
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def gates(W, x):
    r, z, n = np.split(x @ W, 3, axis=-1)
    a, b = np.split(np.tanh(r) * z, 2)
    return np.sum(a * b) + np.sum(np.sin(n))


def at_indices(W, x):
    a, b = np.split(x @ W, [2], axis=1)  # indices, not sections: numpy's split
    return np.sum(a**2) + np.sum(np.cos(b))


def _fwd(fn, *args):
    df = srcgrad.grad(fn)
    df(*args)
    src = df.source
    return src[src.index("def fwd_") : src.index("def bwd_")]


def test_equal_sections_are_slices_and_keep_their_gradient():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 6)), rng.normal(size=(4, 3))
    fwd = _fwd(gates, W, x)
    assert fwd.count("split_sections(") == 2 and "xp.split(" not in fwd
    assert ", 3, -1)" in fwd and ", 2, 0)" in fwd
    check_grad(gates, W, x)


def test_split_at_indices_stays_numpys():
    rng = np.random.default_rng(1)
    W, x = rng.normal(size=(3, 5)), rng.normal(size=(4, 3))
    fwd = _fwd(at_indices, W, x)
    assert "split_sections(" not in fwd and "xp.split(" in fwd
    check_grad(at_indices, W, x)


@pytest.mark.parametrize(
    "shape, k, axis",
    [((2, 12), 3, -1), ((4, 3), 2, 0), ((2, 6, 3), 3, 1), ((6,), 6, 0)],
)
def test_split_sections_gives_numpys_views(shape, k, axis):
    a = np.arange(np.prod(shape), dtype=float).reshape(shape)
    got, want = split_sections(a, k, axis), np.split(a, k, axis=axis)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.strides == w.strides
        assert np.shares_memory(g, a)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("k, axis", [(5, 1), (3, 2), (0, 0)])
def test_split_sections_raises_numpys_errors(k, axis):
    a = np.zeros((2, 12))
    with pytest.raises(Exception) as got:
        split_sections(a, k, axis)
    with pytest.raises(Exception) as want:
        np.split(a, k, axis=axis)
    assert type(got.value) is type(want.value)
