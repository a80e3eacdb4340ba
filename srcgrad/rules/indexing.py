"""Adjoint rules for indexing: subscripts, gathers, selections, diagonals and sorts.

The rule-body contract is in :mod:`srcgrad.rules.registry`; the conventions of ``shape.py``
apply (numpy's parameter names and order; non-array positional parameters such as ``key``,
``indices`` and ``kth`` are ``nondiff``; ``out=`` is not accepted).  A subscript's cotangent
is scattered back into zeros (``scatter_to``; ``assign_at`` is the functional form of a
subscript write).  Gathers (``take``, ``take_along_axis``, ``choose``,
``sliding_window_view``) scatter their cotangent back and accumulate repeated indices.
``sort`` and ``partition`` send each output entry's cotangent to the input entry it came from.
"""

from __future__ import annotations

import operator

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import (
    cast_like,
    strided_cotangent,
    strided_index,
    reduceat_cotangent,
    added_at,
    assign_at,
    choose_cotangents,
    compress_cotangent,
    diag_cotangent,
    diagflat_cotangent,
    diagonal_cotangent,
    gather_at,
    permutation_cotangent,
    scatter_to,
    select_cotangents,
    take_along_axis_cotangent,
    take_cotangent,
    trace_cotangent,
    unbroadcast,
    unwindow,
    zero_at,
)


def _getitem_domain(rng, shape):  # noqa: ANN001, ANN202
    return rng.standard_normal(shape)


