"""A ``continue``/``break`` branch beside a later assignment in the same iteration: the
backward pass once built zero cotangents for names that did not exist on the early-exit path
(UnboundLocalError in generated code).  Found by tests/test_trust_random_control.py."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import loop_exits_src as src

FUNCS = [
    src.continue_then_break_then_branch,
    src.continue_then_break,
    src.break_then_local_then_continue,
    src.while_continue_break,
]


@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("specialise", ["1", "0"])
def test_loop_exit_gradient(fn, specialise, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(x, w)
    assert value == fn(x, w)
    check_grad(fn, x, w, wrt=(0, 1))
