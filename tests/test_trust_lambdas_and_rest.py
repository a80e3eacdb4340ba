"""Two false refusals of constructs common in published numpy code:

* several lambdas on one line (an activation table ``ACT = {"relu": lambda z: ...,
  "softplus": lambda z: ...}``) were refused ("its line holds 3 lambdas"): the lambda called
  is now told from the others by its compiled code (constants, names read), and lambdas of the
  same text are one;
* ``x, *_ = np.linalg.lstsq(A, b)`` (a function's tuple result, or an array's rows, with a
  starred throwaway name last) was refused as "starred unpacking of a value whose items are
  known only at run time": the leading names are read by index now.  A starred name that is
  read stays refused at its line, with a hint that works.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import lambdas_and_rest_src as src

RS = np.random.RandomState(0)
W = RS.randn(3, 3)
X = RS.randn(2, 3)
A = RS.randn(6, 3)
B = RS.randn(6)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.act_net, src.closure_and_global, src.same_text], ids=lambda f: f.__name__
)
def test_lambdas_sharing_a_line(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


@pytest.mark.parametrize(
    "fn", [src.lstsq_rest, src.svd_rest, src.rows_rest], ids=lambda f: f.__name__
)
def test_leading_items_and_a_starred_throwaway(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(A, B)
    assert value == fn(A, B)
    check_grad(fn, A, B, wrt=(0, 1))


def test_a_starred_name_that_is_read_is_refused_and_the_hint_works():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.rest_is_read)(A, B)
    err = info.value
    assert err.filename.endswith("lambdas_and_rest_src.py")
    assert err.lineno == src.rest_is_read.__code__.co_firstlineno + 1
    assert "starred unpacking" in str(err) and "first, *_ = x" in str(err)

    def followed(A, b):  # the hint: slice it
        r = np.linalg.svd(A, full_matrices=False)
        first, rest = r[0], r[1:]
        return np.sum(first) + np.sum(rest[0])

    check_grad(followed, A, B)


def test_reading_the_starred_throwaway_is_refused_by_name_and_the_hint_works():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.rest_underscore_read)(A, B)
    err = info.value
    assert err.lineno == src.rest_underscore_read.__code__.co_firstlineno + 2
    assert "starred rest" in str(err) and "_ = x[k:]" in str(err)

    def followed(A, b):  # the hint: slice it
        r = np.linalg.lstsq(A, b, rcond=None)
        x, _ = r[0], r[1:]
        return np.sum(x**2) + np.sum(_[0])

    check_grad(followed, A, B)


def test_the_throwaway_name_bound_again_is_a_name_again():
    value, _ = srcgrad.value_and_grad(src.rest_underscore_rebound, wrt=(0, 1))(A, B)
    assert value == src.rest_underscore_rebound(A, B)
    check_grad(src.rest_underscore_rebound, A, B, wrt=(0, 1))
