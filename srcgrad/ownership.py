"""Gradients that own their memory: what srcgrad returns shares memory with nothing the
caller holds (an argument, another gradient), in each argument's own type."""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad import tree

__all__ = ["own"]


def own(g: Any, a: Any, seen: set[int], args: tuple[Any, ...]) -> Any:
    """A gradient that shares memory with nothing the caller holds, in the argument's type."""
    return tree.map(lambda ai, gi: _leaf(gi, ai, seen, args), a, g)


def _leaf(g: Any, a: Any, seen: set[int], args: tuple[Any, ...]) -> Any:
    if g is None:
        return None
    if type(a) is float:
        if isinstance(g, (float, np.floating)) or (
            isinstance(g, np.ndarray) and g.ndim == 0
        ):
            return float(g)
        return g
    if isinstance(a, np.ndarray):
        if not isinstance(g, np.ndarray):
            return np.array(g, dtype=a.dtype).reshape(
                a.shape
            )  # a numpy scalar from a rule
        if g.dtype != a.dtype and a.dtype.kind in "fc":
            g = g.astype(a.dtype)
            seen.add(id(g))
            return g
        root = _root(g)
        if (
            id(root) in seen
            or not g.flags.writeable
            or any(root is _root(x) for x in args if isinstance(x, np.ndarray))
        ):
            g = g.copy()  # it shares memory with an input or another gradient
            root = g
        seen.add(id(root))
        return g
    if hasattr(g, "copy") and (id(g) in seen or any(g is x for x in args)):
        g = g.copy()
    seen.add(id(g))
    return g


def _root(a: np.ndarray) -> Any:
    """The array that owns ``a``'s memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a
