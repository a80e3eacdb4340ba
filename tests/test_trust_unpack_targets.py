"""Tuple unpacking into subscripts (``hs[0], cs[0] = h0, c0``, ``h[0], h[1] =
np.split(x, 2)``), mixed with names (``a[i], i = v, 2``), in straight-line code and in
loops.  Before, every such statement was refused ("unpacking into a subscript or
attribute"), a false refusal found by ``tests/realworld/word_lstm_layers.py``.  Every item
is evaluated first, then the targets are assigned left to right, as Python does.  A swap of
rows (``y[0], y[1] = y[1], y[0]``, whose numpy result reads a row after it was written) is
refused as the view hazard it is, and an attribute target is still refused at its line.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import unpack_targets_src as src

X = np.array([0.3, -0.7, 0.45, 1.1, -0.2, 0.8])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.two_arrays,
        src.rows_from_a_call,
        src.index_then_name,
        src.in_a_loop,
        src.name_and_item,
    ],
    ids=lambda f: f.__name__,
)
def test_unpacking_into_subscripts(fn):
    x = X[:3] if fn is src.two_arrays else X
    value, _ = srcgrad.value_and_grad(fn)(x.copy())
    assert value == fn(x.copy())
    check_grad(fn, x.copy())


def test_targets_are_assigned_left_to_right():
    # a[i], i = x[0], 2 writes a[0] (the old i), then a[2] = x[1]
    g = srcgrad.grad(src.index_then_name)(X.copy())
    np.testing.assert_allclose(g, [1.0, 3.0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    "fn, line",
    [(src.rows_swapped, 54), (src.attribute_target, 59)],
    ids=["rows_swapped", "attribute_target"],
)
def test_still_refused_at_the_line(fn, line):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(np.arange(6.0).reshape(2, 3))
    assert all(e.lineno == line for e in info.value.errors), str(info.value)
