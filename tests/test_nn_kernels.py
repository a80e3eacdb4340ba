"""The nn kernels (srcgrad.runtime.nn_kernels, rules in srcgrad.rules.nn_kernels): what the
generated rule tests do not say on their own.

The rule tests (tests/rules) check every kernel against central differences in float64,
non-contiguous and float32, and on the fake device.  Here: forward values against loops
written here, the first-maximum convention of max pooling at ties, the embedding's and the
cross-entropy's closed forms against independent formulas, refusals, and that a model's
generated backward pass calls the kernels' cotangents.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import SrcgradError
from srcgrad.nn import functional as F
from srcgrad.nn import losses
from srcgrad.rules import registry
from srcgrad.runtime import nn_kernels as K
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _conv_by_loops(x, w, stride, padding, dilation, groups):
    """Cross-correlation written as loops over outputs (an independent reference)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo))
    per = o // groups
    for oc in range(o):
        g = oc // per
        for i in range(ho):
            for j in range(wo):
                r0, c0 = i * stride[0], j * stride[1]
                patch = xp[
                    :,
                    g * cg : (g + 1) * cg,
                    r0 : r0 + dilation[0] * (kh - 1) + 1 : dilation[0],
                    c0 : c0 + dilation[1] * (kw - 1) + 1 : dilation[1],
                ]
                out[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3))
    return out


@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        ((1, 1), (0, 0), (1, 1), 1),
        ((2, 1), (1, 2), (1, 2), 2),
        ((1, 3), (2, 0), (2, 1), 4),
    ],
)
def test_conv2d_forward_matches_loops(rng, stride, padding, dilation, groups):
    x = rng.standard_normal((2, 4, 7, 8))
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    ours = F.conv2d(x, w, None, stride, padding, dilation, groups)
    want = _conv_by_loops(x, w, stride, padding, dilation, groups)
    np.testing.assert_allclose(ours, want, rtol=1e-12, atol=1e-12)


_LAYOUTS = {"batch first": 1, "batch innermost": 10**6}  # kernels._SHORT_ROWS for each


