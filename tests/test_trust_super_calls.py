"""A method reached through ``super()`` (``super().__call__(p, xs)`` in a layer class that
extends its base's call, found by ``tests/realworld/word_lstm_layers.py``): it was refused
with "method .__call__() has no adjoint rule" and a hint to register a rule.  Where the
method's object is known, ``super().m(x)`` is now the call it makes, ``Base.m(self, x)``,
``Base`` found after the method's class in the object's MRO (a diamond included).  Where
the base class has no module-level name (classes made in a function), it is refused by
name with the call to write."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import super_calls_src as src

X = np.array([0.3, -0.7, 1.2])


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
        src.diamond,
    ],
    ids=lambda f: f.__name__,
)
def test_super_calls(fn):
    value, _ = srcgrad.value_and_grad(fn)(X)
    assert value == fn(X)
    check_grad(fn, X)


def test_the_mro_of_the_object_decides():
    # D.g(x) = (2 * (x + sin x)) ** 2: B's super() is C (D's MRO), not A
    g = srcgrad.grad(src.diamond)(X)
    inner = 2.0 * (X + np.sin(X))
    np.testing.assert_allclose(g, 2 * inner * 2.0 * (1 + np.cos(X)))


def test_a_base_without_a_module_level_name_is_refused_by_name():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.local_classes)(X)
    (err,) = info.value.errors
    line = next(
        i
        for i, ln in enumerate(open(src.__file__).read().splitlines(), 1)
        if "return super().h(x) + x" in ln
    )
    assert err.lineno == line, str(info.value)
    assert "super()" in err.message and "adjoint rule" not in err.message
    assert "Base.h(self, ...)" in err.hint
