"""srcgrad.testing: check_adjoint and check_grad accept right gradients and reject wrong ones."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_adjoint, check_grad

# --------------------------------------------------------------------------- check_adjoint


def test_check_adjoint_accepts_a_plain_function_rule(rng: np.random.Generator) -> None:
    def sin_times(g, ans, x, y):  # rule for x * sin(y), no registry entry
        return g * np.sin(y), np.sum(g * x) * np.cos(y)

    check_adjoint(
        lambda x, y: x * np.sin(y), sin_times, [rng.normal(size=3), 0.7], rng=rng
    )


def test_check_adjoint_rejects_a_wrong_derivative(rng: np.random.Generator) -> None:
    def wrong(g, ans, x, y):
        return g * np.sin(y), np.sum(g * x) * np.sin(y)

    with pytest.raises(AssertionError, match="cotangent of y disagrees"):
        check_adjoint(
            lambda x, y: x * np.sin(y), wrong, [rng.normal(size=3), 0.7], rng=rng
        )


def test_check_adjoint_rejects_a_missing_cotangent(rng: np.random.Generator) -> None:
    with pytest.raises(AssertionError, match="one cotangent per operand"):
        check_adjoint(
            np.multiply, lambda g, ans, x1, x2: g * x2, [np.ones(3), np.ones(3)]
        )


def test_check_adjoint_rejects_a_none_that_should_be_a_gradient() -> None:
    with pytest.raises(AssertionError, match="cotangent of x2"):
        check_adjoint(
            np.multiply, lambda g, ans, x1, x2: (g * x2, None), [np.ones(3), np.ones(3)]
        )


def test_check_adjoint_checks_dtype_on_float32_inputs(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3)).astype(np.float32)
    with pytest.raises(AssertionError, match="float64"):
        check_adjoint(np.sin, lambda g, ans, x: (g * np.cos(x)).astype(np.float64), [x])
    check_adjoint(np.sin, lambda g, ans, x: g * np.cos(x), [x])


def test_check_adjoint_checks_shapes_of_python_float_operands() -> None:
    def unreduced(g, ans, x1, x2):
        return g * x2, g * x1  # x2 is a Python float: its cotangent must be summed

    with pytest.raises(AssertionError, match="Python float operand x2"):
        check_adjoint(np.multiply, unreduced, [np.ones((2, 2)), 3.0])


# --------------------------------------------------------------------------- check_grad


def tanh_energy(x):
    return np.sum(np.tanh(x) * x)


def weighted(params, x):
    return np.sum(params["w"] * x) + params["b"] * params["b"]


def scaled(s, x):
    return s * np.sum(x * x)


class Pair(NamedTuple):
    a: Any
    b: Any


def pair_loss(p, x):
    return np.sum(p.a * x) * p.b


def test_check_grad_accepts_srcgrad_gradients(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 4))
    check_grad(tanh_energy, x)
    check_grad(weighted, {"w": rng.normal(size=4), "b": 0.5}, x)
    check_grad(scaled, 1.5, x, wrt=(0, 1))
    check_grad(scaled, 1.5, x, wrt="x")
    check_grad(pair_loss, Pair(rng.normal(size=4), 2.0), x)
    check_grad(tanh_energy, x.astype(np.float32))  # checked in float64


def test_check_grad_rejects_a_wrong_gradient(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    def wrong_grad(f, wrt=0):
        return lambda x: 1.0 - np.tanh(x) ** 2  # misses the product rule

    monkeypatch.setattr(srcgrad, "grad", wrong_grad)
    with pytest.raises(AssertionError, match="disagrees with central differences"):
        check_grad(tanh_energy, rng.normal(size=(3, 4)))


def test_check_grad_rejects_a_gradient_that_changes_its_input(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    def mutating_grad(f, wrt=0):
        def df(x):
            t = np.tanh(x)
            x *= 2.0  # writes into the caller's array
            return t + x / 2.0 * (1.0 - t * t)

        return df

    monkeypatch.setattr(srcgrad, "grad", mutating_grad)
    with pytest.raises(AssertionError, match="changed an input"):
        check_grad(tanh_energy, rng.normal(size=(3, 4)))


def test_check_grad_rejects_an_aliased_gradient(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    def linear(x):
        return np.sum(x * x) / 2.0

    monkeypatch.setattr(
        srcgrad, "grad", lambda f, wrt=0: lambda x: x
    )  # right value, aliased
    with pytest.raises(AssertionError, match="shares memory"):
        check_grad(linear, rng.normal(size=3))


def test_check_grad_rejects_a_wrong_structure(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    monkeypatch.setattr(
        srcgrad, "grad", lambda f, wrt=0: lambda p, x: {"w": np.sum(x, 0)}  # no "b"
    )
    with pytest.raises(AssertionError, match="no entry"):
        check_grad(
            weighted, {"w": rng.normal(size=4), "b": 0.5}, rng.normal(size=(3, 4))
        )
