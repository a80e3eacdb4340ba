"""Rules in float32 (cotangents agree with float64) and on a fake device (special cases of
products and reductions whose arrays never meet host data).

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

from srcgrad.rules import lookup
from tests.rules._checks import normal


class A:
    """An array operand of the given shape (random data) in a case table."""

    def __init__(self, *shape):
        self.shape = shape


DEVICE_CASES = [
    (np.einsum, ["ii->", A(3, 3)], {}),
    (np.einsum, ["iij->j", A(3, 3, 4)], {}),
    (np.einsum, ["...ii->...i", A(2, 3, 3)], {}),
    (np.einsum, ["i...,i...->...", A(3, 1, 4), A(3, 2, 1)], {}),
    (np.einsum, ["ij,jk,kl", A(2, 3), A(3, 4), A(4, 5)], {}),
    (np.einsum, ["ij->", A(3, 4)], {}),
    (np.repeat, [A(3, 4), [1, 0, 2]], {"axis": 0}),
    (np.repeat, [A(3, 4), np.array([1, 2, 0, 1])], {"axis": 1}),
    (np.repeat, [A(3, 4), 2], {}),
    (np.ravel, [A(3, 4)], {"order": "K"}),
    (np.reshape, [A(3, 4), (2, 6)], {"order": "A"}),
    (np.split, [A(6, 4), [3, 1]], {"axis": 0}),
    (np.array_split, [A(7, 4), 3], {}),
    (
        np.concatenate,
        [
            [
                A(2, 3),
                A(
                    5,
                ),
                A(1, 1, 2),
            ]
        ],
        {"axis": None},
    ),
    (np.tile, [A(2, 3), (2, 1, 2)], {}),
    (np.dot, [A(2, 3, 4), A(5, 4, 2)], {}),
    (np.dot, [A(), A(3, 4)], {}),
    (np.inner, [A(2, 4), A(3, 4)], {}),
    (np.tensordot, [A(2, 3, 4), A(4, 3, 2)], {"axes": ([0, 1, 2], [2, 1, 0])}),
    (
        np.matmul,
        [
            A(
                4,
            ),
            A(2, 4, 3),
        ],
        {},
    ),
    (np.prod, [A(3, 4)], {"axis": (0, 1)}),
    (np.var, [A(3, 4)], {"axis": 0, "ddof": 1}),
    (np.max, [A(3, 4)], {"axis": -1, "keepdims": True}),
]


def _build(entry, rng):
    """``A(shape)`` becomes random data (also inside a list); the rest stays as it is."""
    if isinstance(entry, A):
        return normal(rng, entry.shape)
    if isinstance(entry, list) and entry and isinstance(entry[0], A):
        return [normal(rng, e.shape) for e in entry]
    return entry


@pytest.mark.parametrize(
    "prim, inputs, params",
    [
        (np.sum, [(3, 4)], {"axis": 0}),
        (np.mean, [(3, 4)], {"axis": (0, 1), "keepdims": True}),
        (np.prod, [(3, 4)], {"axis": 1}),
        (np.var, [(3, 4)], {"axis": -1, "ddof": 1}),
        (np.std, [(3, 4)], {}),
        (np.max, [(3, 4)], {"axis": 1}),
        (np.matmul, [(4,), (2, 4, 3)], {}),
        (np.dot, [(2, 3, 4), (5, 4, 2)], {}),
        (np.inner, [(2, 4), (3, 4)], {}),
        (np.outer, [(3,), (4,)], {}),
    ],
)
def test_float32_cotangents_agree_with_float64(prim, inputs, params):
    rng = np.random.default_rng(0)
    xs = [normal(rng, s) for s in inputs]
    rule = lookup(prim)
    ans = prim(*xs, **params)
    g = rng.standard_normal(np.shape(ans))
    want = rule.adjoint(g, ans, *xs, **params)
    xs32 = [x.astype(np.float32) for x in xs]
    got = rule.adjoint(g.astype(np.float32), prim(*xs32, **params), *xs32, **params)
    want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
    for w, h in zip(want, got):
        assert h.dtype == np.float32 and h.shape == w.shape
        np.testing.assert_allclose(h, w, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "prim, entries, params", DEVICE_CASES, ids=[c[0].__name__ for c in DEVICE_CASES]
)
def test_special_cases_run_on_a_fake_device(prim, entries, params):
    from tests.fakexp import FakeArray, fakexp, to_device, to_host

    rng = np.random.default_rng(0)
    args = [_build(e, rng) for e in entries]
    rule = lookup(prim)
    ans = prim(*args, **params)
    if rule.multi_output:
        g = [None] + [rng.standard_normal(a.shape) for a in ans[1:]]
    else:
        g = rng.standard_normal(np.shape(ans))
    want = rule.adjoint(g, ans, *args, **params)

    def dev(x):
        if isinstance(x, np.ndarray) and x.dtype.kind == "f":
            return to_device(x)
        if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
            return [to_device(v) for v in x]
        return x  # host values: subscripts, shapes, repeats

    fn = rule.adjoint
    on_device = types.FunctionType(
        fn.__code__, {**fn.__globals__, "np": fakexp}, fn.__name__, fn.__defaults__
    )
    on_device.__kwdefaults__ = fn.__kwdefaults__
    d_g = (
        [None if u is None else to_device(u) for u in g]
        if rule.multi_output
        else dev(g)
    )
    d_ans = (
        [to_device(a) for a in ans] if rule.multi_output else to_device(np.asarray(ans))
    )
    got = on_device(d_g, d_ans, *[dev(a) for a in args], **params)

    def leaves(x):
        return (
            [y for v in x for y in leaves(v)] if isinstance(x, (list, tuple)) else [x]
        )

    for w, h in zip(leaves(want), leaves(got), strict=True):
        assert isinstance(h, FakeArray)
        np.testing.assert_allclose(to_host(h), w, rtol=1e-12, atol=1e-12)
