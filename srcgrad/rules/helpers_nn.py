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

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    avg_pool2d,
    avg_pool2d_cotangent,
    col2im,
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
