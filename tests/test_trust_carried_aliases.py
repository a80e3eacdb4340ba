"""WRONG value and gradient, found by probing: two names a loop carries that hold one array
at the end of an iteration (``y = x``) hold it at the start of the next, where numpy's
in-place write through ``x`` (``x[0] = ...``, ``x += ...``) shows in ``y``; srcgrad carried
them as two values, so ``y`` read in the next iteration kept the value from before the
write.  Refused now at the loop, with a hint that works; an alias the loop never reads, and
double buffering (``u, v = v, u``: two arrays swapped, never one held twice), still run."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import carried_aliases_src as src

W = np.random.RandomState(14).randn(4)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [src.written_then_read_alias, src.augassign_then_read_alias],
    ids=lambda f: f.__name__,
)
def test_an_alias_carried_into_a_write_is_refused_at_the_loop(fn):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(W)
    err = info.value
    assert err.filename.endswith("carried_aliases_src.py")
    assert err.lineno == fn.__code__.co_firstlineno + 4  # the `for`
    assert "'y' and 'x' hold one array" in str(err) and "y = x.copy()" in str(err)


@pytest.mark.parametrize(
    "fn",
    [src.the_hint, src.alias_never_read_in_the_loop, src.double_buffer],
    ids=lambda f: f.__name__,
)
def test_what_still_runs(fn):
    value, _ = srcgrad.value_and_grad(fn)(W)
    assert value == fn(W)
    check_grad(fn, W)
