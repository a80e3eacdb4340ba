"""``digits-mlp``: a 64-64-10 ReLU MLP on scikit-learn's 8x8 digits, trained with Adam
(only where scikit-learn is installed: it ships the data)."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = ["DigitsMLP", "digits_example", "digits_loss"]


class DigitsMLP(nn.Module):
    """64-``hidden``-10 with a ReLU; the 8x8 images are flattened first."""

    def __init__(self, hidden: int = 64, *, rng: Any = None) -> None:
        self.fc1 = nn.Linear(64, hidden, rng=rng, dtype=np.float32)
        self.fc2 = nn.Linear(hidden, 10, rng=rng, dtype=np.float32)

    def __call__(self, x):
        h = x.reshape(x.shape[0], -1)
        return self.fc2(nn.relu(self.fc1(h)))


def digits_example() -> tuple[DigitsMLP, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``digits_loss``: (model, x, labels)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 8, 8), dtype=np.float32)
    return DigitsMLP(rng=rng), x, rng.integers(0, 10, 4)


@srcgrad.value_and_grad(has_aux=True, example=digits_example)
def digits_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
