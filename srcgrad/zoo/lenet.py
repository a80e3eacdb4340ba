"""``lenet3``: LeNet-5 on the first three Fashion-MNIST classes (T-shirt/top, trouser,
pullover), trained with Adam."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = ["LeNet", "lenet10_example", "lenet10_loss", "lenet_example", "lenet_loss"]


class LeNet(nn.Module):
    """conv5x5 1->6 (padding 2), ReLU, maxpool 2, conv5x5 6->16, ReLU, maxpool 2, then
    fully connected 400-120-84-``num_classes`` with ReLU between; 28x28 inputs."""

    def __init__(self, num_classes: int = 3, *, rng: Any = None) -> None:
        f32 = np.float32
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2, rng=rng, dtype=f32)
        self.conv2 = nn.Conv2d(6, 16, 5, rng=rng, dtype=f32)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120, rng=rng, dtype=f32)
        self.fc2 = nn.Linear(120, 84, rng=rng, dtype=f32)
        self.fc3 = nn.Linear(84, num_classes, rng=rng, dtype=f32)

    def __call__(self, x):
        h = self.pool(nn.relu(self.conv1(x)))
        h = self.pool(nn.relu(self.conv2(h)))
        h = h.reshape(h.shape[0], -1)
        h = nn.relu(self.fc1(h))
        h = nn.relu(self.fc2(h))
        return self.fc3(h)


def lenet_example() -> tuple[LeNet, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``lenet_loss``: (model, x, labels)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    return LeNet(rng=rng), x, rng.integers(0, 3, 4)


@srcgrad.value_and_grad(has_aux=True, example=lenet_example)
def lenet_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits


def lenet10_example() -> tuple[LeNet, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``lenet10_loss`` (all ten classes)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    return LeNet(num_classes=10, rng=rng), x, rng.integers(0, 10, 4)


@srcgrad.value_and_grad(has_aux=True, example=lenet10_example)
def lenet10_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
