"""A one-layer tanh regression: the example the README differentiates."""

import numpy as np


def mse_tanh(W, b, x, t):
    h = np.tanh(x @ W + b)
    err = h - t
    return np.mean(err * err)
