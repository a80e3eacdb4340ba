"""Small helpers the programs share, the way a project keeps a ``util.py`` next to its models."""

import numpy as np


def sigmoid(x):
    return 0.5 * (np.tanh(x) + 1.0)


def relu(x):
    return np.maximum(0.0, x)


def softplus(x):
    return np.logaddexp(0.0, x)


def log_sigmoid(x):
    return x - np.logaddexp(0.0, x)


def stable_logsumexp(a, axis=None, keepdims=False):
    """log(sum(exp(a))) along an axis, shifted by the maximum for stability."""
    top = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    if not keepdims:
        out = np.squeeze(out, axis=axis)
    return out


def diag_gaussian_logpdf(x, mean, log_std):
    """Log density of a diagonal Gaussian, summed over the last axis."""
    var = np.exp(2.0 * log_std)
    quad = (x - mean) ** 2 / var
    return -0.5 * np.sum(quad + 2.0 * log_std + np.log(2.0 * np.pi), axis=-1)


def init_layers(rs, layer_sizes, scale=0.3):
    """One (weights, bias) pair per layer, drawn from ``rs``."""
    return [
        (scale * rs.randn(m, n), scale * rs.randn(n))
        for m, n in zip(layer_sizes[:-1], layer_sizes[1:])
    ]
