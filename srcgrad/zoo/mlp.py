"""``mlp``: a 784-400-100-10 ReLU multilayer perceptron on Fashion-MNIST, trained with
Adam."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = ["MLP", "mlp_example", "mlp_loss"]


class MLP(nn.Module):
    """784-400-100-10 with ReLU between the layers; images are flattened first."""

    def __init__(
        self, sizes: tuple[int, ...] = (784, 400, 100, 10), *, rng: Any = None
    ) -> None:
        self.fc1 = nn.Linear(sizes[0], sizes[1], rng=rng, dtype=np.float32)
        self.fc2 = nn.Linear(sizes[1], sizes[2], rng=rng, dtype=np.float32)
        self.fc3 = nn.Linear(sizes[2], sizes[3], rng=rng, dtype=np.float32)

    def __call__(self, x):
        h = x.reshape(x.shape[0], -1)
        h = nn.relu(self.fc1(h))
        h = nn.relu(self.fc2(h))
        return self.fc3(h)


def mlp_example() -> tuple[MLP, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``mlp_loss``: (model, x, labels)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    return MLP(rng=rng), x, rng.integers(0, 10, 4)


@srcgrad.value_and_grad(has_aux=True, example=mlp_example)
def mlp_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
