"""Loop-invariant hoisting in the backward pass (srcgrad/codegen/hoist.py): a backward
loop's weight-gradient sums become one product over the kept per-step factors after the
loop, only where that is exact; the gradients stay right everywhere."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def rnn(params, xs):
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.sum(h * h)


def rnn_vector(Wx, Wh, b, xs):
    """One sample without a batch axis: the per-step factors are 1-D."""  # noqa: D401
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h**3)


def batched(W, xs):
    """3-D per-step factors: ``a.T`` reverses every axis, so nothing is hoisted."""
    h = np.zeros((xs.shape[1], xs.shape[2], W.shape[1]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W + h)
    return np.sum(h)


def branchy(W, xs):
    """The weight is read under a branch: its sum is not hoisted, the other one is."""
    h = np.zeros((xs.shape[1], W.shape[1]))
    for t in range(xs.shape[0]):
        a = xs[t] @ W
        if t % 2 == 0:
            a = a + h @ W[:, : W.shape[0]].T
        h = np.tanh(a)
    return np.sum(h**2)


def nested(W, xs):
    total = 0.0
    for i in range(xs.shape[0]):
        h = xs[i]
        for _ in range(3):
            h = np.sin(h @ W)
        total = total + np.sum(h)
    return total


def gated(Wx, Wh, xs):
    """The cotangent of ``z`` is built by several statements (one per gate slice)."""
    n = Wh.shape[0]
    h = np.zeros((xs.shape[1], n))
    for t in range(xs.shape[0]):
        z = xs[t] @ Wx + h @ Wh
        h = np.tanh(z[:, :n]) * np.cos(z[:, n:])
    return np.sum(h**2)


def _params(rng, d, hdim):
    return {
        "Wx": rng.normal(size=(d, hdim)) * 0.5,
        "Wh": rng.normal(size=(hdim, hdim)) * 0.5,
        "b": rng.normal(size=hdim) * 0.1,
    }


def _source(fn, *args):
    df = srcgrad.grad(fn)
    df(*args)
    return df.source


def test_the_rnn_weight_gradients_are_one_product_after_the_loop():
    rng = np.random.default_rng(0)
    p, xs = _params(rng, 3, 4), rng.normal(size=(6, 2, 3))
    src = _source(rnn, p, xs)
    bwd = src[src.index("def bwd_") : src.index("def grad_")]
    loop = bwd[bwd.index("for t in reversed") : bwd.index("if d_")]
    assert ".T @" not in loop and ".sum(axis=0)" not in loop  # not per step
    after = bwd[bwd.index("if d_") :]
    # several rows a step: each sum gathers its steps in a step_sum (runtime/steps.py)
    assert "_steps = step_sum(xs.shape[0])" in bwd
    assert ".total()" in after and "_steps.add(" in loop
    assert '= params["Wh"]' not in loop  # the invariant read moved before the loop
    check_grad(rnn, p, xs)


def test_one_dimensional_factors_keep_their_gradients():
    rng = np.random.default_rng(1)
    a = _params(rng, 3, 4)
    xs = rng.normal(size=(5, 3))
    check_grad(rnn_vector, a["Wx"], a["Wh"], a["b"], xs, wrt=(0, 1, 2))


def test_three_dimensional_factors_stay_per_step():
    rng = np.random.default_rng(2)
    W, xs = rng.normal(size=(3, 4)), rng.normal(size=(4, 2, 5, 3))
    assert "_steps" not in _source(batched, W, xs)
    check_grad(batched, W, xs)


def test_a_read_under_a_branch_and_nested_loops_keep_their_gradients():
    rng = np.random.default_rng(3)
    W, xs = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(5, 2, 3))
    check_grad(branchy, W, xs)
    W2, xs2 = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(4, 2, 3))
    check_grad(nested, W2, xs2)


def test_a_loop_that_runs_no_step_gives_zero_weight_gradients():
    rng = np.random.default_rng(4)
    p = _params(rng, 3, 4)
    g = srcgrad.grad(rnn)(p, rng.normal(size=(3, 2, 3)))  # specialise, then run empty
    g = srcgrad.grad(rnn)(p, np.zeros((0, 2, 3)))
    for k in ("Wx", "Wh", "b"):
        np.testing.assert_array_equal(g[k], np.zeros_like(p[k]))


def test_hoisted_gradients_agree_with_a_hand_written_bptt():
    rng = np.random.default_rng(5)
    p, xs = _params(rng, 3, 4), rng.normal(size=(7, 2, 3))
    g = srcgrad.grad(rnn)(p, xs)
    hs = [np.zeros((2, 4))]
    for t in range(7):
        hs.append(np.tanh(xs[t] @ p["Wx"] + hs[-1] @ p["Wh"] + p["b"]))
    want = {k: np.zeros_like(v) for k, v in p.items()}
    dh = 2 * hs[-1]
    for t in reversed(range(7)):
        da = dh * (1 - hs[t + 1] ** 2)
        want["Wx"] += xs[t].T @ da
        want["Wh"] += hs[t].T @ da
        want["b"] += da.sum(axis=0)
        dh = da @ p["Wh"].T
    for k in want:
        np.testing.assert_allclose(g[k], want[k], rtol=1e-12, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(
    steps=st.integers(1, 4),
    batch=st.integers(1, 3),
    d=st.integers(1, 3),
    hdim=st.integers(1, 3),
)
def test_any_sizes_length_one_axes_included(steps, batch, d, hdim):
    rng = np.random.default_rng(steps * 100 + batch * 10 + d + hdim)
    p, xs = _params(rng, d, hdim), rng.normal(size=(steps, batch, d))
    check_grad(rnn, p, xs)


def test_a_cotangent_built_by_several_statements_is_kept_after_the_last():
    rng = np.random.default_rng(6)
    Wx, Wh, xs = (
        rng.normal(size=(3, 8)),
        rng.normal(size=(4, 8)),
        rng.normal(size=(5, 2, 3)),
    )
    src = _source(gated, Wx, Wh, xs)
    assert re.search(r"_steps\.add\(\w+, d_z\)", src)
    check_grad(gated, Wx, Wh, xs, wrt=(0, 1))


def test_the_input_projection_is_one_product_before_the_loop():
    rng = np.random.default_rng(7)
    p, xs = _params(rng, 3, 4), rng.normal(size=(6, 2, 3))
    src = _source(rnn, p, xs)
    fwd = src[src.index("def fwd_") : src.index("def bwd_")]
    before = fwd[: fwd.index("for t in")]
    assert re.search(r"(\w+_all) = xs @ params\[\"Wx\"\]", before) or re.search(
        r"(\w+_all) = xs @ \w+", before
    )
    loop = fwd[fwd.index("for t in") :]
    assert "_all[t]" in loop
    assert 'params["Wx"]' not in loop  # read by the step's product alone: dropped
    assert 'params["Wh"]' in loop
    for dtype in (np.float64, np.float32):
        pd = {k: v.astype(dtype) for k, v in p.items()}
        v, _ = srcgrad.value_and_grad(rnn)(pd, xs.astype(dtype))
        assert v == rnn(pd, xs.astype(dtype))  # bit-identical forward
    check_grad(rnn, p, xs)


def test_a_two_axis_sequence_keeps_its_step_products():
    """``xs[t]`` of a (T, d) sequence is a vector: its product stays in the loop."""
    rng = np.random.default_rng(8)
    a = _params(rng, 3, 4)
    xs = rng.normal(size=(5, 3))
    df = srcgrad.grad(rnn_vector, wrt=(0, 1, 2))
    df(a["Wx"], a["Wh"], a["b"], xs)
    assert "_all = " not in df.source


def linear_rnn(W, U, xs):
    """PyTorch's layout, ``h @ U.T``: the weight's per-step cotangent is a transpose."""
    h = np.zeros((xs.shape[1], U.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ W.T + h @ U.T)
    return np.sum(h**2)


def test_a_transposed_weight_sum_is_hoisted():
    rng = np.random.default_rng(9)
    W, U, xs = (
        rng.normal(size=(4, 3)),
        rng.normal(size=(4, 4)) * 0.5,
        rng.normal(size=(5, 2, 3)),
    )
    df = srcgrad.grad(linear_rnn, wrt=(0, 1))
    df(W, U, xs)
    src = df.source
    after = src[src.index("    if d_") :]
    assert after.count(".total().T") == 2
    check_grad(linear_rnn, W, U, xs, wrt=(0, 1))
