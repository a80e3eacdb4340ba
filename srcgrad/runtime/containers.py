"""Cotangents of containers in emitted code: ``tree_cotangent`` gives a dict/list/tuple/
NamedTuple argument its gradient of the same structure (``tree_parts``, its adjoint, reads
the leaves back); the list helpers undo ``append``/
``extend`` and index list cotangents; ``sum_cotangents``, ``unstack_cotangent`` and
``pick_cotangents`` serve the container rules (``rules/containers.py``).
"""

from __future__ import annotations

from typing import Any, Sequence

from srcgrad import tree
from srcgrad.backend import namespace
from srcgrad.runtime.broadcasting import unbroadcast
from srcgrad.runtime.arrays import ShapeDtype, shape_only

__all__ = [
    "tree_cotangent",
    "tree_parts",
    "sum_shared",
    "zeros_cotangent",
    "step_zeros",
    "is_float_leaf",
    "drop_cotangents",
    "list_length",
    "add_list_cotangents",
    "add_cotangents",
    "list_cotangent_at",
    "sum_cotangents",
    "unstack_cotangent",
    "pick_cotangents",
    "item_cotangent",
]


def is_float_leaf(x: Any, with_complex: bool = True) -> bool:
    """True for a floating array or a Python/numpy float, and, unless ``with_complex`` is
    False, for a complex one."""
    if isinstance(x, bool):
        return False
    if isinstance(x, float) or (with_complex and isinstance(x, complex)):
        return True
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return False
    kind = getattr(dtype, "kind", "")
    return kind in "fc" if with_complex else kind == "f"


def zeros_cotangent(x: Any) -> Any:
    """The gradient of an argument that never reaches the output: zeros of its shape."""
    if isinstance(x, (float, complex)) and not hasattr(x, "dtype"):
        return type(x)(0)
    if isinstance(x, ShapeDtype):  # a shape kept for the backward pass, not a value
        return None
    if hasattr(x, "shape"):
        return namespace(x).zeros_like(x)
    if tree.is_node(x):
        return tree_cotangent(x, (), [])
    return None


@shape_only(0)
def step_zeros(like: Any) -> Any:
    """The zero cotangent a backward loop gives a name the loop binds but that had no value
    before it, at the end of one step, for the step before: ``like`` is the name's value
    when the forward step began (the step before's value), kept as its shape and dtype
    (a :class:`ShapeDtype`), so that the zeros have that step's shape even where the shape
    changes from step to step.  None (no value yet: the first step) gives None."""
    if isinstance(like, ShapeDtype):
        return namespace(like).zeros(like.shape, dtype=like.dtype)
    return zeros_cotangent(like)


def tree_cotangent(x: Any, paths: Sequence[tuple[Any, ...]], values: Sequence[Any]) -> Any:
    """The gradient of a container argument, with the structure of ``x``.

    Linear in ``values``; its adjoint is :func:`tree_parts` (and that one's is this).

    Args:
        x: the argument (dict, list, tuple or NamedTuple, nested; any :mod:`srcgrad.tree`
            node).
        paths: the key path (:mod:`srcgrad.tree` paths: NamedTuple children by field name)
            of each value that was read, a constant tuple of tuples.
        values: the cotangent of each of those values, in the same order.

    Returns:
        ``x``'s structure; float leaves get their cotangent (zeros if never read), other
        leaves, and the children a node names constants (a model's buffers and float
        settings), get ``None``.
    """
    parts = {tuple(p): v for p, v in zip(paths, values)}
    return _cotangent_at(x, (), parts)


def tree_parts(ct: Any, x: Any, paths: Sequence[tuple[Any, ...]]) -> list:
    """The leaves of the container cotangent ``ct`` at ``paths``, as a list (zeros like
    ``x``'s leaf where ``ct`` is None or holds None there): the adjoint of
    :func:`tree_cotangent` with respect to its ``values``.

    Args:
        ct: a cotangent with the structure of ``x`` (or None: no cotangent).
        x: the container argument whose leaves give the zeros' shapes and dtypes.
        paths: key paths, as :func:`tree_cotangent` takes them.

    Returns:
        One entry per path.
    """
    out = []
    for p in paths:
        leaf = None if ct is None else tree.get(ct, tuple(p))
        out.append(zeros_cotangent(tree.get(x, tuple(p))) if leaf is None else leaf)
    return out


def _cotangent_at(
    x: Any, path: tuple[Any, ...], parts: dict[tuple[Any, ...], Any]
) -> Any:
    if path in parts:
        return parts[path]
    node = tree.node_type(x)
    if node is None:
        return _unread_cotangent(x)
    keys, kids = node.flatten(x)
    constants = node.constants(x) if node.constants is not None else ()
    new = [
        None if k in constants else _cotangent_at(v, path + (k,), parts)
        for k, v in zip(keys, kids)
    ]
    return node.like(x, keys, new)


def sum_shared(arg: Any, grad: Any) -> Any:
    """The gradient of a model that holds one array at several places (a sub-module used
    twice, tied weights): each place gets the sum of the places' gradients, as the array's
    own gradient.  Other trees are returned as they are."""
    if not _holds_model(arg):
        return grad
    places: dict[int, list[tuple[Any, ...]]] = {}
    for path, leaf in tree.leaves_with_paths(arg):
        if hasattr(leaf, "shape") and is_float_leaf(leaf):
            places.setdefault(id(leaf), []).append(path)
    for paths in places.values():
        if len(paths) < 2:
            continue
        parts = [tree.get(grad, p) for p in paths]
        parts = [g for g in parts if g is not None]
        if not parts:
            continue
        total = parts[0]
        for g in parts[1:]:
            total = total + g
        for k, p in enumerate(paths):
            grad = tree.replace(grad, p, total if k == 0 else total.copy())
    return grad


