"""``DistributedSampler``: this rank's shard of every batch of an epoch.

Every rank draws the same epoch order (the same sampler, seeded alike), cuts it into the
*global* batches one process would train on, and keeps its own contiguous part of each:
rank ``r`` of ``N`` takes positions ``r*L//N`` to ``(r+1)*L//N`` of a batch of ``L``
samples.  The shards of a batch are disjoint and cover it, differ in size by at most
one, and every rank has the same number of batches per epoch (a shard may be empty when
a last batch holds fewer samples than there are ranks), so the ranks step together.

Give it to a :class:`srcgrad.data.DataLoader` as ``batch_sampler``; weigh each rank's
gradient by its shard's size (:func:`srcgrad.distributed.allreduce_grads`) and the mean
over the ranks is the gradient of the whole batch.
"""

from __future__ import annotations

import numpy as np

from srcgrad.data.samplers import RandomSampler, Sampler, SequentialSampler
from srcgrad.distributed.ranks import world

__all__ = ["DistributedSampler", "shard_range"]


class DistributedSampler(Sampler):
    """This rank's shard of each global batch of an epoch.

    Args:
        source: the number of samples, or a :class:`srcgrad.data.Sampler` giving the
            epoch order (it must give the same order on every rank: seed it alike).
        batch_size: the global batch, split over the ranks.
        shuffle: with a number of samples, a new permutation per epoch from ``rng``
            (else ``0, 1, ..., n - 1``).
        rng: a ``np.random.Generator`` or seed for ``shuffle``; None is the seed 0, the
            same on every rank.
        drop_last: leave out a last global batch smaller than ``batch_size``.
        rank, world_size: this rank and the number of ranks (default: the MPI world's).

    ``batches()`` gives the index arrays of one epoch, one per global batch (a new
    draw each call); ``indices()`` the same indices in one array, in that order.
    """

    def __init__(
        self,
        source: int | Sampler,
        batch_size: int,
        *,
        shuffle: bool = True,
        rng: np.random.Generator | int | None = None,
        drop_last: bool = False,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(
                f"DistributedSampler: batch_size must be >= 1, got {batch_size}"
            )
        if isinstance(source, Sampler):
            self.sampler = source
        elif shuffle:
            self.sampler = RandomSampler(int(source), 0 if rng is None else rng)
        else:
            self.sampler = SequentialSampler(int(source))
        if rank is None or world_size is None:
            w = world()
            rank = w.rank if rank is None else rank
            world_size = w.size if world_size is None else world_size
        if not 0 <= rank < world_size:
            raise ValueError(
                f"DistributedSampler: rank {rank} is not in 0..{world_size - 1}"
            )
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.rank = int(rank)
        self.world_size = int(world_size)

    def _bounds(self, n: int) -> tuple[int, int]:
        return shard_range(n, self.rank, self.world_size)

    def global_batch_sizes(self) -> list[int]:
        """The sizes of one epoch's global batches."""
        n, b = len(self.sampler), self.batch_size
        sizes = [b] * (n // b)
        if n % b and not self.drop_last:
            sizes.append(n % b)
        return sizes

    def batches(self) -> list[np.ndarray]:
        """This rank's shard of each global batch of a new epoch (some may be empty)."""
        order = np.asarray(self.sampler.indices())
        out = []
        for k, size in enumerate(self.global_batch_sizes()):
            lo, hi = self._bounds(size)
            out.append(order[k * self.batch_size + lo : k * self.batch_size + hi])
        return out

    def num_batches(self) -> int:
        """Batches per epoch: the same on every rank."""
        return len(self.global_batch_sizes())

    def indices(self) -> np.ndarray:
        parts = self.batches()
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)

    def __len__(self) -> int:
        return sum(hi - lo for lo, hi in map(self._bounds, self.global_batch_sizes()))

    def __repr__(self) -> str:
        return (
            f"DistributedSampler(rank {self.rank} of {self.world_size}, "
            f"batch_size={self.batch_size}, {self.sampler!r})"
        )


def shard_range(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """The contiguous part ``[lo, hi)`` of ``n`` items that ``rank`` takes."""
    return rank * n // world_size, (rank + 1) * n // world_size
