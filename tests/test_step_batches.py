"""A backward step's part that reads forward values only, made for every step at once before
the backward loop (srcgrad/codegen/step_batches.py).

Each program is checked against central differences, its value against the function's own
(bit for bit), and its emitted text for whether the part was batched: where the conditions
hold (a loop over ``range(n)``, straight-line body, popped values of one rank, invariants of
no more axes) and where they do not (an invariant of more axes than the step's value, a
0-d step value, ``range(1, n)``, a branch in the body), which keep the step-by-step form.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad

MARK = "for every step at once"


def tanh_rnn_batch(w, u, b, xs):
    h = np.zeros((xs.shape[1], w.shape[1]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ u + b)
    return np.sum(h * h)


def gated(w, u, xs):
    h = np.zeros((1, w.shape[1]))
    c = np.zeros((1, w.shape[1]))
    for t in range(xs.shape[0]):
        a = xs[t] @ w + h @ u
        gate = 1.0 / (1.0 + np.exp(-a))
        c = gate * c + (1.0 - gate) * np.tanh(a)
        h = np.tanh(c) * gate
    return np.sum(h**2) + np.sum(c)


def wider_invariant(w, s, xs):
    h = np.zeros(w.shape[1])
    out = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h)
        out = out + np.sum(np.tanh(h) * s)  # s (2, n) has more axes than h (n,)
    return out


def scalar_steps(w, xs):
    acc = np.sum(w) * 0.1
    for t in range(xs.shape[0]):
        acc = np.tanh(acc + np.sum(xs[t] * w))
    return acc * acc


def from_one(w, xs):
    h = np.zeros(w.shape[1])
    for t in range(1, xs.shape[0]):
        h = np.tanh(xs[t] @ w + h * 0.5)
    return np.sum(h * h)


def branchy(w, xs):
    h = np.zeros(w.shape[1])
    for t in range(xs.shape[0]):
        if t % 2 == 0:
            h = np.tanh(xs[t] @ w + h)
        else:
            h = np.sin(h) * 0.9
    return np.sum(h * h)


def growing(w, xs):
    acc = np.zeros(xs.shape[1])
    for t in range(xs.shape[0]):
        s = np.tanh(xs[: t + 1] * w)  # (t + 1, n): a length that changes every step
        acc = acc + np.sum(s * s, axis=0)
    return np.sum(acc * acc)


RNG = np.random.default_rng(3)
W = RNG.standard_normal((4, 3)) * 0.5
U = RNG.standard_normal((3, 3)) * 0.5
B = RNG.standard_normal(3) * 0.2
S = RNG.standard_normal((2, 3))
XS3 = RNG.standard_normal((6, 2, 4))
XS1 = RNG.standard_normal((6, 1, 4))
XS = RNG.standard_normal((6, 4))
XW = RNG.standard_normal((6, 4, 3)) * 0.3

CASES = [
    (tanh_rnn_batch, (W, U, B, XS3), (0, 1, 2), True),
    (gated, (W, U, XS1), (0, 1), True),
    (wider_invariant, (W, S, XS), (0, 1), True),  # batched: only the tanh slope of h
    (scalar_steps, (W[:, :1].T.copy(), XS[:, :1].reshape(6, 1, 1)), (0,), False),
    (from_one, (W, XS), (0,), False),
    (branchy, (W, XS), (0,), False),
    (growing, (XS[0] * 0.5, XS), (0,), False),
]


@pytest.mark.parametrize(
    "fn, args, wrt, batched", CASES, ids=[c[0].__name__ for c in CASES]
)
def test_batched_parts_keep_values_and_gradients(fn, args, wrt, batched):
    vg = srcgrad.value_and_grad(fn, wrt=wrt)
    value, _ = vg(*args)
    assert value == fn(*args)  # the forward is the function's own
    assert (MARK in vg.source) is batched
    check_grad(fn, *args, wrt=wrt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_slopes_match_the_step_by_step_gradient(dtype):
    args = tuple(a.astype(dtype) for a in (W, U, B, XS3))
    vg = srcgrad.value_and_grad(tanh_rnn_batch, wrt=(0, 1, 2))
    _, grads = vg(*args)
    assert "h_2_by_step" in vg.source and "_factors[t]" in vg.source
    # the same gradient as the plain backward pass, which differentiates without facts
    plain = srcgrad.value_and_grad(tanh_rnn_batch, wrt=(0, 1, 2))._generic()
    _, expected = plain(*args)
    assert MARK not in plain.source
    for g, e in zip(grads, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_empty_loop():
    xs = np.zeros((0, 2, 4))
    vg = srcgrad.value_and_grad(tanh_rnn_batch, wrt=(0, 1, 2))
    value, grads = vg(W, U, B, xs)
    assert value == 0.0
    assert all(not np.any(g) for g in grads)


def small_rnn(w, xs):
    h = np.zeros((1, 3))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h)
    return np.sum(h * h)


def test_second_order_of_a_batched_loop():
    xs = XS1[:4]
    df = srcgrad.grad(small_rnn)
    g = df(W, xs)
    assert MARK in df.source  # the first order batches; a higher order reads it without
    v = RNG.standard_normal(W.shape)
    hv = srcgrad.hvp(small_rnn)(W, xs, v)
    eps = 1e-6
    num = (df(W + eps * v, xs) - df(W - eps * v, xs)) / (2 * eps)
    np.testing.assert_allclose(hv, num, rtol=1e-5, atol=1e-8)
    d2 = srcgrad.elementwise_grad(df)(W, xs)  # d/dw of sum(grad)
    want = np.zeros_like(W)
    for i in np.ndindex(*W.shape):
        up, down = W.copy(), W.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (df(up, xs).sum() - df(down, xs).sum()) / (2 * eps)
    np.testing.assert_allclose(d2, want, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(df(W, xs), g)
