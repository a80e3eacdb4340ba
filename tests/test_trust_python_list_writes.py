"""A Python list made by repetition (``hs = [None] * T``, min-char-rnn's habit) or by a
comprehension or ``.tolist()``, then written item by item with values that carry a gradient: srcgrad took
the constant list for an array and wrote into it with the array write rule, so the emitted
gradient stopped inside itself (``'list' object has no attribute 'shape'``), in
straight-line code and in loops.  It is refused now at the write, with a hint that works
(build the list with append); an array made of such a list (``np.array([0.0] * 3)``) is
still written as an array."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import python_list_writes_src as src

RS = np.random.RandomState(5)
W = RS.randn(3, 3) * 0.5
X = RS.randn(2, 3)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn, line",
    [
        (src.none_list_in_a_loop, 2),
        (src.none_list_straight, 2),
        (src.steps_from_a_shape, 3),
        (src.comprehension_list, 2),
        (src.tolist_list, 2),
        # written only inside the loop, which carries the list in a name of its own
        (src.only_in_a_loop, 3),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_writes_into_a_python_list_are_refused_at_the_write(fn, line):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(W, X)
    err = info.value
    first = err.findings[0] if getattr(err, "findings", None) else err
    assert first.lineno == fn.__code__.co_firstlineno + line
    assert first.filename.endswith("python_list_writes_src.py")
    assert "hint:" in str(err)
    if fn is not src.comprehension_list:  # (refused as a container write before)
        assert "append" in str(err)


@pytest.mark.parametrize(
    "fn", [src.the_hint, src.array_of_a_list], ids=lambda f: f.__name__
)
def test_the_hint_and_an_array_of_a_list(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))
