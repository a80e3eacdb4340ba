"""Rules of the cotangent helpers of the nn kernels that emitted code calls (``col2im``,
``unfold``, ``avg_pool2d_cotangent``, ``embedding_cotangent``): higher-order derivatives
through convolutions, average pooling and embeddings.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Each helper is linear in the
cotangent it maps (its first parameter ``g``, here ``ct``): its rule is the forward
kernel's own linear map (``col2im`` and ``unfold`` are each other's adjoints, average
pooling's cotangent has average pooling for its adjoint, an embedding's has a gather).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.nn_kernels import _classes
from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    avg_pool2d,
    avg_pool2d_cotangent,
    class_onehot,
    class_weights,
    class_weights_cotangent,
    col2im,
    cross_entropy_cotangent,
    cross_entropy_weight_cotangent,
    embedding_cotangent,
    unbroadcast,
    unfold,
)

_WINDOWS = ("kernel_size", "stride", "padding", "dilation", "batch_first")
_PLAIN = {
    "kernel_size": (2, 3),
    "stride": (1, 1),
    "padding": (0, 0),
    "dilation": (1, 1),
    "batch_first": True,
}


@adjoint(
    col2im,
    nondiff=("x", *_WINDOWS),
    shape_only=("x",),
    shapes={
        "plain": ("(18,32),(2,3,5,6),-,-,-,-,-", _PLAIN),
        "strided": (
            "(18,24),(2,3,5,6),-,-,-,-,-",
            {**_PLAIN, "stride": (2, 1), "padding": (1, 0), "batch_first": False},
        ),
        "dilated": (
            "(8,9),(1,2,5,6),-,-,-,-,-",
            {**_PLAIN, "kernel_size": (2, 2), "stride": (1, 2), "dilation": (2, 1)},
        ),
    },
)
def col2im_adjoint(g, ans, ct, x, kernel_size, stride, padding, dilation, batch_first):
    return unfold(g, kernel_size, stride, padding, dilation, batch_first)


@adjoint(
    unfold,
    nondiff=_WINDOWS,
    shapes={"plain": "(2,3,5,6),-,-,-,-,-"},
    params=[
        {
            "kernel_size": [(2, 3)],
            "stride": [(1, 1), (2, 1)],
            "padding": [(0, 0), (1, 0)],
            "dilation": [(1, 1)],
            "batch_first": [True, False],
        },
        {
            "kernel_size": [(2, 2)],
            "stride": [(1, 2)],
            "padding": [(0, 0)],
            "dilation": [(2, 1)],
            "batch_first": [False],
        },
    ],
)
def unfold_adjoint(g, ans, ct, kernel_size, stride, padding, dilation, batch_first):
    return col2im(g, ct, kernel_size, stride, padding, dilation, batch_first)


@adjoint(
    avg_pool2d_cotangent,
    nondiff=("x", "kernel_size", "stride", "padding", "count_include_pad"),
    shape_only=("x",),
    shapes={
        "window": (
            "(2,3,3,2),(2,3,6,7),-,-,-,-",
            {"kernel_size": (2, 3), "stride": (2, 3), "padding": (0, 0)},
        ),
        "padded": (
            "(2,3,4,3),(2,3,6,7),-,-,-,-",
            {"kernel_size": (2, 3), "stride": (2, 3), "padding": (1, 1)},
        ),
    },
    params={"count_include_pad": [True, False]},
)
def avg_pool2d_cotangent_adjoint(
    g, ans, ct, x, kernel_size, stride, padding, count_include_pad
):
    return unbroadcast(
        avg_pool2d(g, kernel_size, stride, padding, count_include_pad), ct
    )


def _rows(rng, shape):
    """Row numbers of a table of 5 rows, from the end too (-5 to 4)."""
    return rng.integers(-5, 5, size=shape)


@adjoint(
    embedding_cotangent,
    nondiff=("indices", "weight"),
    shape_only=("weight",),
    shapes={
        "table": "(3,4,2),(3,4),(5,2)",
        "flat": "(6,3),(6,),(5,3)",
    },
    domain={"indices": _rows},
)
def embedding_cotangent_adjoint(g, ans, ct, indices, weight):
    return unbroadcast(np.take(g, indices, axis=0), ct)


# --------------------------------------------------------------------------- cross-entropy
# cross_entropy_cotangent(ct, x, t, weight) = (p - y) * u along the classes (axis 1),
# p = softmax(x), y the one-hot targets, u = w * ct / W with w the samples' weights and W
# their total for "mean" (1 otherwise).  Given g (x's shape), with r = sum_c g (p - y):
# ct gets r w / W, x gets the softmax's cotangent of g u, and each sample's weight gets
# (r ct - [mean] sum(r u)) / W, summed into its class.  cross_entropy_weight_cotangent
# (ct, loss, x, t, weight) sums s = (per - [mean] loss) ct / W into the classes, per =
# -log p[t]: with s' = g[t], ct gets s' (per - [mean] loss) / W, the loss -[mean] s' ct /
# W, x gets (p - y) s' ct / W, and each weight -[mean] sum(s' s) / W (through W).

_CROSS_ENTROPY = {
    "mean": ("(),(6,4),(6,),(4,),-,-", {"reduction": "mean"}),
    "sum": ("(),(6,4),(6,),(4,),-,-", {"reduction": "sum"}),
    "none": ("(6,),(6,4),(6,),(4,),-,-", {"reduction": "none"}),
    "spatial": ("(3,2),(3,4,2),(3,2),(4,),-,-", {"reduction": "none"}),
    "spatial-mean": ("(),(3,4,2),(3,2),(4,),-,-", {"reduction": "mean"}),
}
_CE_DOMAIN = {"target": _classes, "weight": (0.5, 2.0)}


@adjoint(
    cross_entropy_cotangent,
    python_floats=(),
    nondiff=("target", "ignore_index", "reduction"),
    shapes=_CROSS_ENTROPY,
    params={"ignore_index": [-100]},
    domain=_CE_DOMAIN,
)
def cross_entropy_cotangent_adjoint(
    g, ans, ct, input, target, weight, ignore_index, reduction
):
    onehot = class_onehot(target, ignore_index, input)
    w = class_weights(target, weight, ignore_index, input)
    mean = float(reduction == "mean")
    total = mean * np.sum(w) + (1.0 - mean)
    e = np.exp(input - np.max(input, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    u = w * ct / total
    r = np.sum(g * (p - onehot), axis=1)
    gu = g * np.expand_dims(u, 1)
    d_input = p * (gu - np.sum(gu * p, axis=1, keepdims=True))
    d_w = (r * ct - mean * np.sum(r * u)) / total
    return (
        unbroadcast(r * w / total, ct),
        d_input,
        class_weights_cotangent(d_w, target, weight, ignore_index),
    )


@adjoint(
    cross_entropy_weight_cotangent,
    python_floats=(),
    nondiff=("target", "ignore_index", "reduction"),
    shapes={
        "mean": ("(),(),(6,4),(6,),(4,),-,-", {"reduction": "mean"}),
        "sum": ("(),(),(6,4),(6,),(4,),-,-", {"reduction": "sum"}),
        "none": ("(6,),(6,),(6,4),(6,),(4,),-,-", {"reduction": "none"}),
        "spatial-mean": ("(),(),(3,4,2),(3,2),(4,),-,-", {"reduction": "mean"}),
    },
    params={"ignore_index": [-100]},
    domain=_CE_DOMAIN,
)
def cross_entropy_weight_cotangent_adjoint(
    g, ans, ct, loss, input, target, weight, ignore_index, reduction
):
    onehot = class_onehot(target, ignore_index, input)
    w = class_weights(target, weight, ignore_index, input)
    mean = float(reduction == "mean")
    total = mean * np.sum(w) + (1.0 - mean)
    shifted = input - np.max(input, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    per = -np.sum(onehot * logp, axis=1)
    picked = class_weights(target, g, ignore_index, input)
    share = picked * ct / total
    d_input = (np.exp(logp) - onehot) * np.expand_dims(share, 1)
    d_w = -mean * np.sum(share * (per - mean * loss)) / total * np.ones_like(w)
    return (
        unbroadcast(picked * (per - mean * loss) / total, ct),
        unbroadcast(-mean * share, loss),
        d_input,
        class_weights_cotangent(d_w, target, weight, ignore_index),
    )


@adjoint(
    class_weights,
    python_floats=(),
    nondiff=("target", "ignore_index", "like"),
    shape_only=("like",),
    shapes={"batch": "(6,),(4,),-,(6,4)", "spatial": "(3,2),(4,),-,(3,4,2)"},
    params={"ignore_index": [-100]},
    domain={"target": _classes},
)
def class_weights_adjoint(g, ans, target, weight, ignore_index, like):
    return class_weights_cotangent(g, target, weight, ignore_index)


@adjoint(
    class_weights_cotangent,
    python_floats=(),
    nondiff=("target", "weight", "ignore_index"),
    shape_only=("weight",),
    shapes={"batch": "(6,),(6,),(4,),-", "spatial": "(3,2),(3,2),(4,),-"},
    params={"ignore_index": [-100]},
    domain={"target": _classes},
)
def class_weights_cotangent_adjoint(g, ans, ct, target, weight, ignore_index):
    return class_weights(target, g, ignore_index, ct)


nondifferentiable(class_onehot, reason="0 or 1: each sample's class, a constant")