def _memory_order(a):
    return tuple(sorted(range(a.ndim), key=lambda k: -a.strides[k]))


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        ((1, 1), (0, 0), (1, 1), 1),
        ((2, 1), (1, 2), (1, 2), 2),
        ((1, 2), (2, 0), (2, 1), 1),
    ],
)
def test_conv2d_gradients_in_both_layouts(
    rng, monkeypatch, layout, stride, padding, dilation, groups
):
    monkeypatch.setattr(K, "_SHORT_ROWS", _LAYOUTS[layout])
    x = rng.standard_normal((3, 4, 6, 7))
    w, b = rng.standard_normal((6, 4 // groups, 3, 2)), rng.standard_normal(6)
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    want = _conv_by_loops(x, w, stride, padding, dilation, groups) + b[:, None, None]
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    inner = layout == "batch innermost"
    assert _memory_order(y) == ((1, 2, 3, 0) if inner else (1, 0, 2, 3))

    def f(x, w, b):
        return np.sum(
            np.tanh(F.conv2d(x, w, b, stride, padding, dilation, groups)) ** 2
        )

    check_grad(f, x, w, b, wrt=(0, 1, 2))


def test_conv2d_layout_follows_the_rows_and_the_input(rng):
    x = rng.standard_normal((3, 2, 5, 20))
    w, r = rng.standard_normal((4, 2, 3, 3)), rng.standard_normal((3, 4, 3, 18))
    first = F.conv2d(x, w)  # rows of 18 outputs, a batch-first input
    assert K.conv_layout(x.shape, x.strides, 3, 18)[0] and _memory_order(first) == (
        1,
        0,
        2,
        3,
    )
    short = F.conv2d(x[:, :, :, :12], w)  # rows of 10
    assert not K.conv_layout(x.shape, x.strides, 3, 10)[0] and _memory_order(short) == (
        1,
        2,
        3,
        0,
    )
    x_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    last = F.conv2d(x_last, w)  # laid out batch innermost already: kept so
    assert not K.conv_layout(x_last.shape, x_last.strides, 3, 18)[0] and _memory_order(
        last
    ) == (1, 2, 3, 0)
    np.testing.assert_allclose(first, last, rtol=1e-12, atol=1e-12)
    grad = srcgrad.grad(lambda x, w: np.sum(F.conv2d(x, w) * r), wrt=(0, 1))
    for a, b in zip(grad(x, w), grad(x_last, w)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_conv2d_gradients_with_noncontiguous_input_and_float32(rng):
    x = rng.standard_normal((3, 4, 9, 10))[:, ::2, ::2, 1::2]  # (3, 2, 5, 5), strided
    w, b = rng.standard_normal((4, 1, 2, 3)), rng.standard_normal(4)

    def f(x, w, b):
        y = F.conv2d(x, w, b, (2, 1), (1, 1), (1, 2), 2)
        return np.sum(np.tanh(y) ** 2)

    check_grad(f, x, w, b, wrt=(0, 1, 2))
    gx, gw, gb = srcgrad.grad(f, wrt=(0, 1, 2))(
        *(a.astype(np.float32) for a in (x, w, b))
    )
    assert gx.dtype == gw.dtype == gb.dtype == np.float32
    want = srcgrad.grad(f, wrt=(0, 1, 2))(x, w, b)
    for ours, theirs in zip((gx, gw, gb), want):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-3)


def test_sigmoid_matches_expit_keeps_float32_and_does_not_warn(rng):
    import scipy.special

    x = np.concatenate([rng.standard_normal(20) * 5, [-1000.0, -90.0, 0.0, 90.0]])
    for dtype in (np.float64, np.float32):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s = K.sigmoid(x.astype(dtype))
        assert s.dtype == dtype
        np.testing.assert_allclose(s, scipy.special.expit(x), rtol=1e-6, atol=1e-30)
    assert K.sigmoid(-1000.0) == 0.0 and K.sigmoid(2) == scipy.special.expit(2)

    def f(x):
        return np.sum(F.sigmoid(x) * np.arange(x.size).reshape(x.shape))

    check_grad(f, rng.standard_normal((3, 4)) * 3)
    assert "sigmoid" in srcgrad.grad(f).source


def test_max_pool_sends_the_gradient_to_the_first_maximum_of_a_window():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = 2.0  # a tie in the first window: (0, 1) comes first
    x[0, 0, 3, 3] = 1.0
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    ans = K.max_pool2d(x, (2, 2), (2, 2))
    d = K.max_pool2d_cotangent(g, ans, x, (2, 2), (2, 2), (0, 0), (1, 1))
    want = np.zeros((1, 1, 4, 4))
    want[0, 0, 0, 1] = 1.0  # first window: first of the tied maxima, not shared
    want[0, 0, 0, 2] = 2.0  # an all-zero window: its first entry
    want[0, 0, 2, 0] = 3.0
    want[0, 0, 3, 3] = 4.0
    np.testing.assert_array_equal(d, want)


def test_max_pool_ties_match_pytorch():
    torch = pytest.importorskip("torch")
    x = np.round(np.random.default_rng(3).standard_normal((2, 3, 7, 7)))  # many ties
    g = np.random.default_rng(4).standard_normal((2, 3, 4, 3))
    ans = K.max_pool2d(x, (3, 3), (2, 2), (1, 0), (1, 1))
    ours = K.max_pool2d_cotangent(g, ans, x, (3, 3), (2, 2), (1, 0), (1, 1))
    tx = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.max_pool2d(tx, (3, 3), (2, 2), (1, 0))
    out.backward(torch.tensor(g))
    np.testing.assert_allclose(ans, out.detach().numpy())
    np.testing.assert_allclose(ours, tx.grad.numpy())


def test_avg_pool_without_padding_counts_matches_loops(rng):
    x = rng.standard_normal((1, 2, 5, 6))
    ours = K.avg_pool2d(x, (3, 2), (2, 2), (1, 1), False)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    inside = np.pad(np.ones((5, 6)), 1)
    for i in range(ours.shape[2]):
        for j in range(ours.shape[3]):
            win = xp[:, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 2]
            cnt = inside[2 * i : 2 * i + 3, 2 * j : 2 * j + 2].sum()
            np.testing.assert_allclose(ours[:, :, i, j], win.sum(axis=(2, 3)) / cnt)


def test_embedding_cotangent_sums_repeated_rows(rng):
    idx = np.array([[0, 3, 3], [-1, 0, 3]])
    weight = rng.standard_normal((5, 4)).astype(np.float32)
    g = rng.standard_normal((2, 3, 4)).astype(np.float32)
    want = np.zeros((5, 4), np.float32)
    for k, row in enumerate(idx.reshape(-1)):
        want[row] += g.reshape(-1, 4)[k]
    ours = K.embedding_cotangent(g, idx, weight)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, want, rtol=1e-6)


def test_cross_entropy_cotangent_is_softmax_minus_onehot(rng):
    x = rng.standard_normal((5, 3))
    t = np.array([0, 2, -100, 1, 2])
    d = K.cross_entropy_cotangent(np.float64(1.0), x, t, None, -100, "mean")
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[np.where(t < 0, 0, t)]
    want = (p - onehot) * (t >= 0)[:, None] / 4
    np.testing.assert_allclose(d, want, rtol=1e-12, atol=1e-15)
    loss = K.cross_entropy(x, t)
    np.testing.assert_allclose(loss, -np.mean(np.log(p[[0, 1, 3, 4], [0, 2, 1, 2]])))


@pytest.mark.parametrize(
    "call,needle",
    [
        (lambda x: K.im2col(x, (2, 2), (0, 1)), "stride"),
        (lambda x: K.im2col(x, (9, 2)), "does not fit"),
        (lambda x: K.im2col(x[0], (2, 2)), "(N, C, H, W)"),
        (lambda x: K.max_pool2d(x, (2, 2), (2, 2), (2, 0)), "half the window"),
        (lambda x: K.avg_pool2d(x, 2, (1, 1)), "kernel_size"),
    ],
)
def test_bad_sizes_are_refused_with_a_hint(rng, call, needle):
    with pytest.raises(SrcgradError) as info:
        call(rng.standard_normal((1, 2, 5, 5)))
    assert needle in info.value.message and info.value.hint


def test_a_models_backward_calls_the_kernel_cotangents(rng):
    def net(w, emb, x, idx, y):
        h = F.max_pool2d(F.relu(F.conv2d(x, w, None, (1, 1), (1, 1))), (2, 2))
        h = F.avg_pool2d(h, (2, 2)).reshape(x.shape[0], -1)
        e = np.sum(F.embedding(idx, emb), axis=1)
        return losses.cross_entropy(h + e, y)

    w, emb = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((6, 3))
    x, idx, y = (
        rng.standard_normal((2, 2, 4, 4)),
        np.array([[1, 5], [5, 5]]),
        np.array([0, 2]),
    )
    gf = srcgrad.grad(net, wrt=(0, 1))
    check_grad(net, w, emb, x, idx, y, wrt=(0, 1))
    gf(w, emb, x, idx, y)
    text = gf.source
    for helper in (
        "max_pool2d_cotangent",
        "avg_pool2d_cotangent",
        "embedding_cotangent",
    ):
        assert helper in text
    assert "cross_entropy_cotangent" in text and "add.at" not in text


def test_every_kernel_is_registered():
    names = {r.name for r in registry.all_rules()}
    assert {"nn.im2col", "nn.max_pool2d", "nn.avg_pool2d", "nn.embedding"} <= names
    assert "nn.cross_entropy" in names


def test_pooling_with_the_default_stride_emits_no_syntax_warning(rng):
    def f(x):
        a = F.max_pool2d(x, (2, 2)) + F.avg_pool2d(x, (2, 2))
        v = x[:, :, 0, :]
        b = F.max_pool1d(v, (2,)) + F.avg_pool1d(v, (2,))
        return np.sum(a * a) + np.sum(b * b)

    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)
        check_grad(f, rng.standard_normal((2, 2, 4, 6)))
