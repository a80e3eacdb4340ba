"""Recursion in forward mode: a recursive call runs the callee's own forward-mode module
(``call_jvp``); tangents against central differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from tests.forward import recursive_functions as R


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fwd"))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


@pytest.mark.parametrize(
    "fn, wrt, args",
    [
        (R.power, 0, (np.linspace(0.5, 1.5, 4), 3)),
        (R.series, 0, (np.linspace(-1.0, 1.0, 3), np.full(3, 0.7), 2)),
        (R.series, (0, 1), (np.linspace(-1.0, 1.0, 3), np.full(3, 0.7), 2)),
        (R.even_sum, 0, (np.linspace(-1.0, 1.0, 5), 3)),
    ],
    ids=["power", "series-x", "series-both", "mutual"],
)
def test_a_recursive_function_in_forward_mode(fn, wrt, args) -> None:
    rng = np.random.default_rng(6)
    pos = (wrt,) if isinstance(wrt, int) else wrt
    v = tuple(rng.standard_normal(np.shape(args[p])) for p in pos)
    f_jvp = srcgrad.jvp(fn, wrt)
    value, tangent = f_jvp(*args, v[0] if isinstance(wrt, int) else v)

    def at(s: float):
        moved = list(args)
        for p, d in zip(pos, v):
            moved[p] = moved[p] + s * d
        return np.asarray(fn(*moved))

    eps = 1e-6
    np.testing.assert_allclose(value, fn(*args))
    np.testing.assert_allclose(tangent, (at(eps) - at(-eps)) / (2 * eps), rtol=1e-6)
    assert "call_jvp(" in f_jvp.source and "call_vjp" not in f_jvp.source
