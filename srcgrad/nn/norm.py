"""BatchNorm1d, BatchNorm2d, LayerNorm and GroupNorm with PyTorch's arguments, defaults and
parameter names (``weight``, ``bias``, buffers ``running_mean`` / ``running_var``).

Batch normalisation in training mode normalises with the batch statistics (the biased
variance) and updates the running statistics in the forward pass with the unbiased one, as
PyTorch does; in evaluation mode it uses the running statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad.nn import functional as F
from srcgrad.nn import init
from srcgrad.nn._checks import as_dtype, check_input
from srcgrad.nn.module import Module, buffer

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm"]


class _BatchNorm(Module):
    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        dtype = as_dtype(dtype)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.weight = init.ones(num_features, dtype=dtype) if affine else None
        self.bias = init.zeros(num_features, dtype=dtype) if affine else None
        if track_running_stats:
            self.running_mean = buffer(init.zeros(num_features, dtype=dtype))
            self.running_var = buffer(init.ones(num_features, dtype=dtype))
        else:
            self.running_mean = None
            self.running_var = None


def _batch_norm(bn, x, axes, shape):
    """Shared forward pass; ``axes`` are the reduced axes, ``shape`` broadcasts a
    per-channel vector against ``x``."""
    if bn.training or not bn.track_running_stats:
        mu = np.mean(x, axis=axes)
        var = np.var(x, axis=axes)
        if bn.training and bn.track_running_stats:
            count = x.size // x.shape[1]
            unbiased = var * (count / max(count - 1, 1))
            m = bn.momentum
            bn.running_mean = (1.0 - m) * bn.running_mean + m * mu
            bn.running_var = (1.0 - m) * bn.running_var + m * unbiased
    else:
        mu = bn.running_mean
        var = bn.running_var
    out = (x - np.reshape(mu, shape)) / np.sqrt(np.reshape(var, shape) + bn.eps)
    if bn.affine:
        out = out * np.reshape(bn.weight, shape) + np.reshape(bn.bias, shape)
    return out


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input over N (and L)."""

    def __call__(self, x):
        x = check_input("BatchNorm1d", x, (2, 3), 1, self.num_features)
        if x.ndim == 2:
            return _batch_norm(self, x, (0,), (self.num_features,))
        return _batch_norm(self, x, (0, 2), (self.num_features, 1))


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over N, H and W."""

    def __call__(self, x):
        x = check_input("BatchNorm2d", x, (4,), 1, self.num_features)
        return _batch_norm(self, x, (0, 2, 3), (self.num_features, 1, 1))


class LayerNorm(Module):
    """Normalisation over the trailing ``normalized_shape`` axes, with elementwise
    ``weight`` (ones) and ``bias`` (zeros) of that shape."""

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps = float(eps)
        dtype = as_dtype(dtype)
        affine = bool(elementwise_affine)
        self.weight = init.ones(self.normalized_shape, dtype=dtype) if affine else None
        has_bias = affine and bias
        self.bias = init.zeros(self.normalized_shape, dtype=dtype) if has_bias else None

    def __call__(self, x):
        x = check_input("LayerNorm", x, None, -1, self.normalized_shape[-1])
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class GroupNorm(Module):
    """Normalisation of (N, C, *spatial) input over groups of C / num_groups channels,
    with per-channel ``weight`` (ones) and ``bias`` (zeros)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                f"num_groups ({num_groups})"
            )
        dtype = as_dtype(dtype)
        self.num_groups = int(num_groups)
        self.num_channels = int(num_channels)
        self.eps = float(eps)
        self.weight = init.ones(num_channels, dtype=dtype) if affine else None
        self.bias = init.zeros(num_channels, dtype=dtype) if affine else None

    def __call__(self, x):
        x = check_input("GroupNorm", x, (2, 3, 4, 5), 1, self.num_channels)
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
