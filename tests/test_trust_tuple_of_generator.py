"""``tuple(f(v) for v in xs)`` over displays, names bound to displays, ``zip`` of them or a
``range`` known here becomes the tuple display ``(f(xs[0]), f(xs[1]), ...)`` (so a loop
can carry it item by item: an SEIR step ``state = tuple(s + dt * d for s, d in zip(state,
deriv))``); ``list(<generator>)`` is the comprehension's list.  Before, both were refused
("builtin tuple() on values that carry a gradient"), a false refusal found by
``tests/realworld/seir_epidemic_fit.py``.  A tuple of an array's rows stays refused at the
user's line, with a hint that works."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import tuple_of_generator_src as src

W = np.array([0.3, -0.7])
X = np.array([0.5, 0.2])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_tuple_and_list_of_a_generator(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_a_tuple_of_an_arrays_rows_is_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.refused)(W, X)
    err = info.value
    assert err.filename.endswith("tuple_of_generator_src.py")
    assert err.lineno == src.refused.__code__.co_firstlineno + 1
    assert "tuple()" in str(err) and "hint:" in str(err)
