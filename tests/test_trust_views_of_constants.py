"""A write through a view changes the base in numpy; srcgrad's functional rewrite cannot follow
that, so it refuses, whatever the base (a constant like np.zeros, an active array) and wherever
the view lives (straight-line, loop-carried, joined after a branch).  The hint, followed (write
into the base itself), works."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import AliasError
from srcgrad.testing import check_grad
from tests.trust import views_src as src

X = np.array([0.5, -0.3, 0.2])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn",
    [
        src.fill_constant_through_transpose,
        src.fill_constant_through_transpose_in_loop,
        src.fill_active_through_transpose_in_loop,
        src.fill_constant_through_row_view,
        src.fill_through_reshape_view,
        src.fill_view_chosen_by_branch,
    ],
    ids=lambda f: f.__name__,
)
def test_write_through_a_view_is_refused_at_the_write(fn):
    x = X if fn is not src.fill_through_reshape_view else np.array([0.5, -0.3, 0.2])
    with pytest.raises(AliasError) as info:
        srcgrad.value_and_grad(fn)(x)
    lines, first = inspect.getsourcelines(fn)
    written = lines[info.value.lineno - first]
    assert "] = " in written or "] +=" in written
    assert "itself" in info.value.hint


def test_the_hint_followed_works():
    value, _ = srcgrad.value_and_grad(src.fill_base_directly)(X)
    assert value == src.fill_base_directly(X)
    check_grad(src.fill_base_directly, X)
