"""Slices of computed bounds taken as not 1 long (``Inference.speculated``), checked by the
forward pass (``assume_not_one``), and the code made without that where a check fails; and
a cotangent joined from pieces that tile an axis written piece by piece into one array
(``srcgrad/codegen/tiles.py``).

Each program is checked against central differences.  Where a slice is 1 long, the call
falls back to code made without the assumption and keeps using it; a higher order, which
differentiates the emitted code, never gets the checks.
"""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import LengthAssumption
from srcgrad.runtime import assume_not_one
from srcgrad.testing import check_grad


def gru(w_ih, w_hh, x):
    """A GRU (PyTorch's gate layout): each step reads three slices of two projections."""
    hidden = w_hh.shape[1]
    h = np.zeros((x.shape[0], hidden))
    for t in range(x.shape[1]):
        gi = x[:, t, :] @ w_ih.T
        gh = h @ w_hh.T
        r = 1.0 / (1.0 + np.exp(-(gi[:, :hidden] + gh[:, :hidden])))
        z = 1.0 / (
            1.0 + np.exp(-(gi[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden]))
        )
        c = np.tanh(gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :])
        h = (1.0 - z) * c + z * h
    return np.sum(h * h)


def heads(w, x):
    """Two heads of a projection, each a slice of computed bounds, recombined."""
    d = w.shape[1] // 2
    p = x @ w
    a = np.tanh(p[:, :d])
    b = np.sin(p[:, d:])
    return np.sum(a * b) + np.sum(p[:, d:] ** 2)


