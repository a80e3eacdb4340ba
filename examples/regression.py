"""A one-layer tanh regression: the example the README differentiates."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    batch 8, 4 inputs, 3 outputs, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (r(4, 3), r(3), r(8, 4), r(8, 3))


@srcgrad.grad(wrt=("W", "b"), example=example)
def mse_tanh(W, b, x, t):
    h = np.tanh(x @ W + b)
    err = h - t
    return np.mean(err * err)
