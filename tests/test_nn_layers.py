"""srcgrad.nn layers: gradients through srcgrad.grad against central differences in
float64 (weights, inputs, options), forward values against formulas written here and
against PyTorch (weights copied in) when it is installed, state dicts, input checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import srcgrad
from srcgrad import nn
from srcgrad.testing import check_grad

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def loss(model, x):
    return np.sum(np.tanh(model(x)) ** 2)


def f64(model):
    return nn.astype(model, np.float64)


def test_linear_weight_layout_init_and_gradient(rng):
    lin = nn.Linear(4, 3, rng=rng)
    assert lin.weight.shape == (3, 4) and lin.weight.dtype == np.float32
    assert np.all(np.abs(lin.weight) <= 0.5) and lin.bias.shape == (3,)
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(lin(x), x @ lin.weight.T + lin.bias, rtol=1e-6)
    check_grad(loss, f64(lin), x, wrt=(0, 1))
    check_grad(loss, f64(nn.Linear(4, 3, bias=False, rng=rng)), x)


def _conv_reference(x, w, b, stride, padding, dilation, groups):
    """Direct loops over output positions (an independent formula)."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, co, ho, wo))
    per = co // groups
    for o in range(co):
        g = o // per
        for i in range(ho):
            for j in range(wo):
                r, s = i * stride[0], j * stride[1]
                patch = xp[:, g * cg : (g + 1) * cg]
                patch = patch[:, :, r : r + dilation[0] * kh : dilation[0]]
                patch = patch[:, :, :, s : s + dilation[1] * kw : dilation[1]]
                out[:, o, i, j] = np.sum(patch * w[o], axis=(1, 2, 3)) + b[o]
    return out


CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
]


@pytest.mark.parametrize("opts", CONV_CASES, ids=["plain", "strided-grouped"])
def test_conv2d_forward_and_gradients(rng, opts):
    conv = f64(nn.Conv2d(4, 6, 3, rng=rng, **opts))
    x = rng.standard_normal((2, 4, 7, 6))
    ref = _conv_reference(
        x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, conv.groups
    )
    np.testing.assert_allclose(conv(x), ref, rtol=1e-10, atol=1e-12)
    check_grad(loss, conv, x, wrt=(0, 1))


def test_conv1d_gradients(rng):
    conv = f64(nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, rng=rng))
    check_grad(loss, conv, rng.standard_normal((2, 4, 9)), wrt=(0, 1))


def test_pools_forward_and_gradients(rng):
    x = rng.standard_normal((2, 3, 6, 6))
    mp = nn.MaxPool2d(2)
    blocks = x.reshape(2, 3, 3, 2, 3, 2)
    np.testing.assert_array_equal(mp(x), blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(x), blocks.mean(axis=(3, 5)))
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(3)(x), blocks.mean(axis=(3, 5)))
    net = nn.Sequential(
        nn.MaxPool2d(3, stride=2, padding=1),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.AdaptiveAvgPool2d((2, 1)),
    )
    check_grad(loss, net, x, wrt=1)
    x1 = rng.standard_normal((2, 3, 8))
    net1 = nn.Sequential(nn.MaxPool1d(2, padding=1), nn.AvgPool1d(3, stride=2))
    check_grad(loss, net1, x1, wrt=1)


def test_batchnorm_train_eval_and_running_statistics(rng):
    bn = f64(nn.BatchNorm2d(3))
    x = rng.standard_normal((4, 3, 2, 2)) * 2 + 1
    twin = copy.deepcopy(bn)
    value, g = srcgrad.value_and_grad(loss)(bn, x)
    assert value == loss(twin, x)
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean, 0.1 * mu)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * var)
    assert g.running_mean is None
    check_grad(loss, bn, x, wrt=(0, 1))
    bn.eval()
    check_grad(loss, bn, x, wrt=(0, 1))
    expected = (x - bn.running_mean[:, None, None]) / np.sqrt(
        bn.running_var[:, None, None] + 1e-5
    )
    np.testing.assert_allclose(bn(x), expected)
    check_grad(loss, f64(nn.BatchNorm1d(3)), rng.standard_normal((5, 3)), wrt=(0, 1))


