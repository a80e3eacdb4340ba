"""A small 1-D convolutional net written with slices: two conv layers, ReLU, mean pooling."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 8, length 16, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (r(3), r(3), r(1, 2), r(8, 16), r(8, 2))


@srcgrad.grad(wrt=("k1", "k2", "W"), example=example)
def conv_loss(k1, k2, W, x, y):
    """Squared error of a linear read-out of two valid 1-D convolutions over ``x`` (n, L)."""
    width = k1.shape[0]
    length = x.shape[1] - width + 1
    h1 = np.zeros((x.shape[0], length))
    for j in range(width):
        h1 = h1 + k1[j] * x[:, j : j + length]
    h1 = np.maximum(h1, 0.0)
    length2 = length - width + 1
    h2 = np.zeros((x.shape[0], length2))
    for j in range(width):
        h2 = h2 + k2[j] * h1[:, j : j + length2]
    h2 = np.maximum(h2, 0.0)
    pooled = np.mean(h2, axis=1, keepdims=True)
    pred = pooled @ W
    err = pred - y
    return np.mean(err * err)
