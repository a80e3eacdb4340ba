"""The optimizer protocol: a :class:`Transform` is an ``(init, update)`` pair.

``state = t.init(params)``; ``updates, state = t.update(grads, state, params)``;
``params = apply_updates(params, updates)``.  ``params`` may be a Module, a dict or any
pytree.  Only *trainable* leaves take part: floating arrays outside the children a node
names constants (a Module's buffers and float settings, see
:func:`srcgrad.tree.constant_paths`), and Python floats elsewhere.  Every other place holds None in updates and in
state, so a state is a pytree that :func:`srcgrad.save` and :func:`srcgrad.load`
round-trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from srcgrad import tree

__all__ = [
    "Transform",
    "EmptyState",
    "identity",
    "chain",
    "apply_updates",
    "trainable_map",
    "trainable_leaves",
    "value_at",
]

PyTree = Any
Schedule = Callable[[int], float]


class EmptyState(NamedTuple):
    """The state of a transform that keeps none."""


class Transform:
    """A gradient transformation: ``init(params) -> state`` and
    ``update(grads, state, params=None) -> (updates, state)``.

    ``step(model, grads, state) -> state`` is the fused in-place path of the standard
    optimizers (sgd, adam, adamw): it updates the model's arrays (and the state's) in
    place, never writing into ``grads``.
    """

    __slots__ = ("init", "update", "_fused")

    def __init__(
        self,
        init: Callable[[PyTree], Any],
        update: Callable[..., tuple[PyTree, Any]],
        fused: Callable[[PyTree, PyTree, Any], Any] | None = None,
    ) -> None:
        self.init = init
        self.update = update
        self._fused = fused

    def step(self, model: PyTree, grads: PyTree, state: Any) -> Any:
        """Update ``model``'s parameters in place with ``grads``; returns the new state
        (whose arrays are also updated in place).

        Raises:
            TypeError: this transform has no fused path.
        """
        if self._fused is None:
            raise TypeError(
                "this optimizer has no fused in-place step; hint: use "
                "`updates, state = opt.update(grads, state, params)` and "
                "`optim.apply_updates`, or optim.sgd/adam/adamw"
            )
        return self._fused(model, grads, state)

    def __iter__(self):  # ``init, update = transform``
        return iter((self.init, self.update))


def value_at(value: float | Schedule, count: int) -> float:
    """``value(count)`` for a schedule, else the number itself."""
    return float(value(count)) if callable(value) else value


def _is_trainable(leaf: Any) -> bool:
    """A floating array or scalar, or a Python float (a dict of floats is trained)."""
    if type(leaf) is float:
        return True
    dtype = getattr(leaf, "dtype", None)
    return (
        dtype is not None
        and type(getattr(leaf, "shape", None)) is tuple
        and np.dtype(dtype).kind in "fc"
    )


def trainable_map(fn: Callable[..., Any], x: PyTree, *rest: PyTree) -> PyTree:
    """``x`` (grads, updates or params) with ``fn(leaf, *values)`` at each trainable
    leaf and None elsewhere; ``values`` are the leaves at the same place in ``rest``
    (a None tree gives None values)."""
    constants = tree.constant_paths(x)
    present = [r for r in rest if r is not None]
    where = [i for i, r in enumerate(rest) if r is not None]

    def stop(path: tuple, v: Any) -> bool:
        return path in constants or not tree.is_node(v)

    def one(path: tuple, leaf: Any, *others: Any) -> Any:
        if path in constants or not _is_trainable(leaf):
            return None
        values: list[Any] = [None] * len(rest)
        for i, o in zip(where, others):
            values[i] = o
        return fn(leaf, *values)

    return tree.map_with_path(one, x, *present, is_leaf=stop)


def trainable_leaves(x: PyTree) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` for every trainable leaf of ``x``, in leaf order."""
    return [
        (p, leaf)
        for p, leaf in tree.variable_leaves_with_paths(x)
        if _is_trainable(leaf)
    ]


def identity() -> Transform:
    """Updates are the gradients (trainable leaves; None elsewhere)."""

    def init(params: PyTree) -> EmptyState:
        return EmptyState()

    def update(grads: PyTree, state: EmptyState, params: PyTree = None) -> tuple:
        return trainable_map(lambda g: g, grads), state

    return Transform(init, update)


def chain(*transforms: Transform) -> Transform:
    """The transforms applied one after the other; the state is the tuple of theirs."""

    def init(params: PyTree) -> tuple:
        return tuple(t.init(params) for t in transforms)

    def update(grads: PyTree, state: tuple, params: PyTree = None) -> tuple:
        new = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new.append(s)
        return grads, tuple(new)

    return Transform(init, update)


def _copy(leaf: Any) -> Any:
    if isinstance(leaf, np.generic):
        return leaf
    if hasattr(leaf, "copy") and type(getattr(leaf, "shape", None)) is tuple:
        return leaf.copy()
    return leaf


def apply_updates(params: PyTree, updates: PyTree) -> PyTree:
    """A new tree ``params + updates`` that shares no arrays with ``params``.

    Each trainable leaf becomes ``p + u`` in ``p``'s dtype; where ``updates`` holds
    None (buffers, frozen parameters) the leaf is copied; other leaves (floats, ints,
    generators) and static fields are kept.
    """
    constants = tree.constant_paths(params)

    def stop(path: tuple, v: Any) -> bool:
        return path in constants or not tree.is_node(v)

    def one(path: tuple, p: Any, u: Any) -> Any:
        if path in constants or u is None or not _is_trainable(p):
            return tree.map(_copy, p)
        out = p + u
        if type(p) is float:
            return float(out)
        return out if out.dtype == p.dtype else out.astype(p.dtype)

    def walk(path: tuple, p: Any) -> Any:
        return one(path, p, _at(updates, path))

    return tree.map_with_path(walk, params, is_leaf=stop)


def _at(x: PyTree, path: tuple) -> Any:
    try:
        return tree.get(x, path)
    except (KeyError, IndexError, TypeError):
        return None
