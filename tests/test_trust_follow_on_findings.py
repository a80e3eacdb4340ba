"""A nested helper that works by ``nonlocal`` (or ``global``) and returns nothing is refused
once, at its ``nonlocal``/``global`` statement: its call no longer adds the follow-on finding
"returns nothing" (found by ``tests/realworld/nonlocal_accumulators.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad

COUNT = 0


def with_nonlocal(w):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v

    add(np.sum(w**2))
    return total


def with_global(w):
    def bump():
        global COUNT
        COUNT += 1

    bump()
    return np.sum(w)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn,construct", [(with_nonlocal, "nonlocal"), (with_global, "global")]
)
def test_one_finding_at_the_statement(fn, construct):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(np.array([0.5, -0.2]))
    err = info.value
    assert [e.construct for e in err.errors] == [construct], str(err)
    assert "returns nothing" not in str(err)
