"""Adjoint rules for shape manipulation: reshape, transpose, concatenate, split, tile, flip,
roll, stack, pad, ...

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Conventions in this module:

* Signatures follow numpy's parameter names and positional order; parameters from the first
  unsupported one (``out``) on are keyword-only, and ``out=`` itself is not accepted.
  Non-array positional parameters (``shape``, ``axes``, ``indices_or_sections``, ``reps``,
  ``repeats``, ``shift``, ``pad_width``) are listed in ``nondiff``.
* ``shapes`` names the test cases; each is a string with one entry per positional parameter
  in signature order, as in ``binary.py``: ``(3,4)`` is an array operand's shape, ``-`` a
  nondiff positional parameter whose values come from the ``params`` grid (``reshape``'s
  ``shape``), and ``[(2,3),(4,3)]`` a sequence operand (``concatenate``'s ``arrays``).  Every
  combination in a ``params`` grid is valid for every case.
* ``np.reshape`` names its target ``shape`` (numpy >= 2.1) and used to call it
  ``newshape``; both names bind.  ``x.reshape(3, 4)`` reaches the rule as
  ``np.reshape(x, (3, 4))`` after normalisation.
* Most cotangents are views of ``g`` (the engine never writes into an adjoint in place).
* ``mT`` (the runtime helper emitted code calls for a matrix transpose) has a rule here too,
  for higher-order derivatives.
"""

from __future__ import annotations

import numpy as np

from srcgrad.errors import MissingRuleError
from srcgrad.rules.registry import (
    adjoint,
    alias,
    jvp_of,
    numpy_at_least,
    numpy_function,
)
from srcgrad.rules.tangent_calls import _filled
from srcgrad.runtime import (
    split_sections,
    append_cotangents,
    atleast_cotangents,
    concatenate_pieces,
    delete_cotangent,
    hsplit_axis,
    inverse_permutation,
    mT,
    pad_cotangent,
    reshape_like,
    rollaxis_cotangent,
    split_concatenated,
    stacked_cotangents,
    unrepeat,
    unroll,
    unstack_cotangent_pieces,
    unstack_like,
    untile,
)

_ATLEAST_SHAPES = {"zero-d": "()", "vector": "(3,)", "matrix": "(2,3)", "3d": "(2,3,1)"}


# --------------------------------------------------------------------------- reshapes


@adjoint(
    np.reshape,
    methods={"reshape": "shape"},  # x.reshape(2, 3) is np.reshape(x, (2, 3))
    nondiff=("shape",),
    shapes={"3d": "(2,3,4),-", "matrix": "(4,6),-"},
    # numpy < 2.1 names the shape `newshape`
    params={
        "shape" if numpy_at_least("2.1.0") else "newshape": [(24,), (6, 4), (-1, 2, 3)],
        "order": ["C", "F", "A"],
    },
    view=True,
    jvp="linear",
)
def reshape_adjoint(g, ans, a, shape=None, order="C", *, newshape=None, copy=None):
    return reshape_like(g, a, order=order)


@adjoint(
    np.ravel,
    methods=("ravel", "flatten"),
    shapes={"matrix": "(3,4)", "3d": "(2,3,4)"},
    params={"order": ["C", "F", "A", "K"]},
    view=True,
    jvp="linear",
)
def ravel_adjoint(g, ans, a, order="C"):
    return reshape_like(g, a, order=order)


@adjoint(
    np.transpose,  # also np.permute_dims (the same function)
    methods={"transpose": "axes"},
    attributes=("T",),
    shapes={"3d": "(2,3,4)"},
    params={"axes": [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)]},
    view=True,
    jvp="linear",
)
def transpose_adjoint(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes))


@adjoint(
    numpy_function("matrix_transpose"),
    attributes=("mT",),
    shapes={"matrix": "(3,4)", "stack": "(2,3,4)"},
    view=True,
    jvp="linear",
)
def matrix_transpose_adjoint(g, ans, x):
    return mT(g)


@adjoint(
    np.swapaxes,
    methods=("swapaxes",),
    nondiff=("axis1", "axis2"),
    shapes={"3d": "(2,3,4),-,-"},
    params={"axis1": [0, -1], "axis2": [1, 2]},
    view=True,
    jvp="linear",
)
def swapaxes_adjoint(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2)


