"""The two collectives of a synchronised batch normalisation (:class:`srcgrad.nn.SyncBatchNorm`).

Forward: each rank takes, per channel, the count, mean and sum of squared deviations
(M2) of its shard (two passes, accumulated in float64), and one ``MPI_Allgather`` gives
every rank every rank's triple; each rank combines them in rank order (Chan et al.'s
pairwise formula ``M2 = sum_r M2_r + sum_r n_r (mean_r - mean)^2``), so the global
statistics are bit-identical on every rank, and free of the cancellation that summing
``x`` and ``x**2`` suffers in float32.

Backward: one ``MPI_Allreduce`` of the per-channel cotangents of the global mean and
variance, each rank's weighted by its shard's samples (see
:func:`reduce_cotangents` for why the weights).

A rank whose shard is empty joins both collectives with count 0 and weight 0: with an
empty ``x`` directly, or, for a model that cannot run on an empty batch, on a stand-in
batch inside :func:`empty_shard`, which makes every synchronised batch norm count none of
its samples.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from srcgrad import backend
from srcgrad.distributed.ranks import World

__all__ = ["empty_shard", "global_moments", "in_empty_shard", "reduce_cotangents"]

_EMPTY = [False]


@contextlib.contextmanager
def empty_shard() -> Iterator[None]:
    """Inside it, this rank's batch is a stand-in for an empty shard: every
    synchronised batch norm counts none of its samples (count 0, gradient weight 0) but
    joins the other ranks' collectives.  Run a step of the model on any batch in it and
    discard its gradient (:func:`srcgrad.distributed.zeros_like_grads`, weight 0)."""
    before = _EMPTY[0]
    _EMPTY[0] = True
    try:
        yield
    finally:
        _EMPTY[0] = before


def in_empty_shard() -> bool:
    """True inside :func:`empty_shard`."""
    return _EMPTY[0]


def _host(a: Any) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a
    return backend.namespace(a).asnumpy(a)  # small: 3 floats per channel


def _local(x: Any, axes: tuple[int, ...]) -> np.ndarray:
    """(3, C) float64 on the host: this shard's count, mean and M2 per channel."""
    xp = backend.namespace(x)
    channels = x.shape[1]
    count = 0 if in_empty_shard() else x.size // max(channels, 1)
    out = np.zeros((3, channels), dtype=np.float64)
    if count == 0:
        return out
    mean = xp.mean(x, axis=axes, dtype=np.float64)
    keep = [1] * x.ndim
    keep[1] = channels
    dev = x - xp.reshape(mean, keep).astype(x.dtype)
    out[0] = count
    out[1] = _host(mean)
    out[2] = _host(xp.sum(dev * dev, axis=axes, dtype=np.float64))
    return out


def global_moments(
    x: Any, axes: tuple[int, ...], world: World
) -> tuple[np.ndarray, np.ndarray, float]:
    """(mean, biased variance, count) per channel over every rank's ``x``: float64 on
    the host, the same bits on every rank; one Allgather."""
    every = world.allgather_array(_local(x, axes))
    counts, means, m2s = every[:, 0], every[:, 1], every[:, 2]
    total = counts.sum(axis=0)
    safe = np.maximum(total, 1.0)
    mean = (counts * means).sum(axis=0) / safe
    m2 = m2s.sum(axis=0) + (counts * (means - mean) ** 2).sum(axis=0)
    return mean, m2 / safe, float(total[0]) if total.size else 0.0


def reduce_cotangents(
    g: Any, weight: float, count: int, world: World
) -> tuple[np.ndarray, float]:
    """The cotangent of the global statistics (a (K, C) array, here mean, variance,
    unbiased variance) that this rank's backward pass must carry on to its ``x``, and
    the global count (the sum of the ranks' ``count``): ``sum_r w_r g_r / w_this``
    over the ranks, one Allreduce.

    Why: rank ``r``'s loss ``L_r`` is the mean over its ``w_r`` samples, and
    :func:`srcgrad.distributed.allreduce_grads` (weights ``w_r``) returns
    ``sum_r c_r dL_r`` with ``c_r = w_r / W``: the gradient of the whole batch's loss
    ``L = sum_r c_r L_r``.  The global statistics feed every ``L_r``, so the whole
    batch's cotangent of them is ``G = sum_r c_r g_r``; it reaches rank r's samples
    through rank r's backward, whose result is scaled by ``c_r`` in the average, so rank
    r must carry ``G / c_r = sum_r' w_r' g_r' / w_r``.  With equal shards this is the
    plain sum over the ranks.  A rank of weight 0 has no samples to carry it to: it
    sends zeros (and no count) and gets zeros back.
    """
    shape = np.shape(g)
    buf = np.zeros(int(np.prod(shape)) + 1, dtype=np.float64)
    if weight > 0:
        buf[:-1] = _host(g).reshape(-1)
        buf[:-1] *= weight
        buf[-1] = count
    world.allreduce_sum(buf)
    total = float(buf[-1])
    if weight > 0:
        return buf[:-1].reshape(shape) / weight, total
    return np.zeros(shape), total
