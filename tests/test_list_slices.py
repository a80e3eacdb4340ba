"""Slices of lists built in the function (``outs[::-1]``, ``outs[1:-1]``, ``tail =
outs[-2:]``): a list grown by ``append`` is sliced item by item at run time, each item's
cotangent going back to its place; a tuple or list display whose items are known here, with
bounds known here, is sliced while generating.  A display sliced with a bound known only at
run time is refused (tests/test_trust_hints.py follows its hint)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import list_slices_src as src

RS = np.random.RandomState(7)
W = 0.5 * RS.randn(3, 3)
XS = RS.randn(5, 3)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.reversed_states,
        src.bounded_and_negative_slices,
        src.slice_then_grow,
        src.slice_with_run_time_bound,
        src.tuple_and_list_displays,
        # a list rebound to a new list read from itself (the comprehension's value was
        # an empty list, read after the name was rebound: value 0, gradient zero)
        src.rebound_to_its_reversal,
        src.rebound_to_its_tail,
        src.comprehension_over_itself,
        src.display_comprehension_over_itself,
    ],
    ids=lambda f: f.__name__,
)
def test_list_slice(fn):
    value, grad = srcgrad.value_and_grad(fn)(W, XS)
    assert value == fn(W, XS)
    check_grad(fn, W, XS)
    assert np.all(np.isfinite(grad)) and np.any(grad != 0)


def test_reversal_is_a_loop_over_positions():
    # the forward reads the items by position; the backward puts each cotangent back there
    text = srcgrad.grad(src.reversed_states).source
    assert re.search(r"for \w+ in \w+\[::-1\]:", text), text
    backward = text.split("def bwd_")[1]
    assert "for " in backward and "item_cotangent(" in backward, backward
