"""Programs of tests/test_trust_reduce_and_where.py."""

import numpy as np


def add_multiply_reduce(x):
    return np.sum(np.add.reduce(x) ** 2) + np.sum(np.multiply.reduce(x, 1) ** 2)


def extreme_reduce(x):
    top = np.maximum.reduce(x, axis=1, keepdims=True)
    return np.sum(top * x) + np.minimum.reduce(x, axis=None)


def reduce_axes(x):
    return np.sum(np.add.reduce(x, axis=(0, 1)) ** 2) + np.sum(
        np.add.reduce(x, keepdims=True) * x
    )


def where_positions(x):
    y = x.copy()
    y[y < 0] *= 0.1
    idx = np.where(y > 0.2)[0]
    return np.sum(y[idx] ** 2) + np.sum(x[x > 0])


def where_pairs(X):
    rows, cols = np.where(X > 0)
    return np.sum(X[rows, cols] ** 3)


def logaddexp_reduce(x):
    return np.logaddexp.reduce(x)
