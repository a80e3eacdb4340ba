"""Specialisation to the arguments' abstract signature (srcgrad/codegen/specialise.py).

A call specialises the emitted gradient to its arguments' dtypes and length-1 axes.  The
rewrites this allows must never change a gradient: every case here is compared with the
generic code (``SRCGRAD_SPECIALISE=0``) for values, shapes and dtypes, and the float64 ones
with central differences too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad import tree as pytree
from srcgrad.testing import check_grad
from tests.engine import specialise_src as S


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """Emitted files go to a temporary cache, never into the checkout's generated/."""
    monkeypatch.setenv(
        "SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache")
    )


def _both(monkeypatch, fn, args, wrt):
    """(specialised, generic) gradients and the two GradFunctions."""
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "1")
    spec = srcgrad.grad(fn, wrt=wrt)
    gs = spec(*args)
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    gen = srcgrad.grad(fn, wrt=wrt)
    gg = gen(*args)
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "1")
    return gs, gg, spec, gen


def _same(gs, gg, rtol):
    ls, lg = pytree.leaves(gs), pytree.leaves(gg)
    assert len(ls) == len(lg)
    for a, b in zip(ls, lg):
        assert type(a) is type(b)
        assert np.shape(a) == np.shape(b)
        assert getattr(a, "dtype", None) == getattr(b, "dtype", None)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


def _cases(rng):
    n = rng.normal
    f32 = np.float32
    return {
        "bias_tanh batch": (S.bias_tanh, (n(size=(5, 3)), n(size=3)), (0, 1)),
        "bias_tanh batch of 1": (S.bias_tanh, (n(size=(1, 3)), n(size=3)), (0, 1)),
        "bias_tanh 3-d": (S.bias_tanh, (n(size=(2, 4, 3)), n(size=(4, 1))), (0, 1)),
        "outer_sum": (S.outer_sum, (n(size=(4, 1)), n(size=(1, 3))), (0, 1)),
        "outer_sum 1x1": (S.outer_sum, (n(size=(1, 1)), n(size=(1, 3))), (0, 1)),
        "mixed_dtypes": (
            S.mixed_dtypes,
            (n(size=(3, 2)).astype(f32), n(size=2)),
            (0, 1),
        ),
        "mixed_dtypes scalar": (
            S.mixed_dtypes,
            (n(size=(3, 2)).astype(f32), 1.5),
            (0, 1),
        ),
        "mlp": (
            S.mlp,
            (
                {
                    "W1": n(size=(4, 5)),
                    "b1": n(size=5),
                    "W2": n(size=(5, 2)),
                    "b2": n(size=2),
                },
                n(size=(3, 4)),
            ),
            0,
        ),
        "mlp float32 batch of 1": (
            S.mlp,
            (
                {
                    "W1": n(size=(4, 5)).astype(f32),
                    "b1": n(size=5).astype(f32),
                    "W2": n(size=(5, 1)).astype(f32),
                    "b2": n(size=1).astype(f32),
                },
                n(size=(1, 4)).astype(f32),
            ),
            0,
        ),
        "rnn": (
            S.rnn,
            (n(size=(2, 3)) * 0.5, n(size=(3, 3)) * 0.5, n(size=(6, 4, 2))),
            (0, 1),
        ),
        "rnn batch of 1": (
            S.rnn,
            (n(size=(2, 3)) * 0.5, n(size=(3, 3)) * 0.5, n(size=(6, 1, 2))),
            (0, 1),
        ),
        "maybe_loop": (S.maybe_loop, (n(size=(2, 3)), n(size=(3, 3)) * 0.5, 3), (0, 1)),
        "softmax_xent": (S.softmax_xent, (n(size=(4, 3)), np.eye(3)[[0, 2, 1, 0]]), 0),
        "chain": (S.chain, (n(size=(3, 4)), n(size=4)), (0, 1)),
        "copy_of_temporary": (S.copy_of_temporary, (n(size=(3, 4)), n(size=4)), 0),
        "norm_rows": (S.norm_rows, (n(size=(3, 5)), n(size=5)), (0, 1)),
        "swish_energy": (S.swish_energy, (n(size=(4, 3)), n(size=(3, 3))), (0, 1)),
        "swish_energy float32": (
            S.swish_energy,
            (n(size=(4, 3)).astype(f32), n(size=(3, 3)).astype(f32)),
            (0, 1),
        ),
        "accumulate": (S.accumulate, (n(size=(5, 3)), n(size=3)), (0, 1)),
        "accumulate float32": (
            S.accumulate,
            (n(size=(5, 3)).astype(f32), n(size=3).astype(f32)),
            (0, 1),
        ),
        "norm_rows non-contiguous": (
            S.norm_rows,
            (n(size=(5, 6))[:, ::2], n(size=3)),
            (0, 1),
        ),
    }


