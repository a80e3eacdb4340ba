"""Forward copies (srcgrad/codegen/copies.py): the aliases an unrolled loop over parameter
pairs leaves are read as the parameters themselves, a temporary copied to a name is that
name, and an unread packing is dropped; gradients unchanged."""

from __future__ import annotations

import re

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def pairs(W1, b1, W2, b2, x):
    params = [(W1, b1), (W2, b2)]
    h = x
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def carried_alias(W, x):
    """``v`` is carried by the loop: it keeps its name."""
    v = W
    for _ in range(3):
        v = np.sin(v) + x
    return np.sum(v)


def returned_alias(a):
    b = a
    return np.sum(b * b)


def _sources(fn, *args, wrt=0):
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    return df.source


def test_unrolled_parameter_pairs_read_the_parameters():
    rng = np.random.default_rng(0)
    args = (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 2)))
    args += (rng.normal(size=2), rng.normal(size=(5, 3)))
    src = _sources(pairs, *args, wrt=(0, 1, 2, 3))
    for alias in ("W_1 =", "b_1 =", "W = W1", "params ="):
        assert alias not in src, alias
    assert not re.search(r"d_[Wb]2 = d_\w+\n", src)  # no cotangent copies
    assert "@ W2" in src and "d_W2 = " in src
    v, _ = srcgrad.value_and_grad(pairs, wrt=(0, 1, 2, 3))(*args)
    assert v == pairs(*args)
    check_grad(pairs, *args, wrt=(0, 1, 2, 3))


def test_aliases_in_loops_and_results_keep_their_gradients():
    rng = np.random.default_rng(1)
    check_grad(carried_alias, rng.normal(size=3), rng.normal(size=3), wrt=(0, 1))
    check_grad(returned_alias, rng.normal(size=4))


def gates(Wz, Wr, xs, x):
    """Each gate reads ``xs[t]`` again (as a GRU does); ``x[[0, 1]]`` is read twice and
    one of the two copies is then written into."""
    h = np.zeros((xs.shape[1], Wz.shape[1]))
    for t in range(xs.shape[0]):
        z = np.tanh(xs[t] @ Wz + h)
        r = np.tanh(xs[t] @ Wr + h)
        h = z * r + h
    a = x[[0, 1]]
    b = x[[0, 1]]
    a[0] = 3.0 * a[1]
    return np.sum(h * h) + np.sum(a * b * b)


def test_a_repeated_read_is_one_value():
    rng = np.random.default_rng(2)
    args = (
        rng.normal(size=(3, 4)),
        rng.normal(size=(3, 4)),
        rng.normal(size=(5, 2, 3)),
    )
    args += (rng.normal(size=(3, 4)),)
    src = _sources(gates, *args, wrt=(0, 1, 3))
    fwd = src[src.index("def fwd_") : src.index("def bwd_")]
    assert fwd.count("= xs[t]") == 1, fwd
    assert fwd.count("= x[[0, 1]]") == 1, fwd
    v, _ = srcgrad.value_and_grad(gates, wrt=(0, 1, 3))(*args)
    assert v == gates(*args)
    check_grad(gates, *args, wrt=(0, 1, 3))
