"""Container and indexing helpers for emitted code.

``tree_cotangent`` gives a dict/list/tuple/NamedTuple argument its gradient of the same
structure; ``index`` spells a subscript as a value (``index[1:3, None]``) so the backward pass
can scatter a cotangent back through it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from srcgrad.backend import namespace
from srcgrad.errors import AliasError, MissingRuleError
from srcgrad.runtime.arrays import unbroadcast

__all__ = [
    "index",
    "stop_gradient",
    "scatter_to",
    "tree_cotangent",
    "zeros_cotangent",
    "is_float_leaf",
    "pop_cotangent",
    "drop_cotangents",
    "add_list_cotangents",
    "add_cotangents",
    "list_cotangent_at",
    "sum_cotangents",
    "unstack_cotangent",
    "pick_cotangents",
    "item_cotangent",
    "assign_at",
    "add_at",
    "call_vjp",
    "expand_to",
    "require_unshared",
    "require_not_array",
    "require_float_dtype",
    "reduce_like",
    "zero_at",
    "gather_at",
]


class _Index:
    """``index[...]`` returns the key of a subscript: ``index[1:3, None]``."""

    def __getitem__(self, key: Any) -> Any:
        return key

    def __repr__(self) -> str:
        return "index"


index = _Index()


def stop_gradient(x: Any) -> Any:
    """Identity in the forward pass; no gradient flows through it."""
    return x


def _is_basic_key(key: Any) -> bool:
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, slice)) and not isinstance(p, bool)
        for p in parts
    )


def scatter_to(g: Any, x: Any, key: Any) -> Any:
    """The cotangent of ``x`` for ``ans = x[key]``: zeros with ``g`` added at ``key``.

    Basic keys (ints, slices, None, Ellipsis) assign; advanced keys (integer arrays, boolean
    masks) accumulate, so repeated indices add up.
    """
    xp = namespace(g, x)
    z = xp.zeros(x.shape, dtype=x.dtype)
    if _is_basic_key(key):
        z[key] = g
    else:
        xp.add.at(z, key, g)
    return z


def is_float_leaf(x: Any) -> bool:
    """True for a floating (or complex) array or a Python/numpy float."""
    if isinstance(x, bool):
        return False
    if isinstance(x, (float, complex)):
        return True
    dtype = getattr(x, "dtype", None)
    return dtype is not None and getattr(dtype, "kind", "") in "fc"


def zeros_cotangent(x: Any) -> Any:
    """The gradient of an argument that never reaches the output: zeros of its shape."""
    if isinstance(x, (float, complex)) and not hasattr(x, "dtype"):
        return type(x)(0)
    if hasattr(x, "shape"):
        return namespace(x).zeros_like(x)
    if isinstance(x, dict) or isinstance(x, (list, tuple)):
        return tree_cotangent(x, {})
    return None


def tree_cotangent(x: Any, parts: dict[tuple[Any, ...], Any]) -> Any:
    """The gradient of a container argument, with the structure of ``x``.

    Args:
        x: the argument (dict, list, tuple or NamedTuple, nested).
        parts: the cotangent of each leaf that was read, by key path.

    Returns:
        ``x``'s structure; float leaves get their cotangent (zeros if never read), other
        leaves get ``None``.
    """
    return _build(x, (), parts)


def _build(x: Any, path: tuple[Any, ...], parts: dict[tuple[Any, ...], Any]) -> Any:
    if path in parts:
        return parts[path]
    if isinstance(x, dict):
        return type(x)((k, _build(v, path + (k,), parts)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_build(v, path + (f,), parts) for f, v in zip(x._fields, x)))
    if isinstance(x, (list, tuple)):
        return type(x)(_build(v, path + (i,), parts) for i, v in enumerate(x))
    if is_float_leaf(x):
        return zeros_cotangent(x)
    return None


def pop_cotangent(d_list: list[Any], like: Any) -> Any:
    """Undo ``lst.append(like)``: take the last entry of the list's cotangent."""
    d = d_list.pop()
    return zeros_cotangent(like) if d is None else d


