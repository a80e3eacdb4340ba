"""Python floats beside arrays, end to end: ``np.dot(x, s)``, ``np.outer(v, s)``, ``np.max(s)``.

numpy accepts a Python float wherever it accepts an array, and users pass one (a scale, a
temperature, a step) both as a constant and as an argument they differentiate.  The emitted
code inlines each rule with that float, so a rule body or runtime helper that reads the
operand's ``shape``/``ndim``/``dtype`` would raise inside generated code.  Every function here
is checked against central differences with the float in ``wrt`` and out of it, the float's
gradient must be a Python ``float`` (DESIGN §2), and the same gradients must come out on the
fake device (``tests/fakexp.py``), where the float's gradient is a 0-d device array.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.fakexp import FakeArray, to_device, to_host


@pytest.fixture(autouse=True, scope="module")
def _own_cache(tmp_path_factory: pytest.TempPathFactory):
    """Emitted files go to a directory of this module's, never to the repository's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.delenv("SRCGRAD_CACHE", raising=False)
        yield


# --------------------------------------------------------------------------- user functions
# (x: a (3, 4) array, v: a (4,) array, s: a Python float)


def dot_right(x, s):
    return np.sum(np.dot(x, s) ** 2)


def dot_left(s, x):
    return np.sum(np.sin(np.dot(s, x)))


def dot_both(s, t, x):
    return np.dot(s, t) * np.sum(x)


def outer_right(v, s):
    return np.sum(np.outer(v, s) ** 2)


def outer_left(s, v):
    return np.sum(np.tanh(np.outer(s, v)))


def inner_left(s, v):
    return np.sum(np.inner(s, v) * v)


def inner_right(v, s):
    return np.sum(np.inner(v, s) ** 3)


def tensordot_right(x, s):
    return np.sum(np.tensordot(x, s, 0) ** 2)


def tensordot_left(s, x):
    return np.sum(np.cos(np.tensordot(s, x, axes=0)))


def max_of_float(s, x):
    return np.max(s) * np.sum(x * x)


def min_of_float(s, x):
    return np.min(s) + np.sum(np.exp(x)) * np.amin(s)


def prod_of_float(s, x):
    return np.prod(s) * np.sum(x)


def norm_of_float(s, x):
    return np.linalg.norm(s) * np.sum(x * x)


def mean_median_of_float(s, x):
    return np.median(s) * np.sum(x) + np.nanmean(s) * np.mean(x)


def shapes_of_float(s, x):
    y = np.ravel(s) * np.squeeze(np.expand_dims(s, 0))
    return np.sum(y * np.tile(s, 4) + np.repeat(s, 4) * x[0])


def sort_and_cumsum_of_float(s, x):
    return np.sum(np.sort(s, axis=None) * x) + np.sum(np.cumsum(s) * x[0])


def float_in_a_chain(x, s):
    h = np.tanh(np.dot(x, s))
    return np.sum(np.outer(h[:, 0], s)) + np.max(s) * np.prod(s)


def literals(x):
    y = np.dot(x, 0.5) + np.tensordot(x, 2.0, 0)
    return (
        np.sum(np.outer(y[0], 1.5) ** 2)
        + np.inner(0.25, np.sum(y))
        + np.dot(3.0, y).sum()
    )


def int_literals(x):
    y = np.dot(x, 2) + np.tensordot(3, x, 0)
    return (
        np.sum(np.outer(y[0], 3) ** 2)
        + np.inner(y[1], 1).sum()
        + np.sum(np.convolve(y[2], 2))
    )


SCALE = 0.3


def captured(x):
    return np.sum(np.outer(np.dot(x, SCALE), SCALE) ** 2) + np.max(SCALE) * np.sum(x)


def outer_weighted(v, s, u):
    return np.sum(np.outer(v, s) * u)


# name -> (function, argument makers, the positions of Python floats)
CASES = {
    "dot(x, s)": (dot_right, ("x", "s")),
    "dot(s, x)": (dot_left, ("s", "x")),
    "dot(s, t)": (dot_both, ("s", "t", "x")),
    "outer(v, s)": (outer_right, ("v", "s")),
    "outer(s, v)": (outer_left, ("s", "v")),
    "inner(s, v)": (inner_left, ("s", "v")),
    "inner(v, s)": (inner_right, ("v", "s")),
    "tensordot(x, s, 0)": (tensordot_right, ("x", "s")),
    "tensordot(s, x, axes=0)": (tensordot_left, ("s", "x")),
    "max(s)": (max_of_float, ("s", "x")),
    "min(s), amin(s)": (min_of_float, ("s", "x")),
    "prod(s)": (prod_of_float, ("s", "x")),
    "linalg.norm(s)": (norm_of_float, ("s", "x")),
    "median(s), nanmean(s)": (mean_median_of_float, ("s", "x")),
    "ravel, squeeze, expand_dims, tile, repeat of s": (shapes_of_float, ("s", "x")),
    "sort(s, axis=None), cumsum(s)": (sort_and_cumsum_of_float, ("s", "x")),
    "a chain": (float_in_a_chain, ("x", "s")),
}


