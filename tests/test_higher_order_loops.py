"""Higher orders through loops that keep values per step: the backward of such a loop
reads its stacks and a list's cotangent by a counter (nothing is popped or shortened in
place), so the gradient of a gradient of a gradient is emitted code too.

Third and fourth derivatives of loop-defined polynomials against closed forms; second and
third derivatives of loops with residuals and of an RNN-like loop against central
differences of the order below (float64).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import srcgrad


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("loops-cache")))
        mp.delenv("SRCGRAD_CACHE", raising=False)
        yield


C = np.array([0.5, -1.0, 2.0, 0.25, -3.0])
M = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])
XS = np.linspace(-0.5, 0.8, 12).reshape(4, 3)


def horner_loop(x):
    """sum(C[k] * x**(4 - k)) by Horner's loop over the array C (keeps acc per step)."""
    acc = 0.0
    for k in range(5):
        acc = acc * x + C[k]
    return acc


def appended_powers(x):
    """sum(C[k] * x**(k + 1)): the terms appended to a list in a loop, then summed."""
    terms = []
    p = 1.0
    for k in range(5):
        p = p * x
        terms.append(C[k] * p)
    return sum(terms)


def residual_loop(x):
    y = x * XS[0]
    for t in range(3):
        y = np.sin(y) * y + x * XS[t + 1]
    return np.sum(y**2)


def rnn(w):
    h = np.zeros(3)
    hs = []
    for t in range(len(XS)):
        h = np.tanh(w * (M @ h) + XS[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


def appended_sines(x):
    hs = []
    h = x
    for k in range(4):
        h = np.sin(h) * x
        hs.append(h)
    return sum(hs)


def grows_after(x):
    """A list read in a loop, then appended to: the loop's entries are those it had."""
    hs = [x, x * x]
    s = 0.0
    for h in hs:
        s = s + h * x
    hs.append(np.sin(x))
    return s + sum(hs)


def grows_inside(x):
    """An inner loop reads the list the outer loop appends to."""
    hs = [x]
    for k in range(3):
        t = 0.0
        for h in hs:
            t = t + np.sin(h * x)
        hs.append(t)
    return sum(hs)


def read_then_append(x):
    hs = []
    for k in range(3):
        hs.append(np.cos(x * (k + 1)))
    s = 0.0
    for h in hs:
        s = s * x + h
    hs.append(s)
    return hs[-1] * hs[0]


def _nth(f: Callable[..., Any], n: int) -> Any:
    for _ in range(n):
        f = srcgrad.grad(f)
    return f


def _closed(coefficients: np.ndarray, n: int, x: float) -> float:
    return float(np.polyval(np.polyder(coefficients, n), x))


CLOSED = {
    "horner": (horner_loop, C),
    "appended": (appended_powers, np.append(C[::-1], 0.0)),
}


def _against_differences(f: Callable[..., Any], n: int, x: float) -> None:
    """The n-th derivative against central differences of the (n-1)-th."""
    lower = _nth(f, n - 1)
    got = srcgrad.grad(lower)(x)
    eps = 1e-5
    want = (lower(x + eps) - lower(x - eps)) / (2 * eps)
    assert abs(got - want) < 1e-6 * max(1.0, abs(want)), (f.__name__, n, got, want)


@pytest.mark.parametrize("f", [grows_after, grows_inside], ids=lambda f: f.__name__)
def test_first_order_of_lists_read_in_loops(f: Callable[..., Any]) -> None:
    """The entries a loop reads add into zeros as long as the list was there."""
    _against_differences(f, 1, 0.4)


@pytest.mark.slow
def test_a_third_order_through_a_loop_that_reads_a_list() -> None:
    _against_differences(read_then_append, 3, 0.4)


@pytest.mark.slow
def test_a_third_order_through_a_loop_that_appends_to_a_list() -> None:
    _against_differences(appended_sines, 3, 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("name", sorted(CLOSED))
def test_loop_defined_polynomials_to_the_fourth_order(name: str, order: int) -> None:
    f, coefficients = CLOSED[name]
    d = _nth(f, order)
    for x in (0.7, -1.3):
        want = _closed(coefficients, order, x)
        assert abs(d(x) - want) < 1e-9 * max(1.0, abs(want)), (name, order, x)


@pytest.mark.slow
@pytest.mark.parametrize("order", [2, 3])
def test_a_loop_with_residuals(order: int) -> None:
    _against_differences(residual_loop, order, 0.7)


@pytest.mark.slow
def test_third_order_of_an_rnn_like_loop() -> None:
    _against_differences(rnn, 3, 0.7)


def batch_rnn(w, xs):
    """A loop whose weight gradient sums products of several rows a step: its first-order
    backward keeps them in a ``step_sum``, which a higher order cannot differentiate."""
    h = np.zeros((xs.shape[1], w.shape[1]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ w + h @ M)
    return np.sum(h * h)


XB = np.linspace(-0.9, 0.7, 24).reshape(4, 2, 3)
WB = np.array([[0.3, -0.2, 0.5], [0.1, 0.4, -0.3], [-0.6, 0.2, 0.1]])


def test_second_order_through_a_loop_summing_products_of_several_rows() -> None:
    df = srcgrad.grad(batch_rnn)
    g = df(WB, XB)
    assert "step_sum(" in df.source  # the first order keeps its fast accumulator
    hv = srcgrad.elementwise_grad(df)(WB, XB)  # d/dw of sum(grad): was MissingRuleError
    eps = 1e-6
    want = np.zeros_like(WB)
    for i in np.ndindex(*WB.shape):
        up, down = WB.copy(), WB.copy()
        up[i] += eps
        down[i] -= eps
        want[i] = (df(up, XB).sum() - df(down, XB).sum()) / (2 * eps)
    np.testing.assert_allclose(hv, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(df(WB, XB), g)  # the first order is unchanged after it
    hess = srcgrad.hessian(batch_rnn)(WB, XB)
    np.testing.assert_allclose(hess.reshape(9, 9).sum(axis=0), want.ravel(), rtol=1e-6)
