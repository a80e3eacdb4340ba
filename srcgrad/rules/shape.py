"""Adjoint rules for shape manipulation: reshape, transpose, concatenate, split, tile, ...

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Conventions in this module:

* Signatures follow numpy's parameter names and positional order; parameters from the first
  unsupported one (``out``) on are keyword-only, and ``out=`` itself is not accepted.
  Non-array positional parameters (``shape``, ``axes``, ``indices_or_sections``, ``reps``,
  ``repeats``) are listed in ``nondiff``.
* ``shapes`` names the test cases; each is a string with one entry per positional parameter
  in signature order, as in ``binary.py``: ``(3,4)`` is an array operand's shape, ``-`` a
  nondiff positional parameter whose values come from the ``params`` grid (``reshape``'s
  ``shape``), and ``[(2,3),(4,3)]`` a sequence operand (``concatenate``'s ``arrays``).  Every
  combination in a ``params`` grid is valid for every case.
* ``np.reshape`` names its target ``shape`` (numpy >= 2.1) and used to call it
  ``newshape``; both names bind.  ``x.reshape(3, 4)`` reaches the rule as
  ``np.reshape(x, (3, 4))`` after normalisation.
* Most cotangents are views of ``g`` (the engine never writes into an adjoint in place).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, numpy_at_least, numpy_function
from srcgrad.runtime import (
    concatenate_pieces,
    inverse_permutation,
    mT,
    reshape_like,
    split_concatenated,
    unbroadcast,
    unrepeat,
    unstack_like,
    untile,
)


@adjoint(
    np.reshape,
    nondiff=("shape",),
    shapes={"3d": "(2,3,4),-", "matrix": "(4,6),-"},
    # numpy < 2.1 names the shape `newshape`
    params={
        "shape" if numpy_at_least("2.1.0") else "newshape": [(24,), (6, 4), (-1, 2, 3)],
        "order": ["C", "F", "A"],
    },
    view=True,
)
def reshape_adjoint(g, ans, a, shape=None, order="C", *, newshape=None, copy=None):
    return reshape_like(g, a, order=order)


@adjoint(
    np.ravel,
    shapes={"matrix": "(3,4)", "3d": "(2,3,4)"},
    params={"order": ["C", "F", "A", "K"]},
    view=True,
)
def ravel_adjoint(g, ans, a, order="C"):
    return reshape_like(g, a, order=order)


@adjoint(
    np.transpose,  # also np.permute_dims (the same function)
    shapes={"3d": "(2,3,4)"},
    params={"axes": [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)]},
    view=True,
)
def transpose_adjoint(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes))


@adjoint(
    numpy_function("matrix_transpose"), shapes={"matrix": "(3,4)", "stack": "(2,3,4)"}, view=True
)
def matrix_transpose_adjoint(g, ans, x):
    return mT(g)


@adjoint(
    np.swapaxes,
    nondiff=("axis1", "axis2"),
    shapes={"3d": "(2,3,4),-,-"},
    params={"axis1": [0, -1], "axis2": [1, 2]},
    view=True,
)
def swapaxes_adjoint(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2)


@adjoint(
    np.moveaxis,
    nondiff=("source", "destination"),
    shapes={"3d": "(2,3,4),-,-"},
    params={"source": [0, -1], "destination": [1, -1]},
    view=True,
)
def moveaxis_adjoint(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source)


@adjoint(
    np.expand_dims,
    nondiff=("axis",),
    shapes={"matrix": "(3,4),-"},
    params={"axis": [0, -1, (0, 2)]},
    view=True,
)
def expand_dims_adjoint(g, ans, a, axis):
    return reshape_like(g, a)


@adjoint(
    np.squeeze,
    shapes={"unit-axes": "(3,1,4,1)"},
    params={"axis": [None, 1, -1, (1, 3)]},
    view=True,
)
def squeeze_adjoint(g, ans, a, axis=None):
    return reshape_like(g, a)


@adjoint(
    np.broadcast_to,
    nondiff=("shape",),
    shapes={"column": "(3,1),-", "one": "(1,),-"},
    params={"shape": [(3, 4), (2, 3, 4), (2, 3, 1)]},
    view=True,
)
def broadcast_to_adjoint(g, ans, array, shape, subok=False):
    return unbroadcast(g, array)


@adjoint(
    np.concatenate,  # also np.concat (the same function)
    sequence=("arrays",),
    shapes={"three": "[(2,3),(2,3),(2,3)]", "one": "[(2,3)]"},
    params={"axis": [0, 1, -1, None]},
)
def concatenate_adjoint(g, ans, arrays, axis=0, *, dtype=None, casting="same_kind"):
    return split_concatenated(g, arrays, axis)


@adjoint(
    np.stack,
    sequence=("arrays",),
    shapes={"three": "[(2,3),(2,3),(2,3)]"},
    params={"axis": [0, 1, 2, -1]},
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
)
@adjoint(
    np.array_split,
    nondiff=("indices_or_sections",),
    multi_output=True,
    shapes={"uneven": "(7,5),-"},
    params={"indices_or_sections": [2, 3, [1, 4]], "axis": [0, 1, -1]},
    view=True,
)
def split_adjoint(g, ans, ary, indices_or_sections, axis=0):
    # g holds one cotangent per piece, None for a piece that was never used
    return concatenate_pieces(g, ary, indices_or_sections, axis)


@adjoint(
    np.tile,
    nondiff=("reps",),
    shapes={"matrix": "(2,3),-"},
    params={"reps": [2, (2, 1), (1, 3), (2, 1, 2)]},
)
def tile_adjoint(g, ans, A, reps):
    return untile(g, A, reps)


@adjoint(
    np.repeat,
    nondiff=("repeats",),
    shapes={"matrix": "(2,3),-"},
    params={"repeats": [2, [3]], "axis": [None, 0, 1, -1]},
)
def repeat_adjoint(g, ans, a, repeats, axis=None):
    return unrepeat(g, a, repeats, axis)