def overlapping(w, x):
    """Slices that overlap (``:h`` and ``h // 2:``): not a tiling, so no piece moves."""
    h = w.shape[1] // 2 + 1
    p = x @ w
    return np.sum(np.tanh(p[:, :h]) ** 2) + np.sum(np.sin(p[:, h // 2 :]))


RNG = np.random.default_rng(7)


def _gru_args(hidden=3, inputs=4, n=5, steps=4, extra=0):
    w_ih = RNG.standard_normal((3 * hidden + extra, inputs)) * 0.4
    w_hh = RNG.standard_normal((3 * hidden + extra, hidden)) * 0.4
    x = RNG.standard_normal((n, steps, inputs))
    return w_ih, w_hh, x


def test_gru_slices_are_checked_and_its_cotangents_written_in_place():
    args = _gru_args()
    vg = srcgrad.value_and_grad(gru, wrt=(0, 1))
    value, _ = vg(*args)
    assert value == gru(*args)
    src = vg.source
    assert "assume_not_one(" in src
    assert "unbroadcast(" not in src  # the slices' lengths are known equal
    assert "scatter_pieces(" not in src  # joined in place
    assert "out=d_gi[:, 2 * hidden :]" in src
    check_grad(gru, *args, wrt=(0, 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_gradient_equals_the_general_code(dtype):
    args = tuple(a.astype(dtype) for a in _gru_args())
    _, grads = srcgrad.value_and_grad(gru, wrt=(0, 1))(*args)
    plain = srcgrad.value_and_grad(gru, wrt=(0, 1))._generic()
    _, expected = plain(*args)
    assert "assume_not_one(" not in plain.source
    for g, e in zip(grads, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, e, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_a_slice_one_long_runs_the_general_code():
    x = RNG.standard_normal((4, 3))
    wide = RNG.standard_normal((3, 6)) * 0.5
    narrow = RNG.standard_normal((3, 2)) * 0.5  # d = 1: both heads 1 long
    vg = srcgrad.value_and_grad(heads, wrt=(0,))
    vg(wide, x)  # the speculating code, for these argument kinds
    assert "assume_not_one(" in vg.source
    value, grads = vg(narrow, x)  # its checks fail: the code without them runs
    assert value == heads(narrow, x)
    assert "assume_not_one(" not in vg.source
    assert "general" in vg.path.name
    check_grad(heads, narrow, x, wrt=(0,))
    expected = srcgrad.grad(heads, wrt=0)._generic()(narrow, x)
    np.testing.assert_allclose(grads[0], expected, rtol=1e-12)
    again = vg(narrow, x)[1]  # kept for these argument kinds
    np.testing.assert_array_equal(again[0], grads[0])
    # wider heads run the general code too now (it serves every length)
    np.testing.assert_allclose(
        vg(wide, x)[1][0],
        srcgrad.grad(heads, wrt=0)._generic()(wide, x),
        rtol=1e-12,
    )


def test_heads_and_vjp():
    w = RNG.standard_normal((3, 6)) * 0.5
    x = RNG.standard_normal((4, 3))
    vg = srcgrad.value_and_grad(heads, wrt=(0,))
    assert vg(w, x)[0] == heads(w, x)
    assert "assume_not_one(" in vg.source
    check_grad(heads, w, x, wrt=(0,))
    # w.shape[1] // 2 == 1: both heads 1 long; vjp falls back as grad does
    w2 = RNG.standard_normal((3, 2))
    out, pullback = srcgrad.vjp(heads, wrt=0)(w2, x)
    assert out == heads(w2, x)
    g = pullback(1.0)
    expected = srcgrad.grad(heads, wrt=0)._generic()(w2, x)
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_overlapping_slices_are_not_written_in_place():
    w = RNG.standard_normal((3, 8)) * 0.5
    x = RNG.standard_normal((4, 3))
    vg = srcgrad.value_and_grad(overlapping, wrt=(0,))
    vg(w, x)
    assert "out=d_p" not in vg.source
    check_grad(overlapping, w, x, wrt=(0,))


def test_higher_order_differentiates_code_without_checks():
    def f(w):
        d = w.shape[0] // 2
        return np.sum(np.tanh(w[:d]) * np.sin(w[d:]))

    w = RNG.standard_normal(6) * 0.5
    h = srcgrad.hessian(f)(w)
    eps = 1e-5
    g = srcgrad.grad(f)
    fd = np.stack(
        [(g(w + eps * e) - g(w - eps * e)) / (2 * eps) for e in np.eye(len(w))]
    )
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-7)


def test_assume_not_one_raises_on_a_length_one_axis():
    assume_not_one(np.zeros((3, 2)), 0, 1)
    assume_not_one(np.zeros((3, 0)), 1)  # empty is not 1
    with pytest.raises(LengthAssumption, match="axis 1"):
        assume_not_one(np.zeros((3, 1)), 1)


def test_gru_runs_on_the_fake_device():
    """The checks, ``xp.empty`` and the ``out=`` writes stay on the device."""
    from tests import fakexp

    args = _gru_args()
    want = srcgrad.grad(gru, wrt=(0, 1))(*args)
    df = srcgrad.grad(gru, wrt=(0, 1))
    got = df(*[fakexp.to_device(a) for a in args])
    assert "assume_not_one(" in df.source and "out=d_gi" in df.source
    for g, w in zip(got, want):
        assert isinstance(g, fakexp.FakeArray)
        np.testing.assert_allclose(np.asarray(fakexp.to_host(g)), w, rtol=1e-12)


def mixed_dtypes(w, x):
    """A float32 projection whose pieces' cotangents are float64 (a float64 operand):
    ``out=`` would cast them, so the join stays."""
    d = w.shape[1] // 2
    p = x @ w
    scale = np.float64(1.5)
    return np.sum(np.tanh(p[:, :d]) * scale) + np.sum(p[:, d:] * scale)


def test_a_piece_of_another_dtype_is_not_written_in_place():
    w = (RNG.standard_normal((3, 6)) * 0.5).astype(np.float32)
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    vg = srcgrad.value_and_grad(mixed_dtypes, wrt=(0,))
    _, (g,) = vg(w, x)
    assert g.dtype == np.float32
    expected = srcgrad.grad(mixed_dtypes, wrt=0)._generic()(w, x)
    np.testing.assert_allclose(g, expected, rtol=1e-6)


def test_additions_of_negations_are_subtractions():
    import libcst as cst

    from srcgrad.codegen.optimize import _Subtractions

    def rewrite(e: str) -> str:
        return cst.Module([]).code_for_node(
            cst.parse_expression(e).visit(_Subtractions())
        )

    assert rewrite("a + (-b)") == "a - b"
    assert rewrite("(-b) + a") == "a - b"
    assert rewrite("a + -(x - y)") == "a - (x - y)"
    assert rewrite("-(x * y) + (p + q)") == "(p + q) - (x * y)"
    assert rewrite("a - (-b)") == "a - (-b)"  # not an addition: left as it is
    a, b = RNG.standard_normal(5), RNG.standard_normal(5)
    assert np.array_equal(a + (-b), a - b)  # the same to the bit


def test_a_guard_the_forward_cannot_hold_makes_the_code_without_speculation(
    monkeypatch, tmp_path
):
    from srcgrad.codegen.inference import Inference

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))  # not the file made before
    real = Inference.speculated

    def speculated(self, length, target, axis):
        out = real(self, length, target, axis)
        if self.guards:
            self.guards.setdefault("not_in_the_forward", set()).add(0)
        return out

    monkeypatch.setattr(Inference, "speculated", speculated)
    w = RNG.standard_normal((3, 6)) * 0.5
    x = RNG.standard_normal((4, 3))
    vg = srcgrad.value_and_grad(heads, wrt=(0,))
    assert vg(w, x)[0] == heads(w, x)
    assert "assume_not_one(" not in vg.source  # generated again without speculating
    check_grad(heads, w, x, wrt=(0,))


def written_transposed(x):
    """A subscript write into an F-ordered array (found by the fuzzer: its copy was C
    ordered, and np.sum added in another order, one ulp off the function's own value).
    """
    w = np.linalg.matrix_transpose(x) * 0.9 + 0.1
    w[0] = np.mean(w[::-1])
    return np.sum(np.sin(x)) + 0.5 * np.sum(w * w)


def test_a_written_copy_keeps_the_layout_and_runs_on_the_fake_device():
    from tests import fakexp

    # a C-ordered copy gives another value for this x (it sums in another order)
    x = np.random.default_rng(2).uniform(-0.9, 1.1, (6, 5))
    vg = srcgrad.value_and_grad(written_transposed)
    assert vg(x)[0] == written_transposed(x)  # bit for bit
    assert "xp.copy(" in vg.source
    check_grad(written_transposed, x)
    got = srcgrad.grad(written_transposed)(fakexp.to_device(x))
    assert isinstance(got, fakexp.FakeArray)
    np.testing.assert_allclose(
        np.asarray(fakexp.to_host(got)), srcgrad.grad(written_transposed)(x), rtol=1e-12
    )


def test_forward_mode_keeps_the_layout_of_a_written_copy():
    x = np.random.default_rng(2).uniform(-0.9, 1.1, (6, 5))
    jvp = srcgrad.jvp(written_transposed)
    value, tangent = jvp(x, np.ones_like(x))
    assert value == written_transposed(x)  # bit for bit, as the reverse forward pass
    assert "xp.copy(" in jvp.source
    grad = srcgrad.grad(written_transposed)(x)
    np.testing.assert_allclose(tangent, np.sum(grad), rtol=1e-10)