CASE_NAMES = list(_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_specialised_gradient_equals_generic(name, monkeypatch, rng):
    fn, args, wrt = _cases(rng)[name]
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    gs, gg, spec, gen = _both(monkeypatch, fn, args, wrt)
    float32 = any(
        getattr(x, "dtype", None) == np.float32 for x in pytree.leaves(list(args))
    )
    _same(gs, gg, 1e-5 if float32 else 1e-12)
    assert spec.path != gen.path
    for a, b in zip(args, before):  # the in-place forward never writes into an argument
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
    if not float32:
        check_grad(fn, *args, wrt=wrt)


def test_the_rewrites_happen(rng):
    fn, args, wrt = _cases(rng)["mlp"]
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    bwd = df.source.split("def bwd_mlp(")[1].split("def grad_mlp(")[0]
    fwd = df.source.split("def fwd_mlp(")[1].split("def bwd_mlp(")[0]
    for helper in (
        "unbroadcast(",
        "expand_like(",
        "matmul_cotangent_x1(",
        "matmul_cotangent_x2(",
    ):
        assert helper not in bwd, helper
    assert ".T @ " in bwd and "@ _h21.T" not in bwd or ".T" in bwd
    assert ".sum(axis=0)" in bwd  # the bias gradients
    assert "out=" in fwd  # x @ W1 + b1 adds into the matmul result
    # W1 is read by nothing but the shape of x @ W1: it is not kept for the backward pass
    assert (
        "_h11" not in df.source.split("class Residuals_mlp")[1].split("def fwd_mlp")[0]
    )


def test_rnn_loop_calls_no_helper(rng):
    fn, args, wrt = _cases(rng)["rnn"]
    df = srcgrad.grad(fn, wrt=wrt)
    df(*args)
    loop = df.source.split("for t in reversed(")[1].split("return (")[0]
    assert "expand_like" not in loop and "matmul_cot" not in loop
    # only the loss accumulator keeps its helper: it starts as the Python float 0.0 and
    # becomes a numpy float64, so its dtype is not one fact
    assert [
        ln for ln in loop.splitlines() if "unbroadcast(" in ln and "total" not in ln
    ] == []


def test_a_batch_of_one_is_its_own_signature(rng):
    df = srcgrad.grad(S.bias_tanh, wrt=(0, 1))
    g5 = df(rng.normal(size=(5, 3)), rng.normal(size=3))
    p5 = df.path
    g1 = df(rng.normal(size=(1, 3)), rng.normal(size=3))
    p1 = df.path
    assert p1 != p5
    assert g5[0].shape == (5, 3) and g1[0].shape == (1, 3) and g1[1].shape == (3,)
    df(rng.normal(size=(7, 3)), rng.normal(size=3))
    assert df.path == p5  # other batch sizes share the file


def test_a_loop_that_never_runs_proves_nothing(rng):
    h, W = rng.normal(size=(2, 3)), rng.normal(size=(4, 4))  # h @ W would fail
    dh, dW = srcgrad.grad(S.maybe_loop, wrt=(0, 1))(h, W, 0)
    np.testing.assert_allclose(dh, 2 * h)
    assert dW.shape == (4, 4) and not dW.any()


def test_vjp_seed_of_another_dtype_or_a_number(rng):
    x = rng.normal(size=(3, 2)).astype(np.float32)
    w = rng.normal(size=2).astype(np.float32)

    def f(x, w):
        return np.tanh(x * w)

    out, pullback = srcgrad.vjp(f, wrt=(0, 1))(x, w)
    seed = rng.normal(size=(3, 2))  # float64
    dx, dw = pullback(seed)
    assert dx.dtype == np.float32 and dw.dtype == np.float32 and dw.shape == (2,)
    s32 = seed.astype(np.float32)
    np.testing.assert_allclose(dx, s32 * w * (1 - out**2), rtol=1e-5)
    dx1, dw1 = pullback(1.0)  # a number: every output element seeded with it
    np.testing.assert_allclose(dx1, w * (1 - out**2), rtol=1e-5)


_dims = st.sampled_from([1, 2, 3])


@st.composite
def _broadcast_pair(draw):
    nd = draw(st.integers(1, 3))
    full = [draw(_dims) for _ in range(nd)]
    a = [d if draw(st.booleans()) else 1 for d in full]
    k = draw(st.integers(0, nd))
    b = [d if draw(st.booleans()) else 1 for d in full[nd - k :]]
    dt = draw(st.sampled_from([np.float64, np.float32]))
    return tuple(a), tuple(b), dt, draw(st.booleans())


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(_broadcast_pair())
def test_broadcasting_shapes_property(case):
    a_shape, b_shape, dt, swap = case
    rng = np.random.default_rng(len(a_shape) * 7 + len(b_shape))
    a = rng.normal(size=a_shape).astype(dt)
    b = rng.normal(size=b_shape).astype(np.float64)
    args = (b, a) if swap else (a, b)
    import os

    results = []
    for flag in ("1", "0"):
        os.environ["SRCGRAD_SPECIALISE"] = flag
        try:
            results.append(
                [
                    srcgrad.grad(f, wrt=(0, 1))(*args)
                    for f in (S.bias_tanh, S.outer_sum, S.mixed_dtypes)
                ]
            )
        finally:
            os.environ.pop("SRCGRAD_SPECIALISE", None)
    _same(results[0], results[1], 1e-5)
    for g, x in zip(pytree.leaves(results[0]), list(args) * 3):
        assert g.shape == x.shape and g.dtype == x.dtype


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", [np.maximum, np.minimum])
def test_split_cotangent_is_bit_identical_to_the_share_product(dtype, op):
    from srcgrad.runtime import extremum_share, split_cotangent

    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 7)).astype(dtype)
    x[::3] = 0  # ties with the scalar 0
    other = np.zeros(7, dtype)
    other[2] = np.nan
    other[4] = x[1, 4]  # a tie with an array operand
    g = rng.normal(size=(6, 7)).astype(dtype)
    for a, b in ((x, other), (other, x), (x, 0.0), (x[:, ::2], other[::2])):
        ans = op(a, b)
        gg = g[: ans.shape[0], : ans.shape[1]]
        want = gg * extremum_share(a, ans, b)
        got = split_cotangent(gg, a, ans, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize(
    "name",
    ["mlp", "rnn", "softmax_xent", "chain", "accumulate", "bias_tanh batch of 1"],
)
def test_specialised_code_runs_on_the_fake_device(name, rng):
    """The rewrites (methods, out=, .T, split_cotangent) stay on the device: no host copy."""
    from tests import fakexp

    fn, args, wrt = _cases(rng)[name]

    def dev(a):
        if isinstance(a, dict):
            return {k: dev(v) for k, v in a.items()}
        return fakexp.to_device(a) if isinstance(a, np.ndarray) else a

    want = srcgrad.grad(fn, wrt=wrt)(*args)
    df = srcgrad.grad(fn, wrt=wrt)
    got = df(*[dev(a) for a in args])
    assert "out=" in df.source or ".sum(" in df.source or " @ " in df.source
    for g, w in zip(pytree.leaves(got), pytree.leaves(want)):
        assert isinstance(g, fakexp.FakeArray)
        np.testing.assert_allclose(
            np.asarray(fakexp.to_host(g)), w, rtol=1e-12, atol=1e-14
        )
