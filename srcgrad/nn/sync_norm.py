"""``SyncBatchNorm``: batch normalisation whose training statistics are those of the
whole global batch, over every rank of a data-parallel run (:mod:`srcgrad.distributed`).

In training mode each rank's layer normalises its shard with the mean and variance of
every rank's shard together (one ``MPI_Allgather`` per layer in the forward pass, one
``MPI_Allreduce`` in the backward pass, through :func:`global_moments`, a primitive
with its own rule: the generator never looks inside the MPI calls).  The running
statistics are updated from those global statistics, so they are the same on every
rank.  In evaluation mode it is a :class:`BatchNorm1d` / :class:`BatchNorm2d` (running
statistics, or this rank's batch without them: evaluation never talks to the other
ranks).  On one process (no mpirun, or one rank) it computes what ``BatchNorm``
computes, and mpi4py is not imported.

**The gradient.**  The trainer's convention holds: each rank's loss is the mean over
its shard's samples, and its gradient goes to
:func:`srcgrad.distributed.allreduce_grads` with ``weight`` = the shard's size.  Then
the averaged gradient is exactly the gradient of the whole batch's mean loss, as one
process computing on the whole batch with ``BatchNorm`` gets it (up to summation
order): in its backward pass each rank's layer carries to its samples the whole batch's
cotangent of the global statistics, divided by the rank's share ``w_r / W`` of the batch
(which the weighted average multiplies back);
:func:`srcgrad.distributed.batchnorm.reduce_cotangents` spells this out.  The weight is
read as the layer input's first axis (its samples).

A rank whose shard is empty runs its step anyway, so that it joins the collectives:
on its empty batch, or on a stand-in batch inside
:func:`srcgrad.distributed.empty_shard`; either way it counts no samples and weighs 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad import backend
from srcgrad.custom import custom_vjp
from srcgrad.nn._checks import check_input
from srcgrad.nn.module import Module
from srcgrad.nn.norm import BatchNorm1d, BatchNorm2d, _BatchNorm

__all__ = ["SyncBatchNorm", "convert_sync_batchnorm", "global_moments"]


def _world() -> Any:
    """(the ranks, :mod:`srcgrad.distributed.batchnorm`), imported when first used."""
    from srcgrad.distributed import batchnorm, ranks

    return ranks.world(), batchnorm


@custom_vjp
def global_moments(x, axes):
    """(3, C): the mean, biased variance and unbiased variance per channel (axis 1) of
    ``x`` reduced over ``axes``, over every rank's ``x``; in ``x``'s dtype."""
    world, sync = _world()
    xp = backend.namespace(x)
    if world.size == 1 and not sync.in_empty_shard():
        mu = xp.mean(x, axis=axes)
        var = xp.var(x, axis=axes)
        count = x.size // x.shape[1]
        return xp.stack([mu, var, var * (count / max(count - 1, 1))])
    mean, var, count = sync.global_moments(x, axes, world)
    unbiased = var * (count / max(count - 1, 1))
    return xp.asarray(np.stack([mean, var, unbiased])).astype(x.dtype)


@global_moments.defvjp
def _global_moments_vjp(g, ans, x, axes):
    """The cotangent of ``x`` from that of the global (mean, var, unbiased var)."""
    world, sync = _world()
    xp = backend.namespace(x)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    if world.size == 1 and not sync.in_empty_shard():
        count = x.size // x.shape[1]
        g_mean = g[0]
        g_var = g[1] + g[2] * (count / max(count - 1, 1))
    else:
        weight = 0 if sync.in_empty_shard() else x.shape[0]
        local = 0 if weight == 0 else x.size // x.shape[1]
        g, count = sync.reduce_cotangents(g, weight, local, world)
        if weight == 0:
            return xp.zeros_like(x), None
        g = xp.asarray(g).astype(x.dtype)
        g_mean = g[0]
        g_var = g[1] + g[2] * (count / max(count - 1, 1))
    mean = xp.reshape(ans[0], shape)
    dx = (xp.reshape(g_mean, shape) + 2.0 * xp.reshape(g_var, shape) * (x - mean)) / (
        max(count, 1)
    )
    return dx, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation of (N, C, *) input over N and the trailing axes, with the
    statistics of the whole global batch in training mode (see the module docstring);
    PyTorch's arguments, parameters and buffers."""

    def __call__(self, x):
        x = check_input("SyncBatchNorm", x, (2, 3, 4, 5), 1, self.num_features)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (self.num_features,) + (1,) * (x.ndim - 2)
        if self.training:
            stats = global_moments(x, axes)
            mu = stats[0]
            var = stats[1]
            if self.track_running_stats:
                m = self.momentum
                self.running_mean = (1.0 - m) * self.running_mean + m * mu
                self.running_var = (1.0 - m) * self.running_var + m * stats[2]
        elif self.track_running_stats:
            mu = self.running_mean
            var = self.running_var
        else:
            mu = np.mean(x, axis=axes)
            var = np.var(x, axis=axes)
        out = (x - np.reshape(mu, shape)) / np.sqrt(np.reshape(var, shape) + self.eps)
        if self.affine:
            out = out * np.reshape(self.weight, shape) + np.reshape(self.bias, shape)
        return out


def convert_sync_batchnorm(model: Any) -> Any:
    """``model`` with every :class:`BatchNorm1d` and :class:`BatchNorm2d` in it (itself,
    sub-modules, lists, tuples and dicts of them) replaced by a :class:`SyncBatchNorm`
    holding the same settings, parameters, buffers and mode; changed in place where it
    can be, and returned (PyTorch's ``SyncBatchNorm.convert_sync_batchnorm``)."""
    if isinstance(model, (BatchNorm1d, BatchNorm2d)):
        sync = SyncBatchNorm.__new__(SyncBatchNorm)
        for name, value in vars(model).items():
            if name not in ("_kinds", "training"):
                object.__setattr__(sync, name, value)
        sync._kinds.update(model._kinds)
        object.__setattr__(sync, "training", model.training)
        return sync
    if isinstance(model, Module):
        for name, value in list(vars(model).items()):
            if name.startswith("_") or name == "training":
                continue
            new = convert_sync_batchnorm(value)
            if new is not value:
                setattr(model, name, new)
        return model
    if type(model) is list:
        model[:] = [convert_sync_batchnorm(v) for v in model]
        return model
    if type(model) is tuple:
        return tuple(convert_sync_batchnorm(v) for v in model)
    if type(model) is dict:
        for k in list(model):
            model[k] = convert_sync_batchnorm(model[k])
        return model
    return model


SyncBatchNorm.convert_sync_batchnorm = staticmethod(  # type: ignore[attr-defined]
    convert_sync_batchnorm
)
