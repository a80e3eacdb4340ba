"""Recursive functions for tests/test_forward_recursion.py (srcgrad reads their source)."""

import numpy as np


def power(x, n):
    if n == 0:
        return np.ones_like(x)
    return x * power(x, n - 1)


def series(x, w, n):
    # a recursive call whose arguments carry tangents in both operands
    if n == 0:
        return np.tanh(w * x)
    return np.sin(x) * series(x * w, w, n - 1) + w


def even_sum(x, n):
    if n == 0:
        return np.sum(x)
    return odd_sum(np.cos(x), n - 1)


def odd_sum(x, n):
    if n == 0:
        return np.sum(x * x)
    return even_sum(x * 2.0, n - 1)
