"""False refusals of two builtins over containers, common in published numpy code:

* ``for W in reversed(layers)`` over a list of arrays (a display, a list grown with
  append) or an array's rows was refused as "builtin reversed() on values that carry a
  gradient": the loop now reads the items by index from the last (``range(n - 1, -1, -1)``,
  which the backward replays forwards);
* ``for k in sorted(params)`` (also ``sorted(params.items())``, ``sorted(params.keys())``)
  over a dict whose keys are known (an argument, a display) was refused the same way: the
  keys are constants, sorted when srcgrad reads the loop.  ``sorted`` of values that carry a
  gradient stays refused at its line.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import reversed_and_sorted_src as src

RS = np.random.RandomState(6)
W = RS.randn(3, 3) * 0.7
X = RS.randn(2, 3)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [src.reversed_layers, src.reversed_rows, src.reversed_grown_list],
    ids=lambda f: f.__name__,
)
def test_reversed_sequences(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_sorted_keys_of_a_dict_argument():
    params = {"W2": RS.randn(3, 2), "W1": RS.randn(3, 3)}
    value, _ = srcgrad.value_and_grad(src.sorted_dict)(params, X)
    assert value == src.sorted_dict(params, X)
    check_grad(src.sorted_dict, params, X, wrt=(0, 1))


def test_sorted_values_stay_refused_at_their_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.sorted_values)(W, X)
    assert info.value.lineno == src.sorted_values.__code__.co_firstlineno + 1
    assert "sorted()" in str(info.value)
