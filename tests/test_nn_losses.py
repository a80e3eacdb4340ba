"""srcgrad.nn losses: gradients through srcgrad.grad against central differences, values
against formulas written here and against PyTorch when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

from srcgrad import nn
from srcgrad.testing import check_grad

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # pragma: no cover - torch is optional
    torch = None


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _logits(rng, n=5, c=4):
    return rng.standard_normal((n, c))


def ce_int(x, t):
    return nn.cross_entropy(x, t, None, -100, "mean", 0.1)


def ce_weighted(x, t, w):
    return nn.cross_entropy(x, t, w, 2, "mean", 0.2)


def ce_probs(x, p):
    return nn.cross_entropy(x, p, None, -100, "mean", 0.1)


def regression_losses(x, y):
    return (
        nn.mse_loss(x, y)
        + nn.l1_loss(x, y, "sum")
        + nn.smooth_l1_loss(x, y, "mean", 0.5)
        + np.sum(nn.huber_loss(x, y, "none", 0.7))
    )


def binary_losses(x, t, pw):
    p = 1.0 / (1.0 + np.exp(-x))
    return nn.binary_cross_entropy(p, t) + nn.binary_cross_entropy_with_logits(
        x, t, None, "sum", pw
    )


def kl(x, t):
    return nn.kl_div(x, t, "batchmean") + nn.kl_div(x, np.log(t), "sum", True)


def test_cross_entropy_gradients_with_smoothing_weights_and_ignore(rng):
    x, t = _logits(rng), np.array([0, 2, 3, 2, 1])
    check_grad(ce_int, x, t)
    check_grad(ce_weighted, x, t, rng.uniform(0.5, 2.0, 4))
    check_grad(ce_probs, x, scipy_softmax(rng.standard_normal((5, 4))))


def scipy_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_cross_entropy_matches_its_formula(rng):
    x, t = _logits(rng), np.array([0, 2, 3, 2, 1])
    logp = x - np.log(np.sum(np.exp(x), axis=1, keepdims=True))
    expected = -np.mean(logp[np.arange(5), t])
    np.testing.assert_allclose(nn.cross_entropy(x, t), expected)
    w = np.array([1.0, 2.0, 0.5, 3.0])
    keep = t != 2
    ref = -np.sum((w[t] * logp[np.arange(5), t])[keep]) / np.sum(w[t][keep])
    np.testing.assert_allclose(nn.cross_entropy(x, t, w, ignore_index=2), ref)


def test_other_losses_gradients(rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    check_grad(regression_losses, x, y, wrt=(0, 1))
    t = rng.uniform(0, 1, (4, 3))
    check_grad(binary_losses, x, t, rng.uniform(0.5, 2, 3), wrt=(0, 1, 2))
    logp = np.log(scipy_softmax(x))
    check_grad(kl, logp, scipy_softmax(y), wrt=(0, 1))


def test_logits_losses_stay_finite_for_large_inputs():
    x = np.array([[1000.0, -1000.0, 0.0]])
    assert np.isfinite(nn.cross_entropy(x, np.array([1])))
    z = np.array([800.0, -800.0])
    assert np.isfinite(nn.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0])))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_pytorch(rng, reduction):
    x, t = _logits(rng, 6, 5), np.array([0, 4, 3, 2, 1, 3])
    w = rng.uniform(0.5, 2.0, 5)
    p = scipy_softmax(rng.standard_normal((6, 5)))
    T = torch.from_numpy
    pairs = [
        (
            nn.cross_entropy(x, t, w, 3, reduction, 0.15),
            TF.cross_entropy(
                T(x),
                T(t),
                T(w),
                ignore_index=3,
                reduction=reduction,
                label_smoothing=0.15,
            ),
        ),
        (
            nn.cross_entropy(x, p, w, reduction=reduction, label_smoothing=0.1),
            TF.cross_entropy(
                T(x), T(p), T(w), reduction=reduction, label_smoothing=0.1
            ),
        ),
        (
            nn.nll_loss(np.log(p), t, w, 1, reduction),
            TF.nll_loss(T(np.log(p)), T(t), T(w), ignore_index=1, reduction=reduction),
        ),
        (
            nn.smooth_l1_loss(x, p, reduction, 0.3),
            TF.smooth_l1_loss(T(x), T(p), reduction=reduction, beta=0.3),
        ),
        (
            nn.huber_loss(x, p, reduction, 0.3),
            TF.huber_loss(T(x), T(p), reduction=reduction, delta=0.3),
        ),
        (
            nn.binary_cross_entropy_with_logits(x, p, w, reduction, w * 2),
            TF.binary_cross_entropy_with_logits(
                T(x), T(p), T(w), reduction=reduction, pos_weight=T(w * 2)
            ),
        ),
        (
            nn.binary_cross_entropy(p, p[::-1], None, reduction),
            TF.binary_cross_entropy(T(p), T(p[::-1].copy()), reduction=reduction),
        ),
        (
            nn.kl_div(np.log(p), p[::-1], reduction),
            TF.kl_div(T(np.log(p)), T(p[::-1].copy()), reduction=reduction),
        ),
        (nn.mse_loss(x, p, reduction), TF.mse_loss(T(x), T(p), reduction=reduction)),
        (nn.l1_loss(x, p, reduction), TF.l1_loss(T(x), T(p), reduction=reduction)),
    ]
    for i, (ours, theirs) in enumerate(pairs):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, err_msg=str(i))


@pytest.mark.slow
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_gradient_sweep(rng, reduction, smoothing):
    x, t = rng.standard_normal((3, 4, 2)), np.array([[0, 3], [2, -100], [1, 1]])
    w = rng.uniform(0.5, 2.0, 4)

    def f(x, w):
        out = nn.cross_entropy(x, t, w, -100, reduction, smoothing)
        return np.sum(out * out)

    check_grad(f, x, w, wrt=(0, 1))