def test_layer_and_group_norm(rng):
    x = rng.standard_normal((2, 4, 3))
    ln = f64(nn.LayerNorm(3))
    ln.weight = rng.standard_normal(3)
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x), ref * ln.weight + ln.bias)
    check_grad(loss, ln, x, wrt=(0, 1))
    gn = f64(nn.GroupNorm(2, 4))
    gn.bias = rng.standard_normal(4)
    check_grad(loss, gn, x, wrt=(0, 1))


def test_dropout_embedding_flatten_identity(rng):
    drop = nn.Dropout(0.3, rng=np.random.default_rng(4))
    x = rng.standard_normal((3, 5))
    keep = np.random.default_rng(4).random((3, 5)) >= 0.3
    np.testing.assert_allclose(drop(x), np.where(keep, x / 0.7, 0.0))
    drop.rng = np.random.default_rng(4)
    check_grad(loss, drop, x, wrt=1)
    drop.eval()
    np.testing.assert_array_equal(drop(x), x)
    emb = f64(nn.Embedding(5, 3, padding_idx=1, rng=rng))
    assert np.all(emb.weight[1] == 0)
    idx = np.array([[0, 1], [2, 0]])
    g = srcgrad.grad(loss)(emb, idx)
    assert np.all(g.weight[1] == 0) and np.all(g.weight[3:] == 0)
    check_grad(loss, f64(nn.Embedding(5, 3, rng=rng)), idx)
    x4 = rng.standard_normal((2, 3, 2, 2))
    assert nn.Flatten()(x4).shape == (2, 12)
    assert nn.Flatten(0, 1)(x4).shape == (6, 2, 2)
    check_grad(loss, nn.Sequential(nn.Flatten(), nn.Identity()), x4, wrt=1)


def test_bad_input_names_the_layer_and_both_shapes(rng):
    with pytest.raises(
        ValueError, match=r"Conv2d: .*4-D .*3 at axis 1.*\(2, 5, 4, 4\)"
    ):
        srcgrad.grad(loss)(
            nn.Conv2d(3, 2, 3, rng=rng), rng.standard_normal((2, 5, 4, 4))
        )
    with pytest.raises(ValueError, match=r"Linear: .*4 at axis -1.*\(5, 5\)"):
        nn.Linear(4, 3, rng=rng)(rng.standard_normal((5, 5)))


class LeNet(nn.Module):
    def __init__(self, rng):
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, rng=rng),
            nn.BatchNorm2d(4),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 5, rng=rng))

    def __call__(self, x):
        return self.head(nn.relu(self.features(x)))


