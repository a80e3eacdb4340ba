"""A three-layer MLP with layer normalisation after every hidden layer."""

import numpy as np

import srcgrad


def layer_norm(h, gain, bias):
    mean = np.mean(h, axis=1, keepdims=True)
    centred = h - mean
    var = np.mean(centred * centred, axis=1, keepdims=True)
    return gain * centred / np.sqrt(var + 1e-5) + bias


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 4, sizes 3-6-5-2, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (
        *(r(3, 6), r(6), r(6, 5), r(5), r(5, 2), 1 + r(6), 1 + r(5)),
        r(4, 3),
        r(4, 2),
    )


@srcgrad.grad(wrt=("W1", "b1", "W2", "b2", "W3", "g1", "g2"), example=example)
def layernorm_mlp_loss(W1, b1, W2, b2, W3, g1, g2, x, y):
    """Mean squared error of a GELU-like MLP with layer norm."""
    h = layer_norm(x @ W1 + b1, g1, 0.0)
    h = h * (1.0 + np.tanh(0.8 * h)) * 0.5
    h = layer_norm(h @ W2 + b2, g2, 0.0)
    h = h * (1.0 + np.tanh(0.8 * h)) * 0.5
    pred = h @ W3
    return np.mean((pred - y) ** 2)
