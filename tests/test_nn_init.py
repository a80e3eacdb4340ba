"""srcgrad.nn.init: PyTorch's formulas, an explicit generator, float32 by default."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srcgrad.nn import init


def test_gains():
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("tanh") == 5.0 / 3.0
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("conv2d") == 1.0
    with pytest.raises(ValueError, match="hint"):
        init.calculate_gain("swish")


def test_fans_and_bounds():
    assert init.fan_in_and_fan_out((6, 3, 5, 5)) == (75, 150)
    rng = np.random.default_rng(0)
    w = init.kaiming_uniform((400, 300), rng=rng)
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 300)  # a=0: the relu gain
    assert w.dtype == np.float32 and np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.95 * bound
    w = init.xavier_uniform((400, 300), rng=rng, dtype=np.float64)
    assert w.dtype == np.float64 and np.abs(w).max() <= math.sqrt(6.0 / 700)
    w = init.kaiming_normal((2000, 500), mode="fan_out", nonlinearity="relu", rng=rng)
    np.testing.assert_allclose(w.std(), math.sqrt(2.0 / 2000), rtol=0.02)
    w = init.xavier_normal((1000, 1000), gain=2.0, rng=rng)
    np.testing.assert_allclose(w.std(), 2.0 * math.sqrt(2.0 / 2000), rtol=0.02)


def test_explicit_rng_reproduces():
    a = init.normal((3, 4), rng=np.random.default_rng(7))
    b = init.normal((3, 4), rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    u = init.uniform(1000, -2.0, 3.0, rng=np.random.default_rng(1))
    assert u.min() >= -2.0 and u.max() < 3.0


def test_orthogonal_constant_zeros_ones():
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (3, 5), (4, 2, 3)]:
        q = init.orthogonal(shape, gain=2.0, rng=rng, dtype=np.float64)
        flat = q.reshape(shape[0], -1)
        small = min(flat.shape)
        gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)
    assert np.all(init.constant((2, 2), 0.5) == 0.5)
    assert init.zeros(3).dtype == np.float32 and np.all(init.ones(3) == 1)
