"""Rules of the cotangent helpers that scatter a cotangent back to where a value came from
(``max_pool2d_cotangent``, ``permutation_cotangent``, ``quantile_cotangent``,
``meshgrid_cotangents``, ``unwindow``, ``strided_cotangent``): higher-order derivatives through max pooling, sorts,
partitions, quantiles, meshgrids, sliding windows and ``as_strided`` views.

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Each helper is linear in the
cotangent it maps (its first parameter ``g``, here ``ct``); the operands that say where
each entry goes (the forward operand and result: which entry is a window's maximum, which
rank an entry has) change that only where they jump, so they carry no gradient.  The
adjoint gathers from where the helper scattered (``max_pool2d_gather``, ``permute_like``,
``quantile_gather``, ``mesh_expand`` in :mod:`srcgrad.runtime.helpers_gathers`, each with
the scattering helper for its own rule; ``unwindow``'s is the sliding window view itself, ``strided_cotangent``'s the gather at
``strided_index``).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, nondifferentiable
from srcgrad.runtime import (
    cast_like,
    filled,
    max_pool2d_cotangent,
    max_pool2d_gather,
    mesh_expand,
    meshgrid_cotangents,
    permutation_cotangent,
    permute_like,
    quantile_cotangent,
    quantile_gather,
    strided_cotangent,
    strided_index,
    unbroadcast,
    unwindow,
)

# --------------------------------------------------------------------------- max pooling


def _ties(rng, shape):
    """Entries 1.0 and 2.0, 2.0 along the first row and column of every image: each
    window's maximum is 2.0, often tied (the cotangent goes to the first)."""
    a = np.where(rng.uniform(size=shape) < 0.5, 1.0, 2.0)
    a[..., 0, :] = 2.0
    a[..., :, 0] = 2.0
    return a


def _twos(rng, shape):
    """2.0 everywhere (each window's maximum in ``_ties``)."""
    return np.full(shape, 2.0)


_POOL = ("kernel_size", "stride", "padding", "dilation")
_WINDOW = {
    "kernel_size": (2, 3),
    "stride": (2, 3),
    "padding": (0, 0),
    "dilation": (1, 1),
}
_POOLS = {
    "window": ("(2,3,3,2),(2,3,3,2),(2,3,6,7),-,-,-,-", _WINDOW),
    "overlap": (
        "(1,2,5,6),(1,2,5,6),(1,2,6,7),-,-,-,-",
        {**_WINDOW, "kernel_size": (2, 2), "stride": (1, 1)},
    ),
    "padded": (
        "(2,2,4,3),(2,2,4,3),(2,2,6,7),-,-,-,-",
        {**_WINDOW, "padding": (1, 1)},
    ),
}


@adjoint(
    max_pool2d_cotangent,
    python_floats=(),
    nondiff=("pooled", "x", *_POOL),
    shapes=_POOLS,
    domain={"x": _ties, "pooled": _twos},
)
def max_pool2d_cotangent_adjoint(
    g, ans, ct, pooled, x, kernel_size, stride, padding, dilation
):
    # which entry of a window is its first maximum is constant almost everywhere
    return unbroadcast(
        max_pool2d_gather(g, pooled, x, kernel_size, stride, padding, dilation), ct
    )


@adjoint(
    max_pool2d_gather,
    python_floats=(),
    nondiff=("pooled", "x", *_POOL),
    shapes={
        "window": ("(2,3,6,7),(2,3,3,2),(2,3,6,7),-,-,-,-", _WINDOW),
        "overlap": (
            "(1,2,6,7),(1,2,5,6),(1,2,6,7),-,-,-,-",
            {**_WINDOW, "kernel_size": (2, 2), "stride": (1, 1)},
        ),
        "padded": (
            "(2,2,6,7),(2,2,4,3),(2,2,6,7),-,-,-,-",
            {**_WINDOW, "padding": (1, 1)},
        ),
    },
    domain={"x": _ties, "pooled": _twos},
)
def max_pool2d_gather_adjoint(
    g, ans, ct, pooled, x, kernel_size, stride, padding, dilation
):
    return unbroadcast(
        max_pool2d_cotangent(g, pooled, x, kernel_size, stride, padding, dilation), ct
    )


# --------------------------------------------------------------------------- sorts


