"""``rnn-sin2cos``: an Elman RNN that reads samples of a sine and outputs the cosine at
the same points (regression on synthetic data, trained with Adam).

Each sequence is ``sin(phase + STEP * t)`` for ``t < LENGTH`` with a random phase; the
target is ``cos`` at the same points.  One sample alone does not fix the cosine's sign,
so the loss (the mean squared error) counts the steps from ``WARMUP`` on: from the second
sample on the cosine is determined by the last two sines.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

import srcgrad
from srcgrad import data, nn
from srcgrad.zoo.datasets import Splits

__all__ = [
    "SinToCos",
    "sin2cos_example",
    "sin2cos_loss",
    "sin2cos_splits",
]

STEP = 2.0 * math.pi / 20.0  # 20 samples per period
LENGTH = 40  # two periods per sequence
WARMUP = 2  # the loss counts steps WARMUP.. only
TRAIN, TEST = 2000, 500


class SinToCos(nn.Module):
    """A one-layer tanh RNN (1 -> ``hidden``) over (N, T, 1) and a linear read-out of
    every step's state to one number: (N, T, 1) -> (N, T)."""

    def __init__(self, hidden: int = 32, *, rng: Any = None) -> None:
        f32 = np.float32
        self.rnn = nn.RNN(1, hidden, batch_first=True, rng=rng, dtype=f32)
        self.head = nn.Linear(hidden, 1, rng=rng, dtype=f32)

    def __call__(self, x):
        h, _ = self.rnn(x)
        return self.head(h)[:, :, 0]


def _waves(n: int, rng: np.random.Generator) -> data.ArrayDataset:
    phase = rng.uniform(0.0, 2.0 * math.pi, size=(n, 1))
    angle = phase + STEP * np.arange(LENGTH)
    x = np.sin(angle).astype(np.float32)[:, :, None]
    return data.ArrayDataset(x, np.cos(angle).astype(np.float32))


def sin2cos_splits(
    path: str | os.PathLike[str] | None = None,
    classes: Sequence[int] | None = None,
) -> Splits:
    """2000 training and 500 test sequences with phases drawn from fixed seeds.

    Raises:
        ValueError: ``path`` was given (the data are synthetic).
    """
    if path is not None:
        raise ValueError("the sine waves are synthetic; --data does not apply")
    source = (
        f"synthetic sine/cosine pairs ({TRAIN} training, {TEST} test sequences of "
        f"{LENGTH} steps, {round(2 * math.pi / STEP)} per period)"
    )
    return Splits(
        _waves(TRAIN, np.random.default_rng(1)),
        _waves(TEST, np.random.default_rng(2)),
        source,
    )


def sin2cos_example() -> tuple[SinToCos, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``sin2cos_loss``: (model, x, targets)."""
    rng = np.random.default_rng(0)
    x, y = _waves(4, rng).arrays
    return SinToCos(rng=rng), x, y


@srcgrad.value_and_grad(has_aux=True, example=sin2cos_example)
def sin2cos_loss(model, x, targets):
    """Mean squared error over the steps from ``WARMUP`` on; the predictions come back
    as the auxiliary output."""
    pred = model(x)
    err = pred[:, WARMUP:] - targets[:, WARMUP:]
    return np.mean(err * err), pred
