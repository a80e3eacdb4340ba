"""What the forward pass saves (srcgrad/codegen/saving.py): shape-only residuals, values
computed again in the backward pass, at the top level and inside loops, and the residual
report that counts their bytes."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.codegen import ir
from srcgrad.codegen.optimize import drop_default_arguments, optimize
from srcgrad.codegen.residuals import plan_residuals
from srcgrad.runtime import ShapeDtype, expand_like, shape_dtype, unbroadcast
from srcgrad.testing import check_grad
from tests.engine.loader import load_source
from tests.fakexp import fakexp, to_device, to_host
from tests.test_stages import through_reverse


def layer_norm_relu(x, g, W):
    mu = np.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=-1, keepdims=True)
    h = g * xc / np.sqrt(var + 1e-5)
    return np.sum(np.maximum(h @ W, 0.0) ** 2)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gated_loop(W, xs):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        a = W @ h + xs[t]
        s = sigmoid(a)
        h = s * np.tanh(a)
    return np.sum(h * h)


def _plan(fn, wrt):
    fwd, _, bwd = through_reverse(fn, wrt)
    bwd = optimize(drop_default_arguments(fwd.names, bwd))
    return fwd, bwd, plan_residuals(fwd, bwd)


def _user(fwd, names):
    return {fwd.names.user_name(n) or n for n in names}


def test_shape_only_reads_keep_shape_and_dtype():
    fwd, bwd, plan = _plan(layer_norm_relu, ["x", "g", "W"])
    # the mean's result and var are read by the backward pass only through
    # unbroadcast / expand_like: their shapes, never their values
    assert plan.shapes and plan.shapes <= set(plan.residuals)
    for name in plan.shapes:
        for b in ir.all_blocks(bwd.blocks):
            for st in b.stmts:
                text = ir.cst.Module([]).code_for_node(st)
                if name in ir.names_in(st):
                    assert (
                        "unbroadcast(" in text
                        or "expand_like(" in text
                        or ("reduction_size(" in text)
                    ), text


def test_cheap_values_are_recomputed_from_what_is_saved_anyway():
    fwd, bwd, plan = _plan(layer_norm_relu, ["x", "g", "W"])
    recomputed = {t for st in plan.recomputed for t in st.targets}
    # the maximum's result is rebuilt from its operand, which its rule saves anyway
    assert any(
        st.rule is not None and st.rule.name == "maximum" for st in plan.recomputed
    )
    assert not recomputed & set(plan.residuals)
    for st in plan.recomputed:
        assert st.rule is None or st.rule.name in {
            "add", "subtract", "multiply", "divide", "maximum", "negative",
        }  # fmt: skip
        assert ir.names_in(st.expr) <= set(plan.residuals) | recomputed | {bwd.xp}


def test_pushes_lose_what_the_pop_can_rebuild():
    fwd, bwd, plan = _plan(gated_loop, ["W"])
    (push,) = [p for p in plan.pops.values() if p.names]
    rebuilt = {st.targets[0] for st in push.recompute}
    assert rebuilt and not rebuilt & set(push.names)
    # 1 + exp(-a) and the sigmoid's quotient come back from exp(-a), which is pushed
    assert any(
        st.rule is not None and st.rule.name == "divide" for st in push.recompute
    )
    for st in push.recompute:
        assert ir.names_in(st.expr) <= set(push.names) | rebuilt | set(fwd.params) | {
            bwd.xp
        }
    assert push.shapes <= set(push.names)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_stay_exact(dtype, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(0)
    x, g, W = rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=(5, 3))
    xs, V = rng.normal(size=(6, 3)), rng.normal(size=(3, 3)) / 2
    if dtype is np.float64:
        check_grad(layer_norm_relu, x, g, W, wrt=(0, 1, 2))
        check_grad(gated_loop, V, xs, wrt=0)
        return
    args = [a.astype(dtype) for a in (x, g, W)]
    got = srcgrad.grad(layer_norm_relu, wrt=(0, 1, 2))(*args)
    want = srcgrad.grad(layer_norm_relu, wrt=(0, 1, 2))(x, g, W)
    for a, b in zip(got, want):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-3)


def test_backward_runs_twice_on_one_residual_tuple(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(1)
    V, xs = rng.normal(size=(3, 3)) / 2, rng.normal(size=(6, 3))
    value, pullback = srcgrad.vjp(gated_loop)(V, xs)
    first = pullback(1.0)
    second = pullback(1.0)
    np.testing.assert_array_equal(first, second)


def test_shape_dtype_stands_in_for_shape_helpers_and_refuses_values():
    x = np.ones((3, 1), np.float32)
    meta = shape_dtype(x)
    assert isinstance(meta, ShapeDtype) and meta.shape == (3, 1)
    assert meta.ndim == 2 and meta.size == 3 and meta.dtype == np.float32
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, meta).shape == (3, 1)
    assert unbroadcast(g, meta).dtype == np.float32
    assert expand_like(np.ones(3), shape_dtype(np.ones((3, 4))), axis=1).shape == (3, 4)
    assert shape_dtype(2.5) == 2.5 and shape_dtype(None) is None
    with pytest.raises(TypeError, match="shape and dtype"):
        bool(meta)
    with pytest.raises(TypeError):
        np.ones((3, 1)) * meta


def test_shape_dtype_of_a_device_array_keeps_its_namespace():
    meta = shape_dtype(to_device(np.ones((2, 3))))
    g = to_device(np.ones((4, 2, 3)))
    out = unbroadcast(g, meta)
    assert meta.__array_namespace__() is fakexp
    np.testing.assert_array_equal(to_host(out), np.full((2, 3), 4.0))


def test_residual_report_counts_each_buffer_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))

    def f(x, w):
        y = np.tanh(x * w)
        z = y.T
        return np.sum(z @ x)

    x, w = np.ones((4, 3)), np.full(3, 0.5)
    fields = srcgrad.grad(f, wrt=(0, 1)).residuals(x, w)
    kinds = {fl.name: fl.kind for fl in fields}
    assert kinds["x"] == "input"
    saved = [fl for fl in fields if fl.kind == "saved"]
    # y and its transpose share one buffer: it is counted once
    assert sum(fl.nbytes for fl in saved) == 4 * 3 * 8
    shared = [fl for fl in saved if fl.shared_with]
    assert all(fl.nbytes == 0 for fl in shared)


SECOND = """
import numpy as np

