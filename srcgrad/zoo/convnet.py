"""``convnet``: two 3x3 convolutions with batch normalisation, a max pool and a linear
read-out, on Fashion-MNIST."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = ["ConvNet", "convnet_example", "convnet_loss"]


class ConvNet(nn.Module):
    """conv3x3 1->``c1``, BatchNorm2d, ReLU, conv3x3 ``c1``->``c2``, BatchNorm2d, ReLU,
    maxpool 2, then Linear to 10: 28x28 -> 26x26 -> 24x24 -> 12x12."""

    def __init__(self, c1: int = 16, c2: int = 16, *, rng: Any = None) -> None:
        f32 = np.float32
        self.conv1 = nn.Conv2d(1, c1, 3, rng=rng, dtype=f32)
        self.bn1 = nn.BatchNorm2d(c1, dtype=f32)
        self.conv2 = nn.Conv2d(c1, c2, 3, rng=rng, dtype=f32)
        self.bn2 = nn.BatchNorm2d(c2, dtype=f32)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c2 * 12 * 12, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        h = nn.relu(self.bn1(self.conv1(x)))
        h = nn.relu(self.bn2(self.conv2(h)))
        h = self.pool(h)
        return self.fc(h.reshape(h.shape[0], -1))


def convnet_example() -> tuple[ConvNet, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``convnet_loss``: (model, x, labels)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    return ConvNet(rng=rng), x, rng.integers(0, 10, 4)


@srcgrad.value_and_grad(has_aux=True, example=convnet_example)
def convnet_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
