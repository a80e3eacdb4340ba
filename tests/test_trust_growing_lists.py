"""A list a loop appends to, read whole inside that loop (``np.mean(hs)``, ``sum(hs)``,
``np.stack(hs)``), and a loop whose backward is empty after a list read.

The primitive reads the list as it is at that step; its adjoint runs after the forward
pass, when the list holds every step's items, so the list is read as ``hs[:]`` (its
items now) there.  These programs stopped inside the emitted code (an IndexError, or
"cotangents of different structure") before.  A list made inside the loop's body (a new
one each step) is read as it is, with no copy.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def running_mean(w, xs):
    hs = []
    s = 0.0
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x)
        hs.append(h)
        s = s + np.mean(hs)
    return s


def running_stack(w, xs):
    hs = []
    s = 0.0
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x)
        hs.append(h)
        s = s + np.sum(np.stack(hs) ** 2)
    return s


def builtin_sum(w, xs):
    hs = []
    s = 0.0
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x)
        hs.append(h)
        s = s + sum(hs)
    return np.sum(s)


def attend_history(w, xs):
    """A display grown in the loop, its mean read in the appended value."""
    hs = [np.zeros(3)]
    for x in xs:
        hs.append(np.tanh(w @ hs[-1] + x + np.mean(hs, axis=0)))
    return np.sum(hs[-1] ** 2)


def running_max(w, xs):
    hs = []
    s = 0.0
    for x in xs:
        hs.append(np.tanh(w @ x))
        s = s + np.max(np.concatenate(hs)) + max(hs[-1])
    return s


def attend(mem, q):
    return np.mean(np.stack(mem), axis=0) * q


def attend_in_callee(w, xs):
    hs = [np.zeros(3)]
    for x in xs:
        hs.append(np.tanh(w @ hs[-1] + attend(hs, x)))
    return np.sum(hs[-1] ** 2)


def inner_loop_grows(w, xs):
    s = 0.0
    for x in xs:
        parts = []
        for j in range(3):
            parts.append(np.tanh(w[j] * x))
            s = s + np.sum(np.stack(parts) ** 2)
    return s


def made_each_step(w, xs):
    s = 0.0
    for x in xs:
        parts = []
        for j in range(3):
            parts.append(np.tanh(w[j] * x))
        s = s + np.sum(np.stack(parts) ** 2)
    return s


PROGRAMS = [
    running_mean,
    running_stack,
    builtin_sum,
    attend_history,
    running_max,
    attend_in_callee,
    inner_loop_grows,
    made_each_step,
]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_whole_list_read_while_it_grows(f):
    rng = np.random.default_rng(0)
    w, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((4, 3))
    check_grad(f, w, xs)
    value, _ = srcgrad.value_and_grad(f)(w, xs)
    assert value == f(w, xs)


def test_a_list_made_each_step_is_not_copied():
    rng = np.random.default_rng(1)
    w, xs = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    df = srcgrad.grad(made_each_step)
    df(w, xs)
    grown = srcgrad.grad(inner_loop_grows)
    grown(w, xs)
    assert df.source.count("for ") < grown.source.count("for ")


def helper_list(u):
    out = [u[1:]]
    out.append(np.sin(np.broadcast_to(np.mean(u), (3,))))
    return out


def dead_loop_over_list(x, w):
    """The loop reads the list, but nothing it computes reaches the output."""
    acc = helper_list(w)
    v = np.stack(acc)
    unused = np.broadcast_to(np.mean(x), (3,)) * 0.5
    for i in range(len(acc)):
        unused = unused + np.tanh(acc[i]) * (i + 1.0)
    return np.sum(np.sin(x)) + 0.5 * np.sum(v * v)


def dead_loop_in_a_loop(x, w):
    total = 0.0
    for k in range(2):
        acc = helper_list(w * (k + 1.0))
        unused = 0.0
        for i in range(len(acc)):
            unused = unused + np.sum(np.tanh(acc[i]))
        total = total + np.sum(np.stack(acc) ** 2)
    return total + np.sum(x * x)


@pytest.mark.parametrize("f", [dead_loop_over_list, dead_loop_in_a_loop])
def test_loop_with_an_empty_backward_after_a_list_read(f):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal(4)
    check_grad(f, x, w, wrt=(0, 1))