grad_f = None  # the emitted grad_f, set by the test


def f(W, x, t):
    h = np.tanh(x * W)
    err = h - t
    return np.mean(err * err)


def directional(W, x, t, v):
    return np.sum(grad_f(W, x, t)[1][0] * v)
"""


def test_emitted_code_with_shape_dtype_and_recomputation_differentiates_again(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")  # the forward's fused out= is refused
    m = load_source(tmp_path, "saving_second_src", SECOND)
    rng = np.random.default_rng(2)
    W, x, t = rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    df = srcgrad.grad(m.f)
    df(W, x, t)
    text = df.source
    assert "shape_dtype(" in text and "    err = h - t" in text.split("def bwd_f")[1]
    m.grad_f = df.emitted("grad")
    check_grad(m.directional, W, x, t, rng.normal(size=3), wrt=0)


def masked(x, w):
    h = x @ w
    m = h > 0
    y = h * m
    return np.sum(y * h)


def test_a_mask_is_recomputed_from_the_value_it_came_from(tmp_path, monkeypatch):
    fwd, bwd, plan = _plan(masked, ["x", "w"])
    assert _user(fwd, set(plan.residuals) - plan.shapes) == {"x", "w", "h"}
    assert [st.targets[0] for st in plan.recomputed] == ["m", "y"]
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(3)
    check_grad(masked, rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), wrt=(0, 1))
