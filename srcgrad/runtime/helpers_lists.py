"""Helpers of the rules of srcgrad's own list and stack helpers (``rules/helpers_lists.py``):
each is linear in its first argument, and each pair is the other's adjoint, so that the
rules close over themselves at any order.
"""

from __future__ import annotations

from typing import Any, Sequence

from srcgrad.backend import namespace
from srcgrad.runtime.arrays import shape_only
from srcgrad.runtime.broadcasting import expand_to, unbroadcast
from srcgrad.runtime.containers import zeros_cotangent

__all__ = [
    "filled",
    "pad_cotangents",
    "picked_cotangent",
    "expand_sum",
    "expand_rows",
    "expand_each",
    "stack_kind",
    "gather_pieces",
]


def filled(gs: Sequence[Any], likes: Sequence[Any]) -> list:
    """The cotangents ``gs`` of a sequence as a list, zeros of the matching entry of
    ``likes`` where one is ``None`` (an unused entry)."""
    return [zeros_cotangent(x) if g is None else g for g, x in zip(gs, likes)]


def pad_cotangents(ct: Sequence[Any], likes: Sequence[Any]) -> list:
    """``ct`` followed by zeros of the entries of ``likes`` after its own (zeros too
    where an entry of ``ct`` is ``None``): the adjoint of ``drop_cotangents``."""
    gs = list(ct) + [None] * (len(likes) - len(ct))
    return filled(gs, likes)


def picked_cotangent(gs: Any, ans: Any, items: Any) -> Any:
    """The cotangent of the item ``max(items)``/``min(items)`` returned (``ans``, the
    first such item, as ``pick_cotangents`` picks it) read from the items' cotangents
    ``gs``; zeros like ``ans`` when none is that item: the adjoint of
    ``pick_cotangents``."""
    for i, x in enumerate(items):
        if x is ans:
            break
    else:
        i = next((k for k, x in enumerate(items) if bool(x == ans)), -1)
    d = gs[i] if i >= 0 else None
    return zeros_cotangent(ans) if d is None else d


def expand_sum(gs: Any, like: Any) -> Any:
    """``sum(expand_to(g, like) for g in gs)`` (``None`` entries are zero): the adjoint of
    ``sum_cotangents(g, gs)``, which reduces one cotangent to each of the items."""
    xp = namespace(like, *[g for g in gs if g is not None])
    total = xp.zeros_like(xp.asarray(like))
    for g in gs:
        if g is not None:
            total = total + expand_to(g, like)
    return total


def expand_rows(gs: Any, like: Any) -> Any:
    """Row ``i`` of the result is ``expand_to(gs[i], like[i])`` (zeros for ``None``): the
    adjoint of ``unstack_cotangent(g, gs)``, which reduces row ``i`` of ``g`` to item
    ``i``."""
    xp = namespace(like, *[g for g in gs if g is not None])
    rows = [
        xp.zeros_like(row) if g is None else expand_to(g, row) + xp.zeros_like(row)
        for g, row in zip(gs, like)
    ]
    return xp.stack(rows) if rows else xp.zeros_like(like)


def expand_each(gs: Sequence[Any], likes: Sequence[Any]) -> list:
    """``[expand_to(g, like) for g, like in zip(gs, likes)]`` (``None`` stays ``None``):
    the adjoint of ``broadcast_arrays_cotangents(g, gs)``, which reduces each ``g``."""
    return [None if g is None else expand_to(g, x) for g, x in zip(gs, likes)]


def stack_kind(gs: Sequence[Any], kind: str) -> Any:
    """``np.<kind>(gs)`` for ``kind`` one of ``vstack``, ``hstack``, ``dstack``,
    ``column_stack``: the adjoint of ``stacked_cotangents(g, gs, kind)``."""
    if kind not in ("vstack", "row_stack", "hstack", "dstack", "column_stack"):
        raise ValueError(f"not a stacking function: {kind!r}")
    xp = namespace(*gs)
    return getattr(xp, "vstack" if kind == "row_stack" else kind)(list(gs))


@shape_only(1)
def gather_pieces(g: Any, pieces: Sequence[Any], keys: Sequence[Any]) -> list:
    """``[g[key]`` reduced to the shape and dtype of its piece ``for`` each piece and key``]``:
    the adjoint of ``scatter_pieces(pieces, x, keys)``, which adds each piece into zeros of
    ``x`` at its key (a key that repeats a position gives each repeat ``g`` there)."""
    return [unbroadcast(g[key], p) for p, key in zip(pieces, keys)]
