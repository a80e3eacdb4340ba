"""Loss functions with PyTorch's names, arguments and reductions (``"mean"``, ``"sum"``,
``"none"``), written as plain numpy forward code (log-sum-exp and ``log1p`` forms where
they keep the value finite); their gradients are generated."""

from __future__ import annotations

import numpy as np
import scipy.special

from srcgrad.runtime import nn_kernels as kernels

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
]


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.mean(loss)
    if reduction == "sum":
        return np.sum(loss)
    return loss


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced."""
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target|, reduced."""
    return _reduce(np.abs(input - target), reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    d = np.abs(input - target)
    loss = np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    d = np.abs(input - target)
    loss = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-input[n, target[n]] weighted by ``weight[target[n]]``, for log-probabilities
    ``input`` (N, C, *d) and integer ``target`` (N, *d); targets equal to
    ``ignore_index`` count for nothing, and "mean" divides by the total weight."""
    keep = target != ignore_index
    safe = np.where(keep, target, 0)
    picked = np.take_along_axis(input, np.expand_dims(safe, 1), axis=1)
    picked = np.squeeze(picked, axis=1)
    if weight is None:
        w = keep.astype(input.dtype)
    else:
        w = np.take(weight, safe) * keep
    loss = -(w * picked)
    if reduction == "mean":
        return np.sum(loss) / np.sum(w)
    return _reduce(loss, reduction)


def cross_entropy(
    input,
    target,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
):
    """Softmax cross-entropy of logits ``input`` (N, C, *d) against integer classes
    (N, *d) or class probabilities (N, C, *d), with class ``weight``, ``ignore_index``
    (integer targets) and ``label_smoothing``, as ``torch.nn.functional.cross_entropy``.
    """
    if target.ndim != input.ndim and label_smoothing == 0.0:
        # the kernel: its gradient is the closed form (softmax - onehot) * w / total
        return kernels.cross_entropy(input, target, weight, ignore_index, reduction)
    logp = scipy.special.log_softmax(input, axis=1)
    if target.ndim == input.ndim:
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    smooth = _smoothing_term(logp, target, weight, ignore_index, reduction)
    return (1.0 - label_smoothing) * nll + smooth * (label_smoothing / input.shape[1])


def _class_shape(ndim):
    return (-1,) + (1,) * (ndim - 2)


def _smoothing_term(logp, target, weight, ignore_index, reduction):
    """-sum_c w_c logp_c per sample (zero where ignored), reduced as PyTorch does."""
    keep = target != ignore_index
    if weight is None:
        per = -np.sum(logp, axis=1) * keep
        total = np.sum(keep)
    else:
        per = -np.sum(logp * np.reshape(weight, _class_shape(logp.ndim)), axis=1) * keep
        total = np.sum(np.take(weight, np.where(keep, target, 0)) * keep)
    if reduction == "mean":
        return np.sum(per) / total
    return _reduce(per, reduction)


def _soft_cross_entropy(logp, target, weight, reduction, label_smoothing):
    n_classes = logp.shape[1]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * np.reshape(weight, _class_shape(logp.ndim))
    per = -np.sum(prod, axis=1)
    if reduction == "mean":
        return np.sum(per) / (logp.size // n_classes)
    return _reduce(per, reduction)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)) for probabilities ``input``; each log is clamped
    at -100 as PyTorch does."""
    log_p = np.maximum(np.log(input), -100.0)
    log_q = np.maximum(np.log1p(-input), -100.0)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input, target, weight=None, reduction="mean", pos_weight=None
):
    """Binary cross-entropy of sigmoid(input), computed from the logits without
    overflow: (1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)."""
    softplus_neg = np.logaddexp(0.0, -input)
    if pos_weight is None:
        loss = (1.0 - target) * input + softplus_neg
    else:
        loss = (1.0 - target) * input + (
            1.0 + (pos_weight - 1.0) * target
        ) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, reduction="mean", log_target=False):
    """target (log target - input) for log-probabilities ``input`` (0 where target is 0);
    ``"batchmean"`` divides the sum by the batch size."""
    if log_target:
        loss = np.exp(target) * (target - input)
    else:
        loss = scipy.special.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return np.sum(loss) / input.shape[0]
    return _reduce(loss, reduction)
