"""Parameters held in user dataclasses (frozen or not, nested, with settings fields)."""

from dataclasses import dataclass

import numpy as np


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    act: str = "tanh"


@dataclass(frozen=True)
class Net:
    first: Layer
    second: Layer
    scale: float = 0.5


@dataclass
class Checked:
    W: np.ndarray

    def __post_init__(self):
        if self.W.ndim != 2:
            raise ValueError("W must be a matrix")


def net_loss(net, x):
    h = x
    for layer in (net.first, net.second):
        z = h @ layer.W + layer.b
        h = np.tanh(z) if layer.act == "tanh" else np.maximum(z, 0.0)
    return net.scale * np.sum(h**2)


def checked_loss(p, x):
    return np.sum(np.sin(x @ p.W))


def list_of_layers_loss(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer.W + layer.b)
    return np.sum(h)
