"""Averaging gradients over the ranks, and keeping the replicas of a model identical.

:func:`allreduce_grads` packs the floating leaves of a gradient into flat contiguous
buffers (one per dtype while it is under ``bucket_bytes``, else several *buckets*), each
leaf scaled by this rank's weight and one slot holding the weight itself, and sums each
buffer over the ranks with one ``MPI_Allreduce`` (the buckets' reductions are started
together and overlap with the packing of the next).  Dividing by the summed weight gives
``sum_r w_r g_r / sum_r w_r``: with ``w_r`` the number of samples of rank ``r``'s
shard and ``g_r`` the gradient of its mean loss, exactly the gradient of the mean loss
over the whole batch, however unevenly the batch was split.

Device arrays (cupy) are reduced where they lie when the MPI library is CUDA-aware
(:func:`srcgrad.distributed.devices.cuda_aware_mpi`), and through one explicit
device-to-host copy and back per bucket otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad import backend, tree
from srcgrad.distributed import devices
from srcgrad.distributed.ranks import DistributedError, World, digest, world

__all__ = [
    "BUCKET_BYTES",
    "allreduce_grads",
    "check_same_model",
    "model_signature",
    "parameters_digest",
    "sync_buffers",
    "zeros_like_grads",
]

BUCKET_BYTES = 64 * 2**20


def _floating(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return (
        dtype is not None
        and type(getattr(leaf, "shape", None)) is tuple
        and np.dtype(dtype).kind in "fc"
    )


def _buckets(leaves: list[Any], picked: list[int], limit: int) -> list[list[int]]:
    """The picked leaf indices grouped by (namespace, dtype), each group cut into
    buckets of at most ``limit`` bytes (a larger leaf gets a bucket of its own)."""
    groups: dict[tuple[Any, str], list[int]] = {}
    for i in picked:
        key = (backend.namespace(leaves[i]), np.dtype(leaves[i].dtype).str)
        groups.setdefault(key, []).append(i)
    out: list[list[int]] = []
    for members in groups.values():
        current: list[int] = []
        size = 0
        for i in members:
            n = leaves[i].size * leaves[i].itemsize
            if current and size + n > limit:
                out.append(current)
                current, size = [], 0
            current.append(i)
            size += n
        out.append(current)
    return out


def _pack(leaves: list[Any], members: list[int], weight: float) -> Any:
    """One flat buffer: each member leaf times ``weight``, then ``weight``."""
    first = leaves[members[0]]
    xp = backend.namespace(first)
    parts = [leaves[i].reshape(-1) for i in members]
    if weight != 1.0:
        parts = [p * weight for p in parts]
    parts.append(xp.full((1,), weight, dtype=first.dtype))
    return xp.concatenate(parts)


def allreduce_grads(
    grads: Any,
    *,
    weight: float = 1.0,
    world_: World | None = None,
    bucket_bytes: int = BUCKET_BYTES,
) -> Any:
    """The weighted mean over the ranks of each rank's ``grads``.

    Args:
        grads: a pytree of gradients (arrays of numpy or cupy, numpy scalars), the same
            structure, shapes and dtypes on every rank; other leaves (``None`` for a
            model's buffers) are left as they are.
        weight: this rank's weight, usually the number of samples its loss averaged
            over (0 for a rank whose shard of the batch is empty: its ``grads`` are
            then only read for their layout and may be :func:`zeros_like_grads`).
        world_: the ranks (default :func:`srcgrad.distributed.world`).
        bucket_bytes: the largest buffer one Allreduce sends (larger gradients are cut
            into several, reduced concurrently).

    Returns:
        A pytree like ``grads`` holding ``sum_r weight_r grads_r / sum_r weight_r``,
        the same on every rank; on one process, ``grads`` itself.

    Raises:
        DistributedError: every rank gave weight 0.
    """
    w = world() if world_ is None else world_
    if w.size == 1:
        return grads
    leaves, treedef = tree.flatten(grads)
    picked = [i for i, leaf in enumerate(leaves) if _floating(leaf)]
    if not picked:
        return grads
    buckets = _buckets(leaves, picked, max(int(bucket_bytes), 1))
    buffers = devices.reduce_buffers(
        w, [_pack(leaves, members, float(weight)) for members in buckets]
    )
    new = list(leaves)
    for members, buf in zip(buckets, buffers):
        total = buf[-1]
        if bool(total == 0):
            raise DistributedError(
                "allreduce_grads: every rank gave weight 0 (no samples anywhere)",
                hint="give each rank's weight as the number of samples of its shard",
            )
        start = 0
        for i in members:
            leaf = leaves[i]
            piece = buf[start : start + leaf.size]
            start += leaf.size
            new[i] = (piece / total).astype(leaf.dtype).reshape(leaf.shape)
            if isinstance(leaf, np.generic):
                new[i] = leaf.dtype.type(new[i])
    return tree.unflatten(treedef, new)


def zeros_like_grads(model: Any) -> Any:
    """A gradient of ``model`` that is zero everywhere: zero arrays for its parameters,
    ``None`` for its constants (buffers, settings), as a generated gradient has them.
    What a rank whose shard of a batch is empty passes to :func:`allreduce_grads`."""
    constant = tree.constant_paths(model)

    def zero(path: tuple, leaf: Any) -> Any:
        if any(path[:k] in constant for k in range(1, len(path) + 1)):
            return None
        if _floating(leaf):
            return backend.namespace(leaf).zeros_like(leaf)
        return leaf

    return tree.map_with_path(zero, model)


def model_signature(model: Any) -> str:
    """A digest of the names, shapes and dtypes of ``model``'s leaves (not their
    values): what ranks that train the same model agree on."""
    parts = [
        f"{tree.path_string(path)}:{type(leaf).__name__}:"
        f"{getattr(leaf, 'dtype', '')}:{tuple(getattr(leaf, 'shape', ()))}"
        for path, leaf in tree.leaves_with_paths(model)
    ]
    return digest(type(model).__qualname__, *parts)


def parameters_digest(model: Any) -> str:
    """A digest of the values of ``model``'s floating leaves (parameters, buffers)."""
    return digest(*(v for v in tree.leaves(model) if _floating(v)))


def check_same_model(model: Any, world_: World | None = None) -> None:
    """Raise on every rank unless all ranks hold a model of the same signature.

    Raises:
        DistributedError: the ranks' models differ in names, shapes or dtypes.
    """
    w = world() if world_ is None else world_
    w.check_same(
        "the model signature (parameter names, shapes, dtypes)", model_signature(model)
    )


def sync_buffers(model: Any, world_: World | None = None) -> Any:
    """``model`` with every floating constant (a BatchNorm's running statistics)
    replaced by its mean over the ranks; parameters are left as they are."""
    w = world() if world_ is None else world_
    if w.size == 1:
        return model
    constant = tree.constant_paths(model)
    found: list[tuple[tuple, Any]] = []
    for path, leaf in tree.leaves_with_paths(model):
        inside = any(path[:k] in constant for k in range(1, len(path) + 1))
        if inside and _floating(leaf):
            found.append((path, leaf))
    if not found:
        return model
    averaged = allreduce_grads([leaf for _, leaf in found], world_=w)
    for (path, _), value in zip(found, averaged):
        model = tree.replace(model, path, value)
    return model
