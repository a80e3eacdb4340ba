"""debug_nans on the public API, and warnings for structurally zero gradients."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from tests.engine.loader import load_source
from srcgrad.codegen.activity import ZeroGradientWarning

SRC = """
import numpy as np


def log_zero(x):
    y = np.log(x)
    return np.sum(y)


def sqrt_zero(x):
    r = np.sqrt(x)
    return np.sum(r * 2.0)


def where_trap(x):
    y = np.where(x > 0, np.log(x), 0.0)
    return np.sum(y)


def cut_by_floor(x, y):
    k = np.floor(y)
    return np.sum(x * k)


def unused(x, y):
    return np.sum(x * 2.0)
"""


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    d = tmp_path_factory.mktemp("debug")
    m = load_source(d, "debug_src", SRC)
    return m


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _line(m, text):
    lines = open(m.__file__).read().splitlines()
    return next(i + 1 for i, ln in enumerate(lines) if text in ln)


@pytest.mark.parametrize(
    "name,where",
    [
        ("log_zero", "y = np.log(x)"),
        ("sqrt_zero", "r = np.sqrt(x)"),
        ("where_trap", "np.where(x > 0, np.log(x), 0.0)"),
    ],
)
def test_debug_nans_names_the_forward_line(mod, name, where):
    fn = getattr(mod, name)
    x = np.array([0.0, 1.0]) if name != "where_trap" else np.array([0.0, 2.0])
    with np.errstate(all="ignore"):
        with pytest.raises(srcgrad.NonFiniteError) as info:
            srcgrad.grad(fn, debug_nans=True)(x)
    assert f"debug_src.py:{_line(mod, where)}" in str(info.value)
    assert info.value.hint


def test_debug_nans_is_silent_when_finite(mod, monkeypatch):
    monkeypatch.setenv("SRCGRAD_DEBUG_NANS", "1")
    g = srcgrad.grad(mod.log_zero)(np.array([0.5, 2.0]))
    np.testing.assert_allclose(g, [2.0, 0.5])


def test_zero_gradient_warnings_name_the_cut(mod):
    with pytest.warns(
        ZeroGradientWarning, match=rf"debug_src.py:{_line(mod, 'np.floor(y)')}"
    ):
        gx, gy = srcgrad.grad(mod.cut_by_floor, wrt=(0, 1))(np.ones(2), np.full(2, 1.5))
    np.testing.assert_array_equal(gy, 0.0)
    with pytest.warns(ZeroGradientWarning, match="never reaches the output"):
        srcgrad.grad(mod.unused, wrt=(0, 1))(np.ones(2), np.ones(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroGradientWarning)
        srcgrad.grad(mod.unused, wrt=0)(np.ones(2), np.ones(2))


RECOMPUTE = """
import numpy as np


def f(W, x):
    h = np.tanh(x @ W)  # srcgrad: recompute
    return np.sum(h**2)
"""


def test_recompute_comment_moves_a_value_from_res_to_bwd(tmp_path):
    from tests.engine.lint import lint_emitted

    m = load_source(tmp_path, "recompute_src", RECOMPUTE)
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 2)), rng.normal(size=(4, 3))
    srcgrad.testing.check_grad(m.f, W, x, wrt=0)
    df = srcgrad.grad(m.f)
    out, res = df.emitted("fwd")(W, x)
    assert "h" not in res._fields  # not kept ...
    bwd = df.source[df.source.index("def bwd_f") :]
    assert "h = xp.tanh(" in bwd  # ... but recomputed
    assert lint_emitted(df.source) == []
