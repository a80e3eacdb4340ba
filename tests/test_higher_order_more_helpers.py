"""Second derivatives through ``np.cov`` and ``np.lib.stride_tricks.as_strided``: their
first-order gradients call ``cov_cotangents`` and ``strided_cotangent``, which have rules
(and JVPs) of their own now.  Reverse over reverse (``elementwise_grad(grad(f))``, a
gradient of a scalar function of a gradient) and forward over reverse (``hvp``,
``hessian``), each against central differences of the first-order gradient in float64.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import srcgrad

A = np.array(
    [
        [0.3, -0.7, 1.1],
        [0.45, 0.2, -0.5],
        [0.9, -0.1, 0.6],
        [-0.8, 0.35, 0.1],
        [0.15, 0.5, -0.3],
    ]
)
B = np.array([0.2, -0.4, 0.7, 0.1, -0.9])
K = np.array([0.5, -1.0, 2.0])
SCALE = np.linspace(0.5, 1.5, 16).reshape(4, 4)
U = np.array([0.4, -0.3, 0.8, 0.1, -0.6, 0.25, 0.9])


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("more-helpers")))
        mp.delenv("SRCGRAD_CACHE", raising=False)
        yield


def covariance(m, y):
    """Observations in rows (rowvar=False): m's three columns and y, both differentiated."""
    c = np.cov(np.tanh(m), y * m[:, 0], rowvar=False)
    return np.sum(c * SCALE) + np.sum(c**2)


def covariance_of_m(m):
    return covariance(m, B)


def covariance_of_y(y):
    return covariance(A, y)


def windowed(x):
    """Overlapping windows of three over a vector (a convolution), as_strided."""
    h = np.sin(x) * x
    (s,) = h.strides
    w = as_strided(h, shape=(h.shape[0] - 2, 3), strides=(s, s))
    return np.sum((w @ K) ** 3) + np.sum(w * w[::-1])


def _directional(grad: Callable[..., Any], x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Central differences of the first-order gradient along ``v``: ``H v``."""
    eps = 1e-5
    return (grad(x + eps * v) - grad(x - eps * v)) / (2 * eps)


def _close(got: Any, want: Any) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


CASES = {
    "cov-m": (covariance_of_m, A),
    "cov-y": (covariance_of_y, B),
    "strided": (windowed, U),
}


@pytest.mark.parametrize("name", CASES)
def test_second_derivative_reverse_over_reverse(name: str) -> None:
    f, x = CASES[name]
    df = srcgrad.grad(f)
    # d/dx of sum(grad f): H 1
    got = srcgrad.elementwise_grad(df)(x)
    _close(got, _directional(df, x, np.ones_like(x)))


@pytest.mark.parametrize("name", CASES)
def test_hessian_vector_product_forward_over_reverse(name: str) -> None:
    f, x = CASES[name]
    df = srcgrad.grad(f)
    v = np.cos(np.arange(x.size) + 0.5).reshape(x.shape)
    _close(srcgrad.hvp(f)(x, v), _directional(df, x, v))


def test_hessian_of_cov_in_both_operands() -> None:
    # mixed blocks d2/dm dy: forward over reverse, both operands differentiated
    h = srcgrad.hessian(covariance, wrt=(0, 1))(A, B)
    dm = srcgrad.grad(covariance, wrt=0)
    v = np.cos(np.arange(B.size) + 0.5)
    eps = 1e-5
    want = (dm(A, B + eps * v) - dm(A, B - eps * v)) / (2 * eps)
    _close(np.tensordot(h[0][1], v, axes=1), want)
    dy = srcgrad.grad(covariance, wrt=1)
    w = np.sin(np.arange(A.size) + 0.2).reshape(A.shape)
    want_y = (dy(A + eps * w, B) - dy(A - eps * w, B)) / (2 * eps)
    _close(np.tensordot(h[1][0], w, axes=2), want_y)


def test_second_derivative_of_cov_with_both_operands_reverse() -> None:
    # reverse over reverse with y differentiated too: d/dy of sum(d f / d m)
    dm = srcgrad.grad(covariance, wrt=0)
    got = srcgrad.elementwise_grad(dm, wrt=1)(A, B)
    eps = 1e-5
    want = np.array(
        [
            (np.sum(dm(A, B + eps * e)) - np.sum(dm(A, B - eps * e))) / (2 * eps)
            for e in np.eye(B.size)
        ]
    )
    _close(got, want)


def test_second_derivative_of_a_one_variable_cov() -> None:
    # y None and a 0-d covariance (one variable, rowvar True)
    def spread(x):
        return np.cov(np.sin(x) * x) ** 2

    df = srcgrad.grad(spread)
    got = srcgrad.elementwise_grad(df)(U)
    _close(got, _directional(df, U, np.ones_like(U)))
    v = np.cos(np.arange(U.size))
    _close(srcgrad.hvp(spread)(U, v), _directional(df, U, v))