def _args(kinds: tuple[str, ...], seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    make = {
        "x": lambda: rng.normal(size=(3, 4)),
        "v": lambda: rng.normal(size=4),
        "s": lambda: float(rng.uniform(0.5, 1.5)),
        "t": lambda: float(rng.uniform(-1.5, -0.5)),
    }
    return tuple(make[k]() for k in kinds)


def _float_positions(kinds: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, k in enumerate(kinds) if k in "st")


IDS = list(CASES)


@pytest.mark.parametrize("name", IDS)
def test_every_argument_in_wrt(name: str) -> None:
    fn, kinds = CASES[name]
    check_grad(fn, *_args(kinds), wrt=tuple(range(len(kinds))))


@pytest.mark.parametrize("name", IDS)
def test_float_out_of_wrt(name: str) -> None:
    """The float is a constant; only the arrays are differentiated."""
    fn, kinds = CASES[name]
    arrays = tuple(i for i, k in enumerate(kinds) if k not in "st")
    check_grad(fn, *_args(kinds), wrt=arrays)


@pytest.mark.parametrize("name", IDS)
def test_float_alone_in_wrt_by_name_gets_a_float(name: str) -> None:
    fn, kinds = CASES[name]
    args = _args(kinds)
    names = fn.__code__.co_varnames[: len(kinds)]
    floats = tuple(names[i] for i in _float_positions(kinds))
    check_grad(fn, *args, wrt=floats)
    grads = srcgrad.grad(fn, wrt=floats)(*args)
    assert all(type(g) is float for g in grads), [type(g) for g in grads]


@pytest.mark.parametrize("name", IDS)
def test_value_and_grad_forward_is_faithful(name: str) -> None:
    fn, kinds = CASES[name]
    args = _args(kinds)
    value, _ = srcgrad.value_and_grad(fn, wrt=tuple(range(len(kinds))))(*args)
    assert value == fn(*args)


@pytest.mark.parametrize("fn", [literals, int_literals, captured])
def test_float_literals_and_captured_floats_beside_arrays(fn) -> None:
    x = np.random.default_rng(1).normal(size=(3, 4))
    check_grad(fn, x)
    g32 = srcgrad.grad(fn)(x.astype(np.float32))
    assert g32.dtype == np.float32 and g32.shape == x.shape


@pytest.mark.parametrize(
    "name", ["dot(x, s)", "outer(v, s)", "tensordot(s, x, axes=0)", "a chain"]
)
def test_float32_arrays_keep_float32_beside_a_float(name: str) -> None:
    """A float64 0-d stand-in for the float must not upcast the arrays' gradients."""
    fn, kinds = CASES[name]
    args = tuple(
        a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in _args(kinds)
    )
    grads = srcgrad.grad(fn, wrt=tuple(range(len(kinds))))(*args)
    for a, g in zip(args, grads):
        if isinstance(a, np.ndarray):
            assert g.dtype == np.float32 and g.shape == a.shape, (g.dtype, g.shape)
        else:
            assert type(g) is float


@pytest.mark.parametrize("wrt", [(0, 1), 1, "s", 0])
def test_vjp_of_an_outer_product_with_a_float(wrt) -> None:
    """A non-scalar output: the pullback of ``np.outer(v, s)`` against a weighted sum."""
    rng = np.random.default_rng(3)
    v, s, u = rng.normal(size=4), 0.75, rng.normal(size=(4, 1))
    out, pullback = srcgrad.vjp(lambda_outer, wrt=wrt)(v, s)
    np.testing.assert_array_equal(out, np.outer(v, s))
    got = pullback(u)
    want = srcgrad.grad(outer_weighted, wrt=wrt)(v, s, u)
    got, want = (got, want) if isinstance(wrt, tuple) else ((got,), (want,))
    for g, w in zip(got, want):
        assert type(g) is type(w)
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    # and against central differences of the weighted sum
    check_grad(outer_weighted, v, s, u, wrt=wrt)


def lambda_outer(v, s):
    return np.outer(v, s)


def test_vjp_of_a_dot_with_a_float_on_the_left() -> None:
    rng = np.random.default_rng(4)
    s, x, u = 1.25, rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    out, pullback = srcgrad.vjp(dot_left_raw, wrt=(0, 1))(s, x)
    d_s, d_x = pullback(u)
    assert type(d_s) is float
    np.testing.assert_allclose(d_s, np.sum(u * x), rtol=1e-13)
    np.testing.assert_allclose(d_x, s * u, rtol=1e-13)


def dot_left_raw(s, x):
    return np.dot(s, x)


# --------------------------------------------------------------------------- fake device


@pytest.mark.parametrize("name", IDS)
def test_on_the_fake_device(name: str) -> None:
    """The same gradients with the arrays on the device and the floats on the host."""
    fn, kinds = CASES[name]
    args = _args(kinds)
    wrt = tuple(range(len(kinds)))
    want = srcgrad.grad(fn, wrt=wrt)(*args)
    dev = tuple(to_device(a) if isinstance(a, np.ndarray) else a for a in args)
    got = srcgrad.grad(fn, wrt=wrt)(*dev)
    for i, (g, w) in enumerate(zip(got, want)):
        assert isinstance(g, FakeArray), f"argument {i}: {type(g).__name__}"
        assert g.shape == np.shape(
            w
        ), f"argument {i}: shape {g.shape}, want {np.shape(w)}"
        np.testing.assert_allclose(np.asarray(to_host(g)), w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["dot(x, s)", "outer(v, s)", "max(s)", "a chain"])
def test_on_the_fake_device_float_out_of_wrt(name: str) -> None:
    fn, kinds = CASES[name]
    args = _args(kinds)
    arrays = tuple(i for i, k in enumerate(kinds) if k not in "st")
    want = srcgrad.grad(fn, wrt=arrays)(*args)
    dev = tuple(to_device(a) if isinstance(a, np.ndarray) else a for a in args)
    got = srcgrad.grad(fn, wrt=arrays)(*dev)
    for g, w in zip(got, want):
        assert isinstance(g, FakeArray)
        np.testing.assert_allclose(np.asarray(to_host(g)), w, rtol=1e-12, atol=1e-14)
