"""Higher-order gradients: ``srcgrad.grad(srcgrad.grad(f))`` to any order, each order an
emitted module that differentiates the lower order's emitted module (srcgrad/higher.py).

Closed forms for the derivatives of scalar functions up to the fourth; second derivatives
of loops, calls, closures and a model's loss against central differences of the gradient
(float64); refusals by name for what higher order does not support yet.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp, polygamma

import srcgrad
from srcgrad import nn, tree

EPS = 1e-5


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("higher-cache")))
        mp.delenv("SRCGRAD_CACHE", raising=False)
        yield


# --------------------------------------------------------------------------- functions


def tanh(x):
    return np.tanh(x)


def sine(x):
    return np.sin(x)


TERMS = 9


def taylor_exp(x):
    """exp(x) to 9 terms, in Horner's form over the literal coefficients 1/k!."""
    s = 0.0
    for c in (
        2.48015873015873e-05,
        0.0001984126984126984,
        0.001388888888888889,
        0.008333333333333333,
        0.041666666666666664,
        0.16666666666666666,
        0.5,
        1.0,
        1.0,
    ):
        s = s * x + c
    return s


def taylor_terms(x):
    """The same series, each term from the one before (the loop saves it per step)."""
    term = 1.0
    s = 1.0
    for k in range(1, TERMS):
        term = term * x / k
        s = s + term
    return s


def log_gamma(x):
    return gammaln(x) + 0.5 * x


POLY = (0.5, -1.0, 2.0, 0.25, -3.0, 1.5)


def horner(x):
    """sum(POLY[i] * x**(5 - i)), by Horner's loop over the constant tuple POLY."""
    y = 0.0
    for c in (0.5, -1.0, 2.0, 0.25, -3.0, 1.5):
        y = y * x + c
    return y


def _nth(f: Callable[..., Any], n: int, **kw: Any) -> Any:
    for _ in range(n):
        f = srcgrad.grad(f, **kw)
    return f


def _tanh_closed(x: float, n: int) -> float:
    t = np.tanh(x)
    s = 1 - t * t
    return [t, s, -2 * t * s, s * (6 * t * t - 2), s * (16 * t - 24 * t**3)][n]


def _taylor_closed(x: float, n: int) -> float:
    return sum(x ** (k - n) / math.factorial(k - n) for k in range(n, TERMS))


_SINES = (np.sin, np.cos, lambda v: -np.sin(v), lambda v: -np.cos(v))

CLOSED: dict[str, tuple[Callable[..., Any], Callable[[float, int], float], float]] = {
    "tanh": (tanh, _tanh_closed, 0.3),
    "sin": (sine, lambda x, n: _SINES[n % 4](x), 0.7),
    "taylor": (taylor_exp, _taylor_closed, 0.6),
    "gammaln": (
        log_gamma,
        lambda x, n: (polygamma(n - 1, x) + (0.5 if n == 1 else 0.0)) if n else 0.0,
        2.3,
    ),
    "horner": (
        horner,
        lambda x, n: np.polyval(np.polyder(np.array(POLY), n), x),
        -0.8,
    ),
}


@pytest.mark.parametrize("order", [2, 3])
@pytest.mark.parametrize("name", ["tanh"])
def test_derivatives_match_closed_forms(name: str, order: int) -> None:
    f, closed, x = CLOSED[name]
    got = _nth(f, order)(x)
    assert isinstance(got, float)
    assert abs(got - closed(x, order)) < 1e-10 * max(1.0, abs(closed(x, order)))


@pytest.mark.slow
@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("name", sorted(CLOSED))
def test_derivatives_to_fourth_order_match_closed_forms(name: str, order: int) -> None:
    f, closed, x = CLOSED[name]
    d = _nth(f, order)
    for x0 in (x, x + 0.45):
        want = closed(x0, order)
        assert abs(d(x0) - want) < 1e-9 * max(1.0, abs(want)), (name, order, x0)


def test_each_order_is_an_emitted_module_that_reads_the_lower_one() -> None:
    d1 = srcgrad.grad(tanh)
    d2 = srcgrad.grad(d1)
    d3 = srcgrad.grad(d2)
    assert d3(0.3) == pytest.approx(_tanh_closed(0.3, 3), rel=1e-12)
    text2, text3 = d2.source, d3.source
    assert "def fwd_grad_tanh(x):" in text2 and "def bwd_grad_tanh(" in text2
    assert "def grad_grad_grad_tanh(x" in text3
    # the inlined lower order keeps its comments: they point into its emitted file
    assert f"# {_display(d1.path)}:" in text2
    assert f"# {_display(d2.path)}:" in text3
    assert d2.path.name.startswith("grad_tanh__wrt-x")
    assert d3.path.name.startswith("grad_grad_tanh__wrt-x")
    assert d2.path.read_text(encoding="utf-8") == text2  # cached under generated/
    assert d2.order == 2 and d3.order == 3


