"""Tests on a model's fields decided when the code is generated: a static field holding
None (``if self.norm is not None``), a sub-model or array field (never None), and an
inlined function's argument bound to a model's array (``if bias is None`` in a linear
layer) leave no runtime test and no pushed branch record; the gradients stay right."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad import nn
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def affine(x, weight, bias=None):
    out = x @ weight
    if bias is None:
        return out
    return out + bias


class Scale(nn.Module):
    def __init__(self):
        self.s = np.array([2.0, -1.0, 0.5])

    def __call__(self, x):
        return x * self.s


class Block(nn.Module):
    def __init__(self, norm=None, bias=True):
        rng = np.random.default_rng(0)
        self.weight = rng.normal(size=(3, 3))
        self.bias = rng.normal(size=3) if bias else None
        self.norm = norm

    def __call__(self, x):
        x = affine(x, self.weight, self.bias)
        if self.norm is not None:
            x = self.norm(x)
        return np.tanh(x)


class Stack(nn.Module):
    """Sub-models in a list, a ternary on a static flag, an ordered test on the loop
    index, and a method whose state argument defaults to None."""

    def __init__(self, n=3, double=False):
        self.blocks = [Block(bias=k % 2 == 0) for k in range(n)]
        self.double = double

    def step(self, x, h=None):
        h = np.zeros_like(x) if h is None else h
        return x + 0.5 * h

    def __call__(self, x):
        scale = 2.0 if self.double else 1.0
        for k, block in enumerate(self.blocks):
            if k > 0 and self.double:
                x = x * 0.5
            x = self.step(block(x) * scale)
        return x


def loss(model, x):
    return np.sum(model(x) ** 2)


@pytest.mark.parametrize(
    "model",
    [Block(), Block(Scale()), Block(bias=False), Block(Scale(), bias=False)],
    ids=["plain", "norm", "no-bias", "norm-no-bias"],
)
def test_field_tests_leave_no_runtime_branch(model):
    x = np.random.default_rng(1).normal(size=(4, 3))
    df = srcgrad.grad(loss)
    df(model, x)
    src = df.source
    code = src[src.index("def fwd_") : src.index("def grad_")]
    assert "\n    if " not in code and "\n        if " not in code
    check_grad(loss, model, x)


@pytest.mark.parametrize("double", [False, True])
def test_ternaries_ordered_tests_and_none_defaults_are_decided(double):
    model = Stack(double=double)
    x = np.random.default_rng(2).normal(size=(4, 3))
    df = srcgrad.grad(loss)
    df(model, x)
    src = df.source
    code = src[src.index("def fwd_") : src.index("def grad_")]
    assert "if " not in code.replace("if d_", "")
    check_grad(loss, model, x)
