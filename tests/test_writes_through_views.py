"""Writes through a second name of an array made in the function.

* Outside loops, ``V[k] = v`` where ``V`` is a view of ``B`` (or ``B`` itself under another
  name, e.g. a callee's returned local) is rewritten functionally; numpy changes ``B`` too,
  so a later read of ``B`` (or of another view of it) is refused, at the write.
* In a loop, writing into an array while a list made before the loop keeps it (or a view of
  it) is refused, except when every write lands in an array the iteration made itself
  (``u_next = np.zeros(n)`` before ``u_next[1:] = ...``, as finite-difference time steps
  do): what earlier iterations kept are other arrays.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import AliasError
from srcgrad.testing import check_grad
from tests.trust import writes_through_views_src as src

K = np.array([[0.3, -0.7], [1.1, 0.4]])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.boundary_rows_after_assembly, src.write_through_view_base_unread]
)
def test_write_through_a_second_name_runs(fn):
    value, grad = srcgrad.value_and_grad(fn)(K.copy())
    assert value == fn(K.copy())
    check_grad(fn, K)
    assert np.any(grad != 0)


def test_reading_the_base_afterwards_is_refused_at_the_write():
    fn = src.write_through_view_base_read
    with pytest.raises(AliasError) as info:
        srcgrad.grad(fn)(K.copy())
    err = info.value
    lines, first = inspect.getsourcelines(fn)
    assert "V[" in lines[err.lineno - first], str(err)
    assert err.construct == "write-view"
    assert "read again at line" in str(err) and "itself" in err.hint


def test_reading_another_view_afterwards_is_refused_at_the_read():
    fn = src.write_through_view_other_view_read
    with pytest.raises(AliasError) as info:
        srcgrad.grad(fn)(K.copy())
    lines, first = inspect.getsourcelines(fn)
    assert "np.sum(W)" in lines[info.value.lineno - first], str(info.value)
    assert info.value.construct == "stale-view"


def test_fresh_array_each_step_runs():
    c = np.array([0.2, 0.3, 0.25, 0.35, 0.3])
    u0 = np.array([0.0, 0.4, 1.0, 0.6, 0.0])
    value, grad = srcgrad.value_and_grad(src.fresh_array_each_step)(c, u0)
    assert value == src.fresh_array_each_step(c, u0)
    check_grad(src.fresh_array_each_step, c, u0)
    assert np.any(grad != 0)


@pytest.mark.parametrize("fn", [src.same_array_each_step, src.fresh_in_one_branch_only])
def test_array_kept_across_steps_is_refused(fn):
    with pytest.raises(AliasError) as info:
        srcgrad.grad(fn)(np.array([1.0, 2.0, 3.0]))
    assert info.value.hint
