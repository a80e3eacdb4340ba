"""Adjoint rules for more shape and indexing functions: flips, rolls, pads, gathers, stacks, sorts.

The rule-body contract is in :mod:`srcgrad.rules.registry`; the conventions of ``shape.py``
apply (numpy's parameter names and order; non-array positional parameters such as
``shift``, ``pad_width``, ``indices`` and ``kth`` are ``nondiff``; ``out=`` is not
accepted).  Gathers (``take``, ``take_along_axis``, ``choose``, ``sliding_window_view``)
scatter their cotangent back and accumulate repeated indices.  ``sort`` and ``partition``
send each output entry's cotangent to the input entry it came from.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, numpy_function
from srcgrad.runtime import (
    append_cotangents,
    atleast_cotangents,
    broadcast_arrays_cotangents,
    choose_cotangents,
    compress_cotangent,
    concatenate_pieces,
    delete_cotangent,
    diag_cotangent,
    diagflat_cotangent,
    diagonal_cotangent,
    hsplit_axis,
    kron_cotangent_a,
    kron_cotangent_b,
    meshgrid_cotangents,
    pad_cotangent,
    permutation_cotangent,
    rollaxis_cotangent,
    select_cotangents,
    stacked_cotangents,
    take_along_axis_cotangent,
    take_cotangent,
    trace_cotangent,
    unroll,
    unstack_cotangent_pieces,
    unwindow,
)


def _coin(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.random(shape) < 0.5


def _small_indices(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Indices valid along an axis of length 3 or more (negative ones included)."""
    return rng.integers(-3, 3, size=shape)


def _choice_indices(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 3, size=shape)


# --------------------------------------------------------------------------- flips and rolls


@adjoint(np.flip, shapes={"3d": "(2,3,4)"}, params={"axis": [None, 0, -1, (0, 2)]}, view=True)
def flip_adjoint(g, ans, m, axis=None):
    return np.flip(g, axis)


@adjoint(np.fliplr, shapes={"matrix": "(3,4)", "3d": "(2,3,4)"}, view=True)
def fliplr_adjoint(g, ans, m):
    return np.fliplr(g)


@adjoint(np.flipud, shapes={"vector": "(4,)", "matrix": "(3,4)"}, view=True)
def flipud_adjoint(g, ans, m):
    return np.flipud(g)


@adjoint(
    np.roll,
    nondiff=("shift",),
    shapes={"matrix": "(3,4),-"},
    params=[
        {"shift": [1], "axis": [None, 0]},
        {"shift": [-2], "axis": [-1]},
        {"shift": [(1, 2)], "axis": [(0, 1)]},
    ],
)
def roll_adjoint(g, ans, a, shift, axis=None):
    return unroll(g, shift, axis)


@adjoint(
    np.rot90,
    shapes={"3d": "(2,3,4)"},
    params=[{"k": [1, 2, 3]}, {"k": [-1], "axes": [(2, 1)]}],
    view=True,
)
def rot90_adjoint(g, ans, m, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes)


@adjoint(
    np.rollaxis,
    nondiff=("axis",),
    shapes={"3d": "(2,3,4),-"},
    params=[{"axis": [0, 2], "start": [1, 3]}, {"axis": [-1]}],
    view=True,
)
def rollaxis_adjoint(g, ans, a, axis, start=0):
    return rollaxis_cotangent(g, a, axis, start)


# --------------------------------------------------------------------------- pad


@adjoint(
    np.pad,
    nondiff=("pad_width",),
    shapes={"matrix": "(3,4),-"},
    params=[
        {
            "pad_width": [((1, 2), (0, 3))],
            "mode": ["constant", "edge", "wrap", "reflect", "symmetric"],
        },
        {"pad_width": [((2, 1), (1, 2))], "mode": ["symmetric"], "reflect_type": ["odd"]},
        {"pad_width": [((3, 1), (1, 4))], "mode": ["reflect"], "reflect_type": ["odd"]},
        {"pad_width": [((5, 6), (7, 2))], "mode": ["reflect"]},
        {"pad_width": [2], "mode": ["linear_ramp"], "end_values": [(1.0, -1.0)]},
        {"pad_width": [(1, 2)], "mode": ["maximum", "median"]},
        {"pad_width": [(2, 1)], "mode": ["minimum", "mean"], "stat_length": [2]},
        {"pad_width": [1], "mode": ["constant"], "constant_values": [2.5]},
    ],
)
def pad_adjoint(
    g,
    ans,
    array,
    pad_width,
    mode="constant",
    *,
    stat_length=None,
    constant_values=0,
    end_values=0,
    reflect_type="even",
):
    return pad_cotangent(g, array, pad_width, mode, stat_length, reflect_type)


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
)
def choose_adjoint(g, ans, a, choices, *, mode="raise"):
    return choose_cotangents(g, a, choices, mode)


