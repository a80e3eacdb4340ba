"""Higher orders through recursion: a lower order whose module calls ``call_vjp`` (a
recursive call; its pullback is a closure srcgrad cannot differentiate) is emitted again in
recompute mode (srcgrad/recompute.py): the recursive call is a plain call, and its backward
calls the callee's recomputing gradient ``vjp_<f>__<wrt>``.  Every derivative is checked
against central differences of the order below, in float64."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad


def chain(x, n):
    if n == 0:
        return np.sin(x)
    return np.tanh(chain(x, n - 1) * x)


def chain_loss(x):
    return np.sum(chain(x, 3))


def fib(x, n):  # a tree recursion: two recursive calls
    if n <= 1:
        return x * x + 0.5 * x
    return fib(x, n - 1) * 0.5 + np.sin(fib(x, n - 2))


def fib_loss(x):
    return np.sum(fib(x, 4))


def even(x, n):  # mutual recursion: even -> odd -> even
    if n == 0:
        return np.cos(x)
    return odd(x * 0.9, n - 1) + x


def odd(x, n):
    if n == 0:
        return np.sin(x)
    return np.tanh(even(x, n - 1)) * x


def mutual_loss(x):
    return np.sum(even(x, 3))


def pair(x, y, n):  # two array arguments
    if n == 0:
        return np.sin(x) * y
    return np.tanh(pair(x, y, n - 1) * x + y)


def pair_loss(x, y):
    return np.sum(pair(x, y, 3))


def mixed(x, n):  # the recursive call's two array arguments both depend on x
    if n == 0:
        return np.sin(x)
    return x * mixed(x * 0.5, n - 1)


def mixed_with(x, y, n):
    if n == 0:
        return np.sin(x) * y
    return mixed_with(y * 0.7, x + 0.1, n - 1) * x


def mixed_loss(x):
    return np.sum(mixed_with(x, x * x, 3))


def swap(x, y, n):  # each call differentiates the other parameter (x, then y, then x)
    if n == 0:
        return np.sin(x) * y
    return np.tanh(swap(y, x, n - 1)) + x * 0.3


def swap_loss(x):
    return np.sum(swap(x, np.array([0.2, 0.5, -0.4]), 3))


def scalar_recursion(x, n):  # the differentiated function is itself recursive
    if n == 0:
        return np.sum(np.sin(x))
    return scalar_recursion(x * 0.8, n - 1) * 0.5 + np.sum(np.tanh(x) * x)


X = np.array([0.3, -0.7, 1.1])
Y = np.array([0.4, 0.2, -0.5])


def central(fn, x, eps=1e-6):
    """The Jacobian of ``fn`` at ``x`` by central differences, one row per element."""
    rows = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        rows.append((np.asarray(fn(x + e)) - np.asarray(fn(x - e))) / (2 * eps))
    return np.array(rows)


@pytest.mark.parametrize(
    "loss", [chain_loss, fib_loss, mutual_loss, mixed_loss, swap_loss]
)
def test_second_order_of_a_recursion(loss):
    g = srcgrad.grad(loss)
    hessian = central(g, X)
    second = srcgrad.elementwise_grad(g)(X)
    np.testing.assert_allclose(second, hessian.sum(0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(srcgrad.hessian(loss)(X), hessian, rtol=1e-6, atol=1e-8)
    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(
        srcgrad.hvp(loss)(X, v), hessian @ v, rtol=1e-6, atol=1e-8
    )


def scalar_loss(x):
    return chain(x, 3) * 2.0


@pytest.mark.slow  # a third order: about 20 s on 2 cores (CI runs it in its slow pass)
def test_grad_of_grad_of_a_scalar_recursion():
    g = srcgrad.grad(scalar_loss)
    gg = srcgrad.grad(g)
    ggg = srcgrad.grad(gg)
    x, eps = 0.7, 1e-6
    assert gg(x) == pytest.approx((g(x + eps) - g(x - eps)) / (2 * eps), rel=1e-6)
    assert ggg(x) == pytest.approx((gg(x + eps) - gg(x - eps)) / (2 * eps), rel=1e-5)


@pytest.mark.parametrize(
    "loss", [chain_loss, pytest.param(mutual_loss, marks=pytest.mark.slow)]
)
def test_third_order_of_a_recursion(loss):
    # (a tree recursion's third order works too, but each order inlines the callee's
    # forward and gradient once more: its module is megabytes, minutes to generate)
    second = srcgrad.elementwise_grad(srcgrad.grad(loss))
    third = srcgrad.elementwise_grad(second)(X)
    np.testing.assert_allclose(third, central(second, X).sum(0), rtol=1e-5, atol=1e-7)


def test_second_order_with_respect_to_another_argument_than_the_first():
    gx = srcgrad.grad(pair_loss, 0)
    cross = srcgrad.elementwise_grad(gx, 1)(X, Y)
    want = central(lambda y: gx(X, y), Y).sum(0)
    np.testing.assert_allclose(cross, want, rtol=1e-6, atol=1e-8)
    gy = srcgrad.grad(pair_loss, 1)
    second = srcgrad.elementwise_grad(gy, 1)(X, Y)
    want = central(lambda y: gy(X, y), Y).sum(0)
    np.testing.assert_allclose(second, want, rtol=1e-6, atol=1e-8)


def test_a_recursive_function_differentiated_itself():
    g = srcgrad.grad(scalar_recursion)
    hessian = central(lambda x: g(x, 3), X)
    second = srcgrad.elementwise_grad(g)(X, 3)
    np.testing.assert_allclose(second, hessian.sum(0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        srcgrad.hessian(scalar_recursion)(X, 3), hessian, rtol=1e-6, atol=1e-8
    )


def test_the_recompute_module_has_no_call_vjp_and_says_what_it_recomputes():
    g = srcgrad.grad(chain_loss)
    g(X)
    assert "call_vjp(" in g.source  # first order keeps the pullback (O(depth) work)
    second = srcgrad.elementwise_grad(g)
    second(X)
    lower = second.function.__globals__["__srcgrad_text__"]
    assert "bwd_chain_loss" in lower
    text = g.variant("_recompute").prepare(X).text
    assert "call_vjp" not in text
    assert "recomputes the callee's forward" in " ".join(
        ln.lstrip("# ") for ln in text.splitlines()
    )
    assert 'SRCGRAD_RECOMPUTED = {"vjp_chain__x": ("chain", ("x",))}' in text
    assert "__recompute" in str(g.variant("_recompute").path)
    chain_vjp = g.variant("_recompute").prepare(X).ns["vjp_chain__x"]
    source = chain_vjp.__globals__["__srcgrad_text__"]
    assert "recomputed" in source and "fwd_chain(" in source
