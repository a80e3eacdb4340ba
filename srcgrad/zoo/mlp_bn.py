"""``mlp-dropout-bn`` and ``resmlp``: multilayer perceptrons on Fashion-MNIST, one with
batch normalisation and dropout between its layers, one with a residual block."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.datasets import example_batch
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = [
    "MLPDropoutBN",
    "ResMLP",
    "mlp_bn_example",
    "mlp_bn_loss",
    "resmlp_example",
    "resmlp_loss",
]


class MLPDropoutBN(nn.Module):
    """784-``h1``-``h2``-10: each hidden layer is Linear, BatchNorm1d, ReLU, Dropout."""

    def __init__(
        self, h1: int = 512, h2: int = 256, p: float = 0.2, *, rng: Any = None
    ) -> None:
        f32 = np.float32
        self.fc1 = nn.Linear(784, h1, rng=rng, dtype=f32)
        self.bn1 = nn.BatchNorm1d(h1, dtype=f32)
        self.drop1 = nn.Dropout(p, rng=rng)
        self.fc2 = nn.Linear(h1, h2, rng=rng, dtype=f32)
        self.bn2 = nn.BatchNorm1d(h2, dtype=f32)
        self.drop2 = nn.Dropout(p, rng=rng)
        self.fc3 = nn.Linear(h2, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        h = x.reshape(x.shape[0], -1)
        h = self.drop1(nn.relu(self.bn1(self.fc1(h))))
        h = self.drop2(nn.relu(self.bn2(self.fc2(h))))
        return self.fc3(h)


class ResMLP(nn.Module):
    """784-``width``-``width``-10: ReLU(fc1(x)) = h, then h + ReLU(fc2(h)), then the
    read-out."""

    def __init__(self, width: int = 1024, *, rng: Any = None) -> None:
        f32 = np.float32
        self.fc1 = nn.Linear(784, width, rng=rng, dtype=f32)
        self.fc2 = nn.Linear(width, width, rng=rng, dtype=f32)
        self.fc3 = nn.Linear(width, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        h = nn.relu(self.fc1(x.reshape(x.shape[0], -1)))
        h = h + nn.relu(self.fc2(h))
        return self.fc3(h)


def mlp_bn_example() -> tuple[MLPDropoutBN, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``mlp_bn_loss``: (model, x, labels)."""
    rng, x, labels = example_batch()
    return MLPDropoutBN(rng=rng), x, labels


def resmlp_example() -> tuple[ResMLP, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``resmlp_loss``: (model, x, labels)."""
    rng, x, labels = example_batch()
    return ResMLP(rng=rng), x, labels


@srcgrad.value_and_grad(has_aux=True, example=mlp_bn_example)
def mlp_bn_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits


@srcgrad.value_and_grad(has_aux=True, example=resmlp_example)
def resmlp_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
