"""The forward pass writes a step's fresh temporaries in place (``out=``): in loop bodies as
at the top level, and through a written chain of ufuncs and numbers (``1 / (1 + exp(-a))``).
Each rewrite must leave the forward bit-identical and the gradients right; a name the step
did not make itself, one read again, one the backward reads, an integer one, are left alone.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def gru_like(w, u, b, xs):
    hid = u.shape[0]
    h = np.zeros((xs.shape[1], hid))
    for t in range(xs.shape[0]):
        gi = xs[t] @ w + b
        gh = h @ u
        r = 1.0 / (1.0 + np.exp(-(gi[:, :hid] + gh[:, :hid])))
        c = np.tanh(gi[:, hid:] + r * gh[:, hid:])
        h = (1.0 - r) * c + r * h
    return np.sum(h * h)


def sigmoid_top(x, w):
    a = x @ w
    s = 1.0 / (1.0 + np.exp(-a))
    return np.sum(s * s)


def carried(x, w):
    # ``m`` is made at the end of one step and read at the start of the next: never fresh
    m = x * 1.0
    acc = np.zeros_like(x)
    for _ in range(3):
        y = m + w
        acc = acc + np.tanh(y)
        m = x * w
    return np.sum(acc * acc)


def from_before(x, w):
    # ``a`` is made before the loop; writing into it on every step would change it
    a = x * 2.0
    out = np.zeros_like(x)
    for _ in range(3):
        out = out + (a + w)
    return np.sum(out * out)


def read_twice(x, w):
    a = x @ w
    s = 1.0 / (1.0 + np.exp(-a))
    return np.sum(s * a)


def branch_in_loop(x, w, flags):
    h = x
    for f in flags:
        v = h * w
        if f > 0:
            v = x
        h = np.tanh(v + 1.0)
    return np.sum(h * h)


def _fwd(source: str) -> str:
    return source[source.index("def fwd_") : source.index("def bwd_")]


def test_a_gru_step_writes_its_fresh_sums_in_place_and_stays_bit_identical():
    rng = np.random.default_rng(0)
    w, u = rng.standard_normal((3, 8)) * 0.5, rng.standard_normal((4, 8)) * 0.5
    b, xs = rng.standard_normal(8) * 0.1, rng.standard_normal((5, 2, 3))
    vg = srcgrad.value_and_grad(gru_like, wrt=(0, 1, 2))
    value, _ = vg(w, u, b, xs)
    fwd = _fwd(vg.source)
    loop = fwd[fwd.index("for t in") :]
    assert "xp.tanh(c_add, out=c_add)" in loop, loop
    assert "gi = gi_matmul + b_row" in loop  # a row of the hoisted product: not fresh
    assert "xp.exp(xp.negative(" in loop  # the written sigmoid, in place
    assert value == gru_like(w, u, b, xs)  # bit-identical
    check_grad(gru_like, w, u, b, xs, wrt=(0, 1, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_written_sigmoid_writes_into_its_operand(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3)).astype(dtype)
    w = rng.standard_normal((3, 5)).astype(dtype)
    vg = srcgrad.value_and_grad(sigmoid_top, wrt=(0, 1))
    value, grads = vg(x, w)
    assert "xp.divide(\n" in vg.source or "xp.divide(1.0" in vg.source
    assert value == sigmoid_top(x, w) and value.dtype == dtype
    assert grads[0].dtype == dtype
    if dtype == np.float64:
        check_grad(sigmoid_top, x, w, wrt=(0, 1))


def test_integer_operand_is_left_alone():
    def f(x, k):
        a = k * 3  # an integer array: 1.0 / (...) is float, not k's dtype
        s = 1.0 / (1.0 + np.exp(-a))
        return np.sum(s * x)

    x, k = np.ones(4), np.arange(4)
    vg = srcgrad.value_and_grad(f)
    value, _ = vg(x, k)
    assert "out=a" not in _fwd(vg.source)
    assert value == f(x, k)


@pytest.mark.parametrize(
    "fn", [carried, from_before], ids=["carried", "made-before-the-loop"]
)
def test_names_a_step_did_not_make_are_not_written(fn):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    vg = srcgrad.value_and_grad(fn, wrt=(0, 1))
    value, _ = vg(x, w)
    loop = _fwd(vg.source).split("for ")[1]
    assert "out=m" not in loop and "out=a)" not in loop, loop
    assert value == fn(x, w)
    check_grad(fn, x, w, wrt=(0, 1))


def test_a_name_read_again_is_not_written():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
    vg = srcgrad.value_and_grad(read_twice, wrt=(0, 1))
    value, _ = vg(x, w)
    assert "xp.negative(a, out=a)" not in vg.source
    assert value == read_twice(x, w)
    check_grad(read_twice, x, w, wrt=(0, 1))


def test_a_name_bound_again_in_a_branch_of_the_step():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(3), rng.standard_normal(3)
    flags = [1.0, -1.0, 1.0, -1.0]
    vg = srcgrad.value_and_grad(branch_in_loop, wrt=(0, 1))
    value, _ = vg(x, w, flags)
    assert value == branch_in_loop(x, w, flags)
    assert np.all(x == x.copy())
    check_grad(branch_in_loop, x, w, flags, wrt=(0, 1))


def test_the_arguments_are_never_written():
    rng = np.random.default_rng(5)
    w, u = rng.standard_normal((3, 8)) * 0.5, rng.standard_normal((4, 8)) * 0.5
    b, xs = rng.standard_normal(8) * 0.1, rng.standard_normal((5, 2, 3))
    kept = [a.copy() for a in (w, u, b, xs)]
    srcgrad.value_and_grad(gru_like, wrt=(0, 1, 2))(w, u, b, xs)
    for a, k in zip((w, u, b, xs), kept):
        np.testing.assert_array_equal(a, k)


def sigmoid_steps(w, xs):
    h = np.zeros(3)
    for t in range(xs.shape[0]):
        a = xs[t] @ w + h
        h = 1.0 / (1.0 + np.exp(-a))
        h = h * np.tanh(a * 2.0 + 1.0)
    s = 1.0 / (1.0 + np.exp(-(w @ h)))
    return np.sum(s * s)


def test_a_higher_order_reads_the_in_place_forward_as_values():
    # the lower order's forward writes with out=; the next order differentiates it
    rng = np.random.default_rng(6)
    w, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((4, 3))
    df = srcgrad.grad(sigmoid_steps)
    df(w, xs)
    assert "out=" in _fwd(df.source)
    got = srcgrad.elementwise_grad(df)(w, xs)
    eps = 1e-6
    want = np.zeros_like(w)
    for i in np.ndindex(*w.shape):
        up, down = w.copy(), w.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (df(up, xs).sum() - df(down, xs).sum()) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
