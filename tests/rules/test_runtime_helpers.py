"""The runtime helpers every rule family shares (broadcasting, binary, special, shape): shapes,
dtypes (NEP 50), identity and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.runtime import (
    expand_like,
    extremum_share,
    log_or_zero,
    mT,
    power_slope,
    unbroadcast,
    zeros_if_none,
)


@pytest.mark.parametrize(
    "g_shape, x_shape",
    [
        ((3, 4), (3, 4)),
        ((3, 4), (4,)),
        ((3, 4), (1, 4)),
        ((3, 4), (3, 1)),
        ((2, 3, 4), ()),
    ],
)
def test_unbroadcast_sums_what_broadcasting_repeated(rng, g_shape, x_shape) -> None:
    g = rng.standard_normal(g_shape)
    x = np.ones(x_shape)
    got = unbroadcast(g, x)
    assert np.shape(got) == x_shape
    # the adjoint identity of broadcasting: <g, broadcast(v)> == <unbroadcast(g), v>
    v = rng.standard_normal(x_shape)
    np.testing.assert_allclose(np.sum(got * v), np.sum(g * np.broadcast_to(v, g_shape)))


def test_unbroadcast_returns_g_itself_when_nothing_to_do(rng) -> None:
    g = rng.standard_normal((3, 4))
    assert unbroadcast(g, np.ones((3, 4))) is g
    g32 = g.astype(np.float32)
    assert unbroadcast(g32, np.ones((3, 4), dtype=np.float32)) is g32


def test_unbroadcast_casts_to_the_operand_dtype(rng) -> None:
    g = rng.standard_normal((3, 4))
    assert unbroadcast(g, np.ones((3, 4), dtype=np.float32)).dtype == np.float32
    assert unbroadcast(g, np.ones(4, dtype=np.float32)).dtype == np.float32
    gc = g + 1j * g
    got = unbroadcast(gc, np.ones(4))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, g.sum(0))  # the real part, autograd's convention
    # an integer operand is not differentiable: no truncating cast
    assert unbroadcast(g, np.ones(4, dtype=np.int64)).dtype == np.float64


def test_unbroadcast_to_a_python_scalar_sums_everything(rng) -> None:
    g = rng.standard_normal((3, 4)).astype(np.float32)
    got = unbroadcast(g, 2.0)
    assert np.ndim(got) == 0 and got.dtype == np.float32
    np.testing.assert_allclose(got, g.sum())


def test_unbroadcast_fills_for_a_python_scalar_cotangent() -> None:
    got = unbroadcast(2.5, np.ones((2, 2), dtype=np.float32))
    assert got.shape == (2, 2) and got.dtype == np.float32 and (got == 2.5).all()


def test_unbroadcast_rejects_fewer_dimensions() -> None:
    with pytest.raises(ValueError, match="fewer dimensions"):
        unbroadcast(np.ones(4), np.ones((3, 4)))
    with pytest.raises(ValueError):
        unbroadcast(np.ones((3, 4)), np.ones((2, 4)))


@pytest.mark.parametrize(
    "axis, keepdims",
    [
        (None, False),
        (None, True),
        (0, False),
        (-1, False),
        ((0, 2), False),
        ((0, 2), True),
    ],
)
def test_expand_like_is_the_adjoint_of_sum(rng, axis, keepdims) -> None:
    x = rng.standard_normal((2, 3, 4))
    g = np.asarray(rng.standard_normal(np.shape(x.sum(axis=axis, keepdims=keepdims))))
    got = expand_like(g, x, axis=axis, keepdims=keepdims)
    assert got.shape == x.shape
    v = rng.standard_normal(x.shape)
    np.testing.assert_allclose(
        np.sum(got * v), np.sum(g * v.sum(axis=axis, keepdims=keepdims))
    )


def test_expand_like_dtype_and_numpy_integer_axis() -> None:
    x = np.ones((3, 4), dtype=np.float32)
    got = expand_like(np.ones(4), x, axis=np.int64(0))
    assert got.shape == (3, 4) and got.dtype == np.float32
    assert expand_like(np.float64(2.0), x).dtype == np.float32


def test_mT_swaps_the_last_two_axes() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    assert mT(x).shape == (2, 4, 3)
    np.testing.assert_array_equal(mT(x)[1], x[1].T)
    v = np.arange(3.0)
    assert mT(v) is v


def test_zeros_if_none() -> None:
    like = np.ones((2, 3), dtype=np.float32)
    g = np.full((2, 3), 2.0, dtype=np.float32)
    assert zeros_if_none(g, like) is g
    z = zeros_if_none(None, like)
    assert z.dtype == np.float32 and z.shape == (2, 3) and not z.any()


def test_extremum_share_splits_ties_and_keeps_float32() -> None:
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    other = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    ans = np.maximum(x, other)
    share = extremum_share(x, ans, other)
    assert share.dtype == np.float32
    np.testing.assert_array_equal(share, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(
        share + extremum_share(other, ans, x), [1.0, 1.0, 1.0]
    )
    relu = np.maximum(x - 2, 0.0)
    np.testing.assert_array_equal(extremum_share(x - 2, relu, 0.0), [0.0, 0.5, 1.0])


def test_power_slope_is_zero_for_a_zero_exponent() -> None:
    x1 = np.array([0.0, 2.0, 0.0])
    np.testing.assert_array_equal(
        power_slope(x1, np.array([0.0, 0.0, 2.0])), [0.0, 0.0, 0.0]
    )
    np.testing.assert_array_equal(power_slope(x1, 0), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(power_slope(x1, 3.0), 3.0 * x1**2)
    assert power_slope(x1.astype(np.float32), np.float32(2.0)).dtype == np.float32
    assert power_slope(x1.astype(np.float32), 2.0).dtype == np.float32


def test_log_or_zero() -> None:
    x = np.array([-1.0, 0.0, np.e], dtype=np.float32)
    got = log_or_zero(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [0.0, 0.0, 1.0], rtol=1e-6)
    assert log_or_zero(2.0) == pytest.approx(np.log(2.0)) and log_or_zero(-1.0) == 0.0
    assert isinstance(log_or_zero(2.0), float)  # weak under NEP 50
    z = np.array([0.0 + 0.0j, -1.0 + 0.0j])
    np.testing.assert_allclose(log_or_zero(z), [0.0, np.log(-1.0 + 0.0j)])


def test_power_rule_gives_no_nan_for_zero_base_and_zero_cotangent() -> None:
    from srcgrad.rules.binary import power_adjoint

    x1 = np.array([0.0, -2.0, 2.0])
    x2 = np.array([2.0, 2.0, 0.0])
    ans = x1**x2
    d1, d2 = power_adjoint(np.ones(3), ans, x1, x2)
    np.testing.assert_array_equal(d1, [0.0, -4.0, 0.0])
    np.testing.assert_allclose(d2, [0.0, 0.0, np.log(2.0)])  # 2 ** x2 at x2 = 0: log 2
    d1, d2 = power_adjoint(np.zeros(3), ans, x1, x2)
    assert np.isfinite(d1).all() and np.isfinite(d2).all()