def _display(path: Path) -> str:
    from srcgrad.cache import display_path

    return display_path(str(path))


@pytest.mark.slow
def test_the_cache_key_covers_the_lower_orders_text(load_module: Any) -> None:
    """Two functions of one qualname and file name: each second order runs its own
    code (the key covers the first order's emitted text)."""
    a = load_module("def f(x):\n    return x * x * x\n")
    b = load_module("import numpy as np\n\n\ndef f(x):\n    return np.sin(x)\n")
    for _ in range(2):
        assert srcgrad.grad(srcgrad.grad(a.f))(0.5) == pytest.approx(3.0)
        assert srcgrad.grad(srcgrad.grad(b.f))(0.5) == pytest.approx(-np.sin(0.5))


@pytest.fixture
def load_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    import importlib
    import sys

    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def load(text: str) -> Any:
        name = f"higher_src_{len(made)}"
        (tmp_path / f"{name}.py").write_text(text, encoding="utf-8")
        importlib.invalidate_caches()
        made.append(name)
        return importlib.import_module(name)

    yield load
    for name in made:
        sys.modules.pop(name, None)


# --------------------------------------------------------------------------- second orders
# against central differences of the gradient


def _check_second(f: Callable[..., Any], x: float, **kw: Any) -> None:
    d1 = srcgrad.grad(f, **kw)
    d2 = srcgrad.grad(d1, **kw)
    want = (d1(x + EPS) - d1(x - EPS)) / (2 * EPS)
    assert abs(d2(x) - want) < 1e-6 * max(1.0, abs(want)), (f.__name__, d2(x), want)


def looped(x):
    """A loop-carried value that only a linear step touches: nothing saved per step."""
    y = x
    for _ in range(3):
        y = 0.5 * y + np.sin(x)
    return y * x


def stepped(x):
    s = 0.0
    for k in range(1, 5):
        s = s + np.cos(k * x) / k
    return s


def horner_global(x):
    y = 0.0
    for c in POLY:
        y = y * x + c
    return y


def saving_loop(x):
    y = x
    for _ in range(3):
        y = np.sin(y) * y
    return y


def helper(u):
    return u * np.exp(0.3 * u)


def calls(x):
    return helper(x) + np.cos(helper(2.0 * x))


def make_closure(a):
    def closure(x):
        return np.tanh(a * x) * x

    return closure


def branches(x):
    if x > 0:
        return x * x * x
    return np.sin(x)


_SLOW = pytest.mark.slow


@pytest.mark.parametrize(
    "f, x",
    [
        pytest.param(stepped, 0.4, id="loop", marks=_SLOW),
        pytest.param(horner, 0.7, id="horner", marks=_SLOW),
        pytest.param(horner_global, 0.7, id="horner-global", marks=_SLOW),
        pytest.param(calls, 0.4, id="calls", marks=_SLOW),
        pytest.param(make_closure(1.7), 0.4, id="closure", marks=_SLOW),
        pytest.param(branches, 0.7, id="branch+", marks=_SLOW),
        pytest.param(branches, -0.7, id="branch-", marks=_SLOW),
        pytest.param(looped, 0.3, id="loop2", marks=_SLOW),
        pytest.param(saving_loop, 0.7, id="loop-stack"),
        pytest.param(taylor_terms, 0.6, id="taylor", marks=_SLOW),
    ],
)
def test_second_derivatives_match_differences_of_the_gradient(
    f: Callable[..., Any], x: float
) -> None:
    _check_second(f, x)


def two(x, y):
    return np.sin(x * y) + x**3 * y


@pytest.mark.slow
def test_mixed_partials_with_wrt() -> None:
    dx = srcgrad.grad(two, wrt="x")
    dxy = srcgrad.grad(dx, wrt="y")
    x, y = 0.3, 0.8
    assert dxy(x, y) == pytest.approx(
        np.cos(x * y) - x * y * np.sin(x * y) + 3 * x * x, rel=1e-12
    )
    dyx = srcgrad.grad(srcgrad.grad(two, wrt=1), wrt=0)
    assert dyx(x, y) == pytest.approx(dxy(x, y), rel=1e-12)
    dxx = srcgrad.grad(dx, wrt="x")
    assert dxx(x, y) == pytest.approx(
        (dx(x + EPS, y) - dx(x - EPS, y)) / (2 * EPS), rel=1e-7
    )


