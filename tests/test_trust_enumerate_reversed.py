"""``enumerate(reversed(seq))`` over a list built in the function or an array's rows (a
tied decoder's ``for i, W in enumerate(reversed(layers))``, found by
``tests/realworld/tied_autoencoder_probe.py``): it was refused ("builtin reversed() on
values that carry a gradient") although ``reversed(layers)`` alone and
``enumerate(layers[::-1])`` were supported.  It is read as ``enumerate(seq[::-1])`` now.
A dict's keys and a comprehension are left as before (refused at the ``reversed`` call),
and ``reversed(range(n))``, constants and container arguments run as they did."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import enumerate_reversed_src as src

RS = np.random.RandomState(3)
X = RS.randn(3, 3)
LAYERS = [RS.randn(2, 2) for _ in range(3)]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [src.local_list, src.array_rows, src.pairs, src.over_range, src.constants],
    ids=lambda f: f.__name__,
)
def test_enumerate_reversed(fn):
    value, _ = srcgrad.value_and_grad(fn)(X)
    assert value == fn(X)
    check_grad(fn, X)


def test_enumerate_reversed_container_arguments():
    x = RS.randn(2)
    value, _ = srcgrad.value_and_grad(src.list_arg, wrt=(0, 1))(LAYERS, x)
    assert value == src.list_arg(LAYERS, x)
    check_grad(src.list_arg, LAYERS, x, wrt=(0, 1))
    params = {"a": X[0], "b": X[1]}
    value, _ = srcgrad.value_and_grad(src.dict_arg, wrt=(0, 1))(params, X[2])
    assert value == src.dict_arg(params, X[2])
    check_grad(src.dict_arg, params, X[2], wrt=(0, 1))


def test_the_index_counts_from_the_first_reversed_item():
    # sum_k (k + 1) * |row|^2 over rows last to first: row 2 weighs 1, row 0 weighs 3
    g = srcgrad.grad(src.array_rows)(X)
    np.testing.assert_allclose(g, 2 * X * np.array([[3.0], [2.0], [1.0]]))


@pytest.mark.parametrize(
    "fn, line",
    [(src.dict_keys, 45), (src.gen_items, 60)],
    ids=["dict", "comprehension"],
)
def test_dicts_and_comprehensions_stay_refused_at_reversed(fn, line):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(X)
    assert all(e.lineno == line for e in info.value.errors), str(info.value)
    assert "reversed()" in str(info.value)
