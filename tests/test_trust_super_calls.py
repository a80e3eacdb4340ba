"""A method reached through ``super()`` (``super().__call__(p, xs)`` in a layer class that
extends its base's call, found by ``tests/realworld/word_lstm_layers.py``): it was refused
with "method .__call__() has no adjoint rule" and a hint to register a rule.  Where the
method's object is known, ``super().m(x)`` is now the call it makes, ``Base.m(self, x)``,
``Base`` the next class of the method's own class's MRO.  Where the object's MRO differs
there (a diamond: the emitted code would depend on the object's type) or the base class
has no module-level name (classes made in a function), it is refused by name with the
call to write."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import super_calls_src as src

X = np.array([0.3, -0.7, 1.2])


def _line(text: str) -> int:
    with open(src.__file__) as f:
        return next(i for i, ln in enumerate(f.read().splitlines(), 1) if text in ln)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.through_super_call,
        src.through_super_method,
        src.by_name_call,
        src.by_name_method,
    ],
    ids=lambda f: f.__name__,
)
def test_super_calls(fn):
    value, _ = srcgrad.value_and_grad(fn)(X)
    assert value == fn(X)
    check_grad(fn, X)


def test_a_diamond_is_refused_at_the_super_call_its_object_redirects():
    # D's MRO runs B.g's super() to C, not to B's own base A: the emitted code would
    # depend on the object's type, which the cache does not key on
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.diamond)(X)
    (err,) = info.value.errors
    assert err.lineno == _line("return 2.0 * super().g(x)"), str(info.value)
    assert "super()" in err.message and "adjoint rule" not in err.message
    assert "C.g(self, ...)" in err.hint  # what super() calls for this object


def test_a_base_without_a_module_level_name_is_refused_by_name():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.local_classes)(X)
    (err,) = info.value.errors
    assert err.lineno == _line("return super().h(x) + x"), str(info.value)
    assert "super()" in err.message and "adjoint rule" not in err.message
    assert "Base.h(self, ...)" in err.hint