@adjoint(
    np.moveaxis,
    nondiff=("source", "destination"),
    shapes={"3d": "(2,3,4),-,-"},
    params={"source": [0, -1], "destination": [1, -1]},
    view=True,
    jvp="linear",
)
def moveaxis_adjoint(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source)


@adjoint(
    np.expand_dims,
    nondiff=("axis",),
    shapes={"matrix": "(3,4),-"},
    params={"axis": [0, -1, (0, 2)]},
    view=True,
    jvp="linear",
)
def expand_dims_adjoint(g, ans, a, axis):
    return reshape_like(g, a)


@adjoint(
    np.squeeze,
    methods=("squeeze",),
    shapes={"unit-axes": "(3,1,4,1)"},
    params={"axis": [None, 1, -1, (1, 3)]},
    view=True,
    jvp="linear",
)
def squeeze_adjoint(g, ans, a, axis=None):
    return reshape_like(g, a)


# --------------------------------------------------------------------------- joins and splits


@adjoint(
    np.concatenate,  # also np.concat (the same function)
    sequence=("arrays",),
    shapes={"three": "[(2,3),(2,3),(2,3)]", "one": "[(2,3)]"},
    params={"axis": [0, 1, -1, None]},
    jvp="linear",
)
def concatenate_adjoint(g, ans, arrays, axis=0, *, dtype=None, casting="same_kind"):
    return split_concatenated(g, arrays, axis)


@adjoint(
    np.stack,
    sequence=("arrays",),
    shapes={"three": "[(2,3),(2,3),(2,3)]"},
    params={"axis": [0, 1, 2, -1]},
    jvp="linear",
)
def stack_adjoint(g, ans, arrays, axis=0, *, dtype=None, casting="same_kind"):
    return unstack_like(g, arrays, axis)


@adjoint(
    np.split,
    nondiff=("indices_or_sections",),
    multi_output=True,
    view=True,
    shapes={"square": "(6,6),-"},
    params={"indices_or_sections": [2, 3, [1, 4]], "axis": [0, 1, -1]},
    jvp="linear",
)
@adjoint(
    np.array_split,
    nondiff=("indices_or_sections",),
    multi_output=True,
    shapes={"uneven": "(7,5),-"},
    params={"indices_or_sections": [2, 3, [1, 4]], "axis": [0, 1, -1]},
    view=True,
    jvp="linear",
)
def split_adjoint(g, ans, ary, indices_or_sections, axis=0):
    # g holds one cotangent per piece, None for a piece that was never used
    return concatenate_pieces(g, ary, indices_or_sections, axis)


# the optimised forward's np.split into equal sections (positional arguments): np.split's rule
alias(split_sections, split_adjoint.rule)


# --------------------------------------------------------------------------- tiles and repeats


@adjoint(
    np.tile,
    nondiff=("reps",),
    shapes={"matrix": "(2,3),-"},
    params={"reps": [2, (2, 1), (1, 3), (2, 1, 2)]},
    jvp="linear",
)
def tile_adjoint(g, ans, A, reps):
    return untile(g, A, reps)


@adjoint(
    np.repeat,
    methods=("repeat",),
    nondiff=("repeats",),
    shapes={"matrix": "(2,3),-"},
    params={"repeats": [2, [3]], "axis": [None, 0, 1, -1]},
    jvp="linear",
)
def repeat_adjoint(g, ans, a, repeats, axis=None):
    return unrepeat(g, a, repeats, axis)


# --------------------------------------------------------------------------- runtime helpers


@adjoint(mT, shapes={"matrix": "(3,4)"}, view=True, jvp="linear")
def mT_adjoint(g, ans, x):
    return mT(g)


# --------------------------------------------------------------------------- flips and rolls


@adjoint(
    np.flip,
    shapes={"3d": "(2,3,4)"},
    params={"axis": [None, 0, -1, (0, 2)]},
    view=True,
    jvp="linear",
)
def flip_adjoint(g, ans, m, axis=None):
    return np.flip(g, axis)


@adjoint(
    np.fliplr, shapes={"matrix": "(3,4)", "3d": "(2,3,4)"}, view=True, jvp="linear"
)
def fliplr_adjoint(g, ans, m):
    return np.fliplr(g)


@adjoint(
    np.flipud, shapes={"vector": "(4,)", "matrix": "(3,4)"}, view=True, jvp="linear"
)
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
    jvp="linear",
)
def roll_adjoint(g, ans, a, shift, axis=None):
    return unroll(g, shift, axis)


