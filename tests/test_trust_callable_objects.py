"""Callable objects: an instance of a user class that defines ``__call__`` (a GRU cell held
as ``self.cell`` and called ``self.cell(p, x, h)``, a model called ``MODEL(p, xs)`` or
``self(p, xs)`` in its own methods) is inlined as its bound ``__call__``, as a bound method
already was.  Before, every such call was refused ("call to MODEL, which srcgrad cannot
differentiate"), found by ``tests/realworld/gru_class_call.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import callable_objects_src as src

W = np.array([0.3, -0.7, 1.1])
X = np.array([0.5, 0.2, -0.4])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_callable_objects(fn):
    value, _ = srcgrad.value_and_grad(fn)(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X)
    check_grad(fn, W, X, wrt=1)


def test_state_of_the_instance_is_read_at_call_time(monkeypatch):
    """The instance's attributes are read when the gradient runs, as the plain call reads
    them: changing ``SQUARE.k`` changes the gradient."""
    g1 = srcgrad.grad(src.f1)(W, X)
    monkeypatch.setattr(src.SQUARE, "k", 3.0)
    g2 = srcgrad.grad(src.f1)(W, X)
    np.testing.assert_allclose(g2, 2.0 * g1)