def test_value_and_grad_of_a_gradient() -> None:
    """The value is the lower order's gradient, of the kind srcgrad.grad returns it."""
    d1 = srcgrad.grad(tanh)
    value, d2 = srcgrad.value_and_grad(d1)(0.3)
    assert value == pytest.approx(_tanh_closed(0.3, 1), rel=1e-14)
    assert d2 == pytest.approx(_tanh_closed(0.3, 2), rel=1e-12)
    assert type(value) is type(d1(0.3)) is float and type(d2) is float
    value, d2 = srcgrad.value_and_grad(d1)(np.float32(0.3))
    assert type(value) is type(d1(np.float32(0.3))) is np.float32
    value, _ = srcgrad.value_and_grad(srcgrad.elementwise_grad(tanh))(0.3)
    assert type(value) is float


def test_elementwise_grad() -> None:
    x = np.linspace(-1.5, 1.5, 7)
    d1 = srcgrad.elementwise_grad(tanh)
    np.testing.assert_allclose(d1(x), _tanh_closed(x, 1), rtol=1e-13)
    d2 = srcgrad.elementwise_grad(d1)
    np.testing.assert_allclose(d2(x), _tanh_closed(x, 2), rtol=1e-12, atol=1e-15)
    d3 = srcgrad.elementwise_grad(srcgrad.elementwise_grad(srcgrad.grad(tanh)))
    x0 = 0.4
    assert d3(x0) == pytest.approx(_tanh_closed(x0, 3), rel=1e-12)
    e3 = srcgrad.elementwise_grad(d2)
    np.testing.assert_allclose(e3(x), _tanh_closed(x, 3), rtol=1e-11, atol=1e-14)
    assert d2(x).shape == x.shape and d2(x).dtype == x.dtype


class MLP(nn.Module):
    def __init__(self, rng: Any) -> None:
        self.fc1 = nn.Linear(3, 5, rng=rng)
        self.fc2 = nn.Linear(5, 1, rng=rng)

    def __call__(self, x):
        return self.fc2(np.tanh(self.fc1(x)))


def mlp_loss(model, x, y):
    return np.mean((model(x) - y) ** 2)


def _mlp_args(seed: int = 0) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    model = MLP(rng)
    model = tree.map(lambda w: w.astype(np.float64), model)
    return model, rng.normal(size=(4, 3)), rng.normal(size=(4, 1))


@pytest.mark.slow
def test_second_derivatives_of_a_model_loss() -> None:
    """d/dmodel and d/dx of sum(dloss/dx): against central differences of the gradient
    along random directions."""
    model, x, y = _mlp_args()
    dx = srcgrad.grad(mlp_loss, wrt="x")

    def summed(m: Any, xx: Any) -> float:
        return float(np.sum(dx(m, xx, y)))

    rng = np.random.default_rng(1)
    got_m = srcgrad.elementwise_grad(dx, wrt="model")(model, x, y)
    assert isinstance(got_m, MLP)
    v = tree.map(lambda w: rng.normal(size=w.shape), model)
    plus = tree.map(lambda w, d: w + EPS * d, model, v)
    minus = tree.map(lambda w, d: w - EPS * d, model, v)
    want = (summed(plus, x) - summed(minus, x)) / (2 * EPS)
    got = sum(float(np.sum(g * d)) for g, d in zip(tree.leaves(got_m), tree.leaves(v)))
    assert abs(got - want) < 1e-7 * max(1.0, abs(want))
    got_x = srcgrad.elementwise_grad(dx, wrt="x")(model, x, y)
    u = rng.normal(size=x.shape)
    want_x = (summed(model, x + EPS * u) - summed(model, x - EPS * u)) / (2 * EPS)
    assert abs(float(np.sum(got_x * u)) - want_x) < 1e-7 * max(1.0, abs(want_x))


# --------------------------------------------------------------------------- third orders
# through the runtime helpers that second-order code calls (each has a rule of its own)

W = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
V = np.linspace(0.5, 1.5, 4)
IDX = np.array([0, 2, 2, 1])


def products(x):
    h = np.tanh(x * W)
    return np.dot(np.dot(h, V), np.inner(h, W)[:, 0]) + np.tensordot(h, W, 2)


def gathers(x):
    h = np.sin(x * W)
    c = np.cumsum(np.take(h, IDX, axis=1), axis=0)
    padded = np.pad(h, 1)
    return (
        np.sum(np.tile(c, (2, 1)) ** 2)
        + np.sum(padded * 0.5 * padded)
        + np.trace(h[:, :3] @ h[:, :3].T)
    )


def pieces(x):
    h = np.cos(x * W)
    a, b = np.split(h, [1], axis=0)
    s = np.stack([h[0], h[1] * h[2]])
    c = np.concatenate([a * b[0], b**2], axis=0)
    return np.sum(c * c) + np.sum(s**3) + np.sum(np.diff(h, axis=1) ** 2)


