"""Functional forms of the layers and activations: plain numpy forward code.

Every function here is differentiated by the generator when a model or a loss calls it:
none has a hand-written backward pass.  Arguments that choose the computation (strides,
padding, ``approximate``, ``dim``) are ints, tuples and strings, so the generated code is
specialised on them; float settings (``negative_slope``, ``eps``, ``p``) are read when the
code runs.  Convolutions and pooling take channels-first input (``N, C, *spatial``) and
tuples of per-axis sizes; :func:`srcgrad.nn.Conv2d` and the other layers normalise ints to
tuples when they are built.  The names and defaults are PyTorch's.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from srcgrad.runtime import nn_kernels as kernels
from srcgrad.runtime.calls import stop_gradient

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
    "softmax",
    "log_softmax",
    "dropout",
    "linear",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "bilinear",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "layer_norm",
    "group_norm",
    "embedding",
]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)


# -- activations -----------------------------------------------------------------------
def relu(x):
    """max(x, 0)."""
    return np.maximum(x, 0.0)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return np.where(x > 0, x, negative_slope * x)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def gelu(x, approximate="none"):
    """x * Phi(x) (``approximate="none"``, through erf) or its tanh approximation."""
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * (1.0 + scipy.special.erf(x * _SQRT_HALF))


def silu(x):
    """x * sigmoid(x)."""
    return x * kernels.sigmoid(x)


def sigmoid(x):
    """1 / (1 + exp(-x)), without an overflow warning (:func:`kernels.sigmoid`)."""
    return kernels.sigmoid(x)


def tanh(x):
    """The hyperbolic tangent."""
    return np.tanh(x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0.0, bx) / beta)


def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along ``dim`` (shifted by the maximum: no overflow)."""
    return scipy.special.softmax(x, axis=dim)


def log_softmax(x, dim=-1):
    """x - logsumexp(x) along ``dim``."""
    return scipy.special.log_softmax(x, axis=dim)


def dropout(x, p, training, rng):
    """Zero each element with probability ``p`` (drawn from ``rng``, a
    ``np.random.Generator``) and scale the rest by 1 / (1 - p); the identity when not
    ``training``."""
    if not training:
        return x
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1.0 - p), 0.0)


# -- affine ----------------------------------------------------------------------------
def linear(x, weight, bias=None):
    """x @ weight.T + bias, with ``weight`` laid out (out_features, in_features)."""
    out = x @ weight.T
    if bias is None:
        return out
    return out + bias


