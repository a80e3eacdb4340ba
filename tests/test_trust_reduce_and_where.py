"""False refusals of two numpy spellings common in published code, now supported:

* ``ufunc.reduce`` of add, multiply, maximum and minimum: ``np.add.reduce(x)`` is
  ``np.sum(x, axis=0)`` (ufunc.reduce's default axis is 0, not None), with ``axis`` (an int,
  a tuple or None) and ``keepdims``;
* ``np.where(condition)`` with one argument, which is ``np.nonzero(condition)``:
  ``idx = np.where(mask)[0]`` then ``x[idx]`` (it was refused as "missing a required
  argument: 'x'").

Another ufunc's reduce (``np.logaddexp.reduce``) stays refused at its line.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import reduce_and_where_src as src

X = np.random.RandomState(3).randn(3, 4)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [src.add_multiply_reduce, src.extreme_reduce, src.reduce_axes],
    ids=lambda f: f.__name__,
)
def test_ufunc_reduce_is_the_reduction(fn):
    value, _ = srcgrad.value_and_grad(fn)(X)
    assert value == fn(X)
    check_grad(fn, X)


@pytest.mark.parametrize(
    "fn", [src.where_positions, src.where_pairs], ids=lambda f: f.__name__
)
def test_where_of_a_condition_alone_gives_positions(fn):
    x = X.ravel() if fn is src.where_positions else X
    value, _ = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    check_grad(fn, x)


def test_another_ufuncs_reduce_is_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.logaddexp_reduce)(X[0])
    assert info.value.lineno == src.logaddexp_reduce.__code__.co_firstlineno + 1
    assert "logaddexp.reduce" in str(info.value)
