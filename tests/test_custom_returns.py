"""``@srcgrad.custom_vjp(returns="x")``: a check that returns its argument is called for
its effect in the emitted forward pass, its value is the argument itself (shape facts and
cotangent pass straight through), and it still raises where it would."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


@srcgrad.custom_vjp(returns="x")
def finite(name, x):
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name}: not finite")
    return x


def model(W, x):
    h = finite("hidden", np.tanh(x @ W))
    return np.sum(finite("out", h * h))


def test_a_returning_check_is_an_effect_and_its_value_the_argument():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=(5, 3))
    df = srcgrad.grad(model)
    df(W, x)
    src = df.source
    fwd = src[src.index("def fwd_") : src.index("def bwd_")]
    bwd = src[src.index("def bwd_") : src.index("def grad_")]
    assert fwd.count("finite(") == 2 and ".vjp" not in bwd
    assert "unbroadcast" not in bwd  # the facts pass through the check
    check_grad(model, W, x)


def test_the_check_still_raises():
    W = np.ones((3, 4))
    x = np.full((5, 3), np.nan)
    with pytest.raises(ValueError, match="hidden: not finite"):
        srcgrad.grad(model)(W, x)