# -- convolution -----------------------------------------------------------------------
def conv2d(
    x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1
):
    """2-D cross-correlation of ``x`` (N, C_in, H, W) with ``weight``
    (C_out, C_in / groups, kH, kW), as ``torch.nn.functional.conv2d``; the sizes are pairs.

    The windows are laid out as one column matrix (:func:`kernels.im2col`), so the
    convolution is one matrix product (one per group).  Its columns, and so the output,
    come in one of two memory layouts, which :func:`kernels.conv_layout` chooses.  Batch
    first, the output is a (N, C_out, H_out, W_out) view of a (C_out, N, H_out, W_out)
    array: each image's outputs are contiguous, as in the caller's batch-first arrays.
    Batch innermost (short output rows, or an input laid out so), it is a view of a
    (C_out, H_out, W_out, N) array, which the next convolution reads without a copy."""
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    h_out = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    w_out = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    first, sizes, axes = kernels.conv_layout(x.shape, x.strides, h_out, w_out)
    cols = kernels.im2col(x, (kh, kw), stride, padding, dilation, first)
    if groups == 1:
        out = weight.reshape(c_out, -1) @ cols
    else:
        w_groups = weight.reshape(groups, c_out // groups, -1)
        out = w_groups @ cols.reshape(groups, -1, n * h_out * w_out)
    if bias is not None:  # added to the product's rows: its gradient sums rows
        out = out + bias.reshape(out.shape[:-1] + (1,))
    return out.reshape((c_out,) + sizes).transpose(axes)


def conv1d(x, weight, bias=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    """1-D cross-correlation of ``x`` (N, C_in, L) with ``weight`` (C_out, C_in / groups,
    k), as ``torch.nn.functional.conv1d``; the sizes are 1-tuples (a 2-D convolution of
    unit height)."""
    out = conv2d(
        x[:, :, None, :],
        weight[:, :, None, :],
        bias,
        (1, stride[0]),
        (0, padding[0]),
        (1, dilation[0]),
        groups,
    )
    return out[:, :, 0, :]


def conv_transpose2d(
    x,
    weight,
    bias=None,
    stride=(1, 1),
    padding=(0, 0),
    output_padding=(0, 0),
    groups=1,
    dilation=(1, 1),
):
    """The transposed 2-D convolution of ``x`` (N, C_in, H, W) with ``weight``
    (C_in, C_out / groups, kH, kW), as ``torch.nn.functional.conv_transpose2d``: each input
    entry's product with the kernel is added into the output window it would be read
    from by :func:`conv2d` (one matrix product, then :func:`kernels.col2im_sum`, batch
    innermost)."""
    n, c_in, h, w = x.shape
    _, c_group, kh, kw = weight.shape
    c_out = c_group * groups
    h_out = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1)
    w_out = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1)
    size = (n, c_out, h_out + output_padding[0] + 1, w_out + output_padding[1] + 1)
    rows = x.transpose(1, 2, 3, 0).reshape(c_in, h * w * n)
    if groups == 1:
        cols = weight.reshape(c_in, -1).T @ rows
    else:
        w_groups = weight.reshape(groups, c_in // groups, -1).transpose(0, 2, 1)
        cols = w_groups @ rows.reshape(groups, c_in // groups, h * w * n)
        cols = cols.reshape(c_out * kh * kw, h * w * n)
    out = kernels.col2im_sum(cols, size, (kh, kw), stride, padding, dilation, False)
    if bias is None:
        return out
    return out + bias.reshape(c_out, 1, 1)


def bilinear(x1, x2, weight, bias=None):
    """x1^T A_o x2 + b_o for each output o, with ``weight`` (out, in1, in2), as
    ``torch.nn.functional.bilinear``; leading axes of ``x1`` and ``x2`` are batch axes.
    """
    out = np.einsum("...i,oij,...j->...o", x1, weight, x2, optimize=True)
    if bias is None:
        return out
    return out + bias


# -- pooling ---------------------------------------------------------------------------
def max_pool2d(x, kernel_size, stride=None, padding=(0, 0), dilation=(1, 1)):
    """The maximum of each window of ``x`` (N, C, H, W); padding counts as -inf, and the
    gradient of a window goes to its first maximum.  ``stride`` defaults to the window.
    """
    if stride is None:
        stride = kernel_size
    return kernels.max_pool2d(x, kernel_size, stride, padding, dilation)


def max_pool1d(x, kernel_size, stride=None, padding=(0,), dilation=(1,)):
    """The maximum of each window of ``x`` (N, C, L); padding counts as -inf."""
    if stride is None:
        stride = kernel_size
    out = kernels.max_pool2d(
        x[:, :, None, :],
        (1, kernel_size[0]),
        (1, stride[0]),
        (0, padding[0]),
        (1, dilation[0]),
    )
    return out[:, :, 0, :]


def avg_pool2d(x, kernel_size, stride=None, padding=(0, 0), count_include_pad=True):
    """The mean of each window of ``x`` (N, C, H, W); zero padding, counted in the mean
    unless ``count_include_pad`` is False.  ``stride`` defaults to the window."""
    if stride is None:
        stride = kernel_size
    return kernels.avg_pool2d(x, kernel_size, stride, padding, count_include_pad)


def avg_pool1d(x, kernel_size, stride=None, padding=(0,), count_include_pad=True):
    """The mean of each window of ``x`` (N, C, L)."""
    if stride is None:
        stride = kernel_size
    out = kernels.avg_pool2d(
        x[:, :, None, :],
        (1, kernel_size[0]),
        (1, stride[0]),
        (0, padding[0]),
        count_include_pad,
    )
    return out[:, :, 0, :]


def adaptive_avg_pool2d(x, output_size):
    """Mean over an (H / oh) x (W / ow) grid of blocks of ``x`` (N, C, H, W); H and W must
    be multiples of ``output_size`` (oh, ow)."""
    n, c, h, w = x.shape
    oh, ow = output_size
    blocks = x.reshape(stop_gradient((n, c, oh, h // oh, ow, w // ow)))
    return np.mean(blocks, axis=(3, 5))


# -- normalisation ---------------------------------------------------------------------
def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` axes, then scale and shift."""
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mu = np.mean(x, axis=axes, keepdims=True)
    var = np.var(x, axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise ``x`` (N, C, *spatial) over each group of C / num_groups channels and
    the spatial axes, then scale and shift per channel."""
    n = x.shape[0]
    g = x.reshape(n, num_groups, -1)
    mu = np.mean(g, axis=2, keepdims=True)
    var = np.var(g, axis=2, keepdims=True)
    out = ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)
    per_channel = (x.shape[1],) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(per_channel)
    if bias is not None:
        out = out + bias.reshape(per_channel)
    return out


# -- lookup ----------------------------------------------------------------------------
def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``indices``; the row
    ``padding_idx`` gets no gradient."""
    if padding_idx is None:
        return kernels.embedding(indices, weight)
    rows = np.arange(weight.shape[0]) == padding_idx
    frozen = np.where(rows[:, None], stop_gradient(weight), weight)
    return kernels.embedding(indices, frozen)
