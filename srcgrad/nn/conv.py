"""Conv1d, Conv2d and the pooling layers, with PyTorch's constructor arguments, defaults,
initialisation and weight layout (C_out, C_in / groups, *kernel_size); channels-first
input.  The forward passes are :mod:`srcgrad.nn.functional`; the backward passes are
generated."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from srcgrad.nn import functional as F
from srcgrad.nn import init
from srcgrad.nn._checks import as_dtype, check_divisible, check_input, tuple_of
from srcgrad.nn.module import Module

__all__ = [
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
]


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, checks and PyTorch's initialisation."""

    _n = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        name, n = type(self).__name__, self._n
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be ints, not {padding!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = tuple_of(kernel_size, n, "kernel_size")
        self.stride = tuple_of(stride, n, "stride")
        self.padding = tuple_of(padding, n, "padding")
        self.dilation = tuple_of(dilation, n, "dilation")
        self.groups = int(groups)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        dtype = as_dtype(dtype)
        self.weight = init.kaiming_uniform(shape, math.sqrt(5.0), rng=rng, dtype=dtype)
        fan_in = shape[1] * int(np.prod(self.kernel_size))
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        self.bias = (
            init.uniform(self.out_channels, -bound, bound, rng=rng, dtype=dtype)
            if bias
            else None
        )


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) input."""

    _n = 2

    def __call__(self, x):
        x = check_input("Conv2d", x, (4,), 1, self.in_channels)
        return F.conv2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) of (N, C_in, L) input."""

    _n = 1

    def __call__(self, x):
        x = check_input("Conv1d", x, (3,), 1, self.in_channels)
        return F.conv1d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )


class ConvTranspose2d(Module):
    """Transposed 2-D convolution of (N, C_in, H, W) input, with PyTorch's arguments,
    initialisation and weight layout (C_in, C_out / groups, kH, kW)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"ConvTranspose2d: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError("ConvTranspose2d: only padding_mode='zeros' is supported")
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = tuple_of(kernel_size, 2, "kernel_size")
        self.stride = tuple_of(stride, 2, "stride")
        self.padding = tuple_of(padding, 2, "padding")
        self.output_padding = tuple_of(output_padding, 2, "output_padding")
        self.dilation = tuple_of(dilation, 2, "dilation")
        self.groups = int(groups)
        if any(
            op >= max(s, d)
            for op, s, d in zip(self.output_padding, self.stride, self.dilation)
        ):
            raise ValueError(
                f"ConvTranspose2d: output_padding {self.output_padding} must be smaller "
                f"than the stride {self.stride} or the dilation {self.dilation}"
            )
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        dtype = as_dtype(dtype)
        self.weight = init.kaiming_uniform(shape, math.sqrt(5.0), rng=rng, dtype=dtype)
        fan_in = shape[1] * int(np.prod(self.kernel_size))
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        self.bias = (
            init.uniform(self.out_channels, -bound, bound, rng=rng, dtype=dtype)
            if bias
            else None
        )

    def __call__(self, x):
        x = check_input("ConvTranspose2d", x, (4,), 1, self.in_channels)
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class _PoolNd(Module):
    _n = 2

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, **kw: Any
    ) -> None:
        n = self._n
        self.kernel_size = tuple_of(kernel_size, n, "kernel_size")
        self.stride = (
            self.kernel_size if stride is None else tuple_of(stride, n, "stride")
        )
        self.padding = tuple_of(padding, n, "padding")
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(
                f"{type(self).__name__}: padding {self.padding} must be at most half "
                f"the kernel size {self.kernel_size}"
            )
        if kw.get("ceil_mode"):
            raise ValueError(f"{type(self).__name__}: ceil_mode=True is not supported")


class MaxPool2d(_PoolNd):
    """The maximum over each kernel_size window of (N, C, H, W) input."""

    _n = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.dilation = tuple_of(dilation, 2, "dilation")

    def __call__(self, x):
        x = check_input("MaxPool2d", x, (4,), 1, -1)
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation
        )


class MaxPool1d(_PoolNd):
    """The maximum over each kernel_size window of (N, C, L) input."""

    _n = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.dilation = tuple_of(dilation, 1, "dilation")

    def __call__(self, x):
        x = check_input("MaxPool1d", x, (3,), 1, -1)
        return F.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation
        )


class AvgPool2d(_PoolNd):
    """The mean over each kernel_size window of (N, C, H, W) input."""

    _n = 2

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def __call__(self, x):
        x = check_input("AvgPool2d", x, (4,), 1, -1)
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.count_include_pad
        )


class AvgPool1d(_PoolNd):
    """The mean over each kernel_size window of (N, C, L) input."""

    _n = 1

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def __call__(self, x):
        x = check_input("AvgPool1d", x, (3,), 1, -1)
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.count_include_pad
        )


class AdaptiveAvgPool2d(Module):
    """Mean pooling of (N, C, H, W) input to ``output_size``; H and W must be multiples of
    the output size (the case where every block has the same size)."""

    def __init__(self, output_size: Any) -> None:
        self.output_size = tuple_of(output_size, 2, "output_size")

    def __call__(self, x):
        x = check_input("AdaptiveAvgPool2d", x, (4,), 1, -1)
        x = check_divisible(x, self.output_size[0], self.output_size[1])
        return F.adaptive_avg_pool2d(x, self.output_size)
