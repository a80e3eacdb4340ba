"""Scan rules beyond the registry's grids: ``cumprod`` with zeros anywhere, ``np.gradient`` with
steps and coordinates (also end to end).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad.testing import check_grad
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_rule, user_function


@pytest.mark.parametrize("shape", [(5,), (2, 5)])
def test_cumprod_with_zeros_anywhere(shape):
    for zeros in [(), (0,), (2,), (4,), (1, 3), (0, 4)]:
        x = np.random.default_rng(31).uniform(0.5, 2.0, size=shape)
        x[..., list(zeros)] = 0.0
        check_rule(np.cumprod, x, axis=-1)
        check_rule(np.cumprod, x)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_steps_and_coordinates(edge_order):
    rng = np.random.default_rng(24)
    f2 = rng.standard_normal((4, 5))
    xs = np.cumsum(rng.uniform(0.5, 1.5, 5))
    check_rule(np.gradient, rng.standard_normal(6), 0.7, edge_order=edge_order)
    check_rule(
        np.gradient,
        rng.standard_normal(6),
        np.cumsum(rng.uniform(0.5, 1.5, 6)),
        edge_order=edge_order,
    )
    check_rule(np.gradient, f2, xs, axis=1, edge_order=edge_order)
    check_rule(np.gradient, f2, 0.3, axis=0, edge_order=edge_order)


def test_gradient_end_to_end_with_coordinates():
    f = user_function("""
        def f(y, x):
            dy = np.gradient(y, x)
            return np.sum(dy * dy)
        """)
    rng = np.random.default_rng(25)
    y, x = rng.standard_normal(6), np.cumsum(rng.uniform(0.5, 1.5, 6))
    check_grad(f, y, x, wrt=("y", "x"))