@adjoint(
    np.rot90,
    shapes={"3d": "(2,3,4)"},
    params=[{"k": [1, 2, 3]}, {"k": [-1], "axes": [(2, 1)]}],
    view=True,
    jvp="linear",
)
def rot90_adjoint(g, ans, m, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes)


@adjoint(
    np.rollaxis,
    nondiff=("axis",),
    shapes={"3d": "(2,3,4),-"},
    params=[{"axis": [0, 2], "start": [1, 3]}, {"axis": [-1]}],
    view=True,
    jvp="linear",
)
def rollaxis_adjoint(g, ans, a, axis, start=0):
    return rollaxis_cotangent(g, a, axis, start)


# --------------------------------------------------------------------------- stacks and splits


@adjoint(np.atleast_1d, shapes=_ATLEAST_SHAPES, view=True, jvp="linear")
def atleast_1d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(np.atleast_2d, shapes=_ATLEAST_SHAPES, view=True, jvp="linear")
def atleast_2d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(np.atleast_3d, shapes=_ATLEAST_SHAPES, view=True, jvp="linear")
def atleast_3d_adjoint(g, ans, *arys):
    return atleast_cotangents(g, arys)


@adjoint(
    np.vstack,
    sequence=("tup",),
    shapes={
        "vectors": "[(3,),(3,)]",
        "mixed": "[(3,),(2,3)]",
        "matrices": "[(2,3),(1,3)]",
    },
    jvp="linear",
)
def vstack_adjoint(g, ans, tup, *, dtype=None, casting="same_kind"):
    return stacked_cotangents(g, tup, "vstack")


@adjoint(
    np.hstack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(2,)]", "matrices": "[(2,3),(2,1)]"},
    jvp="linear",
)
def hstack_adjoint(g, ans, tup, *, dtype=None, casting="same_kind"):
    return stacked_cotangents(g, tup, "hstack")


@adjoint(
    np.dstack,
    sequence=("tup",),
    shapes={
        "vectors": "[(3,),(3,)]",
        "matrices": "[(2,3),(2,3)]",
        "3d": "[(2,3,2),(2,3,1)]",
    },
    jvp="linear",
)
def dstack_adjoint(g, ans, tup):
    return stacked_cotangents(g, tup, "dstack")


@adjoint(
    np.column_stack,
    sequence=("tup",),
    shapes={"vectors": "[(3,),(3,)]", "mixed": "[(3,),(3,2)]"},
    jvp="linear",
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
    jvp="linear",
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
    jvp="linear",
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
    jvp="linear",
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
        jvp="linear",
    )
    def unstack_adjoint(g, ans, x, /, *, axis=0):
        return unstack_cotangent_pieces(g, x, axis)


# --------------------------------------------------------------------------- append and delete


@adjoint(
    np.append,
    shapes={"rows": "(3,4),(2,4)", "vectors": "(3,),(2,)"},
    params={"axis": [None, 0]},
    jvp="linear",
)
def append_adjoint(g, ans, arr, values, axis=None):
    return append_cotangents(g, arr, values, axis)


@adjoint(
    np.delete,
    nondiff=("obj",),
    shapes={"matrix": "(3,4),-"},
    params=[{"obj": [1], "axis": [None, 0]}, {"obj": [[0, 2]], "axis": [1]}],
    jvp="linear",
)
def delete_adjoint(g, ans, arr, obj, axis=None):
    return delete_cotangent(g, arr, obj, axis)


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
        {
            "pad_width": [((2, 1), (1, 2))],
            "mode": ["symmetric"],
            "reflect_type": ["odd"],
        },
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


@jvp_of(pad_adjoint)
def pad_jvp(ans, dots, b):
    # linear in the array, plus the fill values (constants: their tangent is 0); the
    # maximum, minimum and median modes pick values, with ties
    mode = b.get("mode", "constant")
    if not isinstance(mode, str) or mode in ("maximum", "minimum", "median"):
        raise MissingRuleError(
            f"pad(mode={mode!r}) has no tangent rule", construct="pad"
        )
    fills = {"constant": "constant_values", "linear_ramp": "end_values"}
    kw = {k: v for k, v in b.items() if k != "array"}
    if mode in fills:
        kw[fills[mode]] = 0
    return np.pad(_filled(b["array"], dots[0]), **kw)
