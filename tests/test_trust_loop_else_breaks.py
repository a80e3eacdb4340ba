"""A ``break`` (or ``continue``) in the ``else`` clause of a nested loop belongs to the
enclosing loop: the clause runs in the enclosing loop's body once the nested loop ends.
srcgrad looked for the enclosing loop's breaks everywhere but in nested loops, else clauses
included, so such a break did not count and the enclosing loop's own ``else`` clause ran
anyway: a WRONG value and gradient, found by the fuzzer
(tests/fuzz/regressions/wrong_break_in_nested_loop_else.py)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import loop_else_breaks_src as src

W = np.random.RandomState(13).randn(4)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.while_else_breaks_outer,
        src.for_else_breaks_outer,
        src.inner_break_skips_else,
        src.else_continues_outer,
    ],
    ids=lambda f: f.__name__,
)
def test_exits_in_a_nested_loops_else_clause_leave_the_enclosing_loop(fn):
    value, _ = srcgrad.value_and_grad(fn)(W)
    assert value == fn(W)
    check_grad(fn, W)