def softmax_and_max(x):
    h = np.sin(x * W) * 3
    return (
        np.sum(logsumexp(h, axis=1) ** 2)
        + np.sum(np.max(h, axis=0) ** 2)
        + np.sum(np.roll(h, 1) * h**2)
    )


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(gathers, id="gathers"),
        pytest.param(products, id="products", marks=_SLOW),
        pytest.param(pieces, id="pieces", marks=_SLOW),
        pytest.param(softmax_and_max, id="softmax-max", marks=_SLOW),
    ],
)
def test_third_derivatives_through_helper_rules(f: Callable[..., Any]) -> None:
    """Against central differences of the second derivative (float64)."""
    d2 = _nth(f, 2)
    d3 = srcgrad.grad(d2)
    x = 0.37
    want = (d2(x + 1e-4) - d2(x - 1e-4)) / 2e-4
    assert abs(d3(x) - want) < 1e-6 * max(1.0, abs(want)), (d3(x), want)


@pytest.mark.slow
def test_a_third_order_through_a_loop_that_saves_values() -> None:
    """The second order's backward reads the loop's stack and the first order's list
    cotangent by a counter: its gradient is emitted code too (more orders of loops in
    tests/test_higher_order_loops.py)."""
    d2 = _nth(saving_loop, 2)
    d3 = srcgrad.grad(d2)
    x = 0.3
    want = (d2(x + 1e-4) - d2(x - 1e-4)) / 2e-4
    assert abs(d3(x) - want) < 1e-6 * max(1.0, abs(want)), (d3(x), want)


# --------------------------------------------------------------------------- refusals


def test_what_is_not_one_gradient_is_refused() -> None:
    with pytest.raises(srcgrad.SrcgradError) as e:
        srcgrad.grad(srcgrad.value_and_grad(tanh))
    assert e.value.construct == "value_and_grad"
    with pytest.raises(srcgrad.SrcgradError) as e:
        srcgrad.grad(srcgrad.grad(two, wrt=("x", "y")))
    assert e.value.construct == "wrt-tuple"
    with pytest.raises(srcgrad.SrcgradError) as e:
        srcgrad.grad(srcgrad.grad(lambda x: (x * x, x), has_aux=True))
    assert e.value.construct == "has_aux"


def _dict_params_loss(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)


def test_a_higher_order_with_respect_to_a_container_is_refused_with_what_works() -> None:
    # was an UnsupportedSyntaxError inside the emitted module ("dict display with a
    # non-constant key"), pointing at a line the user never wrote
    p = {"W": np.linspace(-1, 1, 6).reshape(3, 2), "b": np.array([0.1, -0.2])}
    x = np.linspace(0, 1, 12).reshape(4, 3)
    with pytest.raises(srcgrad.SrcgradError) as e:
        srcgrad.elementwise_grad(srcgrad.grad(_dict_params_loss))(p, x)
    assert e.value.construct == "container-wrt"
    assert "srcgrad.hessian" in str(e.value) and __file__ in str(e.value)
    hess = srcgrad.hessian(_dict_params_loss)(p, x)  # the hint, followed, works
    assert hess["W"]["b"].shape == (3, 2, 2)
    # with respect to an array argument, the higher order runs
    mixed = srcgrad.elementwise_grad(srcgrad.grad(_dict_params_loss, wrt=1), wrt=0)(p, x)
    assert set(mixed) == {"W", "b"}
    gx = srcgrad.grad(_dict_params_loss, wrt=1)
    eps = 1e-6
    for j in range(2):
        up = {"W": p["W"], "b": p["b"] + eps * (np.arange(2) == j)}
        down = {"W": p["W"], "b": p["b"] - eps * (np.arange(2) == j)}
        want = (gx(up, x).sum() - gx(down, x).sum()) / (2 * eps)
        assert abs(mixed["b"][j] - want) < 1e-6 * max(1.0, abs(want))


def test_grad_of_an_array_gradient_points_at_elementwise_grad() -> None:
    d2 = srcgrad.grad(srcgrad.grad(lambda x: np.sum(np.tanh(x))))
    with pytest.raises(srcgrad.NonScalarOutputError) as e:
        d2(np.linspace(0, 1, 3))
    assert "elementwise_grad" in str(e.value)


GATES = np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def gates(s):
    v = s * GATES
    a = v[:, :2]
    b = v[:, 2:]
    return np.sum(np.tanh(a) * np.sin(b))


def test_second_order_through_slices_gathered_into_one_cotangent() -> None:
    # the first order joins the slices' cotangents (scatter_pieces); the second
    # differentiates that join
    d1 = srcgrad.grad(gates)
    d2 = srcgrad.grad(d1)
    assert "scatter_pieces" in d1.source
    want = (d1(0.7 + EPS) - d1(0.7 - EPS)) / (2 * EPS)
    assert abs(d2(0.7) - want) < 1e-7 * max(1.0, abs(want))