def _distinct(rng, shape):
    """A permutation of ``0.1 * (0, 1, ...)``: distinct entries (a sort's ranks)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1


_SORTED = {
    "rows": ("(3,4),(3,4),(3,4)", {"axis": -1}),
    "columns": ("(3,4),(3,4),(3,4)", {"axis": 0}),
    "flat": ("(12,),(3,4),(12,)", {"axis": None}),
}


@adjoint(
    permutation_cotangent,
    python_floats=(),
    nondiff=("a", "sorted_"),
    shapes=_SORTED,
    domain={"a": _distinct, "sorted_": _distinct},
)
def permutation_cotangent_adjoint(g, ans, ct, a, sorted_, axis=-1):
    # the ranks of a and of its sorted copy say where each entry went: constant a.e.
    return unbroadcast(permute_like(g, a, sorted_, axis), ct)


@adjoint(
    permute_like,
    python_floats=(),
    nondiff=("a", "sorted_"),
    shapes={
        "rows": ("(3,4),(3,4),(3,4)", {"axis": -1}),
        "columns": ("(3,4),(3,4),(3,4)", {"axis": 0}),
        "flat": ("(3,4),(3,4),(12,)", {"axis": None}),
    },
    domain={"a": _distinct, "sorted_": _distinct},
)
def permute_like_adjoint(g, ans, ct, a, sorted_, axis=-1):
    return unbroadcast(permutation_cotangent(g, a, sorted_, axis), ct)


# the quantiles' cotangent: q's axes first, then a's with those of axis removed (kept)
_QUANTILES = {
    "all": ("(),(3,4),-", {"q": 0.3}),
    "rows": ("(3,),(3,4),-", {"q": 0.3, "axis": 1}),
    "many": ("(2,4),(3,4),-", {"q": [0.25, 1.0], "axis": 0}),
    "keep": ("(2,3,1),(3,4),-", {"q": [0.5, 0.1], "axis": 1, "keepdims": True}),
    "axes": ("(3,),(2,3,4),-", {"q": 0.6, "axis": (0, 2)}),
    "percent": ("(4,),(3,4),-", {"q": 40.0, "axis": 0, "scale": 0.01}),
}


@adjoint(
    quantile_cotangent,
    python_floats=(),
    nondiff=("a", "q"),
    shapes=_QUANTILES,
    domain={"a": _distinct},
    accepts={"method": (("linear",), "use method='linear' (numpy's default)")},
)
def quantile_cotangent_adjoint(
    g, ans, ct, a, q, axis=None, keepdims=False, method="linear", scale=1.0
):
    # the order of a is constant almost everywhere: linear in ct only
    return unbroadcast(quantile_gather(g, ct, a, q, axis, keepdims, method, scale), ct)


@adjoint(
    quantile_gather,
    python_floats=(),
    nondiff=("like", "a", "q"),
    shape_only=("like",),
    shapes={
        name: (",".join(["(2,3,4)" if "(2,3,4)" in c else "(3,4)", c]), p)
        for name, (c, p) in _QUANTILES.items()
    },
    domain={"a": _distinct},
    accepts={"method": (("linear",), "use method='linear' (numpy's default)")},
)
def quantile_gather_adjoint(
    g, ans, ct, like, a, q, axis=None, keepdims=False, method="linear", scale=1.0
):
    return unbroadcast(quantile_cotangent(g, a, q, axis, keepdims, method, scale), ct)


# --------------------------------------------------------------------------- grids


@adjoint(
    meshgrid_cotangents,
    nondiff=("xi", "indexing"),
    shape_only=("xi",),
    sequence=("parts",),
    multi_output=True,
    shapes={
        "dense": "[(4,3),(4,3)],[(3,),(4,)]",
        "sparse": "[(1,3),(4,1)],[(3,),(4,)]",
        "three": "[(3,2,4),(3,2,4),(3,2,4)],[(2,),(3,),(4,)]",
        "one": "[(3,)],[(3,)]",
    },
    params={"indexing": ["xy"]},
    view=True,
)
def meshgrid_cotangents_adjoint(g, ans, parts, xi, indexing="xy"):
    return mesh_expand(filled(g, ans), parts, indexing)


@adjoint(
    mesh_expand,
    python_floats=(),
    nondiff=("parts", "indexing"),
    shape_only=("parts",),
    sequence=("gs",),
    multi_output=True,
    shapes={
        "dense": "[(3,),(4,)],[(4,3),(4,3)]",
        "sparse": "[(3,),(4,)],[(1,3),(4,1)]",
        "ij": ("[(3,),(4,)],[(3,4),(3,4)]", {"indexing": "ij"}),
    },
)
def mesh_expand_adjoint(g, ans, gs, parts, indexing="xy"):
    return meshgrid_cotangents(filled(g, ans), gs, indexing)


# --------------------------------------------------------------------------- windows


@adjoint(
    unwindow,
    python_floats=(),
    nondiff=("x", "window_shape"),
    shape_only=("x",),
    shapes={
        "vector": ("(4,3),(6,),-", {"window_shape": 3}),
        "matrix": ("(3,3,2,3),(4,5),-", {"window_shape": (2, 3)}),
        "one-axis": ("(4,4,2),(4,5),-", {"window_shape": 2, "axis": 1}),
        "repeated-axis": (
            "(4,3,2,3),(4,6),-",
            {"window_shape": (2, 3), "axis": (1, 1)},
        ),
    },
)
def unwindow_adjoint(g, ans, ct, x, window_shape, axis=None):
    # every window added back: its adjoint reads the windows again
    return unbroadcast(
        np.lib.stride_tricks.sliding_window_view(g, window_shape, axis), ct
    )


# --------------------------------------------------------------------------- as_strided


def _layout(rng, shape):
    """8-byte integers (only shape and strides are read).

    The cases' strides are bytes of an 8-byte element: an integer operand keeps them in
    the float32 cases."""
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


@adjoint(
    strided_cotangent,
    python_floats=(),
    nondiff=("x",),
    shape_only=("x",),
    domain={"x": _layout},
    # the strides are the bytes of x's own layout: its non-contiguous twin would read
    # memory between its elements (the other operands are made non-contiguous)
    keep_layout=("x",),
    shapes={
        "view": "(6,),(6,)",
        "same": ("(3,4),(3,4)", {"shape": (3, 4), "strides": None}),
        "broadcast": ("(4,3),()", {"shape": (4, 3), "strides": (0, 0)}),
        "windows": ("(4,3),(6,)", {"shape": (4, 3), "strides": (8, 8)}),
        "matrix-windows": (
            "(2,2,2,3),(3,4)",
            {"shape": (2, 2, 2, 3), "strides": (32, 8, 32, 8)},
        ),
    },
)
def strided_cotangent_adjoint(g, ans, ct, x, shape=None, strides=None):
    # the scatter's adjoint: each view element reads back the element of x it added to
    picked = np.reshape(g, (-1,))[strided_index(x, shape, strides)]
    return cast_like(unbroadcast(picked, ct), ct)


nondifferentiable(
    strided_index, reason="integers: the element of x each element of a view reads"
)
