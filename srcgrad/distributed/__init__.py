"""srcgrad.distributed: data-parallel training over MPI, through mpi4py.

Start N copies of a training program with ``mpirun -n N``; each is a *rank*.  Every rank
holds the whole model, takes its shard of each batch (:class:`DistributedSampler`),
computes its generated gradient, and :func:`allreduce_grads` averages the gradients over
the ranks with one ``MPI_Allreduce`` over a flat buffer, so every rank applies the same
update.  Rank 0 alone writes files (:func:`is_main_process`).  Batch norms may use the
whole global batch's statistics: :class:`srcgrad.nn.SyncBatchNorm` (its collectives are
in :mod:`srcgrad.distributed.batchnorm`; :func:`empty_shard` for a rank without samples).

Without mpirun (or with one rank) everything here works as one process and mpi4py is not
imported: ``allreduce_grads`` returns its argument, the sampler gives whole batches.

Example::

    from srcgrad import data, distributed, optim

    sampler = distributed.DistributedSampler(len(train), batch_size=128, rng=seed)
    loader = data.DataLoader(train, batch_sampler=sampler)
    for x, y in loader:
        (loss, _), grads = loss_and_grad(model, x, y)
        grads = distributed.allreduce_grads(grads, weight=len(y))
        updates, state = opt.update(grads, state, model)
        model = optim.apply_updates(model, updates)
    if distributed.is_main_process():
        srcgrad.save("model.npz", model)
"""

from srcgrad.distributed.batchnorm import empty_shard
from srcgrad.distributed.devices import cuda_aware_mpi
from srcgrad.distributed.grads import (
    BUCKET_BYTES,
    allreduce_grads,
    check_same_model,
    model_signature,
    parameters_digest,
    sync_buffers,
    zeros_like_grads,
)
from srcgrad.distributed.launcher import launch, mpirun_command
from srcgrad.distributed.sampler import DistributedSampler, shard_range
from srcgrad.distributed.ranks import (
    DistributedError,
    World,
    abort,
    is_distributed,
    is_main_process,
    launched_size,
    rank,
    world,
    world_size,
)

__all__ = [
    "BUCKET_BYTES",
    "DistributedError",
    "DistributedSampler",
    "World",
    "abort",
    "allreduce_grads",
    "check_same_model",
    "cuda_aware_mpi",
    "empty_shard",
    "is_distributed",
    "is_main_process",
    "launch",
    "launched_size",
    "model_signature",
    "mpirun_command",
    "parameters_digest",
    "rank",
    "shard_range",
    "sync_buffers",
    "world",
    "world_size",
    "zeros_like_grads",
]
