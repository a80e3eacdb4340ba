"""Rules of the runtime helpers that emitted code calls for lists, loops and the pieces of
a split or a stack (higher-order derivatives through them).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Each helper is linear in the
cotangent it maps (its first operand); its rule is the adjoint of that linear map, the
forward primitive's own map (the adjoint of cutting a cotangent into pieces is joining
them).  The helper's own first parameter is named ``g``: here it is ``ct`` (``g`` is the
cotangent of the helper's result).  The helpers these rules call that emitted code did
not call before (``filled``, ``expand_sum``, ``expand_rows``, ``expand_each``,
``stack_kind``, ``gather_pieces``, ``pad_cotangents``, ``picked_cotangent``) have rules
here too.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint, alias
from srcgrad.runtime import (
    choose_cotangents,
    reduceat_cotangent,
    select_cotangents,
    broadcast_arrays_cotangents,
    expand_each,
    add_at,
    add_cotangents,
    add_list_cotangents,
    append_cotangents,
    assign_at,
    cast_like,
    concatenate_pieces,
    expand_rows,
    expand_sum,
    expand_to,
    filled,
    gather_at,
    item_cotangent,
    drop_cotangents,
    pad_cotangents,
    pick_cotangents,
    picked_cotangent,
    list_cotangent_at,
    split_concatenated,
    stack_kind,
    stacked_cotangents,
    sum_cotangents,
    unbroadcast,
    unstack_cotangent,
    unstack_cotangent_pieces,
    unstack_like,
    zero_at,
    zeros_if_none,
    gather_pieces,
    scatter_pieces,
)

# --------------------------------------------------------------------------- subscripts


def _repeated_rows(rng, shape):
    """Integers in [0, 5) whose last entry repeats the first (indices with a repeat)."""
    idx = rng.integers(0, 5, size=shape)
    idx.flat[-1] = idx.flat[0]
    return idx


def _add_at_on_copy(d, key, g):
    """``add_at`` on a copy of ``d``: what ``add_at`` computes, without the in-place write
    (the primitive its rule is checked on; emitted code calls ``add_at`` itself, on an
    accumulator nothing else sees)."""
    return add_at(d.copy(), key, g)


@adjoint(
    _add_at_on_copy,
    name="add_at",
    nondiff=("key",),
    shapes={
        "row": ("(5,4),-,(4,)", {"key": 1}),
        "rows": ("(5,4),-,(2,4)", {"key": slice(1, 3)}),
        "repeated": "(5,4),(3,),(3,4)",
    },
    domain={"key": _repeated_rows},
    array_operands=False,
)
def add_at_adjoint(g, ans, d, key, ct):
    # d[key] += ct in place: d's cotangent passes, ct's is g at key (repeats each get it)
    return g, unbroadcast(g[key], ct)


alias(add_at, add_at_adjoint.rule)


@adjoint(
    zero_at,
    nondiff=("key",),
    shapes={"rows": "(5,4),-"},
    params={"key": [slice(1, 3), (Ellipsis, 0)]},
)
def zero_at_adjoint(g, ans, ct, key):
    return zero_at(g, key)


@adjoint(
    gather_at,
    nondiff=("key", "v"),
    shape_only=("v",),
    shapes={
        "rows": ("(5,4),-,(2,4)", {"key": slice(1, 3)}),
        "broadcast": ("(5,4),-,(4,)", {"key": slice(0, 2)}),
        "repeated": "(5,4),(3,),(3,4)",
    },
    domain={"key": _repeated_rows},
    view=True,
)
def gather_at_adjoint(g, ans, ct, key, v):
    # assigning back keeps the last of repeated positions, as gather_at's mask does
    return assign_at(np.zeros_like(ct), key, expand_to(g, ct[key]))


@adjoint(
    zeros_if_none,
    nondiff=("like",),
    shape_only=("like",),
    shapes={"same": "(3,4),(3,4)"},
    view=True,
)
def zeros_if_none_adjoint(g, ans, ct, like):
    return g


_COLUMNS = [(slice(None), slice(0, 2)), (slice(None), slice(2, 3)), (slice(None), 3)]
_PIECES = {
    # slices that tile the columns, given out of order (joined, not added)
    "tiled": (
        "[(3,1),(3,2),(3,1)],(3,4),-",
        {"keys": [(slice(None), slice(3, 4)), *_COLUMNS[:2]]},
    ),
    # overlapping keys, a broadcast piece, an int, a repeated advanced index
    "overlap": (
        "[(2,4),(1,4),(3,),(3,4)],(3,4),-",
        {"keys": [slice(0, 2), slice(1, 3), _COLUMNS[2], [0, 2, 0]]},
    ),
}


@adjoint(
    scatter_pieces,
    python_floats=(),
    nondiff=("x", "keys"),
    shape_only=("x",),
    sequence=("pieces",),
    shapes=_PIECES,
)
def scatter_pieces_adjoint(g, ans, pieces, x, keys):
    # the sum of scatter_to(piece, x, key): each piece's cotangent is g at its key
    return gather_pieces(g, pieces, keys)


@adjoint(
    gather_pieces,
    python_floats=(),
    nondiff=("pieces", "keys"),
    shape_only=("pieces",),
    multi_output=True,
    shapes={
        "tiled": ("(3,4),[(3,2),(3,1),(3,)],-", {"keys": _COLUMNS}),
        "overlap": (
            "(3,4),[(2,4),(1,4),(3,),(3,4)],-",
            {"keys": [slice(0, 2), slice(1, 3), _COLUMNS[2], [0, 2, 0]]},
        ),
    },
    view=True,
)
def gather_pieces_adjoint(g, ans, ct, pieces, keys):
    return scatter_pieces(filled(g, ans), ct, keys)


# --------------------------------------------------------------------------- list cotangents


@adjoint(
    add_cotangents,
    python_floats=(),
    shapes={"arrays": "(3,4),(3,4)", "float": "s,()"},
    view=True,
)
def add_cotangents_adjoint(g, ans, a, b):
    # the two cotangents of one value have its structure: each gets the sum's cotangent
    # (lists too: add_list_cotangents's cases check them), in each one's dtype (numpy 1.26
    # gives a Python float plus a float32 0-d array in float64)
    return cast_like(g, a), cast_like(g, b)


@adjoint(
    add_list_cotangents,
    python_floats=(),
    sequence=("a", "b"),
    multi_output=True,
    shapes={"lists": "[(3,),(2,2)],[(3,),(2,2)]"},
    view=True,
)
def add_list_cotangents_adjoint(g, ans, a, b):
    return filled(g, a), filled(g, b)


@adjoint(
    list_cotangent_at,
    python_floats=("items",),
    nondiff=("items", "key"),
    shape_only=("items",),
    sequence=("d_list",),
    multi_output=True,
    shapes={"entry": "[(3,),(2,2),(3,)],-,-,(3,)"},
    params={"items": [[0.0, 0.0, 0.0]], "key": [0, -1]},
    view=True,
)
def list_cotangent_at_adjoint(g, ans, d_list, items, key, ct):
    return filled(g, d_list), zeros_if_none(g[key], ct)


@adjoint(
    item_cotangent,
    nondiff=("i", "like"),
    shape_only=("like",),
    sequence=("d_list",),
    shapes={"entry": "[(3,),(2,2),(3,)],-,(2,2)"},
    params={"i": [1]},
    view=True,
)
def item_cotangent_adjoint(g, ans, d_list, i, like):
    return list_cotangent_at(None, d_list, i, g)


@adjoint(
    drop_cotangents,
    python_floats=(),
    nondiff=("count",),
    sequence=("d_list",),
    multi_output=True,
    shapes={"entries": "[(3,),(2,2),(3,)],-"},
    params={"count": [0, 1, 2]},
    view=True,
)
def drop_cotangents_adjoint(g, ans, d_list, count):
    # the dropped entries (an append undone) get nothing back
    return pad_cotangents(g, d_list)


@adjoint(
    pad_cotangents,
    python_floats=(),
    nondiff=("likes",),
    shape_only=("likes",),
    sequence=("ct",),
    multi_output=True,
    shapes={"entries": "[(3,),(2,2)],[(3,),(2,2),(3,)]"},
    view=True,
)
def pad_cotangents_adjoint(g, ans, ct, likes):
    return drop_cotangents(filled(g, likes), len(likes) - len(ct))


_PICK = {
    "params": {"pick": [2.0], "items": [[1.0, 2.0, 2.0]]},
    "shapes": {"list": "s,-,-"},
}


@adjoint(
    pick_cotangents,
    python_floats=(),
    nondiff=("pick", "items"),
    multi_output=True,
    shapes=_PICK["shapes"],
    params=_PICK["params"],
)
def pick_cotangents_adjoint(g, ans, ct, pick, items):
    return picked_cotangent(g, pick, items)


@adjoint(
    picked_cotangent,
    python_floats=(),
    nondiff=("pick", "items"),
    sequence=("gs",),
    shapes={"list": "[(),(),()],-,-"},
    params=_PICK["params"],
    view=True,
)
def picked_cotangent_adjoint(g, ans, gs, pick, items):
    return pick_cotangents(g, pick, items)


@adjoint(
    filled,
    nondiff=("likes",),
    shape_only=("likes",),
    sequence=("gs",),
    multi_output=True,
    shapes={"lists": "[(3,),(2,2)],[(3,),(2,2)]"},
    view=True,
)
def filled_adjoint(g, ans, gs, likes):
    return filled(g, gs)


@adjoint(
    sum_cotangents,
    nondiff=("iterable",),
    shape_only=("iterable",),
    multi_output=True,
    shapes={"items": "(3,4),[(3,4),(4,),(1,4)]"},
    view=True,
)
def sum_cotangents_adjoint(g, ans, ct, iterable):
    return expand_sum(g, ct)


@adjoint(
    expand_sum,
    python_floats=("gs",),
    nondiff=("like",),
    shape_only=("like",),
    sequence=("gs",),
    shapes={"items": "[(3,4),(4,)],(3,4)"},
)
def expand_sum_adjoint(g, ans, gs, like):
    return sum_cotangents(g, gs)


@adjoint(
    unstack_cotangent,
    nondiff=("items",),
    shape_only=("items",),
    multi_output=True,
    shapes={"items": "(3,4),[(4,),(4,),(1,)]"},
    view=True,
)
def unstack_cotangent_adjoint(g, ans, ct, items):
    return expand_rows(g, ct)


@adjoint(
    expand_rows,
    nondiff=("like",),
    shape_only=("like",),
    sequence=("gs",),
    shapes={"items": "[(4,),(1,),(4,)],(3,4)"},
)
def expand_rows_adjoint(g, ans, gs, like):
    return unstack_cotangent(g, gs)


# --------------------------------------------------------------------------- pieces


@adjoint(
    split_concatenated,
    python_floats=("ct",),
    nondiff=("arrays",),
    shape_only=("arrays",),
    multi_output=True,
    shapes={
        "rows": "(5,4),[(2,4),(3,4)]",
        "columns": ("(3,5),[(3,2),(3,3)]", {"axis": 1}),
        "flat": ("(14,),[(2,4),(2,3)]", {"axis": None}),
    },
    view=True,
)
def split_concatenated_adjoint(g, ans, ct, arrays, axis=0):
    return cast_like(np.concatenate(filled(g, ans), axis=axis), ct)


@adjoint(
    unstack_like,
    nondiff=("arrays",),
    shape_only=("arrays",),
    multi_output=True,
    shapes={
        "rows": "(2,4),[(4,),(4,)]",
        "columns": ("(4,3),[(4,),(4,),(4,)]", {"axis": 1}),
    },
    view=True,
)
def unstack_like_adjoint(g, ans, ct, arrays, axis=0):
    return cast_like(np.stack(filled(g, ans), axis=axis), ct)


@adjoint(
    concatenate_pieces,
    nondiff=("ary", "indices_or_sections"),
    shape_only=("ary",),
    sequence=("pieces",),
    shapes={
        "sections": ("[(2,4),(2,4),(2,4)],(6,4),-", {"indices_or_sections": 3}),
        "indices": ("[(1,3),(3,3),(2,3)],(6,3),-", {"indices_or_sections": [1, 4]}),
        "columns": (
            "[(3,1),(3,4)],(3,5),-",
            {"indices_or_sections": [1], "axis": 1},
        ),
    },
)
def concatenate_pieces_adjoint(g, ans, pieces, ary, indices_or_sections, axis=0):
    return np.array_split(g, indices_or_sections, axis=axis)


@adjoint(
    unstack_cotangent_pieces,
    nondiff=("x",),
    shape_only=("x",),
    sequence=("pieces",),
    shapes={
        "rows": "[(4,),(4,)],(2,4)",
        "columns": ("[(4,),(4,),(4,)],(4,3)", {"axis": 1}),
    },
)
def unstack_cotangent_pieces_adjoint(g, ans, pieces, x, axis=0):
    return unstack_like(g, pieces, axis)


@adjoint(
    append_cotangents,
    python_floats=("ct", "arr"),
    nondiff=("arr", "values"),
    shape_only=("arr", "values"),
    multi_output=True,
    shapes={
        "flat": "(7,),(2,2),(3,)",
        "rows": ("(5,3),(2,3),(3,3)", {"axis": 0}),
        "float": "(5,),(4,),s",
    },
    view=True,
)
def append_cotangents_adjoint(g, ans, ct, arr, values, axis=None):
    first = zeros_if_none(g[0], ans[0])
    second = zeros_if_none(g[1], ans[1])
    return cast_like(np.append(first, second, axis=axis), ct)


@adjoint(
    stacked_cotangents,
    python_floats=("ct",),
    nondiff=("tup", "kind"),
    shape_only=("tup",),
    multi_output=True,
    shapes={
        "vstack": ("(3,4),[(4,),(2,4)]", {"kind": "vstack"}),
        "hstack": ("(3,5),[(3,2),(3,3)]", {"kind": "hstack"}),
        "hstack-1d": ("(5,),[(2,),(3,)]", {"kind": "hstack"}),
        "dstack": ("(3,4,2),[(3,4),(3,4,1)]", {"kind": "dstack"}),
        "column_stack": ("(4,3),[(4,),(4,2)]", {"kind": "column_stack"}),
    },
    view=True,
)
def stacked_cotangents_adjoint(g, ans, ct, tup, kind):
    return cast_like(stack_kind(filled(g, ans), kind), ct)


@adjoint(
    stack_kind,
    nondiff=("kind",),
    sequence=("gs",),
    shapes={
        "vstack": ("[(4,),(2,4)]", {"kind": "vstack"}),
        "hstack": ("[(3,2),(3,3)]", {"kind": "hstack"}),
        "dstack": ("[(3,4),(3,4,1)]", {"kind": "dstack"}),
        "column_stack": ("[(4,),(4,2)]", {"kind": "column_stack"}),
    },
)
def stack_kind_adjoint(g, ans, gs, kind):
    return stacked_cotangents(g, gs, kind)


@adjoint(
    broadcast_arrays_cotangents,
    nondiff=("args",),
    shape_only=("args",),
    sequence=("parts",),
    multi_output=True,
    shapes={
        "two": "[(3,4),(3,4)],[(3,1),(4,)]",
        "three": "[(2,3),(2,3),(2,3)],[(),(3,),(2,1)]",
    },
    view=True,
)
def broadcast_arrays_cotangents_adjoint(g, ans, parts, args):
    return expand_each(g, parts)


@adjoint(
    expand_each,
    python_floats=("gs",),
    nondiff=("likes",),
    shape_only=("likes",),
    sequence=("gs",),
    multi_output=True,
    shapes={"two": "[(3,1),(4,)],[(3,4),(3,4)]"},
    view=True,
)
def expand_each_adjoint(g, ans, gs, likes):
    return broadcast_arrays_cotangents(g, gs)


# --------------------------------------------------------------------------- choices
# each choice's cotangent is ct where it was chosen: the adjoint chooses among the
# choices' cotangents the same way


def _conditions(rng, shape):
    """Random booleans."""
    return rng.uniform(size=shape) < 0.5


@adjoint(
    select_cotangents,
    nondiff=("condlist", "choicelist"),
    shape_only=("choicelist",),
    multi_output=True,
    shapes={
        "two": "(3,4),[(3,4),(3,4)],[(3,4),(4,)]",
        "three": "(3,4),[(3,4),(4,),(3,1)],[(3,4),(3,4),()]",
    },
    domain={"condlist": _conditions},
)
def select_cotangents_adjoint(g, ans, ct, condlist, choicelist):
    return unbroadcast(np.select(condlist, filled(g, ans)), ct)


def _choice_index(rng, shape):
    """Integers in [0, 3)."""
    return rng.integers(0, 3, size=shape)


@adjoint(
    choose_cotangents,
    nondiff=("a", "choices"),
    shape_only=("choices",),
    multi_output=True,
    shapes={"three": "(3,4),(3,4),[(3,4),(4,),(3,1)]"},
    domain={"a": _choice_index},
)
def choose_cotangents_adjoint(g, ans, ct, a, choices, mode="raise"):
    return unbroadcast(np.choose(a, filled(g, ans), mode=mode), ct)


@adjoint(
    reduceat_cotangent,
    nondiff=("a", "indices", "axis"),
    shape_only=("a",),
    shapes={
        "rows": ("(4,3),(7,3),-", {"indices": [0, 2, 2, 5]}),
        "columns": ("(3,3),(3,7),-", {"indices": [0, 4, 1], "axis": 1}),
    },
    jvp="linear",
)
def reduceat_cotangent_adjoint(g, ans, ct, a, indices, axis=0):
    # linear in ct, with np.add.reduceat's membership matrix transposed: its adjoint
    return np.add.reduceat(g, np.asarray(indices), axis=axis)
