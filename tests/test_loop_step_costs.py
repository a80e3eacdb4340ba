"""What a loop step costs in emitted code: numpy's per-call overhead on small arrays.

Three rewrites, each checked for the same values and right gradients, and for staying away
where it would not be exact:

- forward: a loop-invariant operand of fewer axes in a step's arithmetic gets its leading
  axes before the loop (``params_b_row = params["b"][None]``), so both operands have as
  many axes (``specialise_forward.lift_invariant_operands``);
- backward: a number in a step's arithmetic on arrays of one float dtype becomes a
  zero-dimensional array of that dtype made before the loop (``one``), and ``W.T`` of a
  name the step does not bind is taken once before the loop (``hoist``).
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def rnn(params, xs):
    h = np.zeros((1, params["Wh"].shape[0]), dtype=xs.dtype)
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.sum(h * h)


def rnn_plain(params, xs):
    """The same steps, written so that none of the rewrites applies (reference)."""
    h = np.zeros((1, params["Wh"].shape[0]), dtype=xs.dtype)
    steps = list(range(xs.shape[0]))
    for t in steps:
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.sum(h * h)


def leaky(w, b, xs):
    """Numbers in the step, an invariant bias of one axis on rows of two."""
    h = np.zeros((xs.shape[1], w.shape[0]))
    for t in range(xs.shape[0]):
        h = 0.5 * h + np.tanh(h @ w + xs[t] - b) / 2
    return np.sum(h**2)


def mixed(w, xs):
    """float32 arrays with a float64 one: the number stays a number."""
    h = np.zeros(w.shape[0], dtype=np.float32)
    for t in range(xs.shape[0]):
        h = np.tanh(w @ h + xs[t]) * (1 - xs[t].astype(np.float64) * 0.1)
        h = h.astype(np.float32)
    return np.sum(h * h)


def _params(rng, dtype, n=5, i=3):
    return {
        "Wx": (rng.standard_normal((i, n)) * 0.4).astype(dtype),
        "Wh": (rng.standard_normal((n, n)) * 0.4).astype(dtype),
        "b": (rng.standard_normal(n) * 0.4).astype(dtype),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rnn_step_rewrites_keep_values_and_gradients(dtype):
    rng = np.random.default_rng(0)
    params, xs = _params(rng, dtype), rng.standard_normal((7, 1, 3)).astype(dtype)
    vg = srcgrad.value_and_grad(rnn)
    value, grads = vg(params, xs)
    text = vg.source
    assert 'params_b_row = params["b"][None]' in text
    # the step adds the lifted row (written into the step's fresh sum: out=)
    assert "+ params_b_row" in text or "params_b_row, out=" in text
    name = np.dtype(dtype).name
    assert f"one = xp.asarray(1, dtype=xp.{name})" in text
    # the tanh slopes of every step at once, before the backward loop; a step reads its row
    assert "d_h_add2_factors = one - h_2_by_step * h_2_by_step" in text
    assert "d_h_1 * d_h_add2_factors[t]" in text
    assert "params_Wh2_T = params_Wh2.T" in text and ".dot(params_Wh2_T)" in text
    # the input-weight gradient reads the steps' inputs from xs itself, reversed
    assert "xs[::-1].reshape(-1, xs.shape[-1]).T @" in text
    assert "xs_t" not in text.split("def bwd_")[0].split("def fwd_")[1]
    assert value == rnn(params, xs)  # the forward is bit-identical to Python's
    plain_value, plain_grads = srcgrad.value_and_grad(rnn_plain)(params, xs)
    assert plain_value == value
    for k in params:
        assert grads[k].dtype == dtype
        np.testing.assert_allclose(grads[k], plain_grads[k], rtol=1e-5, atol=1e-6)


def test_rnn_gradient_matches_central_differences():
    rng = np.random.default_rng(1)
    params, xs = _params(rng, np.float64), rng.standard_normal((6, 1, 3))
    check_grad(rnn, params, xs)


def test_numbers_and_lifted_bias_in_a_step():
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal(4)
    xs = rng.standard_normal((5, 2, 4))
    df = srcgrad.grad(leaky, wrt=(0, 1))
    df(w, b, xs)
    assert "b_row = b[None]" in df.source
    assert "xp.asarray(" in df.source
    check_grad(leaky, w, b, xs, wrt=(0, 1))
    assert srcgrad.value_and_grad(leaky, wrt=(0, 1))(w, b, xs)[0] == leaky(w, b, xs)


def test_number_with_mixed_dtypes_stays_a_number():
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((4, 4)) * 0.5).astype(np.float32)
    xs = rng.standard_normal((5, 4)).astype(np.float32)
    df = srcgrad.grad(mixed)
    g = df(w, xs)
    assert "xp.asarray(1," not in df.source
    w64 = w.astype(np.float64)
    num = np.zeros_like(w64)
    eps = 1e-3
    for i in np.ndindex(w.shape):
        a, c = w64.copy(), w64.copy()
        a[i] += eps
        c[i] -= eps
        num[i] = (mixed(a, xs) - mixed(c, xs)) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=2e-2, atol=2e-3)


def test_zero_steps():
    rng = np.random.default_rng(4)
    params, xs = _params(rng, np.float64), np.zeros((0, 1, 3))
    value, grads = srcgrad.value_and_grad(rnn)(params, xs)
    assert value == 0.0
    assert all(not np.any(g) for g in grads.values())
