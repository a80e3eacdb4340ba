"""Container and indexing helpers for emitted code.

``tree_cotangent`` gives a dict/list/tuple/NamedTuple argument its gradient of the same
structure; ``index`` spells a subscript as a value (``index[1:3, None]``) so the backward pass
can scatter a cotangent back through it.
"""

from __future__ import annotations

from typing import Any

from srcgrad.backend import namespace

__all__ = [
    "index",
    "stop_gradient",
    "scatter_to",
    "tree_cotangent",
    "zeros_cotangent",
    "is_float_leaf",
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
