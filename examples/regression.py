"""A one-layer tanh regression: the example the README differentiates."""

import numpy as np

import srcgrad


@srcgrad.grad(wrt=("W", "b"))
def mse_tanh(W, b, x, t):
    h = np.tanh(x @ W + b)
    err = h - t
    return np.mean(err * err)
