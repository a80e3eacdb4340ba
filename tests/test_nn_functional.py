"""srcgrad.nn.functional: activations and functional layers, gradients through
srcgrad.grad against central differences, values against formulas written here and
against PyTorch when it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srcgrad.nn import functional as F
from srcgrad.testing import check_grad

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover - torch is optional
    torch = None


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def activations(x):
    return np.sum(
        F.relu(x) * 0.3
        + F.leaky_relu(x, 0.2)
        + F.elu(x, 0.7)
        + F.gelu(x)
        + F.gelu(x, "tanh")
        + F.silu(x)
        + F.sigmoid(x)
        + F.tanh(x)
        + F.softplus(x, 2.0, 3.0)
        + F.softmax(x, 0) * F.log_softmax(x, 1)
    )


def test_activations_gradients(rng):
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink
    check_grad(activations, x)


def test_activations_match_formulas(rng):
    x = rng.standard_normal((3, 4)) * 3
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(F.gelu(x), x * 0.5 * (1 + erf(x / math.sqrt(2))))
    np.testing.assert_allclose(F.silu(x), x / (1 + np.exp(-x)))
    np.testing.assert_allclose(F.elu(x), np.where(x > 0, x, np.exp(x) - 1))
    np.testing.assert_allclose(F.softplus(x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(F.softmax(x).sum(axis=-1), 1.0)
    np.testing.assert_allclose(
        F.log_softmax(x), x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))
    )
    big = np.array([1000.0, -1000.0])
    assert (
        np.all(np.isfinite(F.log_softmax(big))) and np.isfinite(F.softplus(big)).all()
    )


def conv_pool(x, w, b):
    h = F.conv2d(x, w, b, (1, 2), (1, 1), (2, 1), 1)
    h = F.max_pool2d(F.relu(h), (2, 2), None, (1, 0))
    return np.sum(F.avg_pool2d(h, (2, 1)) ** 2)


def test_conv_and_pool_gradients(rng):
    x = rng.standard_normal((2, 3, 8, 7))
    w, b = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    check_grad(conv_pool, x, w, b, wrt=(0, 1, 2))


def norm_embed(x, w, b, table, idx):
    h = F.layer_norm(x, (3,), w, b, 1e-5) + F.linear(x, table[:, :3], table[:, 0])
    return np.sum(h**2) + np.sum(F.embedding(idx, table) ** 3)


def test_norm_linear_embedding_gradients(rng):
    x = rng.standard_normal((4, 3))
    table = rng.standard_normal((3, 3))
    idx = np.array([0, 2, 2])
    args = (x, rng.standard_normal(3), rng.standard_normal(3), table, idx)
    check_grad(norm_embed, *args, wrt=(0, 1, 2, 3))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
def test_functional_matches_pytorch(rng):
    T = torch.from_numpy
    x = rng.standard_normal((2, 4, 9, 8))
    w, b = rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    ours = F.conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2)
    theirs = TF.conv2d(T(x), T(w), T(b), (2, 1), (1, 2), (1, 2), 2)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)
    ours = F.max_pool2d(x, (3, 3), (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(ours, TF.max_pool2d(T(x), 3, 2, 1).numpy())
    ours = F.avg_pool2d(x, (3, 3), (2, 2), (1, 1), False)
    theirs = TF.avg_pool2d(T(x), 3, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        F.group_norm(x, 2), TF.group_norm(T(x), 2).numpy(), atol=1e-10
    )
    v = x.reshape(8, -1)
    for mine, ref in [
        (F.gelu(v, "tanh"), TF.gelu(T(v), approximate="tanh")),
        (F.gelu(v), TF.gelu(T(v))),
        (F.elu(v, 0.5), TF.elu(T(v), 0.5)),
        (F.leaky_relu(v, 0.1), TF.leaky_relu(T(v), 0.1)),
        (F.softplus(v * 10, 2.0, 5.0), TF.softplus(T(v * 10), 2.0, 5.0)),
        (F.log_softmax(v, 0), TF.log_softmax(T(v), 0)),
    ]:
        np.testing.assert_allclose(mine, ref.numpy(), atol=1e-12)
