"""A function passed by its global name (``np.tanh``, a user's ``relu``) to a helper, or given
as a parameter default (``act=np.tanh``), is called by that name in the emitted code.  Before,
the default was refused with a hint ("pass act explicitly") that, followed, was refused again
("call of a local value")."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import function_args_src as src

W = np.array([0.3, -0.7, 1.1])
X = np.array([0.5, 0.2, -0.4])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_function_arguments_and_defaults(fn):
    value, _ = srcgrad.value_and_grad(fn)(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X)


def test_each_function_gets_its_own_gradient():
    g_tanh = srcgrad.grad(src.f2)(W, X)
    g_relu = srcgrad.grad(src.f3)(W, X)
    assert not np.allclose(g_tanh, g_relu)
