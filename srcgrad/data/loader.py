"""``DataLoader``: batches of a dataset, one epoch per iteration."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from srcgrad.data.dataset import _batch
from srcgrad.data.samplers import RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "to_float32"]


def to_float32(batch: Any) -> Any:
    """Each floating array of a batch (a tuple or one array) as a C-contiguous float32
    array; other arrays (integer labels) as they are."""
    if isinstance(batch, tuple):
        return tuple(to_float32(x) for x in batch)
    if isinstance(batch, np.ndarray) and batch.dtype.kind == "f":
        return np.ascontiguousarray(batch, dtype=np.float32)
    return batch


class DataLoader:
    """Iterate over ``dataset`` in batches; each ``iter()`` is one epoch.

    Args:
        dataset: a :class:`Dataset` (or anything with ``len`` and ``[i]``).
        batch_size: samples per batch.
        shuffle: a new permutation each epoch, drawn from ``rng``.
        drop_last: leave out a last batch smaller than ``batch_size``.
        rng: a ``np.random.Generator`` or a seed: the same seed gives the same epochs.
        collate: ``batch -> batch``, applied to each batch after it is fetched (default
            :func:`to_float32`: floating arrays become contiguous float32).
        sampler: the index order instead of ``shuffle`` (a :class:`Sampler`).
        transform: ``x -> x`` applied to the first field of each batch (the inputs),
            after ``collate``.
        prefetch: batches prepared ahead in a background thread (0: none).
        batch_sampler: instead of ``batch_size``, ``shuffle``, ``sampler`` and
            ``drop_last``, an object whose ``batches()`` gives the index arrays of one
            epoch's batches and ``num_batches()`` how many (a
            :class:`srcgrad.distributed.DistributedSampler`).

    A batch is fetched with one fancy-indexing call per field (``dataset.batch``), not
    sample by sample.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: np.random.Generator | int | None = None,
        collate: Callable[[Any], Any] | None = None,
        sampler: Sampler | None = None,
        transform: Callable[[Any], Any] | None = None,
        prefetch: int = 0,
        batch_sampler: Any = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either shuffle or a sampler")
        if batch_sampler is not None and (shuffle or drop_last or sampler is not None):
            raise ValueError(
                "DataLoader: a batch_sampler decides the batches: give no shuffle, "
                "sampler or drop_last with it"
            )
        self.batch_sampler = batch_sampler
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.collate = to_float32 if collate is None else collate
        self.transform = transform
        self.prefetch = int(prefetch)
        if sampler is None:
            n = len(dataset)
            sampler = RandomSampler(n, rng) if shuffle else SequentialSampler(n)
        self.sampler = sampler

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return int(self.batch_sampler.num_batches())
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _index_batches(self) -> Iterator[Any]:
        if self.batch_sampler is not None:
            yield from self.batch_sampler.batches()
            return
        order = self.sampler.indices()
        stop = len(order) - (len(order) % self.batch_size if self.drop_last else 0)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def _batches(self) -> Iterator[Any]:
        for index in self._index_batches():
            batch = self.collate(_batch(self.dataset, index))
            if self.transform is not None:
                if isinstance(batch, tuple):
                    batch = (self.transform(batch[0]), *batch[1:])
                else:
                    batch = self.transform(batch)
            yield batch

    def __iter__(self) -> Iterator[Any]:
        if self.prefetch <= 0:
            return self._batches()
        return _prefetched(self._batches(), self.prefetch)


_DONE = object()


def _prefetched(batches: Iterator[Any], depth: int) -> Iterator[Any]:
    """``batches`` produced by a background thread, up to ``depth`` ahead; an error in
    the thread is raised here; leaving the loop early stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        q.put((b, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((_DONE, None))
        except BaseException as err:  # handed to the consumer
            q.put((_DONE, err))

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while True:
            item, err = q.get()
            if err is not None:
                raise err
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=1.0)