def drop_cotangents(d_list: list[Any], items: Any) -> None:
    """Undo ``lst.extend(items)`` of constants: drop the last ``len(items)`` entries of the
    list's cotangent."""
    del d_list[len(d_list) - len(items):]


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
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
            raise ValueError("cotangents of different structure: cannot add a dict entrywise")
        return type(a)((k, add_cotangents(a[k], b[k])) for k in a)
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        if not (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))) or len(a) != len(
            b
        ):
            raise ValueError("cotangents of different structure: cannot add a list entrywise")
        items = [add_cotangents(x, y) for x, y in zip(a, b)]
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return type(a)(*items)
        return type(a)(items)
    return a + b


def add_list_cotangents(a: list[Any], b: Any) -> list[Any]:
    """Entrywise sum of two list cotangents (``None`` is zero)."""
    return list(add_cotangents(list(a), list(b)))


def list_cotangent_at(d_list: list[Any] | None, items: list[Any], key: Any, g: Any) -> list[Any]:
    """The list cotangent with ``g`` added at ``key`` (for ``x = items[key]``)."""
    out = list(d_list) if d_list is not None else [None] * len(items)
    i = key if key >= 0 else key + len(out)
    out[i] = add_cotangents(out[i], g)
    return out


def sum_cotangents(g: Any, iterable: Any) -> list[Any]:
    """Cotangents of the items of ``sum(iterable)``: ``g`` reduced to each item's shape."""
    return [unbroadcast(g, x) for x in iterable]


def unstack_cotangent(g: Any, items: Any) -> list[Any]:
    """Cotangents of the items of ``np.array(items)``: the slices of ``g``."""
    return [unbroadcast(g[i], x) for i, x in enumerate(items)]


def pick_cotangents(g: Any, ans: Any, items: Any) -> list[Any]:
    """Cotangents of the items of ``max(items)``/``min(items)``: all of ``g`` to the item
    returned (the first one, as Python picks), nothing to the others."""
    out: list[Any] = [None] * len(items)
    for i, x in enumerate(items):
        if x is ans:
            out[i] = g
            return out
    for i, x in enumerate(items):  # a copy was returned: the first equal item
        if bool(x == ans):
            out[i] = g
            break
    return out


def item_cotangent(d_list: list[Any], i: int, like: Any) -> Any:
    """Entry ``i`` of a list cotangent (zeros when nothing reached it)."""
    d = d_list[i]
    return zeros_cotangent(like) if d is None else d


def assign_at(x: Any, key: Any, v: Any) -> Any:
    """``y = x.copy(); y[key] = v``: the functional form of a subscript write."""
    y = x.copy()
    y[key] = v
    return y


def zero_at(g: Any, key: Any) -> Any:
    """``g`` with zeros where a write overwrote the old values (a new array)."""
    out = g.copy()
    out[key] = 0
    return out


def gather_at(g: Any, key: Any, v: Any) -> Any:
    """The cotangent of ``v`` in ``y[key] = v``: ``g[key]`` reduced to ``v``'s shape.

    With an advanced key that repeats a position, numpy keeps the last write, so the earlier
    duplicates get no gradient.
    """
    picked = g[key]
    if not _is_basic_key(key):
        xp = namespace(g)
        n = picked.size
        order = xp.arange(n).reshape(picked.shape)
        winners = xp.full(g.shape, -1)
        winners[key] = order
        picked = picked * (winners[key] == order)
    return unbroadcast(picked, v)


def add_at(d: Any, key: Any, g: Any) -> Any:
    """``d[key] += g`` in place (repeated advanced indices add up) and return ``d``.

    Emitted code uses it only on an accumulator it allocated itself for a loop and that
    nothing else refers to, so the in-place add is invisible.
    """
    if _is_basic_key(key):
        d[key] += g
    else:
        namespace(d, g).add.at(d, key, g)
    return d


_VJPS: dict[tuple[Any, tuple[str, ...]], Any] = {}
# srcgrad.vjp, installed by srcgrad.api when it loads: the runtime sits below the API and does
# not import it, and emitted code (call_vjp's only caller) runs after the API generated it.
_make_vjp: Callable[..., Any] | None = None


