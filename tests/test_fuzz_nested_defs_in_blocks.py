"""Nested defs (and lambdas) inside loop bodies and if/else branches.

Found by the fuzzer (tests/fuzz/regressions/wrong_nested_def_in_loop.py): a def inside a
``for`` inside an ``if`` made srcgrad return the value None.  The def's own ``return`` was
taken for one of the function's (a "loop that may return"), so the code after the ``if`` was
copied into its branches with a single-return output that only one copy bound.  A def's return
is now never the enclosing function's (``source.own_returns``).

A second fuzz program (internal_nested_def_param_shadows.py): a nested def's parameter named
like a name of the enclosing function, passed a module-level constant, read the enclosing
function's name instead; a parameter now hides the closure's names.

Also: one name bound to different defs on the branches of an ``if`` used to call the last def
lowered whatever the branch taken; such a call now runs the def of the branch taken.  A call
where the def that runs may come from another iteration of a loop (or from before the loop)
is refused at the call, naming the def's line, with a hint that, followed, works.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import nested_defs_in_blocks_src as S

SRC = Path(S.__file__).resolve()

REFUSED = {
    # name -> (construct, words the message must contain)
    "def_in_loop_called_after": ("def", ["defined inside a loop"]),
    "def_in_loop_called_before_it": ("def", ["defined inside a loop"]),
    "def_on_branch_in_loop_called_next_iteration": ("def", ["defined inside a loop"]),
    "def_on_branch_and_in_loop_body": ("def", ["defined inside a loop"]),
    "def_on_branches_different_shapes": ("def", ["different shapes"]),
}
NOT_RUN = {"only_the_nested_def_returns", "def_on_branches_static_config"}
RIGHT = [
    f
    for n, f in vars(S).items()
    if inspect.isfunction(f)
    and f.__module__ == S.__name__
    and not n.startswith("_")
    and "__" not in n
    and n not in REFUSED
    and n not in NOT_RUN
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Inputs that, together, run every branch of every program in the source file."""
    out = []
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
        out += [(x, w), (-x, -w), (x, -w), (0.2 * x, w)]
    return out


def _right(fn, *args) -> None:
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(*args)
    assert value == fn(*args)
    check_grad(fn, *args, wrt=(0, 1))


@pytest.mark.parametrize("specialise", ["1", "0"])
@pytest.mark.parametrize("fn", RIGHT, ids=lambda f: f.__name__)
def test_value_and_gradient(fn, specialise, monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", specialise)
    for x, w in _inputs():
        _right(fn, x, w)


@pytest.mark.parametrize("kind", ["tanh", "relu"])
def test_def_chosen_by_a_configuration_argument(kind):
    x, w = _inputs()[0]
    _right(S.def_on_branches_static_config, x, w, kind)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_at_the_call_with_a_hint_that_works(name):
    construct, words = REFUSED[name]
    fn = getattr(S, name)
    x, w = _inputs()[0]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.value_and_grad(fn, wrt=(0, 1))(x, w)
    err = info.value
    assert len(err.errors) == 1, str(err)
    assert err.construct == construct, str(err)
    assert Path(err.filename).resolve() == SRC
    body, start = inspect.getsourcelines(fn)
    assert start < err.lineno < start + len(body), str(err)
    assert "g(" in body[err.lineno - start], str(err)  # at the call
    for word in words:
        assert word in err.message, str(err)
    if (
        "defined inside a loop" in err.message
    ):  # it names the line of the loop's first def
        loop = next(i for i, ln in enumerate(body) if ln.strip().startswith("for "))
        first_def = next(
            i
            for i, ln in enumerate(body)
            if i > loop and ln.strip().startswith("def g(")
        )
        assert f"line {start + first_def}" in err.message, str(err)
    followed = getattr(S, name + "__followed", None)
    if followed is not None:
        for x, w in _inputs():
            _right(followed, x, w)


def test_a_nested_defs_return_is_not_the_functions():
    x, w = _inputs()[0]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.value_and_grad(S.only_the_nested_def_returns, wrt=(0, 1))(x, w)
    assert "no return statement" in info.value.message
    assert Path(info.value.filename).resolve() == SRC
