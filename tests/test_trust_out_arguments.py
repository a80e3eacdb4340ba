"""``out=``: a call that writes its result into an array made in the function
(``np.exp(z, out=z)``, ``np.dot(X, W, out=h)``, ``out=(h,)``) is the write
``h[...] = np.exp(z)``, with the checks of any write (a loop carries ``h``; a write into the
caller's array is refused at its line).  Before, every ``out=`` was refused with the hint
"drop out=", which, followed, left the result unused.  Found by
``tests/realworld/mlp_out_buffers.py``."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import out_arguments_src as src

W = np.array([0.3, -0.7, 1.1])
X = np.array([0.5, 0.2, -0.4])
FNS = [src.f1, src.f2, src.f3, src.f4, src.f5, src.f6, src.f7]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_out_arguments(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W.copy(), X.copy())
    check_grad(fn, W, X, wrt=(0, 1))


def test_out_into_an_argument_is_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.refused)(W, X.copy())
    err = info.value
    assert err.filename.endswith("out_arguments_src.py")
    assert err.lineno == src.refused.__code__.co_firstlineno + 1
    assert "hint:" in str(err)
