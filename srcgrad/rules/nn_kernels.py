"""Adjoint rules for the nn kernels (DESIGN §8): the primitives in
:mod:`srcgrad.runtime.nn_kernels` that :mod:`srcgrad.nn.functional` builds convolutions,
pooling, embeddings and the cross-entropy loss from.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The sizes (``kernel_size``,
``stride``, ``padding``, ``dilation``) are pairs and never differentiated; integer indices
and classes carry no gradient.

- ``nn.sigmoid``: ``g * s * (1 - s)``, from the forward value alone.
- ``nn.im2col``: the cotangent of the column matrix is added back window by window
  (``col2im``, in the memory layout the forward chose); a convolution's matrix product
  keeps the columns for the weight's gradient.  The layout choice
  (``conv_layout``) is declared non-differentiable.
- ``nn.col2im_sum``: the adjoint of ``nn.im2col`` (a transposed convolution's last step);
  its cotangent is ``im2col`` of ``g``.
- ``nn.max_pool2d``: each window's cotangent goes to its first maximum, as PyTorch sends it.
- ``nn.avg_pool2d``: each window's cotangent is spread over the window.
- ``nn.embedding``: the rows' cotangents are summed through one flattened-index
  ``bincount``.
- ``nn.cross_entropy``: the closed form ``(softmax - onehot) * w * g`` over the total weight;
  the class weights, when passed, are an operand too.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of, nondifferentiable
from srcgrad.runtime import (
    avg_pool2d_cotangent,
    col2im,
    cross_entropy_cotangent,
    cross_entropy_weight_cotangent,
    embedding_cotangent,
    max_pool2d_cotangent,
    unfold,
)
from srcgrad.runtime import nn_kernels

nondifferentiable(
    nn_kernels.conv_layout, reason="a memory-layout choice (a bool), never a value"
)


def _rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Row indices of a five-row table, repeated and negative ones included."""
    return rng.integers(-5, 5, size=shape)


