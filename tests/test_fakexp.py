"""The fake device namespace refuses every host conversion, and the runtime helpers run on it."""

from __future__ import annotations

import copy
import math
import operator

import numpy as np
import pytest

from srcgrad.backend import namespace
from srcgrad.runtime import (
    expand_like,
    extremum_share,
    log_or_zero,
    mT,
    power_slope,
    unbroadcast,
    zeros_if_none,
)
from tests.fakexp import FakeArray, HostDeviceError, fakexp, to_device, to_host


@pytest.fixture
def x(rng: np.random.Generator) -> FakeArray:
    return to_device(rng.standard_normal((3, 4)))


# --------------------------------------------------------------------------- refusals

HOST_CONVERSIONS = {
    "np.asarray": lambda x: np.asarray(x),
    "np.array": lambda x: np.array(x),
    "np.tanh (ufunc)": lambda x: np.tanh(x),
    "np.sum (array function)": lambda x: np.sum(x),
    "np.concatenate": lambda x: np.concatenate([x, x]),
    "float": lambda x: float(x[0, 0]),
    "int": lambda x: int(x[0, 0]),
    "complex": lambda x: complex(x[0, 0]),
    "operator.index": lambda x: operator.index(x[0, 0]),
    "range": lambda x: range(x[0, 0]),
    "math.exp": lambda x: math.exp(x[0, 0]),
    "item": lambda x: x.item(),
    "tolist": lambda x: x.tolist(),
    "tobytes": lambda x: x.tobytes(),
    "device + host": lambda x: x + np.ones(4),
    "host + device": lambda x: np.ones(4) + x,
    "host * device": lambda x: np.ones((3, 4)) * x,
    "device @ host": lambda x: x @ np.ones(4),
    "device < host": lambda x: x < np.ones(4),
    "host index": lambda x: x[np.array([0, 1])],
    "host value in setitem": lambda x: x.__setitem__(0, np.zeros(4)),
    "host array to fakexp": lambda x: fakexp.add(x, np.ones(4)),
    "host array in a list": lambda x: fakexp.stack([x, np.ones((3, 4))]),
    "host array to method": lambda x: x.dot(np.ones(4)),
    "fakexp.asarray of host data": lambda x: fakexp.asarray(np.ones(3)),
}


@pytest.mark.parametrize(
    "convert", HOST_CONVERSIONS.values(), ids=HOST_CONVERSIONS.keys()
)
def test_host_conversion_raises(x: FakeArray, convert) -> None:
    with pytest.raises(TypeError):
        convert(x)


def test_host_conversions_raise_the_device_error(x: FakeArray) -> None:
    for name in ("np.asarray", "float", "item", "device + host", "host + device"):
        with pytest.raises(HostDeviceError):
            HOST_CONVERSIONS[name](x)


def test_fake_array_is_not_an_ndarray(x: FakeArray) -> None:
    assert not isinstance(x, np.ndarray)
    assert not hasattr(x, "__array_interface__")
    assert not hasattr(x, "__array_struct__")


def test_bool_only_for_one_element(x: FakeArray) -> None:
    assert bool(x[0, 0] == x[0, 0])
    assert not bool(x[0, 0] != x[0, 0])
    with pytest.raises(ValueError):
        bool(x)


# --------------------------------------------------------------------------- what works


def test_namespace_finds_the_fake_device(x: FakeArray) -> None:
    assert namespace(x) is fakexp
    assert namespace(np.float32(1.0), 2.0, None, x) is fakexp
    assert x.__array_namespace__() is fakexp
    # containers are looked into one level deep (np.stack(arrays) emits namespace(arrays))
    assert namespace([np.ones(2), x]) is fakexp
    assert namespace({"w": x}) is fakexp
    assert namespace((np.ones(2),), 1.0) is np


def test_namespace_is_numpy_for_host_values() -> None:
    assert namespace() is np
    assert (
        namespace(np.ones(3), 1.0, 2, None, np.float32(3.0), [np.ones(2)], {"a": 1})
        is np
    )


