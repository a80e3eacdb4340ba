"""Statistics rules beyond the registry's grids: quantiles with an array ``q`` and ``keepdims``.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np

from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_rule


def test_quantiles_with_array_q_and_keepdims():
    rng = np.random.default_rng(30)
    x = rng.standard_normal((3, 5, 4))
    check_rule(np.quantile, x, [0.1, 0.5, 0.95], axis=(0, 2), keepdims=True)
    check_rule(np.percentile, x, [[10.0, 50.0], [90.0, 100.0]], axis=1)
    check_rule(np.median, x, axis=(1, 2), keepdims=True)
