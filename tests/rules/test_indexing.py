"""Indexing rules beyond the registry's grids: overlapping sliding windows, ``take_along_axis``
end to end.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np

from srcgrad.testing import check_grad
from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_rule, user_function


def test_sliding_window_view_scatters_back_overlapping_windows():
    rng = np.random.default_rng(28)
    view = np.lib.stride_tricks.sliding_window_view
    check_rule(view, rng.standard_normal((5, 6)), (3, 2))
    f = user_function("""
        def f(x):
            w = np.lib.stride_tricks.sliding_window_view(x, 3)
            return np.sum(np.max(w, axis=-1) ** 2)
        """)
    check_grad(f, rng.standard_normal(7))


def test_take_along_axis_from_argsort_end_to_end():
    f = user_function("""
        def f(x):
            order = np.argsort(x, axis=1)
            top = np.take_along_axis(x, order[:, -2:], axis=1)
            return np.sum(top * top) + np.sum(np.take(x, [0, 2, 2], axis=1))
        """)
    check_grad(f, np.random.default_rng(29).standard_normal((3, 4)))