def test_state_dict_names_and_load(rng):
    net = LeNet(rng)
    sd = nn.state_dict(net)
    assert set(sd) == {
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "head.1.weight",
        "head.1.bias",
    }  # fmt: skip
    other = LeNet(np.random.default_rng(99))
    nn.load_state_dict(other, {k: v.astype(np.float64) for k, v in sd.items()})
    assert other.features[0].weight.dtype == np.float32
    x = rng.standard_normal((2, 1, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(other(x), net(x))
    with pytest.raises(KeyError, match="missing"):
        nn.load_state_dict(other, {"head.1.bias": sd["head.1.bias"]})


@needs_torch
def test_a_small_convnet_matches_pytorch(rng):
    tnn = torch.nn
    theirs = tnn.Sequential(
        tnn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2),
        tnn.BatchNorm2d(4),
        tnn.MaxPool2d(2, padding=1),
        tnn.GroupNorm(2, 4),
        tnn.AvgPool2d(2),
        tnn.Flatten(),
        tnn.LayerNorm(4),
        tnn.Linear(4, 3),
    ).double()
    ours = f64(
        nn.Sequential(
            nn.Conv2d(2, 4, 3, stride=2, padding=1, groups=2, rng=rng),
            nn.BatchNorm2d(4),
            nn.MaxPool2d(2, padding=1),
            nn.GroupNorm(2, 4),
            nn.AvgPool2d(2),
            nn.Flatten(),
            nn.LayerNorm(4),
            nn.Linear(4, 3, rng=rng),
        )
    )
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    nn.load_state_dict(ours, sd)
    x = rng.standard_normal((3, 2, 8, 8))
    np.testing.assert_allclose(
        ours(x), theirs(torch.from_numpy(x)).detach(), atol=1e-10
    )
    np.testing.assert_allclose(
        ours[1].running_var, theirs[1].running_var.numpy(), rtol=1e-12
    )
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(
        ours(x), theirs(torch.from_numpy(x)).detach(), atol=1e-10
    )
    emb = torch.nn.Embedding(6, 3, padding_idx=2).double()
    mine = nn.load_state_dict(
        nn.Embedding(6, 3, padding_idx=2, dtype=np.float64),
        {"weight": emb.weight.detach().numpy()},
    )
    idx = np.array([[1, 2], [5, 0]])
    np.testing.assert_array_equal(mine(idx), emb(torch.from_numpy(idx)).detach())


@pytest.mark.slow
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 2])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_option_sweep(rng, stride, padding, dilation, groups):
    conv = f64(nn.Conv2d(2, 4, (2, 3), stride, padding, dilation, groups, rng=rng))
    x = rng.standard_normal((2, 2, 7, 7))
    ref = _conv_reference(
        x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, groups
    )
    np.testing.assert_allclose(conv(x), ref, rtol=1e-10, atol=1e-12)
    check_grad(loss, conv, x, wrt=(0, 1))


def test_activation_layers_in_a_sequential(rng):
    acts = [
        nn.ReLU(),
        nn.LeakyReLU(0.2),
        nn.ELU(0.5),
        nn.GELU("tanh"),
        nn.SiLU(),
        nn.Softplus(2.0),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.Softmax(1),
        nn.LogSoftmax(0),
    ]
    x = rng.standard_normal((3, 4)) + 0.1
    h = x
    for layer in acts:
        h = layer(h)
    np.testing.assert_allclose(nn.Sequential(*acts)(x), h)
    check_grad(loss, nn.Sequential(nn.Linear(4, 4, rng=rng), *acts[1:]), x, wrt=1)


def ce_loss(model, x, labels):
    return nn.cross_entropy(model(x), labels)


def test_float32_model_float32_gradients_and_dtype_argument(rng):
    net = LeNet(rng)
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    value, g = srcgrad.value_and_grad(ce_loss)(net, x, np.array([0, 4, 2]))
    assert np.asarray(value).dtype == np.float32
    for name, leaf in nn.parameters(g):
        assert leaf.dtype == np.float32 and np.all(np.isfinite(leaf)), name
    conv = nn.Conv2d(1, 2, 3, dtype=np.float64, rng=rng)
    assert conv.weight.dtype == conv.bias.dtype == np.float64
    assert nn.BatchNorm1d(3, dtype=np.float64).running_var.dtype == np.float64


def embedding_without_row_1(table, idx):
    frozen = np.concatenate([table[:1], np.zeros((1, 3)), table[2:]])
    return np.sum(np.tanh(frozen[idx]) ** 2)


def test_embedding_padding_row_gets_no_gradient_the_others_do(rng):
    emb = f64(nn.Embedding(5, 3, padding_idx=1, rng=rng))
    idx = np.array([[0, 1], [2, 0], [4, 1]])
    g = srcgrad.grad(loss)(emb, idx)
    expected = srcgrad.grad(embedding_without_row_1)(emb.weight, idx)
    np.testing.assert_allclose(g.weight, expected)
    check_grad(embedding_without_row_1, emb.weight, idx)
