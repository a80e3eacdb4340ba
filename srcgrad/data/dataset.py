"""Datasets: indexable collections of samples.  Indexing with an array of indices
returns a whole batch at once (no per-sample Python loop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from srcgrad.data.errors import DataError

__all__ = ["Dataset", "ArrayDataset", "Subset", "random_split"]


class Dataset:
    """A sequence of samples: ``len(ds)`` and ``ds[i]``.

    ``ds[indices]`` with an integer array gives the batch of those samples; the base
    class does it sample by sample (a subclass that can do better overrides
    :meth:`batch`).
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError

    def batch(self, indices: np.ndarray) -> Any:
        """The samples at ``indices``, stacked: a tuple of arrays (one per field)."""
        samples = [self[int(i)] for i in indices]
        if not isinstance(samples[0], tuple):
            return np.stack(samples)
        return tuple(np.stack(field) for field in zip(*samples))


class ArrayDataset(Dataset):
    """Samples held as arrays of one length: sample ``i`` is ``(a[i] for a in
    arrays)`` (PyTorch's ``TensorDataset``).

    Raises:
        DataError: arrays of different lengths (each length named).
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise DataError("ArrayDataset needs at least one array")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise DataError(
                f"ArrayDataset: arrays of different lengths {lengths}",
                hint="every array holds one entry per sample (images and labels alike)",
            )
        self.arrays = tuple(arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple:
        return tuple(a[index] for a in self.arrays)

    def batch(self, indices: np.ndarray) -> tuple:
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise DataError(f"Subset: an index outside the dataset's {n} samples")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[self.indices[index]]

    def batch(self, indices: np.ndarray) -> Any:
        return _batch(self.dataset, self.indices[indices])


def _batch(dataset: Any, indices: np.ndarray) -> Any:
    """``dataset.batch(indices)`` where it has one, else sample by sample."""
    if hasattr(dataset, "batch"):
        return dataset.batch(indices)
    return Dataset.batch(dataset, indices)


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    rng: np.random.Generator | int | None = None,
) -> list[Subset]:
    """Disjoint random subsets of the given lengths (or fractions summing to 1, the
    remainder spread one by one from the first)."""
    n = len(dataset)
    sizes = [int(x) for x in lengths]
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-6:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    if sum(sizes) != n:
        raise DataError(
            f"random_split: lengths {list(lengths)} do not add up to the dataset's {n}"
        )
    order = np.random.default_rng(rng).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
