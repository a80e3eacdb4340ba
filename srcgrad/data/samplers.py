"""Samplers: the order of the sample indices of one epoch, as one integer array."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "WeightedRandomSampler"]


class Sampler:
    """``indices()``: the indices of one epoch (a new draw each call); ``len``: how
    many."""

    def indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., n - 1``."""

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def indices(self) -> np.ndarray:
        return np.arange(self.n)

    def __len__(self) -> int:
        return self.n


class RandomSampler(Sampler):
    """A permutation of ``range(n)`` per epoch (or ``num_samples`` draws with
    ``replacement``), from ``rng``."""

    def __init__(
        self,
        n: int,
        rng: np.random.Generator | int | None = None,
        replacement: bool = False,
        num_samples: int | None = None,
    ) -> None:
        self.n = int(n)
        self.rng = np.random.default_rng(rng)
        self.replacement = replacement
        self.num_samples = self.n if num_samples is None else int(num_samples)
        if not replacement and self.num_samples != self.n:
            raise ValueError("RandomSampler: num_samples needs replacement=True")

    def indices(self) -> np.ndarray:
        if self.replacement:
            return self.rng.integers(0, self.n, size=self.num_samples)
        return self.rng.permutation(self.n)

    def __len__(self) -> int:
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``."""

    def __init__(
        self,
        weights: Any,
        num_samples: int,
        replacement: bool = True,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, >= 0, not all 0"
            )
        self.p = w / w.sum()
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.rng = np.random.default_rng(rng)

    def indices(self) -> np.ndarray:
        return self.rng.choice(
            len(self.p), size=self.num_samples, replace=self.replacement, p=self.p
        )

    def __len__(self) -> int:
        return self.num_samples