def _classes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Classes of a four-class problem, with a few entries at ignore_index (-100)."""
    t = rng.integers(0, 4, size=shape)
    return np.where(rng.random(shape) < 0.2, -100, t)


@adjoint(
    nn_kernels.sigmoid,
    name="nn.sigmoid",
    kind="unary",
    array_operands=True,
    shapes={"matrix": "(3,4)", "image": "(2,3,2,2)"},
)
def sigmoid_adjoint(g, ans, x):
    return g * ans * (1 - ans)  # s' = s (1 - s): the forward value alone


_CONV = {
    "image": ("(2,3,5,6),-", {"kernel_size": (2, 3)}),
    "square": ("(2,2,6,6),-", {"kernel_size": (3, 3)}),
}

_CONV_GRID = [
    {
        "stride": [(1, 1), (2, 1)],
        "padding": [(0, 0), (1, 2)],
        "dilation": [(1, 1)],
        "batch_first": [True, False],
    },
    {
        "stride": [(1, 2)],
        "padding": [(1, 0)],
        "dilation": [(2, 1), (1, 2)],
        "batch_first": [True, False],
    },
]


@adjoint(
    nn_kernels.im2col,
    name="nn.im2col",
    nondiff=("kernel_size",),
    shape_only=("x",),
    shapes=_CONV,
    params=_CONV_GRID,
    jvp="linear",
)
def im2col_adjoint(
    g,
    ans,
    x,
    kernel_size,
    stride=(1, 1),
    padding=(0, 0),
    dilation=(1, 1),
    batch_first=True,
):
    return col2im(g, x, kernel_size, stride, padding, dilation, batch_first)


@adjoint(
    nn_kernels.col2im_sum,
    name="nn.col2im_sum",
    nondiff=("output_size", "kernel_size"),
    shapes={
        "plain": (
            "(18,32),-,-",
            {"output_size": (2, 3, 5, 6), "kernel_size": (2, 3)},
        ),
        "strided": (
            "(18,24),-,-",
            {
                "output_size": (2, 3, 5, 6),
                "kernel_size": (2, 3),
                "stride": (2, 1),
                "padding": (1, 0),
            },
        ),
        "dilated": (
            "(8,9),-,-",
            {
                "output_size": (1, 2, 5, 6),
                "kernel_size": (2, 2),
                "stride": (1, 2),
                "dilation": (2, 1),
            },
        ),
    },
    params={"batch_first": [True, False]},
    jvp="linear",
)
def col2im_sum_adjoint(
    g,
    ans,
    cols,
    output_size,
    kernel_size,
    stride=(1, 1),
    padding=(0, 0),
    dilation=(1, 1),
    batch_first=True,
):
    return unfold(g, kernel_size, stride, padding, dilation, batch_first)


@adjoint(
    nn_kernels.max_pool2d,
    name="nn.max_pool2d",
    nondiff=("kernel_size", "stride"),
    shapes={
        "window": ("(2,3,6,7),-,-", {"kernel_size": (2, 3)}),
        "square": ("(2,2,5,5),-,-", {"kernel_size": (3, 3)}),
    },
    params=[
        {"stride": [(2, 3), (1, 1)], "padding": [(0, 0), (1, 1)]},
        {"stride": [(1, 2)], "dilation": [(2, 1)]},
    ],
)
def max_pool2d_adjoint(g, ans, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1)):
    return max_pool2d_cotangent(g, ans, x, kernel_size, stride, padding, dilation)


@jvp_of(max_pool2d_adjoint)
def max_pool2d_jvp(ans, dots, b):
    # each window's tangent is that of its first maximum, the entry the adjoint picks
    x, t = b["x"], dots[0]
    stride, padding = b["stride"], b.get("padding", (0, 0))
    dilation = b.get("dilation", (1, 1))
    geometry = nn_kernels._geometry(
        x.shape, b["kernel_size"], stride, padding, dilation
    )
    kh, kw, ho, wo = geometry[4:]
    xpad = nn_kernels._padded(x, padding, -float("inf"))
    tpad = nn_kernels._padded(np.asarray(t, dtype=x.dtype), padding, 0.0)
    out = np.zeros(np.shape(ans), dtype=x.dtype)
    open_ = np.ones(np.shape(ans), dtype=bool)  # windows whose maximum is not found yet
    for i in range(kh):
        for j in range(kw):
            key = nn_kernels._window(i, j, ho, wo, stride, dilation)
            hit = (xpad[key] == ans) & open_
            out = np.where(hit, tpad[key], out)
            open_ = open_ & ~hit
    return out


@adjoint(
    nn_kernels.avg_pool2d,
    name="nn.avg_pool2d",
    nondiff=("kernel_size", "stride"),
    shape_only=("x",),
    shapes={
        "window": ("(2,3,6,7),-,-", {"kernel_size": (2, 3)}),
        "square": ("(2,2,5,5),-,-", {"kernel_size": (3, 3)}),
        "tiles": ("(2,3,4,6),-,-", {"kernel_size": (2, 3)}),
    },
    params=[
        {"stride": [(2, 3), (1, 1)], "padding": [(0, 0), (1, 1)]},
        {"stride": [(2, 1)], "padding": [(1, 1)], "count_include_pad": [False]},
    ],
    jvp="linear",
)
def avg_pool2d_adjoint(
    g, ans, x, kernel_size, stride, padding=(0, 0), count_include_pad=True
):
    return avg_pool2d_cotangent(g, x, kernel_size, stride, padding, count_include_pad)


@adjoint(
    nn_kernels.embedding,
    name="nn.embedding",
    nondiff=("indices",),
    shape_only=("weight",),
    shapes={"table": "(3,4),(5,2)", "flat": "(7,),(5,3)"},
    domain={"indices": _rows},
    jvp="linear",
)
def embedding_adjoint(g, ans, indices, weight):
    return embedding_cotangent(g, indices, weight)


@adjoint(
    nn_kernels.cross_entropy,
    name="nn.cross_entropy",
    nondiff=("target",),
    optional_operands=("weight",),
    shapes={"batch": "(6,4),(6,),(4,)", "spatial": "(3,4,2),(3,2),(4,)"},
    params={"reduction": ["mean", "sum", "none"]},
    domain={"target": _classes, "weight": (0.5, 2.0)},
)
def cross_entropy_adjoint(
    g, ans, input, target, weight=None, ignore_index=-100, reduction="mean"
):
    return cross_entropy_cotangent(
        g, input, target, weight, ignore_index, reduction
    ), cross_entropy_weight_cotangent(
        g, ans, input, target, weight, ignore_index, reduction
    )


@jvp_of(cross_entropy_adjoint)
def cross_entropy_jvp(ans, dots, b):
    # loss = -w[t] * log_softmax(input)[t], reduced; the weights' tangent is picked the
    # same way; "mean" divides by the total weight
    input, target = b["input"], b["target"]
    t_input, t_weight = dots
    ignore, reduction = b.get("ignore_index", -100), b.get("reduction", "mean")
    w = nn_kernels._class_weights(target, b.get("weight"), ignore, input.dtype)
    logp = nn_kernels._log_softmax(input)
    safe = np.expand_dims(np.where(target != ignore, target, 0), 1)
    picked = np.take_along_axis(logp, safe, axis=1)[:, 0]
    t_loss = np.zeros(np.shape(w), dtype=input.dtype)
    if t_input is not None:
        t_logp = t_input - np.sum(np.exp(logp) * t_input, axis=1, keepdims=True)
        t_loss = t_loss - w * np.take_along_axis(t_logp, safe, axis=1)[:, 0]
    t_w = None
    if t_weight is not None:
        t_w = nn_kernels._class_weights(target, t_weight, ignore, input.dtype)
        t_loss = t_loss - t_w * picked
    if reduction == "none":
        return t_loss
    total = np.sum(t_loss)
    if reduction == "sum":
        return total
    out = total / np.sum(w)
    if t_w is not None:  # d(L / W) = dL / W - (L / W) dW / W
        out = out - ans * np.sum(t_w) / np.sum(w)
    return out