def _holds_model(x: Any) -> bool:
    node = tree.node_type(x)
    if node is None:
        return False
    if node.aux is not None:
        return True
    return any(_holds_model(v) for v in node.flatten(x)[1])


def _unread_cotangent(x: Any) -> Any:
    return zeros_cotangent(x) if is_float_leaf(x) else None


def list_length(items: Any) -> int:
    """``len(items)`` for emitted code (the user's module may name something else ``len``,
    and emitted code reads that module's names)."""
    return len(items)


def drop_cotangents(d_list: list[Any], count: int) -> list[Any]:
    """Undo ``count`` appends (``lst.append(x)``, ``lst.extend(items)``) on a list's
    cotangent: a new list without its last ``count`` entries.

    ``d_list`` itself is left as it is (the backward pass reads the appended entry with
    ``item_cotangent(d_list, -1, x)`` first), so that a higher order can differentiate
    the backward pass like any other function.
    """
    return list(d_list[: len(d_list) - count])


def add_cotangents(a: Any, b: Any) -> Any:
    """The sum of two cotangents of one value: arrays and numbers add; lists, tuples
    (NamedTuples too) and dicts add entry by entry, recursively; ``None`` is zero.

    A list's cotangent is never joined with ``+``, which would concatenate the lists and
    misplace every entry.  Cotangents of different structure raise ``ValueError``.
    """
    if a is None:
        return b
    if b is None:
        return a
    node_a, node_b = tree.node_type(a), tree.node_type(b)
    if node_a is None and node_b is None:
        return a + b
    if node_a is tree.DICT or node_b is tree.DICT:
        if node_a is not node_b or a.keys() != b.keys():
            raise ValueError(
                "cotangents of different structure: cannot add a dict entrywise"
            )
        return type(a)((k, add_cotangents(a[k], b[k])) for k in a)
    if node_a is None or node_b is None or node_a.positional != node_b.positional:
        raise ValueError(
            "cotangents of different structure: cannot add a list entrywise"
        )
    keys_a, kids_a = node_a.flatten(a)
    keys_b, kids_b = node_b.flatten(b)
    if len(kids_a) != len(kids_b) or not (
        node_a.positional or list(keys_a) == list(keys_b)
    ):
        raise ValueError(
            "cotangents of different structure: cannot add a list entrywise"
        )
    items = [add_cotangents(x, y) for x, y in zip(kids_a, kids_b)]
    return node_a.unflatten(type(a), keys_a, items)


def add_list_cotangents(a: list[Any], b: Any) -> list[Any]:
    """Entrywise sum of two list cotangents (``None`` is zero)."""
    return list(add_cotangents(list(a), list(b)))


def list_cotangent_at(
    d_list: list[Any] | None, items: list[Any], key: Any, g: Any
) -> list[Any]:
    """The list cotangent with ``g`` added at ``key`` (for ``x = items[key]``)."""
    out = list(d_list) if d_list is not None else [None] * len(items)
    i = key if key >= 0 else key + len(out)
    out[i] = add_cotangents(out[i], g)
    return out


def item_cotangent(d_list: list[Any], i: int, like: Any) -> Any:
    """Entry ``i`` of a list cotangent (zeros when nothing reached it)."""
    d = d_list[i]
    return zeros_cotangent(like) if d is None else d


def sum_cotangents(g: Any, iterable: Any) -> Any:
    """Cotangents of the items of ``sum(iterable)``: ``g`` reduced to each item's shape."""
    return _like_operand([unbroadcast(g, x) for x in iterable], iterable)


def unstack_cotangent(g: Any, items: Any) -> Any:
    """Cotangents of the items of ``np.array(items)``: the slices of ``g``; ``g`` itself
    for one scalar or 0-d array (``np.array(x[0])`` has no items)."""
    if not isinstance(items, (list, tuple)) and not getattr(items, "ndim", 0):
        return g
    return _like_operand([unbroadcast(g[i], x) for i, x in enumerate(items)], items)


def pick_cotangents(g: Any, ans: Any, items: Any) -> Any:
    """Cotangents of the items of ``max(items)``/``min(items)``: all of ``g`` to the item
    returned (the first one, as Python picks), nothing to the others."""
    out: list[Any] = [None] * len(items)
    for i, x in enumerate(items):
        if x is ans:
            out[i] = g
            return _like_operand(out, items)
    for i, x in enumerate(items):  # a copy was returned: the first equal item
        if bool(x == ans):
            out[i] = g
            break
    return _like_operand(out, items)


def _like_operand(cotangents: list[Any], items: Any) -> Any:
    """The per-item cotangents of a sequence operand, as the operand is: a list for a list
    or tuple of items, one array for an array (``np.array(a)``, ``sum(a)``, ``max(a)``
    iterate over its rows), its rows' cotangents stacked (zeros where None)."""
    if isinstance(items, (list, tuple)) or not hasattr(items, "shape"):
        return cotangents
    xp = namespace(items, *[c for c in cotangents if c is not None])
    if not cotangents:
        return xp.zeros_like(items)
    rows = [
        zeros_cotangent(x) if c is None else xp.asarray(c, dtype=items.dtype)
        for c, x in zip(cotangents, items)
    ]
    return xp.stack(rows)
