"""nn.ConvTranspose2d and nn.Bilinear: gradients through srcgrad.grad against central
differences in float64, forward values against identities and formulas written here, and
against PyTorch (weights copied in) when it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srcgrad import nn
from srcgrad.nn import functional as F
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


def loss2(model, x1, x2):
    return np.sum(np.tanh(model(x1, x2)) ** 2)


CASES = [
    dict(stride=1, padding=0),
    dict(
        stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2)
    ),
]


@pytest.mark.parametrize("opts", CASES, ids=["plain", "strided-grouped-dilated"])
def test_conv_transpose2d_gradients(rng, opts):
    layer = nn.ConvTranspose2d(4, 6, (3, 2), rng=rng, dtype=np.float64, **opts)
    assert layer.weight.shape == (4, 6 // layer.groups, 3, 2)
    check_grad(loss, layer, rng.standard_normal((2, 4, 4, 5)), wrt=(0, 1))


@pytest.mark.parametrize(
    "stride,padding,dilation", [(1, 0, 1), (2, 1, 1), ((1, 2), (0, 1), (2, 1))]
)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng, stride, padding, dilation):
    # <conv_transpose2d(x, w), y> = <x, conv2d(y, w)>: the defining identity
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    s, p, d = pair(stride), pair(padding), pair(dilation)
    w = rng.standard_normal((3, 2, 3, 2))  # (C_in of the transpose, C_out, kh, kw)
    x = rng.standard_normal((2, 3, 4, 5))
    out = F.conv_transpose2d(x, w, None, s, p, (0, 0), 1, d)
    y = rng.standard_normal(out.shape)
    back = F.conv2d(y, w, None, s, p, d)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(out * y), np.sum(x * back), rtol=1e-12)


def test_conv_transpose2d_refuses_a_large_output_padding(rng):
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2, rng=rng)


def test_bilinear_forward_init_and_gradients(rng):
    layer = nn.Bilinear(3, 4, 2, rng=rng, dtype=np.float64)
    bound = 1 / math.sqrt(3)
    assert layer.weight.shape == (2, 3, 4) and layer.bias.shape == (2,)
    assert np.all(np.abs(layer.weight) <= bound) and np.all(np.abs(layer.bias) <= bound)
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    want = np.stack(
        [
            [x1[n] @ layer.weight[o] @ x2[n] + layer.bias[o] for o in range(2)]
            for n in range(5)
        ]
    )
    np.testing.assert_allclose(layer(x1, x2), want, rtol=1e-12)
    check_grad(loss2, layer, x1, x2, wrt=(0, 1, 2))
    no_bias = nn.Bilinear(3, 4, 2, bias=False, rng=rng, dtype=np.float64)
    check_grad(loss2, no_bias, x1[:2], x2[:2], wrt=(0, 1))


def test_bilinear_refuses_a_wrong_feature_count(rng):
    layer = nn.Bilinear(3, 4, 2, rng=rng)
    with pytest.raises(ValueError, match="Bilinear"):
        layer(np.ones((2, 3), np.float32), np.ones((2, 5), np.float32))


@needs_torch
def test_conv_transpose2d_and_bilinear_match_pytorch(rng):
    theirs = torch.nn.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1
    ).double()
    ours = nn.ConvTranspose2d(
        4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, rng=rng
    )
    nn.load_state_dict(
        ours, {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    )
    x = rng.standard_normal((2, 4, 5, 3))
    np.testing.assert_allclose(
        ours(x), theirs(torch.from_numpy(x)).detach(), atol=1e-12
    )
    tb = torch.nn.Bilinear(3, 4, 2).double()
    mb = nn.load_state_dict(
        nn.Bilinear(3, 4, 2, rng=rng),
        {k: v.detach().numpy() for k, v in tb.state_dict().items()},
    )
    x1, x2 = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    np.testing.assert_allclose(
        mb(x1, x2), tb(torch.from_numpy(x1), torch.from_numpy(x2)).detach(), atol=1e-12
    )