@adjoint(
    np.select,
    nondiff=("condlist",),
    sequence=("choicelist",),
    domain={"condlist": _coin},
    shapes={"same": "[(3,4),(3,4)],[(3,4),(3,4)]", "broadcast": "[(3,4),(4,)],[(4,),(3,1)]"},
)
def select_adjoint(g, ans, condlist, choicelist, default=0):
    return select_cotangents(g, condlist, choicelist)


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
)
def compress_adjoint(g, ans, condition, a, axis=None):
    return compress_cotangent(g, condition, a, axis)


@adjoint(
    np.extract, nondiff=("condition",), domain={"condition": _coin}, shapes={"same": "(3,4),(3,4)"}
)
def extract_adjoint(g, ans, condition, arr):
    return compress_cotangent(g, np.ravel(condition), arr, None)


@adjoint(
    np.delete,
    nondiff=("obj",),
    shapes={"matrix": "(3,4),-"},
    params=[{"obj": [1], "axis": [None, 0]}, {"obj": [[0, 2]], "axis": [1]}],
)
def delete_adjoint(g, ans, arr, obj, axis=None):
    return delete_cotangent(g, arr, obj, axis)


# --------------------------------------------------------------------------- diagonals


_DIAGONAL_SHAPES = {
    "square": "(3,3)",
    "wide": "(3,5)",
    "tall": "(5,3)",
    "3d": ("(2,3,4)", {"axis1": 2, "axis2": 0}),
}


@adjoint(np.diagonal, shapes=_DIAGONAL_SHAPES, params={"offset": [1, -2]}, view=True)
def diagonal_adjoint(g, ans, a, offset=0, axis1=0, axis2=1):
    return diagonal_cotangent(g, a, offset, axis1, axis2)


@adjoint(np.trace, shapes=_DIAGONAL_SHAPES, params={"offset": [0, -2]})
def trace_adjoint(g, ans, a, offset=0, axis1=0, axis2=1, dtype=None):
    return trace_cotangent(g, a, offset, axis1, axis2)


@adjoint(
    np.diag,
    shapes={"vector": "(4,)", "wide": "(3,5)", "tall": "(5,3)"},
    params={"k": [0, 1, -1]},
    view=True,
)
def diag_adjoint(g, ans, v, k=0):
    return diag_cotangent(g, v, k)


@adjoint(np.diagflat, shapes={"vector": "(3,)", "matrix": "(2,2)"}, params={"k": [0, 1, -2]})
def diagflat_adjoint(g, ans, v, k=0):
    return diagflat_cotangent(g, v, k)


@adjoint(np.tril, shapes={"matrix": "(3,4)", "3d": "(2,4,3)"}, params={"k": [0, 1, -1]})
def tril_adjoint(g, ans, m, k=0):
    return np.tril(g, k)


@adjoint(np.triu, shapes={"matrix": "(3,4)", "3d": "(2,4,3)"}, params={"k": [0, 1, -1]})
def triu_adjoint(g, ans, m, k=0):
    return np.triu(g, k)


# --------------------------------------------------------------------------- promotion and stacks

_ATLEAST_SHAPES = {"zero-d": "()", "vector": "(3,)", "matrix": "(2,3)", "3d": "(2,3,1)"}


@adjoint(np.atleast_1d, shapes=_ATLEAST_SHAPES, view=True)
def atleast_1d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(np.atleast_2d, shapes=_ATLEAST_SHAPES, view=True)
def atleast_2d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(np.atleast_3d, shapes=_ATLEAST_SHAPES, view=True)
def atleast_3d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(
    np.vstack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(3,)]", "mixed": "[(3,),(2,3)]", "matrices": "[(2,3),(1,3)]"},
)
def vstack_adjoint(g, ans, tup, *, dtype=None, casting="same_kind"):
    return stacked_cotangents(g, tup, "vstack")


