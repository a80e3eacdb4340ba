"""``f = ACT[act]`` with ``act`` an argument (a function read from a module-level table by a
key known only when the code runs), then ``f(x)``: refused before as "call of a local value
'f'", although ``ACT[act](x)`` itself was supported.  The key is read where the name is
bound (a later rebinding of ``act`` does not change ``f``, as in Python), and the call
dispatches over the table's keys; a key the table does not hold raises KeyError as Python
does."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import table_alias_src as src

RS = np.random.RandomState(11)
W = RS.randn(3, 3) * 0.8
X = RS.randn(2, 3)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("act", ["relu", "tanh", "sin"])
@pytest.mark.parametrize(
    "fn", [src.by_argument, src.key_rebound_after], ids=lambda f: f.__name__
)
def test_a_name_bound_to_a_table_entry_by_an_argument(fn, act):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X, act)
    assert value == fn(W, X, act)
    check_grad(lambda w, x: fn(w, x, act), W, X, wrt=(0, 1))


def test_in_a_loop_over_names():
    value, _ = srcgrad.value_and_grad(src.in_a_loop, wrt=(0, 1))(W, X)
    assert value == src.in_a_loop(W, X)
    check_grad(src.in_a_loop, W, X, wrt=(0, 1))


def test_a_key_the_table_lacks_raises_keyerror_as_python_does():
    with pytest.raises(KeyError):
        src.unknown_key(W, X)
    with pytest.raises(KeyError):
        srcgrad.grad(src.unknown_key)(W, X)