def install_vjp(make_vjp: Callable[..., Any]) -> None:
    """Give ``call_vjp`` the API's ``vjp`` (called once, by :mod:`srcgrad.api`)."""
    global _make_vjp
    _make_vjp = make_vjp


def call_vjp(fn: Any, wrt: tuple[str, ...], *args: Any) -> tuple[Any, Any]:
    """``fn(*args)`` and its pullback w.r.t. the parameters ``wrt`` (a recursive call in
    emitted code).  The gradient module of each (function, wrt) pair is generated once and
    shared, also between threads."""
    if not wrt:
        return fn(*args), None
    key = (fn.__code__, wrt)
    vj = _VJPS.get(key)
    if vj is None:
        assert _make_vjp is not None, "srcgrad.api installs it when it is imported"
        vj = _VJPS.setdefault(key, _make_vjp(fn, wrt=wrt if len(wrt) > 1 else wrt[0]))
    return vj(*args)


def expand_to(g: Any, like: Any) -> Any:
    """``g`` broadcast to the shape of ``like`` (the adjoint of ``unbroadcast``).

    A Python-number ``like`` is a cotangent that ``unbroadcast`` spread over its operand's
    shape (``xp.full``): its own cotangent is the sum of ``g``.
    """
    shape = getattr(like, "shape", None)
    if shape is None:
        return g.sum() if getattr(g, "ndim", 0) else g
    if getattr(g, "shape", ()) == shape:
        return g
    return namespace(g, like).broadcast_to(g, shape)


def reduce_like(g: Any, like: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``g`` summed back to the shape of ``like`` (the adjoint of ``expand_like``)."""
    if axis is None:
        out = g.sum()
    else:
        out = g.sum(axis=axis, keepdims=keepdims)
    shape = getattr(like, "shape", ())
    return out.reshape(shape) if getattr(out, "shape", ()) != shape else out


def require_unshared(view: Any, base: Any, where: str) -> Any:
    """Refuse a read of ``view`` if it is a view of ``base``, which was written since: numpy
    would see the write, the functional rewrite would not."""
    if hasattr(view, "shape") and namespace(view, base).may_share_memory(view, base):
        name, at = _where(where)
        raise AliasError(
            f"{name!r} is a view of an array that was written after the view was taken",
            hint="take a copy when you make it (.copy()), or read it again after the write",
            construct="stale-view",
            **at,
        )
    return view


def _where(where: str) -> tuple[str, dict[str, Any]]:
    """``"file:line: name"`` (as emitted code passes it) as the name and the error's place."""
    file, line, name = where.rsplit(":", 2) if where.count(":") >= 2 else ("", "0", where)
    lineno = int(line) if line.strip().isdigit() else None
    return name.strip(), {"filename": file or None, "lineno": lineno, "col": 1 if lineno else None}


def require_not_array(value: Any, where: str) -> Any:
    """Refuse ``name op= v`` when ``name`` holds an array that something else also sees (a view,
    an argument's entry, a callee's argument): numpy writes such an array in place, the
    functional rewrite ``name = name op v`` would not.  Python and numpy scalars pass."""
    if isinstance(value, (int, float, complex, np.generic)) or not hasattr(value, "shape"):
        return value
    name, at = _where(where)
    raise AliasError(
        f"{name} op= ...: an augmented assignment writes in place into an array that is a "
        "view, an argument or a value of the caller",
        hint=f"write it functionally ({name} = {name} + v), or take a copy first "
        f"({name} = {name}.copy())",
        construct="augassign",
        **at,
    )


def require_float_dtype(dtype: Any, where: str) -> Any:
    """Refuse a ``dtype=`` that srcgrad could not read from the source when it is not a float
    or complex dtype: the result would then be a constant, not differentiated."""
    if dtype is None or np.dtype(dtype).kind in "fc":
        return dtype
    raise MissingRuleError(
        f"{where}: dtype={np.dtype(dtype)} makes an integer or boolean result, which has no "
        "gradient",
        hint="write the dtype in the call (dtype=int), or cast a constant copy "
        "(srcgrad.stop_gradient(x).astype(int))",
    )