@adjoint(
    np.hstack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(2,)]", "matrices": "[(2,3),(2,1)]"},
)
def hstack_adjoint(g, ans, tup, *, dtype=None, casting="same_kind"):
    return stacked_cotangents(g, tup, "hstack")


@adjoint(
    np.dstack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(3,)]", "matrices": "[(2,3),(2,3)]", "3d": "[(2,3,2),(2,3,1)]"},
)
def dstack_adjoint(g, ans, tup):
    return stacked_cotangents(g, tup, "dstack")


@adjoint(
    np.column_stack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(3,)]", "mixed": "[(3,),(3,2)]"},
)
def column_stack_adjoint(g, ans, tup):
    return stacked_cotangents(g, tup, "column_stack")


@adjoint(
    np.hsplit,
    nondiff=("indices_or_sections",),
    multi_output=True,
    shapes={"matrix": "(4,6),-", "vector": "(6,),-"},
    params={"indices_or_sections": [2, [1, 4]]},
    view=True,
)
def hsplit_adjoint(g, ans, ary, indices_or_sections):
    return concatenate_pieces(g, ary, indices_or_sections, hsplit_axis(ary))


@adjoint(
    np.vsplit,
    nondiff=("indices_or_sections",),
    multi_output=True,
    shapes={"matrix": "(6,4),-"},
    params={"indices_or_sections": [2, [1, 4]]},
    view=True,
)
def vsplit_adjoint(g, ans, ary, indices_or_sections):
    return concatenate_pieces(g, ary, indices_or_sections, 0)


@adjoint(
    np.dsplit,
    nondiff=("indices_or_sections",),
    multi_output=True,
    shapes={"3d": "(2,3,6),-"},
    params={"indices_or_sections": [2, [1, 4]]},
    view=True,
)
def dsplit_adjoint(g, ans, ary, indices_or_sections):
    return concatenate_pieces(g, ary, indices_or_sections, 2)


if hasattr(np, "unstack"):  # numpy >= 2.1

    @adjoint(
        numpy_function("unstack"),
        multi_output=True,
        shapes={"matrix": "(3,4)"},
        params={"axis": [0, -1]},
        view=True,
    )
    def unstack_adjoint(g, ans, x, /, *, axis=0):
        return unstack_cotangent_pieces(g, x, axis)


@adjoint(
    np.append, shapes={"rows": "(3,4),(2,4)", "vectors": "(3,),(2,)"}, params={"axis": [None, 0]}
)
def append_adjoint(g, ans, arr, values, axis=None):
    return append_cotangents(g, arr, values, axis)


@adjoint(
    np.broadcast_arrays,
    multi_output=True,
    shapes={"two": "(3,1),(4,)", "three": "(2,3,4),(3,1),()"},
    view=True,
)
def broadcast_arrays_adjoint(g, ans, *args, subok=False):
    return broadcast_arrays_cotangents(g, args)


@adjoint(
    np.meshgrid,
    multi_output=True,
    shapes={"two": "(3,),(4,)", "three": "(2,),(3,),(4,)"},
    params={"indexing": ["xy", "ij"], "sparse": [False, True]},
    view=True,
)
def meshgrid_adjoint(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    return meshgrid_cotangents(g, xi, indexing)


# --------------------------------------------------------------------------- sorting and products


@adjoint(np.sort, shapes={"matrix": "(3,4)", "3d": "(2,3,4)"}, params={"axis": [-1, 0, None]})
def sort_adjoint(g, ans, a, axis=-1, kind=None, order=None, *, stable=None):
    return permutation_cotangent(g, a, ans, axis)


@adjoint(
    np.partition,
    nondiff=("kth",),
    shapes={"matrix": "(3,4),-", "3d": "(2,3,4),-"},
    params=[{"kth": [1], "axis": [-1, 0, None]}, {"kth": [(0, 1)]}],
)
def partition_adjoint(g, ans, a, kth, axis=-1, kind="introselect", order=None):
    return permutation_cotangent(g, a, ans, axis)


@adjoint(
    np.kron,
    shapes={
        "matrices": "(2,3),(2,2)",
        "vectors": "(3,),(2,)",
        "mixed": "(2,2),(3,)",
        "3d": "(2,1,2),(2,2)",
    },
)
def kron_adjoint(g, ans, a, b):
    return kron_cotangent_a(g, a, b), kron_cotangent_b(g, a, b)
