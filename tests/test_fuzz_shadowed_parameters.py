"""A callee's parameter or local named like a name of its caller (a parameter, a local, a global
it reads) reads the callee's own binding; a nested def reads its enclosing function's
variables whichever function calls it (found by the differential fuzzer).

Before, an inlined nested def started from its *caller's* names: a parameter bound to a
module global (``inner(G0)`` in ``def f(x): def inner(x): ...``) was read as the enclosing
``x``, and a nested def called from a sibling read the sibling's parameters instead of its
enclosing function's variables.  A module-level callee given its caller's global-bound
parameter read the caller's binding of the parameter's *text* (``helper(G1, G0)`` inside
``def helper2(G1, G0)`` swapped them).  And a ``return`` in a nested def defined in a loop
made the loop look like one that returns."""

from __future__ import annotations


import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import shadowed_params_src as src

X = np.array([0.3, -0.6, 0.9, 0.2])
S = 0.7


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", src.PROGRAMS, ids=lambda f: f.__name__)
def test_value_and_gradient(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(X.copy(), S)
    assert value == fn(X.copy(), S)
    check_grad(fn, X.copy(), S, wrt=(0, 1))
