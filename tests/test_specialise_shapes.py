"""Specialisation through shape-changing primitives and free values.

The emitted gradient of a function that reshapes, transposes, slices, gathers, pads, takes
windows, contracts (``einsum``, ``tensordot``), joins or creates arrays calls neither
``unbroadcast`` nor ``expand_like`` where the shapes are known, and still matches central
differences; arrays read from globals and closures are specialised on too, and a global
given another shape or dtype gets new code.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import srcgrad
from srcgrad.codegen.facts import UF, Fact, Sym, broadcast
from srcgrad.testing import check_grad

rng = np.random.default_rng(5)


def _r(*shape):
    return rng.normal(size=shape)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def generic_calls(source: str) -> int:
    return sum(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in ("unbroadcast", "expand_like")
        for n in ast.walk(ast.parse(source))
    )


# -- functions -------------------------------------------------------------------------


def heads(x, w, b):
    n, t, d = x.shape
    q = (x @ w + b).reshape(n, t, 2, -1).transpose(0, 2, 1, 3)
    s = q @ q.swapaxes(-1, -2)
    y = s.transpose(0, 2, 1, 3).reshape(n, t, -1) * x.sum(axis=-1, keepdims=True)
    return np.mean(y**2) + np.sum(np.moveaxis(q, 1, -1) * b[0])


def slices(x, b):
    y = x[:, 1:] * x[:, :-1] + x[0, :-1]
    z = x[::2, ::-1] * 2.0 + x[-2:, 2:5].sum()
    return np.sum(y**2) + np.sum(np.tanh(z) * b[-1])


def gather(table, idx, w):
    rows = table[idx]
    return np.sum(np.tanh(rows @ w) * rows.sum(axis=-1, keepdims=True))


def creation(x):
    acc = np.zeros((x.shape[0], x.shape[1]), dtype=x.dtype)
    eye = np.eye(x.shape[1], dtype=x.dtype)
    ramp = np.arange(x.shape[1]) * 0.5
    y = (x @ eye + ramp) * np.ones_like(x)
    return np.sum((acc + y) ** 2) + np.sum(y * np.full(x.shape, 0.5))


def windows(img, k):
    p = np.pad(img, ((0, 0), (1, 1), (1, 1)))
    win = sliding_window_view(p, (3, 3), axis=(1, 2))
    maps = np.einsum("nhwij,ij->nhw", win, k)
    return np.mean(maps**2) + np.sum(maps * img)


def products(a, b, c):
    t = np.tensordot(a, b, axes=([1, 2], [0, 1]))
    e = np.einsum("ij,jk->ik", t, c)
    return np.sum(e * t.sum(axis=1, keepdims=True))


def joins(x, y):
    s = np.stack([x, y, x * y], axis=1)
    c = np.concatenate([x, y], axis=0)
    e = np.expand_dims(x, 0) * np.squeeze(y[None, :, :], axis=0)
    return np.sum(s**2) + np.sum(c * 2.0) + np.sum(e * x)


CASES = {
    "heads": (heads, (0, 1, 2), lambda: (_r(3, 5, 4), _r(4, 4), _r(4))),
    "slices": (slices, (0, 1), lambda: (_r(6, 7), _r(7))),
    "gather": (
        gather,
        (0, 2),
        lambda: (_r(5, 3), np.array([[0, 2], [4, 4], [1, 0]]), _r(3, 2)),
    ),
    "creation": (creation, (0,), lambda: (_r(4, 5),)),
    "windows": (windows, (0, 1), lambda: (_r(2, 5, 6), _r(3, 3))),
    "products": (products, (0, 1, 2), lambda: (_r(3, 4, 2), _r(4, 2, 5), _r(5, 2))),
    "joins": (joins, (0, 1), lambda: (_r(3, 4), _r(3, 4))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_specialised_without_broadcast_helpers(name):
    fn, wrt, make = CASES[name]
    args = make()
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    assert generic_calls(df.source) == 0, df.source
    check_grad(fn, *args, wrt=wrt)


def test_generic_code_keeps_its_helpers(monkeypatch):
    """Without specialisation the same functions run the generic helpers (the test above
    can fail)."""
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    fn, wrt, make = CASES["heads"]
    df = srcgrad.grad(fn, wrt=wrt)
    df(*make())
    assert generic_calls(df.source) > 0


# -- property tests over shapes (length-1 axes included) ----------------------------------


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 3), t=st.integers(1, 4), h=st.integers(1, 3), e=st.integers(1, 3)
)
def test_heads_match_central_differences(n, t, h, e):
    d = h * e
    x, w, b = _r(n, t, d), _r(d, d), _r(d)

    def split(x, w, b):
        q = (x @ w + b).reshape(n, t, h, -1).transpose(0, 2, 1, 3)
        y = q.transpose(0, 2, 1, 3).reshape(n, t, d) * x
        return np.sum(y**2) + np.sum(q.swapaxes(-1, -2) * 0.5)

    check_grad(split, x, w, b, wrt=(0, 1, 2))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.integers(1, 5),
    cols=st.integers(1, 6),
    lo=st.integers(-3, 3),
    hi=st.integers(-3, 3),
    step=st.sampled_from([1, 2, -1]),
)
def test_slices_match_central_differences(rows, cols, lo, hi, step):
    x = _r(rows, cols)

    def cut(x):
        y = x[:, lo:hi:step]
        return np.sum(y * y[:, ::-1]) + np.sum(x[1:] * x[:-1])

    check_grad(cut, x)


# -- free values ------------------------------------------------------------------------

W = _r(4, 3)
B = _r(3)


def _layer(x):
    return np.tanh(x @ W + B)


def global_weights(x):
    return np.sum(_layer(x) ** 2)


def test_global_shape_change_gives_new_code():
    global W, B
    saved = W, B
    try:
        df = srcgrad.grad(global_weights)
        x = _r(5, 4)
        df(x)
        assert generic_calls(df.source) == 0
        assert "W: float64[*, *]" in df.source
        check_grad(global_weights, x)
        first = df.source
        for w, b in [
            (_r(4, 1), _r(3)),  # a length-1 axis now: numpy broadcasts it
            (_r(4, 3).astype(np.float32), _r(1)),
            (_r(4, 3), _r(3)),
        ]:
            W, B = w, b
            g = df(x)
            check_grad(global_weights, x)
            expected = srcgrad.grad(global_weights)(x)
            np.testing.assert_allclose(g, expected)
        W = _r(4, 1)
        df(x)
        assert df.source != first and "W: float64[*, 1]" in df.source
    finally:
        W, B = saved


def test_global_rebound_to_same_kind_keeps_code():
    global W
    saved = W
    try:
        df = srcgrad.grad(global_weights)
        x = _r(5, 4)
        df(x)
        path = df.path
        W = _r(4, 3)
        np.testing.assert_allclose(
            df(x), 2 * (np.tanh(x @ W + B) * (1 - np.tanh(x @ W + B) ** 2)) @ W.T
        )
        assert df.path == path
    finally:
        W = saved


def make_closure(scale):
    def loss(x):
        return np.sum((x * scale) ** 2)

    return loss


def test_closure_arrays_are_specialised():
    loss = make_closure(_r(1, 3))
    df = srcgrad.grad(loss)
    x = _r(4, 3)
    df(x)
    assert generic_calls(df.source) == 0
    check_grad(loss, x)


# -- the lattice --------------------------------------------------------------------------


def test_a_computed_length_never_broadcasts_as_a_known_one():
    uf = UF()
    known, computed = Sym("n"), Sym("k", maybe_one=True)
    a, b = Fact((known,), np.dtype(float)), Fact((computed,), np.dtype(float))
    assert broadcast(a, b, uf) == (known,)
    assert not uf.same_dim(known, computed)  # the sum may have broadcast a length 1
    other = Fact((Sym("j", maybe_one=True),), np.dtype(float))
    assert broadcast(b, other, uf) == (None,)
    assert broadcast(b, b, uf) == (computed,)


def test_loaded_code_does_not_keep_the_global_array():
    import gc
    import weakref

    global W
    saved = W
    try:
        W = _r(4, 3)
        probe = weakref.ref(W)
        df = srcgrad.grad(global_weights)
        df(_r(5, 4))
        W = _r(4, 3)  # same kind: the same code, which must not hold the old array
        df(_r(5, 4))
        gc.collect()
        assert probe() is None
    finally:
        W = saved
