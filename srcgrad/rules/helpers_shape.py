"""Rules of the cotangent helpers of gathers, scans, diagonals, pads, reshapes, tiles and
rolls that emitted code calls (higher-order derivatives through them).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Each helper is the adjoint
``J^T`` of a forward primitive that is linear in its array (``np.take``, ``np.cumsum``,
``np.tile`` ...), applied to the cotangent ``ct`` (the helper's own first parameter,
``g``); the operand it also receives gives only a shape.  The adjoint of ``J^T`` is ``J``:
each rule calls the forward primitive on ``g`` with the forward's parameters.

``cumprod_cotangent(ct, a, cp) = revcumsum(ct cp) / a`` along the axis (``cp``, the
cumulative product, taken as an operand of its own) is the exception: its rule divides
by ``a``, so an ``a`` with zeros, where the helper itself stays exact, is refused.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, numpy_function
from srcgrad.rules.elementwise import _away_from_zero
from srcgrad.runtime import (
    atleast_cotangents,
    atleast_part,
    filled,
    average_cotangent,
    cumprod_cotangent,
    require_nonzero,
    reduce_like,
    trapezoid_cotangent,
    compress_cotangent,
    delete_cotangent,
    linspace_cotangents,
    nan_to_num_cotangent,
    zeros_if_none,
    cumsum_cotangent,
    cumulative_cotangent,
    diag_cotangent,
    diagflat_cotangent,
    diagonal_cotangent,
    diff_cotangent,
    pad_cotangent,
    reshape_like,
    rollaxis_cotangent,
    take_along_axis_cotangent,
    take_cotangent,
    trace_cotangent,
    unbroadcast,
    unrepeat,
    unroll,
    untile,
)


def _repeated_rows(rng, shape):
    """Integers in [0, 5) whose last entry repeats the first (indices with a repeat)."""
    idx = rng.integers(0, 5, size=shape)
    idx.flat[-1] = idx.flat[0]
    return idx


def _below_three(rng, shape):
    """Integers in [0, 3)."""
    return rng.integers(0, 3, size=shape)


@adjoint(
    take_cotangent,
    python_floats=("ct",),
    nondiff=("a", "indices"),
    shape_only=("a",),
    shapes={
        "flat": "(3,),(3,4),(3,)",
        "rows": ("(3,4),(5,4),(3,)", {"axis": 0}),
        "wrap": (
            "(2,3),(2,4),(3,)",
            {"axis": 1, "mode": "wrap"},
        ),
    },
    domain={"indices": _repeated_rows},
)
def take_cotangent_adjoint(g, ans, ct, a, indices, axis=None, mode="raise"):
    return unbroadcast(np.take(g, indices, axis=axis, mode=mode), ct)


@adjoint(
    take_along_axis_cotangent,
    nondiff=("arr", "indices"),
    shape_only=("arr",),
    shapes={
        "rows": ("(2,4),(3,4),(2,4)", {"axis": 0}),
        "last": ("(3,2),(3,4),(3,2)", {"axis": -1}),
    },
    domain={"indices": _below_three},
)
def take_along_axis_cotangent_adjoint(g, ans, ct, arr, indices, axis=-1):
    return unbroadcast(np.take_along_axis(g, indices, axis=axis), ct)


@adjoint(
    cumsum_cotangent,
    python_floats=("ct",),
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "flat": "(12,),(3,4)",
        "rows": ("(3,4),(3,4)", {"axis": 0}),
        "last": ("(3,4),(3,4)", {"axis": -1}),
    },
)
def cumsum_cotangent_adjoint(g, ans, ct, a, axis=None):
    return unbroadcast(np.cumsum(g, axis=axis), ct)


@adjoint(
    cumprod_cotangent,
    python_floats=(),
    domain=_away_from_zero,
    shapes={
        "flat": "(12,),(3,4),(12,)",
        "rows": ("(3,4),(3,4),(3,4)", {"axis": 0}),
        "last": ("(3,4),(3,4),(3,4)", {"axis": -1}),
    },
)
def cumprod_cotangent_adjoint(g, ans, ct, a, cp, axis=None):
    q = g / require_nonzero(a, "cumprod")
    c = np.cumsum(q, axis=axis)
    return unbroadcast(c * cp, ct), -ans * q, unbroadcast(c * ct, cp)


@adjoint(
    diff_cotangent,
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "last": "(3,3),(3,4)",
        "twice": ("(3,2),(3,4)", {"n": 2}),
        "rows": ("(2,4),(3,4)", {"axis": 0}),
    },
    accepts={
        "prepend": ((None,), "pass no prepend, or concatenate it before np.diff"),
        "append": ((None,), "pass no append, or concatenate it before np.diff"),
    },
)
def diff_cotangent_adjoint(g, ans, ct, a, n=1, axis=-1, prepend=None, append=None):
    return unbroadcast(np.diff(g, n=n, axis=axis), ct)


@adjoint(
    diag_cotangent,
    nondiff=("v",),
    shape_only=("v",),
    shapes={
        "build": "(4,4),(4,)",
        "build-k": ("(5,5),(4,)", {"k": 1}),
        "extract": "(3,),(3,4)",
        "extract-k": ("(2,),(3,4)", {"k": -1}),
    },
    view=True,
)
def diag_cotangent_adjoint(g, ans, ct, v, k=0):
    return unbroadcast(np.diag(g, k), ct)


@adjoint(
    diagflat_cotangent,
    nondiff=("v",),
    shape_only=("v",),
    shapes={"flat": "(4,4),(2,2)", "offset": ("(5,5),(4,)", {"k": -1})},
    view=True,
)
def diagflat_cotangent_adjoint(g, ans, ct, v, k=0):
    return unbroadcast(np.diagflat(g, k), ct)


@adjoint(
    diagonal_cotangent,
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "matrix": "(3,),(3,4)",
        "offset": ("(3,),(3,4)", {"offset": 1}),
        "axes": ("(2,2),(2,3,4)", {"axis1": 1, "axis2": 2, "offset": -1}),
    },
)
def diagonal_cotangent_adjoint(g, ans, ct, a, offset=0, axis1=0, axis2=1):
    return unbroadcast(np.diagonal(g, offset, axis1, axis2), ct)


@adjoint(
    trace_cotangent,
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "matrix": "(),(3,4)",
        "float": "s,(3,3)",
        "axes": ("(4,),(3,4,3)", {"axis1": 0, "axis2": 2, "offset": 1}),
    },
)
def trace_cotangent_adjoint(g, ans, ct, a, offset=0, axis1=0, axis2=1):
    return unbroadcast(np.trace(g, offset, axis1, axis2), ct)


_LINEAR_PADS = ("constant", "edge", "reflect", "symmetric", "wrap")


@adjoint(
    pad_cotangent,
    python_floats=("ct",),
    nondiff=("array", "pad_width"),
    shape_only=("array",),
    shapes={
        "both": ("(5,7),(3,4),-", {"pad_width": ((1, 1), (2, 1))}),
        "one": ("(5,),(3,),-", {"pad_width": 1}),
    },
    params={"mode": list(_LINEAR_PADS)},
    accepts={
        "mode": (
            _LINEAR_PADS,
            "a derivative of this order through np.pad is written for the modes that "
            "copy entries (constant, edge, reflect, symmetric, wrap)",
        ),
        "stat_length": ((None,), "pass no stat_length"),
        "reflect_type": (("even",), "use the default reflect_type='even'"),
    },
    view=True,
)
def pad_cotangent_adjoint(
    g, ans, ct, array, pad_width, mode="constant", stat_length=None, reflect_type="even"
):
    return unbroadcast(np.pad(g, pad_width, mode=mode), ct)


@adjoint(
    reshape_like,
    nondiff=("a",),
    shape_only=("a",),
    shapes={"rows": "(12,),(3,4)", "matrix": "(2,6),(3,4)", "float": "(1,),s"},
    params={"order": ["C", "F"]},
    accepts={"order": (("C", "F"), "reshape with order='C' or order='F'")},
    view=True,
)
def reshape_like_adjoint(g, ans, ct, a, order="C"):
    return reshape_like(g, ct, order)


@adjoint(
    rollaxis_cotangent,
    nondiff=("a", "axis"),
    shape_only=("a",),
    shapes={
        "front": ("(4,2,3),(2,3,4),-", {"axis": 2}),
        "start": ("(3,2,4),(2,3,4),-", {"axis": 1, "start": 0}),
        "back": ("(3,4,2),(2,3,4),-", {"axis": 0, "start": 3}),
    },
    view=True,
)
def rollaxis_cotangent_adjoint(g, ans, ct, a, axis, start=0):
    return np.rollaxis(g, axis, start)


@adjoint(
    untile,
    nondiff=("A", "reps"),
    shape_only=("A",),
    shapes={
        "twice": ("(6,4),(3,4),-", {"reps": (2, 1)}),
        "grow": ("(2,3,8),(3,4),-", {"reps": (2, 1, 2)}),
        "int": ("(8,),(4,),-", {"reps": 2}),
    },
)
def untile_adjoint(g, ans, ct, A, reps):
    return unbroadcast(np.tile(g, reps), ct)


@adjoint(
    unrepeat,
    nondiff=("a", "repeats"),
    shape_only=("a",),
    shapes={
        "flat": ("(24,),(3,4),-", {"repeats": 2}),
        "rows": ("(6,4),(3,4),-", {"repeats": [1, 3, 2], "axis": 0}),
        "columns": ("(3,8),(3,4),-", {"repeats": 2, "axis": 1}),
    },
)
def unrepeat_adjoint(g, ans, ct, a, repeats, axis=None):
    return unbroadcast(np.repeat(g, repeats, axis=axis), ct)


@adjoint(
    unroll,
    nondiff=("shift",),
    shapes={
        "flat": ("(3,4),-", {"shift": 5}),
        "axes": ("(3,4),-", {"shift": (1, -2), "axis": (0, 1)}),
    },
)
def unroll_adjoint(g, ans, ct, shift, axis=None):
    return np.roll(g, shift, axis=axis)


def _mask(rng, shape):
    """Booleans: the first and the last True, the others False."""
    out = np.zeros(shape, dtype=bool)
    out.flat[0] = out.flat[-1] = True
    return out


@adjoint(
    compress_cotangent,
    nondiff=("condition", "a"),
    shape_only=("a",),
    shapes={
        "rows": ("(2,4),(3,),(3,4)", {"axis": 0}),
        "flat": "(2,),(12,),(3,4)",
    },
    domain={"condition": _mask},
)
def compress_cotangent_adjoint(g, ans, ct, condition, a, axis=None):
    return unbroadcast(np.compress(condition, g, axis=axis), ct)


@adjoint(
    delete_cotangent,
    nondiff=("arr", "obj"),
    shape_only=("arr",),
    shapes={
        "rows": ("(2,4),(3,4),-", {"obj": 1, "axis": 0}),
        "flat": ("(9,),(3,4),-", {"obj": [0, 5, 11]}),
        "slice": ("(3,2),(3,4),-", {"obj": slice(1, 3), "axis": 1}),
    },
)
def delete_cotangent_adjoint(g, ans, ct, arr, obj, axis=None):
    return unbroadcast(np.delete(g, obj, axis=axis), ct)


def _with_nonfinite(rng, shape):
    """Uniform in (-2, 2) with a nan and an inf among them."""
    out = rng.uniform(-2.0, 2.0, size=shape)
    out.flat[0] = np.nan
    out.flat[-1] = np.inf
    return out


@adjoint(
    nan_to_num_cotangent,
    python_floats=(),
    nondiff=("x",),
    shape_only=("x",),  # where it is finite: constant almost everywhere
    shapes={"matrix": "(3,4),(3,4)"},
    domain={"x": _with_nonfinite},
)
def nan_to_num_cotangent_adjoint(g, ans, ct, x):
    return nan_to_num_cotangent(g, x)


@adjoint(
    linspace_cotangents,
    multi_output=True,
    nondiff=("start", "stop"),
    shape_only=("start", "stop"),
    shapes={
        "floats": "(5,),s,s",
        "arrays": ("(3,4),(4,),(4,)", {"num": 3}),
        "open": ("(3,4),(3,),(3,)", {"num": 4, "endpoint": False, "axis": 1}),
    },
    params={"num": [5]},
    accepts={"retstep": ((False,), "linspace(..., retstep=False)")},
)
def linspace_cotangents_adjoint(
    g, ans, ct, start, stop, num=50, endpoint=True, axis=0, retstep=False
):
    first = zeros_if_none(g[0], ans[0])
    last = zeros_if_none(g[1], ans[1])
    return unbroadcast(np.linspace(first, last, num, endpoint, axis=axis), ct)


# weighted means along an axis: linear in ct, with a constant weight per entry


@adjoint(
    average_cotangent,
    nondiff=("a",),
    shape_only=("a",),
    shapes={
        "all": "(),(3,4)",
        "rows": ("(3,),(3,4)", {"axis": 1}),
        "weights": ("(4,),(3,4)", {"axis": 0, "weights": [1.0, 2.0, 0.5]}),
        "keep": ("(1,4),(3,4)", {"axis": 0, "keepdims": True}),
    },
    accepts={"returned": ((False,), "np.average(..., returned=False)")},
)
def average_cotangent_adjoint(
    g, ans, ct, a, axis=None, weights=None, returned=False, keepdims=False
):
    per = average_cotangent(np.ones_like(ct), a, axis, weights, returned, keepdims)
    return unbroadcast(reduce_like(g * per, ct, axis, keepdims), ct)


@adjoint(
    trapezoid_cotangent,
    python_floats=("y",),
    nondiff=("y",),
    shape_only=("y",),
    shapes={
        "last": "(3,),(3,4)",
        "rows": ("(4,),(3,4)", {"axis": 0, "dx": 0.5}),
        "grid": ("(3,),(3,4)", {"x": [0.0, 0.5, 1.5, 1.75]}),
    },
)
def trapezoid_cotangent_adjoint(g, ans, ct, y, x=None, dx=1.0, axis=-1):
    per = trapezoid_cotangent(np.ones_like(ct), y, x, dx, axis)
    return unbroadcast(reduce_like(g * per, ct, axis), ct)


if numpy_function("cumulative_sum") is not None:  # numpy >= 2.1

    @adjoint(
        cumulative_cotangent,
        python_floats=(),
        nondiff=("x", "result", "axis", "include_initial", "kind"),
        shape_only=("x", "result"),
        shapes={
            "vector": (
                "(5,),(5,),(5,),-,-,-",
                {"axis": None, "include_initial": False},
            ),
            "initial": (
                "(6,),(5,),(6,),-,-,-",
                {"axis": None, "include_initial": True},
            ),
            "rows": ("(4,4),(3,4),(4,4),-,-,-", {"axis": 0, "include_initial": True}),
            "last": ("(3,4),(3,4),(3,4),-,-,-", {"axis": -1, "include_initial": False}),
        },
        params={"kind": ["sum"]},
        accepts={
            "kind": (
                ("sum",),
                "a derivative of this order through np.cumulative_prod is not written "
                "yet: use np.cumprod",
            )
        },
    )
    def cumulative_cotangent_adjoint(
        g, ans, ct, x, result, axis, include_initial, kind
    ):
        # a cumulative sum's cotangent sums from the end: its adjoint sums from the start
        return unbroadcast(
            np.cumulative_sum(g, axis=axis, include_initial=include_initial), ct
        )


# atleast_cotangents(ct, arys) reshapes the cotangent of one array back to its operand:
# its adjoint reshapes back (atleast_part), and atleast_part's is atleast_cotangents


@adjoint(
    atleast_cotangents,
    python_floats=(),
    nondiff=("arys",),
    shape_only=("arys",),
    sequence=("arys",),
    multi_output=True,
    shapes={"vector": "(1,4),[(4,)]", "matrix": "(3,4,1),[(3,4)]", "float": "(1,),[s]"},
    view=True,
)
def atleast_cotangents_adjoint(g, ans, ct, arys):
    return atleast_part(filled(g, ans), ct)


@adjoint(
    atleast_part,
    python_floats=(),
    nondiff=("ct",),
    shape_only=("ct",),
    sequence=("h",),
    shapes={"vector": "[(4,)],(1,4)", "matrix": "[(3,4)],(3,4,1)"},
    view=True,
)
def atleast_part_adjoint(g, ans, h, ct):
    return atleast_cotangents(g, h)
