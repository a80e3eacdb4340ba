"""Closed forms (srcgrad/codegen/closed_forms.py): a written logistic sigmoid is
differentiated as ``d * s * (1 - s)``, and the max shift of a softmax or log-softmax is a
constant of the backward pass; only where exact, with the forward value unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def gate(z, W):
    s = 1.0 / (1.0 + np.exp(-(z @ W)))
    t = 1 / (np.exp(-z) + 1)
    return np.sum(s * s) + np.sum(t**3)


def shared_exp(z):
    """``e`` is the user's and read twice: the chain stays as written."""
    e = np.exp(-z)
    s = 1.0 / (1.0 + e)
    return np.sum(s * e)


def log_softmax_loss(logits, y):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp)


def softmax_loss(logits, w):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return np.sum(p * w)


def other_axis(logits, w):
    """The shift and the normalisation run over different axes: nothing cancels."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=0, keepdims=True)
    return np.sum(p * w)


def max_also_returned(logits, w):
    """The max is read again: its cotangent is not zero."""
    m = np.max(logits, axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / np.sum(e, axis=1, keepdims=True)
    return np.sum(p * w) + np.sum(m * m)


def _bwd(fn, *args, wrt=0):
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    src = df.source
    return src[src.index("def bwd_") : src.index("def grad_")]


def test_a_written_sigmoid_has_the_closed_form_and_the_same_value():
    rng = np.random.default_rng(0)
    z, W = rng.normal(size=(4, 3)), rng.normal(size=(3, 3))
    bwd = _bwd(gate, z, W, wrt=(0, 1))
    assert bwd.count("* (1 - ") == 2 and "d_ans" not in bwd
    v, _ = srcgrad.value_and_grad(gate, wrt=(0, 1))(z, W)
    assert v == gate(z, W)  # bit-identical forward
    check_grad(gate, z, W, wrt=(0, 1))
    z32, W32 = z.astype(np.float32), W.astype(np.float32)
    g = srcgrad.grad(gate, wrt=(0, 1))(z32, W32)
    assert all(x.dtype == np.float32 for x in g)


def test_a_shared_intermediate_keeps_the_chain_as_written():
    z = np.random.default_rng(1).normal(size=5)
    assert "* (1 - " not in _bwd(shared_exp, z)
    check_grad(shared_exp, z)


def test_the_max_shift_of_a_softmax_sends_nothing_back():
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(4, 5)), rng.uniform(size=(4, 5))
    for fn in (log_softmax_loss, softmax_loss):
        bwd = _bwd(fn, logits, y)
        assert "_hits" not in bwd and "_share" not in bwd, fn.__name__
        check_grad(fn, logits, y)


def test_other_axes_or_a_reused_max_keep_its_cotangent():
    rng = np.random.default_rng(3)
    logits, w = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    for fn in (other_axis, max_also_returned):
        assert "_hits" in _bwd(fn, logits, w), fn.__name__
        check_grad(fn, logits, w)


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(1, 4),
    k=st.integers(1, 5),
    ties=st.booleans(),
)
def test_softmax_gradient_matches_its_closed_form(n, k, ties):
    rng = np.random.default_rng(n * 10 + k)
    logits = (
        rng.integers(-2, 3, size=(n, k)).astype(float)
        if ties
        else rng.normal(size=(n, k))
    )
    y = rng.uniform(size=(n, k))
    g = srcgrad.grad(log_softmax_loss)(logits, y)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    want = p * y.sum(axis=1, keepdims=True) - y
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)