def _coin(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.random(shape) < 0.5


def _small_indices(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Indices valid along an axis of length 3 or more (negative ones included)."""
    return rng.integers(-3, 3, size=shape)


def _choice_indices(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 3, size=shape)


_DIAGONAL_SHAPES = {
    "square": "(3,3)",
    "wide": "(3,5)",
    "tall": "(5,3)",
    "3d": ("(2,3,4)", {"axis1": 2, "axis2": 0}),
}


# --------------------------------------------------------------------------- subscripts


@adjoint(
    operator.getitem,
    nondiff=("key",),
    name="getitem",
    shapes=[((4, 5),)],
    params={"key": [1, (slice(1, 3), None), (Ellipsis, 0), (slice(None, None, 2), -1)]},
    view=True,
    jvp="linear",
)
def getitem_adjoint(g, ans, x, key):
    return scatter_to(g, x, key)


@adjoint(
    assign_at,
    name="assign_at",
    nondiff=("key",),
    shapes={"slice": "(4,5),-,(2,5)", "broadcast": "(4,5),-,(5,)"},
    params={"key": [(slice(1, 3),)]},
    jvp="linear",
)
def assign_at_adjoint(g, ans, x, key, v):
    return zero_at(g, key), gather_at(g, key, v)


@adjoint(
    added_at,
    name="added_at",
    nondiff=("key",),
    shapes={
        "repeated": "(4,5),-,(3,5)",
        "pairs": ("(4,5),-,(3,)", {"key": ([0, 3, 0], [1, 2, 1])}),
        "broadcast": "(4,5),-,(5,)",
    },
    params={"key": [[0, 2, 0]]},
    jvp="linear",
)
def added_at_adjoint(g, ans, x, key, v):
    # every occurrence of a repeated index adds its own v: each one gets g there
    return g, unbroadcast(g[key], v)


@adjoint(
    scatter_to,
    nondiff=("x", "key"),
    shape_only=("x",),
    shapes={"rows": "(2,4),(3,4),-"},
    params={"key": [slice(0, 2)]},
    jvp="linear",
)
def scatter_to_adjoint(g, ans, x1, x, key):
    # the forward assignment broadcasts x1 (a Python float, say) over x[key]
    return unbroadcast(g[key], x1)


# --------------------------------------------------------------------------- gathers


@adjoint(
    np.take,
    nondiff=("indices",),
    domain={"indices": _small_indices},
    shapes={
        "indices": "(3,4),(2,3)",
        "one": "(3,4),()",
        "wrap": ("(3,4),-", {"indices": [0, 5, -7], "mode": "wrap"}),
        "clip": ("(3,4),-", {"indices": [0, 5, -7], "mode": "clip"}),
    },
    params={"axis": [None, 0, 1]},
    jvp="linear",
)
def take_adjoint(g, ans, a, indices, axis=None, *, mode="raise"):
    return take_cotangent(g, a, indices, axis, mode)


@adjoint(
    np.take_along_axis,
    nondiff=("indices",),
    domain={"indices": _choice_indices},
    shapes={
        "same": ("(3,4),(3,5)", {"axis": 1}),
        "broadcast": ("(3,4),(2,1)", {"axis": 0}),
        "last": ("(2,3,4),(2,3,2)", {"axis": -1}),
        "flat": ("(3,4),(5,)", {"axis": None}),
    },
    jvp="linear",
)
def take_along_axis_adjoint(g, ans, arr, indices, axis=-1):
    return take_along_axis_cotangent(g, arr, indices, axis)


@adjoint(
    np.choose,
    nondiff=("a",),
    sequence=("choices",),
    domain={"a": _choice_indices},
    shapes={"same": "(3,4),[(3,4),(3,4),(3,4)]", "broadcast": "(3,4),[(4,),(3,1),()]"},
    params={"mode": ["raise", "wrap"]},
    jvp="linear",
)
def choose_adjoint(g, ans, a, choices, *, mode="raise"):
    return choose_cotangents(g, a, choices, mode)


@adjoint(
    np.select,
    nondiff=("condlist",),
    sequence=("choicelist",),
    domain={"condlist": _coin},
    shapes={
        "same": "[(3,4),(3,4)],[(3,4),(3,4)],(3,4)",
        "broadcast": "[(3,4),(4,)],[(4,),(3,1)],(4,)",
        "float-default": "[(3,4),(4,)],[(4,),(3,1)],s",
    },
    optional_operands=("default",),
    jvp="linear",
)
def select_adjoint(g, ans, condlist, choicelist, default=0):
    # default is taken where no condition holds
    hit = np.any(np.stack(np.broadcast_arrays(g, *condlist)[1:]), axis=0)
    return (
        select_cotangents(g, condlist, choicelist),
        unbroadcast(np.where(hit, 0, g), default),
    )


@adjoint(
    np.add.reduceat,
    name="add.reduceat",
    nondiff=("indices", "axis", "dtype", "out"),
    shapes={
        "rows": ("(7,3),-", {"indices": [0, 2, 2, 5]}),
        "columns": ("(3,7),-", {"indices": [0, 4, 1], "axis": 1}),
        "vector": ("(6,),-", {"indices": [1, 3]}),
    },
    jvp="linear",
)
def add_reduceat_adjoint(g, ans, array, indices, axis=0, dtype=None, out=None):
    # each entry gets the cotangent of the segment (or the lone entry) that holds it
    return reduceat_cotangent(g, array, indices, axis)


@adjoint(
    np.bincount,
    nondiff=("x", "minlength"),
    optional_operands=("weights",),
    shapes={
        "weights": ("(6,)", {"x": [0, 2, 2, 5, 1, 2]}),
        "minlength": ("-,(4,)", {"x": [3, 0, 0, 1], "minlength": 6}),
    },
    jvp="linear",
)
def bincount_adjoint(g, ans, x, weights=None, minlength=0):
    # each weight goes to its bin (np.bincount computes in float64)
    return cast_like(g[x], weights)


@adjoint(
    np.lib.stride_tricks.as_strided,
    name="lib.stride_tricks.as_strided",
    nondiff=("shape", "strides", "subok", "writeable"),
    # (strides are bytes of the operand's own layout: the cases here keep x's strides; the
    # overlapping windows real code makes are tested end to end, tests/test_trust_strided)
    shapes={
        "vector": ("(6,),-,-", {"shape": None, "strides": None}),
        "same": ("(3,4),-,-", {"shape": (3, 4), "strides": None}),
    },
    python_floats=(),  # a Python number has no strides to view it by
    view=True,
)
def as_strided_adjoint(
    g, ans, x, shape=None, strides=None, subok=False, writeable=True
):
    # each element of the view reads one element of x: its cotangent goes there
    return strided_cotangent(g, x, shape, strides)


@jvp_of(as_strided_adjoint)
def as_strided_jvp(ans, dots, b):
    # the same elements of the tangent (whose own strides may differ from x's)
    idx = strided_index(np.asarray(b["x"]), np.shape(ans), b.get("strides"))
    return np.reshape(dots[0], (-1,))[idx]


@adjoint(
    np.lib.stride_tricks.sliding_window_view,
    name="lib.stride_tricks.sliding_window_view",
    nondiff=("window_shape",),
    shapes={
        "vector": ("(6,),-", {"window_shape": 3}),
        "matrix": ("(4,5),-", {"window_shape": (2, 3)}),
        "one-axis": ("(4,5),-", {"window_shape": 2, "axis": 1}),
        "repeated-axis": ("(4,6),-", {"window_shape": (2, 3), "axis": (1, 1)}),
    },
    view=True,
    jvp="linear",
)
def sliding_window_view_adjoint(
    g, ans, x, window_shape, axis=None, *, subok=False, writeable=False
):
    return unwindow(g, x, window_shape, axis)


@adjoint(
    np.compress,
    nondiff=("condition",),
    shapes={"matrix": "-,(3,4)"},
    params=[
        {"condition": [[True, False, True]], "axis": [0, 1, None]},
        {"condition": [[False, True]], "axis": [1]},
    ],
    jvp="linear",
)
def compress_adjoint(g, ans, condition, a, axis=None):
    return compress_cotangent(g, condition, a, axis)


@adjoint(
    np.extract,
    nondiff=("condition",),
    domain={"condition": _coin},
    shapes={"same": "(3,4),(3,4)"},
    jvp="linear",
)
def extract_adjoint(g, ans, condition, arr):
    return compress_cotangent(g, np.ravel(condition), arr, None)


# --------------------------------------------------------------------------- diagonals


@adjoint(
    np.diagonal,
    methods=("diagonal",),
    shapes=_DIAGONAL_SHAPES,
    params={"offset": [1, -2]},
    view=True,
    jvp="linear",
)
def diagonal_adjoint(g, ans, a, offset=0, axis1=0, axis2=1):
    return diagonal_cotangent(g, a, offset, axis1, axis2)


@adjoint(
    np.trace,
    methods=("trace",),
    shapes=_DIAGONAL_SHAPES,
    params={"offset": [0, -2]},
    jvp="linear",
)
def trace_adjoint(g, ans, a, offset=0, axis1=0, axis2=1, dtype=None):
    return trace_cotangent(g, a, offset, axis1, axis2)


@adjoint(
    np.diag,
    shapes={"vector": "(4,)", "wide": "(3,5)", "tall": "(5,3)"},
    params={"k": [0, 1, -1]},
    view=True,
    jvp="linear",
)
def diag_adjoint(g, ans, v, k=0):
    return diag_cotangent(g, v, k)


@adjoint(
    np.diagflat,
    shapes={"vector": "(3,)", "matrix": "(2,2)"},
    params={"k": [0, 1, -2]},
    jvp="linear",
)
def diagflat_adjoint(g, ans, v, k=0):
    return diagflat_cotangent(g, v, k)


@adjoint(
    np.tril,
    shapes={"matrix": "(3,4)", "3d": "(2,4,3)"},
    params={"k": [0, 1, -1]},
    jvp="linear",
)
def tril_adjoint(g, ans, m, k=0):
    return np.tril(g, k)


@adjoint(
    np.triu,
    shapes={"matrix": "(3,4)", "3d": "(2,4,3)"},
    params={"k": [0, 1, -1]},
    jvp="linear",
)
def triu_adjoint(g, ans, m, k=0):
    return np.triu(g, k)


# --------------------------------------------------------------------------- sorting


@adjoint(
    np.sort, shapes={"matrix": "(3,4)", "3d": "(2,3,4)"}, params={"axis": [-1, 0, None]}
)
def sort_adjoint(g, ans, a, axis=-1, kind=None, order=None, *, stable=None):
    return permutation_cotangent(g, a, ans, axis)


@jvp_of(sort_adjoint)
def sort_jvp(ans, dots, b):
    a, t = np.asarray(b["a"]), np.asarray(dots[0])
    axis = b.get("axis", -1)
    if axis is None:
        a, t, axis = a.ravel(), t.ravel(), 0
    order = np.argsort(a, axis=axis, kind="stable")
    return np.take_along_axis(np.broadcast_to(t, a.shape), order, axis=axis)


@adjoint(
    np.partition,
    nondiff=("kth",),
    shapes={"matrix": "(3,4),-", "3d": "(2,3,4),-"},
    params=[{"kth": [1], "axis": [-1, 0, None]}, {"kth": [(0, 1)]}],
)
def partition_adjoint(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    return permutation_cotangent(g, a, ans, axis)


@jvp_of(partition_adjoint)
def partition_jvp(ans, dots, b):
    # each output entry's source, as the adjoint finds it: the r-th smallest of a lane
    a, t = np.asarray(b["a"]), np.broadcast_to(dots[0], np.shape(b["a"]))
    axis = b.get("axis", -1)
    if axis is None:
        a, t, axis = a.ravel(), t.ravel(), 0
    from_a = np.argsort(a, axis=axis, kind="stable")
    from_ans = np.argsort(ans, axis=axis, kind="stable")
    out = np.zeros(np.shape(ans), dtype=np.result_type(t, float))
    np.put_along_axis(
        out, from_ans, np.take_along_axis(t, from_a, axis=axis), axis=axis
    )
    return out
