"""The array namespace of a call's inputs: numpy, cupy, or an array-API namespace (DESIGN §8).

Emitted code starts with ``xp = namespace(<array inputs>)`` and calls ``xp.*`` from then on,
so one emitted file serves numpy and cupy.  This is the only module that imports cupy, and it
does so lazily: a cupy array can only exist once cupy has been imported by someone else.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["namespace"]

_ndarray = np.ndarray

# type -> what it says about the namespace:
#   None: nothing (a numpy array or scalar, a Python number, None, a string, ...)
#   a module: that module (cupy)
#   _CALL: ask the object itself through ``__array_namespace__()``
#   _INSIDE: a list, tuple or dict: look at its items (one level deep)
_CALL = object()
_INSIDE = object()
_KIND: dict[type, Any] = {
    _ndarray: None,
    float: None,
    int: None,
    bool: None,
    complex: None,
    str: None,
    type(None): None,
    list: _INSIDE,
    tuple: _INSIDE,
    dict: _INSIDE,
}


def _classify(t: type) -> Any:
    """Decide once per type what its instances say about the namespace."""
    if issubclass(t, (np.ndarray, np.generic)):
        kind = None
    elif issubclass(t, (list, tuple, dict)):
        kind = _INSIDE
    elif t.__module__.partition(".")[0] == "cupy":
        import cupy  # lazy: the only place srcgrad imports cupy

        kind = cupy if issubclass(t, cupy.ndarray) else None
    elif callable(getattr(t, "__array_namespace__", None)):
        kind = _CALL
    else:
        kind = None
    _KIND[t] = kind
    return kind


def namespace(*xs: Any) -> ModuleType | Any:
    """Return the array module that the arrays among ``xs`` belong to.

    numpy arrays, numpy scalars, Python numbers, ``None`` and anything else that is not an
    array say nothing; a cupy array makes it cupy; any other object whose type has
    ``__array_namespace__`` gives the namespace that method returns.  The items of a list,
    tuple (NamedTuple) or dict argument are looked at too, one level deep, so
    ``namespace(arrays)`` works for ``np.stack(arrays)``.  With no such argument the answer is
    numpy.  The first non-numpy argument decides.  Numpy arrays take a fast path (about
    0.1 µs per argument).

    Args:
        *xs: the values whose namespace is wanted, typically a function's array inputs.

    Returns:
        ``numpy``, ``cupy``, or the object returned by ``x.__array_namespace__()``.

    Example:
        >>> namespace(np.ones(3), 2.0) is np
        True
    """
    for x in xs:
        t = type(x)
        if t is _ndarray:
            continue
        kind = _KIND[t] if t in _KIND else _classify(t)
        if kind is None:
            continue
        if kind is _INSIDE:
            items = x.values() if isinstance(x, dict) else x
            kind = _first_device_kind(items)
            if kind is None:
                continue
            x, kind = kind
        if kind is _CALL:
            return x.__array_namespace__()
        return kind
    return np


def _first_device_kind(items: Any) -> tuple[Any, Any] | None:
    """``(item, kind)`` of the first item that is not a numpy or host value, else None."""
    for x in items:
        t = type(x)
        if t is _ndarray:
            continue
        kind = _KIND[t] if t in _KIND else _classify(t)
        if kind is None or kind is _INSIDE:
            continue
        return x, kind
    return None
