"""Adjoint rules for ``scipy.spatial.distance`` (only when scipy is installed).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  ``cdist(XA, XB, metric)``
between the rows of two 2-d arrays, for the metrics kernel methods, clustering and
embedding code differentiate: ``"sqeuclidean"`` (smooth everywhere), ``"euclidean"``
(where two rows coincide the distance has no derivative; the cotangent there is zero, as
for ``np.linalg.norm`` at zero) and ``"cityblock"`` (the sign of each difference, zero where
coordinates coincide).  Other metrics are refused at the call with a hint; so is a metric
given as a function.  The cotangents come from
:func:`srcgrad.runtime.cdist_cotangents` (``xp`` operations only).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import cdist_cotangents

try:
    import scipy.spatial.distance as _distance
except ImportError:  # scipy is optional: without it this module registers nothing
    _distance = None

__all__: list[str] = []

_METRICS = {
    "metric": (
        ("euclidean", "sqeuclidean", "cityblock"),
        "pass metric='sqeuclidean', 'euclidean' or 'cityblock', or write the distance "
        "with numpy (XA[:, None, :] - XB[None, :, :])",
    )
}


def _rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Rows apart from each other (no coinciding rows or coordinates)."""
    return rng.standard_normal(shape) + np.arange(np.prod(shape)).reshape(shape) * 0.37


if _distance is not None:

    @adjoint(
        _distance.cdist,
        name="scipy.spatial.distance.cdist",
        nondiff=("metric",),
        shapes={"rows": "(4,3),(5,3)", "one": "(1,2),(3,2)"},
        params={"metric": ["euclidean", "sqeuclidean", "cityblock"]},
        domain={"XA": _rows, "XB": _rows},
        accepts=_METRICS,
    )
    def cdist_adjoint(g, ans, XA, XB, metric="euclidean"):
        return cdist_cotangents(g, ans, XA, XB, metric)

    @jvp_of(cdist_adjoint)
    def cdist_jvp(ans, dots, b):
        XA, XB, metric = b["XA"], b["XB"], b.get("metric", "euclidean")
        tA = dots[0] if dots[0] is not None else np.zeros_like(XA)
        tB = dots[1] if dots[1] is not None else np.zeros_like(XB)
        diff = XA[:, None, :] - XB[None, :, :]
        t_diff = tA[:, None, :] - tB[None, :, :]
        if metric == "cityblock":
            return np.sum(np.sign(diff) * t_diff, axis=-1)
        inner = np.sum(diff * t_diff, axis=-1)
        if metric == "sqeuclidean":
            return 2.0 * inner
        positive = ans > 0
        return np.where(positive, inner / np.where(positive, ans, 1.0), 0.0)