def test_operators_with_scalars_and_device_arrays(x: FakeArray) -> None:
    h = to_host(x)
    cases = {
        "x + 1.5": (x + 1.5, h + 1.5),
        "2 - x": (2 - x, 2 - h),
        "x * x": (x * x, h * h),
        "x / 3": (x / 3, h / 3),
        "1 / x": (1 / x, 1 / h),
        "x ** 2": (x**2, h**2),
        "2.0 ** x": (2.0**x, 2.0**h),
        "x // 0.5": (x // 0.5, h // 0.5),
        "x % 0.5": (x % 0.5, h % 0.5),
        "-x": (-x, -h),
        "+x": (+x, +h),
        "abs(x)": (abs(x), abs(h)),
        "x @ x.T": (x @ x.T, h @ h.T),
        "x.mT": (x.mT, h.mT),
        "np.float32 * x": (np.float32(2.0) * x, np.float32(2.0) * h),
        "x > 0": (x > 0, h > 0),
        "x == x": (x == x, h == h),  # noqa: PLR0124
        "(x > 0) & (x < 1)": ((x > 0) & (x < 1), (h > 0) & (h < 1)),
    }
    for label, (got, want) in cases.items():
        assert isinstance(got, FakeArray), label
        np.testing.assert_array_equal(to_host(got), want, err_msg=label)
        assert to_host(got).dtype == want.dtype, label


def test_float32_stays_float32_with_python_scalars() -> None:
    x = to_device(np.ones(3, dtype=np.float32))
    assert (x * 2.5 + 1).dtype == np.float32
    assert (1.0 - x * x).dtype == np.float32


def test_indexing(x: FakeArray) -> None:
    h = to_host(x)
    idx = to_device(np.array([2, 0]))
    mask = x > 0
    for got, want in [
        (x[1], h[1]),
        (x[:, ::2], h[:, ::2]),
        (x[None, 1:], h[None, 1:]),
        (x[..., 0], h[..., 0]),
        (x[idx], h[[2, 0]]),
        (x[idx, 1], h[[2, 0], 1]),
        (x[mask], h[h > 0]),
    ]:
        np.testing.assert_array_equal(to_host(got), want)
    y = x.copy()
    y[0] = 0.0
    y[1, :] = x[2]
    assert (to_host(y)[0] == 0).all() and (to_host(y)[1] == h[2]).all()
    np.testing.assert_array_equal(to_host(x), h)  # the copy was written, not x


def test_reductions_give_zero_d_device_arrays(x: FakeArray) -> None:
    for got in (x.sum(), x.mean(), x.max(), fakexp.sum(x), x.any(), x.argmax()):
        assert isinstance(got, FakeArray) and got.shape == ()


def test_methods_and_attributes(x: FakeArray) -> None:
    h = to_host(x)
    assert (x.shape, x.ndim, x.size, x.dtype) == (h.shape, h.ndim, h.size, h.dtype)
    np.testing.assert_allclose(
        to_host(x.sum(axis=0, keepdims=True)), h.sum(0, keepdims=True)
    )
    np.testing.assert_array_equal(to_host(x.reshape(4, 3)), h.reshape(4, 3))
    np.testing.assert_array_equal(to_host(x.transpose()), h.T)
    np.testing.assert_array_equal(to_host(x.swapaxes(0, 1)), h.T)
    np.testing.assert_array_equal(to_host(x.astype(np.float32)), h.astype(np.float32))
    np.testing.assert_array_equal(to_host(x.clip(-0.5, 0.5)), h.clip(-0.5, 0.5))
    np.testing.assert_allclose(to_host(x.cumsum(axis=1)), h.cumsum(axis=1))
    np.testing.assert_allclose(to_host(x.var()), h.var())
    assert len(x) == 3 and [r.shape for r in x] == [(4,)] * 3
    assert to_host(copy.deepcopy(x)) is not to_host(x)


def test_namespace_functions(x: FakeArray) -> None:
    h = to_host(x)
    np.testing.assert_allclose(to_host(fakexp.tanh(x)), np.tanh(h))
    np.testing.assert_allclose(
        to_host(fakexp.where(x > 0, x, 0)), np.where(h > 0, h, 0)
    )
    np.testing.assert_allclose(
        to_host(fakexp.stack([x, x], axis=0)), np.stack([h, h], axis=0)
    )
    a = to_device(np.eye(3) * 2.0)
    np.testing.assert_allclose(to_host(fakexp.linalg.inv(a)), np.eye(3) / 2)
    w, v = fakexp.linalg.eigh(a)
    assert isinstance(w, FakeArray) and isinstance(v, FakeArray)
    np.testing.assert_allclose(
        to_host(fakexp.fft.ifft(fakexp.fft.fft(x[0]))).real, h[0]
    )
    target = fakexp.zeros(3)
    fakexp.add.at(target, to_device(np.array([0, 0, 2])), 1.0)
    np.testing.assert_array_equal(to_host(target), [2.0, 0.0, 1.0])
    assert (
        fakexp.float32 is np.float32 and fakexp.pi == np.pi and fakexp.newaxis is None
    )
    assert fakexp.ndarray is FakeArray
    with pytest.raises(AttributeError):
        fakexp.random  # noqa: B018  (randomness comes from explicit generators)


# --------------------------------------------------------------------------- runtime helpers


def _same(got, want) -> None:
    assert isinstance(got, FakeArray), type(got)
    np.testing.assert_allclose(to_host(got), want, rtol=1e-14, atol=0)
    assert to_host(got).dtype == np.asarray(want).dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unbroadcast_on_device(rng: np.random.Generator, dtype) -> None:
    g = rng.standard_normal((2, 3, 4)).astype(dtype)
    for shape in [(2, 3, 4), (3, 4), (4,), (3, 1), (1, 1, 4), ()]:
        x = np.ones(shape, dtype=dtype)
        _same(unbroadcast(to_device(g), to_device(x)), unbroadcast(g, x))
    _same(unbroadcast(to_device(g), 2.0), np.asarray(g.sum()))
    # a float64 result reduced for a float32 operand comes back float32
    x32 = np.ones(4, dtype=np.float32)
    g64 = g.astype(np.float64)
    _same(
        unbroadcast(to_device(g64), to_device(x32)), g64.sum((0, 1)).astype(np.float32)
    )


def test_expand_like_on_device(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 3, 4))
    for axis, keepdims in [(None, False), (0, False), (-1, True), ((0, 2), False)]:
        g = a.sum(axis=axis, keepdims=keepdims)
        got = expand_like(
            to_device(np.asarray(g)), to_device(a), axis=axis, keepdims=keepdims
        )
        _same(got, expand_like(np.asarray(g), a, axis=axis, keepdims=keepdims))


def test_other_helpers_on_device(rng: np.random.Generator) -> None:
    a = rng.uniform(0.5, 2.0, (3, 4))
    b = rng.uniform(-2.0, 2.0, (4,))
    _same(mT(to_device(a)), a.T)
    assert mT(to_device(b)).shape == (4,)
    _same(zeros_if_none(None, to_device(a)), np.zeros_like(a))
    ans = np.maximum(a, b)
    _same(
        extremum_share(to_device(a), to_device(ans), to_device(b)),
        extremum_share(a, ans, b),
    )
    _same(
        extremum_share(0.0, to_device(ans), to_device(a)), extremum_share(0.0, ans, a)
    )
    _same(power_slope(to_device(a), to_device(b)), power_slope(a, b))
    _same(power_slope(to_device(a), 3.0), power_slope(a, 3.0))
    _same(log_or_zero(to_device(b)), log_or_zero(b))
