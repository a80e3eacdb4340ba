"""A name a loop binds but that had no value before it (a carried-out name), whose shape
changes from step to step: the backward loop once reset its cotangent at the end of every
step to zeros shaped like its value after the loop (the last step's), so the step before
read a cotangent of the wrong shape (a ValueError inside the emitted code, or a wrong-shaped
cotangent where the two shapes broadcast).  The reset now reads the name's shape and dtype
as the forward step began (``step_zeros``, pushed as a ``shape_dtype``), or, where the
specialised facts prove the shape the same in every step, its value after the loop as before.

Every gradient is checked against central differences in float64, specialised and generic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad

XS = np.linspace(-0.5, 0.8, 12).reshape(4, 3)


def grows(x):
    """The reported program: g is (1, 3), (2, 3), (3, 3) step by step."""
    h = x[:1]
    for t in range(3):
        h = np.tanh(np.concatenate([h, x[t : t + 1]]))
        g = np.sin(h[: t + 1])
    return np.sum(g * g) + np.sum(h)


def broadcasts(x):
    """(1, 3) then (2, 3): the last step's zeros broadcast against the first step's."""
    for t in range(2):
        g = np.sin(x[: t + 1])
    return np.sum(g * g)


def broadcasts_into_carried(x):
    """(1, 3) then (2, 3), the cotangent flowing into a carried name of shape (1, 3)."""
    h = x[:1]
    for t in range(2):
        g = np.sin(h + x[: t + 1])
        h = np.tanh(h * x[t + 1])
    return np.sum(g * g) + np.sum(h)


def shrinks(x):
    """(4, 3), (3, 3), (2, 3): the last step's zeros are the smallest."""
    for t in range(3):
        g = np.cos(x[t:] * x[0])
    return np.sum(g**3)


def in_a_while(x):
    h = x[:1]
    t = 0
    while t < 3:
        h = np.tanh(np.concatenate([h, x[t : t + 1]]))
        g = np.sin(h[: t + 1])
        t += 1
    return np.sum(g * g) + np.sum(h)


def with_break(x):
    for t in range(4):
        g = np.sin(x[: t + 1] * 2.0)
        if t == 2:
            break
    return np.sum(g * g)


def in_nested_loops(x):
    for i in range(2):
        for t in range(2):
            g = np.sin(x[: t + i + 1])
    return np.sum(g * g)


def bound_before(x):
    """Bound before the loop: restored step by step as it always was."""
    g = x[:1]
    for t in range(3):
        g = np.sin(x[: t + 1])
    return np.sum(g * g)


def constant(x):
    """Read after the loop, the same shape in every step: the cheap form stays."""
    h = x[0]
    for t in range(3):
        h = np.tanh(h + x[t])
        g = np.sin(h * x[t + 1])
    return np.sum(g * g) + np.sum(h)


FUNCS = [
    grows,
    broadcasts,
    broadcasts_into_carried,
    shrinks,
    in_a_while,
    with_break,
    in_nested_loops,
    bound_before,
    constant,
]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("specialise", ["1", "0"])
def test_gradient_of_a_carried_out_name(fn, specialise, monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    x = np.random.default_rng(3).random((4, 3))
    value, grad = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    assert grad.shape == x.shape and grad.dtype == x.dtype
    check_grad(fn, x)


def test_a_varying_shape_pushes_the_shape_of_the_step_before(monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "1")
    df = srcgrad.grad(grows)
    df(XS)
    assert "shape_dtype(g)" in df.source and "step_zeros(g)" in df.source


def test_a_constant_shape_keeps_the_value_after_the_loop(monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "1")
    df = srcgrad.grad(constant)
    df(XS)
    assert "step_zeros" not in df.source and "shape_dtype(g)" not in df.source
    assert "d_g = xp.zeros_like(g)" in df.source


def test_bound_before_the_loop_is_restored_as_before(monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "1")
    df = srcgrad.grad(bound_before)
    df(XS)
    assert "step_zeros" not in df.source


def scalar_grows(x):
    for t in range(3):
        g = np.sin(x * XS[: t + 1])
    return np.sum(g * g)


def test_second_order_through_step_zeros():
    d1 = srcgrad.grad(scalar_grows)
    d2 = srcgrad.grad(d1)
    x, eps = 0.7, 1e-5
    want = (d1(x + eps) - d1(x - eps)) / (2 * eps)
    got = d2(x)
    assert abs(got - want) < 1e-6 * max(1.0, abs(want)), (got, want)


def bound_in_a_branch(x):
    """Bound on some steps only: the branch's backward resets the cotangent for the step
    before to zeros of the shape the name had when the step began."""
    for t in range(4):
        if t % 2 == 0:
            g = np.sin(x[: t + 1])
    return np.sum(g * g)


def carried_out_of_an_inner_loop(x):
    """Bound by the inner loop alone, its shape changing with the outer step."""
    acc = 0.0
    for i in range(3):
        for t in range(2):
            g = np.sin(x[: i + 1] * x[t])
        acc = acc + np.sum(g * g)
    return acc


@pytest.mark.parametrize(
    "fn", [bound_in_a_branch, carried_out_of_an_inner_loop], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("specialise", ["1", "0"])
def test_gradient_of_a_name_carried_out_on_some_paths(fn, specialise, monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    x = np.random.default_rng(5).random((4, 3))
    value, grad = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    assert grad.shape == x.shape
    check_grad(fn, x)


@pytest.mark.parametrize("specialise", ["1", "0"])
def test_step_zeros_on_a_device_namespace(specialise, monkeypatch):
    """The shape kept for step_zeros keeps the device array's namespace (fakexp: cupy's
    behaviour, any host copy raises)."""
    from tests.fakexp import to_device, to_host

    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    x = np.random.default_rng(7).random((4, 3))
    for fn in (grows, bound_in_a_branch, shrinks):
        on_device = to_host(srcgrad.grad(fn)(to_device(x)))
        np.testing.assert_allclose(on_device, srcgrad.grad(fn)(x), rtol=1e-12)
