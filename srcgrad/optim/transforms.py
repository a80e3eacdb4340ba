"""Transforms that keep little or no state: learning rate, weight decay, heavy-ball
momentum, global-norm clipping, masks."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from srcgrad import tree
from srcgrad.optim.base import (
    EmptyState,
    PyTree,
    Schedule,
    Transform,
    trainable_map,
    value_at,
)

__all__ = [
    "ScaleByScheduleState",
    "TraceState",
    "scale",
    "scale_by_learning_rate",
    "add_decayed_weights",
    "trace",
    "clip_by_global_norm",
    "global_norm",
    "masked",
    "freeze",
]


class ScaleByScheduleState(NamedTuple):
    """``count``: the number of updates made so far (the schedule's step)."""

    count: int


def scale(factor: float) -> Transform:
    """Updates times ``factor``."""

    def init(params: PyTree) -> EmptyState:
        return EmptyState()

    def update(grads: PyTree, state: EmptyState, params: PyTree = None) -> tuple:
        return trainable_map(lambda g: g * factor, grads), state

    return Transform(init, update)


def scale_by_learning_rate(learning_rate: float | Schedule) -> Transform:
    """Updates times ``-learning_rate`` (a number or a ``step -> value`` schedule read at
    the number of updates made so far)."""

    def init(params: PyTree) -> ScaleByScheduleState:
        return ScaleByScheduleState(count=0)

    def update(grads: PyTree, state: ScaleByScheduleState, params: PyTree = None):
        lr = value_at(learning_rate, state.count)
        return trainable_map(lambda g: g * -lr, grads), ScaleByScheduleState(
            state.count + 1
        )

    return Transform(init, update)


def add_decayed_weights(weight_decay: float | Schedule = 0.0) -> Transform:
    """``g + weight_decay * p`` (PyTorch's L2 penalty; placed after an adaptive scaling
    it is AdamW's decoupled decay).  Needs ``params`` in ``update``."""

    def init(params: PyTree) -> ScaleByScheduleState:
        return ScaleByScheduleState(count=0)

    def update(grads: PyTree, state: ScaleByScheduleState, params: PyTree = None):
        if params is None:
            raise ValueError(
                "add_decayed_weights needs the parameters; hint: call "
                "opt.update(grads, state, params)"
            )
        wd = value_at(weight_decay, state.count)
        out = trainable_map(lambda g, p: g + wd * p, grads, params)
        return out, ScaleByScheduleState(state.count + 1)

    return Transform(init, update)


class TraceState(NamedTuple):
    """``count``: updates so far; ``momentum``: the momentum buffer (None off-tree)."""

    count: int
    momentum: PyTree


def trace(
    decay: float = 0.9, dampening: float = 0.0, nesterov: bool = False
) -> Transform:
    """Heavy-ball momentum as ``torch.optim.SGD`` has it: ``b <- g`` on the first step,
    then ``b <- decay * b + (1 - dampening) * g``; the update is ``b``, or
    ``g + decay * b`` with ``nesterov``."""
    if nesterov and (decay <= 0 or dampening != 0):
        raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")

    def init(params: PyTree) -> TraceState:
        return TraceState(0, trainable_map(np.zeros_like, params))

    def update(grads: PyTree, state: TraceState, params: PyTree = None):
        if state.count == 0:
            buf = trainable_map(np.copy, grads)
        else:
            buf = trainable_map(
                lambda g, b: decay * b + (1.0 - dampening) * g, grads, state.momentum
            )
        out = trainable_map(lambda g, b: g + decay * b, grads, buf) if nesterov else buf
        return out, TraceState(state.count + 1, buf)

    return Transform(init, update)


def global_norm(updates: PyTree) -> float:
    """The 2-norm of all trainable leaves of ``updates`` together."""
    total = 0.0
    for leaf in tree.leaves(trainable_map(lambda g: g, updates)):
        if leaf is not None:
            total += float(np.sum(np.abs(leaf) ** 2))
    return float(np.sqrt(total))


def clip_by_global_norm(max_norm: float) -> Transform:
    """Scale all updates by ``max_norm / (norm + 1e-6)`` when that is below 1
    (``torch.nn.utils.clip_grad_norm_``); buffers and None leaves are skipped."""

    def init(params: PyTree) -> EmptyState:
        return EmptyState()

    def update(grads: PyTree, state: EmptyState, params: PyTree = None) -> tuple:
        coef = min(max_norm / (global_norm(grads) + 1e-6), 1.0)
        return trainable_map(lambda g: g * coef, grads), state

    return Transform(init, update)


Where = Callable[[str, Any], bool] | Iterable[str] | str


def _predicate(where: Where) -> Callable[[str, Any], bool]:
    """A ``(path string, leaf) -> bool`` from a predicate or glob patterns on paths."""
    if callable(where):
        return where
    patterns = [where] if isinstance(where, str) else list(where)
    return lambda path, leaf: any(
        fnmatch.fnmatchcase(path, p) or path.startswith(p + ".") for p in patterns
    )


def _select(x: PyTree, pick: Callable[[str, Any], bool], keep: bool) -> PyTree:
    """``x`` with None at the trainable leaves where ``pick`` is not ``keep``."""
    if x is None:
        return None
    constants = tree.constant_paths(x)

    def one(path: tuple, leaf: Any) -> Any:
        if path in constants:
            return None
        return leaf if bool(pick(tree.path_string(path), leaf)) == keep else None

    return tree.map_with_path(one, x, is_leaf=lambda p, v: p in constants)


def masked(inner: Transform, where: Where) -> Transform:
    """``inner`` applied to the leaves that ``where`` selects; the others pass through
    unchanged (optax's ``masked``).  ``where`` is a predicate ``(path, leaf) -> bool`` on
    the dotted path (``"blocks.0.W"``) or glob patterns on it (a pattern also selects
    everything under a path it names)."""
    pick = _predicate(where)

    def init(params: PyTree) -> Any:
        return inner.init(_select(params, pick, True))

    def update(grads: PyTree, state: Any, params: PyTree = None) -> tuple:
        inside, state = inner.update(
            _select(grads, pick, True), state, _select(params, pick, True)
        )
        merged = trainable_map(lambda g, u: g if u is None else u, grads, inside)
        return merged, state

    return Transform(init, update)


def freeze(where: Where) -> Transform:
    """None updates (the parameter stays as it is) at the leaves ``where`` selects (a
    predicate or glob patterns on dotted paths, as in :func:`masked`)."""
    pick = _predicate(where)

    def init(params: PyTree) -> EmptyState:
        return EmptyState()

    def update(grads: PyTree, state: EmptyState, params: PyTree = None) -> tuple:
        return _select(grads, pick, False), state

    return Transform(init, update)
