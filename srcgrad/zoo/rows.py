"""``gru`` and ``lstm-bi``: recurrent networks that read a Fashion-MNIST image as a
sequence of its 28 rows (28 pixels each) and classify it from their last states."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.datasets import example_batch
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = [
    "RowGRU",
    "RowLSTM",
    "gru_example",
    "gru_loss",
    "lstm_bi_example",
    "lstm_bi_loss",
]


class RowGRU(nn.Module):
    """A GRU (28 -> ``hidden``) over the rows, top to bottom; its last state is read
    out by a linear layer."""

    def __init__(self, hidden: int = 128, *, rng: Any = None) -> None:
        f32 = np.float32
        self.gru = nn.GRU(28, hidden, batch_first=True, rng=rng, dtype=f32)
        self.head = nn.Linear(hidden, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        rows = x.reshape(x.shape[0], 28, 28)
        _, h = self.gru(rows)
        return self.head(h[0])


class RowLSTM(nn.Module):
    """A 2-layer bidirectional LSTM (28 -> ``hidden`` each way) over the rows; the last
    layer's final states of both directions, concatenated, are read out by a linear
    layer."""

    def __init__(self, hidden: int = 64, *, rng: Any = None) -> None:
        f32 = np.float32
        self.lstm = nn.LSTM(
            28,
            hidden,
            num_layers=2,
            batch_first=True,
            bidirectional=True,
            rng=rng,
            dtype=f32,
        )
        self.head = nn.Linear(2 * hidden, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        rows = x.reshape(x.shape[0], 28, 28)
        _, (h, _) = self.lstm(rows)
        last = np.concatenate([h[2], h[3]], axis=1)
        return self.head(last)


def gru_example() -> tuple[RowGRU, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``gru_loss``: (model, x, labels)."""
    rng, x, labels = example_batch()
    return RowGRU(rng=rng), x, labels


def lstm_bi_example() -> tuple[RowLSTM, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``lstm_bi_loss``: (model, x, labels)."""
    rng, x, labels = example_batch()
    return RowLSTM(rng=rng), x, labels


@srcgrad.value_and_grad(has_aux=True, example=gru_example)
def gru_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits


@srcgrad.value_and_grad(has_aux=True, example=lstm_bi_example)
def lstm_bi_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
