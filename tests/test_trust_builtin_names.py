"""Emitted code calls a few builtins on its own (``range``, ``reversed``, ``list``,
``len``, ``min``, ``tuple``: loops, their stacks, ``zip``).  A user's local, parameter of
an inlined helper or module global of one of those names used to reach those calls
(TypeError inside the emitted code: "'float' object is not callable"); now a local is
renamed, a module global is read through its module, the emitted module's own calls find
the builtins, and a top-level parameter of such a name in a function with loops is refused
at its line with a hint that works."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.engine import shadowed_builtins as shadowed


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def local_len(w, xs):
    len = 2.0  # noqa: A001
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x) * len
    return np.sum(h**2)


def local_list(w, xs):
    list = [np.zeros(3)]  # noqa: A001
    for x in xs:
        list.append(np.tanh(w @ list[-1] + x))
    return np.sum(list[-1] ** 2)


def local_range_reversed(w, xs):
    reversed = 0.5  # noqa: A001
    range = 2  # noqa: A001
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x) * reversed * range
    return np.sum(h**2)


def scaled(range, x):  # noqa: A002
    return np.tanh(range * x)


def callee_parameter(w, xs):
    h = np.zeros(3)
    for x in xs:
        h = scaled(0.5, w @ h + x)
    return np.sum(h**2)


def parameter_list(list, xs):  # noqa: A002
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(list @ h + x)
    return np.sum(h**2)


def parameter_min_without_loops(x, min=0.1):  # noqa: A002
    return np.sum(np.maximum(x, min) ** 2)


@pytest.mark.parametrize(
    "f",
    [
        local_len,
        local_list,
        local_range_reversed,
        callee_parameter,
        shadowed.rnn,
        shadowed.history,
        shadowed.reads_the_global,
    ],
    ids=lambda f: f.__name__,
)
def test_names_of_builtins_the_emitted_code_calls(f):
    rng = np.random.default_rng(0)
    w, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((4, 3))
    check_grad(f, w, xs)
    value, _ = srcgrad.value_and_grad(f)(w, xs)
    assert value == f(w, xs)


def test_a_parameter_named_like_such_a_builtin_is_refused_at_its_line():
    rng = np.random.default_rng(1)
    w, xs = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(parameter_list)(w, xs)
    err = info.value
    assert err.lineno == parameter_list.__code__.co_firstlineno
    assert "list_" in str(err)
    check_grad(parameter_min_without_loops, xs[0])  # no loop: nothing to clash with
