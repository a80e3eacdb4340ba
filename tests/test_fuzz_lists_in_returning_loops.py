"""Lists built with append in a loop, inside a loop that returns, breaks or continues early
(for/while, their else clauses too): the value is Python's and the gradient matches central
differences, on both paths each function can take.

Found by the fuzzer (tests/fuzz/regressions/internal_list_in_loop_with_return*.py): an
internal error in the generated code.  The backward of each iteration starts at the end of
the loop body, with the zero cotangents of the lists the body builds, read from a push there;
an iteration left by a break (or a return, which leaves a loop by one) skipped that push, so
the backward popped the wrong entries.  See tests/trust/lists_in_returning_loops_src.py.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import lists_in_returning_loops_src as src

X = np.random.default_rng(5).standard_normal((3, 4))
FUNCS = [
    f
    for name, f in vars(src).items()
    if inspect.isfunction(f) and not name.startswith(("_", "refused"))
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("specialise", ["1", "0"])
@pytest.mark.parametrize("s", [1.0, -1.0])
@pytest.mark.parametrize("fn", FUNCS, ids=lambda f: f.__name__)
def test_value_and_gradient_on_each_path(fn, s, specialise, monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    value, _ = srcgrad.value_and_grad(fn)(X, s)
    assert value == fn(X, s)
    check_grad(fn, X, s)


def test_a_list_rebound_in_a_loop_and_read_after_it_is_refused_at_its_loop():
    fn = src.refused_list_read_after_loop
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(X, 1.0)
    err = info.value
    assert Path(err.filename).resolve() == Path(src.__file__).resolve()
    lines, first = inspect.getsourcelines(fn)
    assert err.lineno == first + next(
        k for k, t in enumerate(lines) if "# !refused" in t
    )
    assert err.construct == "container-join"
    assert "np.stack(acc)" in str(err)  # the hint; followed, it works:
    check_grad(src.hint_followed_list_read_after_loop, X, 1.0)
