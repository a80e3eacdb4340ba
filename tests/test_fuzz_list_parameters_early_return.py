"""Loops that return, break or continue (their else clauses too), with parts of container
arguments read in and after them: the value is Python's and the gradient of every item
matches central differences, on both paths each function can take.

Found by the fuzzer (tests/fuzz/regressions/wrong_list_param_early_return.py): after a loop
that may return, a later loop that returned set the return flag again, and the backward read
that final value for the first loop's guard, so every part read after the first loop got a
zero gradient.  Loop else clauses that leave (return, break, continue) gave wrong values or
wrong stacks.  See tests/trust/list_early_return_src.py."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import list_early_return_src as src

_R = np.random.default_rng(3)
A, B = _R.standard_normal((3, 4)), _R.standard_normal((3, 4))
FUNCS = [
    f
    for name, f in vars(src).items()
    if inspect.isfunction(f) and not name.startswith(("_", "refused", "aux"))
]
# `s` picks the path; some functions only compare it
pytestmark = pytest.mark.filterwarnings(
    "ignore::srcgrad.codegen.activity.ZeroGradientWarning"
)


def _args(fn, kind):
    if fn.__name__.startswith("dict_"):
        return {"a": A, "b": B}
    if fn.__name__.startswith("array_"):
        return A
    return kind([A, B])


def _cases():
    for fn in FUNCS:
        kinds = [list] if fn.__name__.startswith(("dict_", "array_")) else [list, tuple]
        for kind in kinds:
            yield pytest.param(fn, kind, id=f"{fn.__name__}-{kind.__name__}")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("specialise", ["1", "0"])
@pytest.mark.parametrize("s", [1.0, -1.0])
@pytest.mark.parametrize(("fn", "kind"), _cases())
def test_value_and_every_item_gradient(fn, kind, s, specialise, monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    ps = _args(fn, kind)
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(ps, s)
    assert value == fn(ps, s)
    check_grad(fn, ps, s, wrt=(0, 1))


@pytest.mark.parametrize("s", [1.0, -1.0])
def test_loss_and_aux_returned_from_loops(s):
    fn = src.aux_returns_in_two_loops
    ps = [A, B]
    (loss, aux), grads = srcgrad.value_and_grad(fn, has_aux=True)(ps, s)
    want_loss, want_aux = fn(ps, s)
    assert loss == want_loss
    np.testing.assert_array_equal(aux, want_aux)
    check_grad(src.aux_loss_only, ps, s)  # the same returns, inlined as a callee
    for got, want in zip(grads, srcgrad.grad(src.aux_loss_only)(ps, s)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_a_variable_index_in_a_loop_else_clause_is_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.refused_index_in_else, wrt=(0, 1))([A, B], 1.0)
    assert Path(info.value.filename).resolve() == Path(src.__file__).resolve()
    lines, first = inspect.getsourcelines(src.refused_index_in_else)
    assert info.value.lineno == first + next(
        k for k, t in enumerate(lines) if "ps[i]" in t
    )
