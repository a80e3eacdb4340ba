"""The fused in-place step of sgd, adam and adamw (``opt.step(model, grads, state)``).

It reads and writes the same state that ``opt.init`` builds and ``opt.update`` takes, so
the two paths can be mixed.  Per parameter it makes a handful of numpy calls with
``out=`` into one or two scratch buffers kept per shape and dtype: no other temporaries.
It writes into the model's parameters and the state's moment buffers, never into the
gradients (a gradient may be the very array of another gradient).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from srcgrad import tree
from srcgrad.optim.base import PyTree, Schedule, trainable_map, value_at

__all__ = ["fused_sgd", "fused_adam"]


class _Scratch:
    """Scratch buffers by (shape, dtype), reused across parameters and steps."""

    def __init__(self) -> None:
        self._bufs: dict[tuple, list[np.ndarray]] = {}

    def get(self, like: np.ndarray, n: int) -> list[np.ndarray]:
        key = (like.shape, like.dtype.str, type(like))
        bufs = self._bufs.setdefault(key, [])
        while len(bufs) < n:
            bufs.append(like.copy())
        return bufs


def _rows(state_tree: PyTree, grads: PyTree, model: PyTree, *more: PyTree) -> list:
    """``(p, g, *state leaves)`` for every trainable leaf (not None in the state)."""
    out = []
    for s, g, p, *rest in tree.zip_leaves(state_tree, grads, model, *more):
        if s is None or g is None:
            continue
        if not isinstance(p, np.ndarray) or not p.flags.writeable:
            raise TypeError(
                "opt.step updates the model's arrays in place and needs writeable "
                "arrays; hint: use opt.update and optim.apply_updates"
            )
        out.append((p, g, s, *rest))
    return out


BLOCK = 1 << 15


def _blocks(rows: list) -> list:
    """Each row cut into flat blocks of at most :data:`BLOCK` elements, so that the
    dozen passes of a step over one block stay in cache (a large parameter is read
    from memory about once instead of once per pass).  A row with a non-contiguous
    array, or a small one, stays whole; the blocks are views, so writes land in the
    parameter and state arrays."""
    out = []
    for row in rows:
        size = row[0].size
        if size <= BLOCK or not all(
            isinstance(a, np.ndarray) and a.flags.c_contiguous for a in row
        ):
            out.append(row)
            continue
        flat = [a.reshape(-1) for a in row]
        for start in range(0, size, BLOCK):
            out.append(tuple(a[start : start + BLOCK] for a in flat))
    return out


def _decay(p: np.ndarray, g: Any, wd: float, t: np.ndarray) -> Any:
    """``g + wd * p`` in ``t`` (``g`` itself when ``wd`` is 0)."""
    if not wd:
        return g
    np.multiply(p, wd, out=t)
    t += g
    return t


def fused_sgd(
    learning_rate: float | Schedule,
    momentum: float,
    dampening: float,
    weight_decay: float | Schedule,
    nesterov: bool,
) -> Callable[[PyTree, PyTree, tuple], tuple]:
    """The in-place step on the state of ``chain(decay, trace, learning rate)``."""
    scratch = _Scratch()

    def step(model: PyTree, grads: PyTree, state: tuple) -> tuple:
        decay_s, trace_s, lr_s = state
        lr = value_at(learning_rate, lr_s.count)
        wd = value_at(weight_decay, lr_s.count)
        if momentum:
            first = trace_s.count == 0
            rows = _rows(trace_s.momentum, grads, model)
        else:
            rows = [(p, g, None) for p, g, _ in _rows(_mask(model), grads, model)]
        for p, g, buf in rows:
            t, t2 = scratch.get(p, 2)
            d = _decay(p, g, wd, t2)
            if momentum:
                if first:
                    np.copyto(buf, d)
                else:
                    buf *= momentum
                    if dampening:
                        np.multiply(d, 1.0 - dampening, out=t)
                        buf += t
                    else:
                        buf += d
                if nesterov:
                    np.multiply(buf, momentum, out=t)
                    t += d
                    d = t
                else:
                    d = buf
            np.multiply(d, lr, out=t)
            p -= t
        return _counted(decay_s), _counted(trace_s), _counted(lr_s)

    return step


def _mask(model: PyTree) -> PyTree:
    """True at the trainable leaves of ``model``, None elsewhere."""
    return trainable_map(lambda p: True, model)


def _counted(s: Any) -> Any:
    """A state NamedTuple with its ``count`` one higher (others as they are)."""
    if "count" in getattr(s, "_fields", ()):
        return s._replace(count=s.count + 1)
    return s


def fused_adam(
    learning_rate: float | Schedule,
    b1: float,
    b2: float,
    eps: float,
    weight_decay: float | Schedule,
    amsgrad: bool,
    decoupled: bool,
) -> Callable[[PyTree, PyTree, tuple], tuple]:
    """The in-place step on the state of ``chain(decay, adam, learning rate)`` (adam)
    or ``chain(adam, decay, learning rate)`` (adamw: ``decoupled``)."""
    scratch = _Scratch()

    def step(model: PyTree, grads: PyTree, state: tuple) -> tuple:
        adam_s = state[1 if not decoupled else 0]
        lr_s = state[2]
        lr = value_at(learning_rate, lr_s.count)
        wd = value_at(weight_decay, lr_s.count)
        t_ = adam_s.count + 1
        bc1, bc2 = 1 - b1**t_, math.sqrt(1 - b2**t_)
        more = (adam_s.nu, adam_s.nu_max) if amsgrad else (adam_s.nu,)
        rows = _rows(adam_s.mu, grads, model, *more)
        for p, g, m, v, *vmax in _blocks(rows):
            t, t2 = scratch.get(p, 2)
            d = g if decoupled else _decay(p, g, wd, t2)
            m *= b1
            np.multiply(d, 1.0 - b1, out=t)
            m += t
            v *= b2
            np.multiply(d, d, out=t)
            t *= 1.0 - b2
            v += t
            if amsgrad:
                np.maximum(vmax[0], v, out=vmax[0])
            # m / bc1 / (sqrt(v) / bc2 + eps) == (bc2 / bc1) m / (sqrt(v) + eps bc2)
            np.sqrt(vmax[0] if amsgrad else v, out=t)
            t += eps * bc2
            np.divide(m, t, out=t)
            if decoupled and wd:
                p *= 1.0 - lr * wd
            t *= lr * bc2 / bc1
            p -= t
        return tuple(_counted(s) for s in state)

    return step
