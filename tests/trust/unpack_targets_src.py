"""Programs for tests/test_trust_unpack_targets.py (kept in a file of their own: srcgrad
reads their source)."""

import numpy as np


class Box:
    def __init__(self):
        self.scale = 1.0


BOX = Box()


def two_arrays(x):
    a = np.zeros(3)
    b = np.ones(3)
    a[0], b[1] = np.sin(x[0]), x[1] ** 2
    a[1:], i = x[1:] * 3.0, 2
    b[i] = a[0]
    return np.sum(a * b) + a @ np.arange(3.0)


def rows_from_a_call(x):
    h = np.zeros((2, 3))
    h[0], h[1] = np.split(x, 2)
    return np.sum(np.tanh(h) * np.arange(6.0).reshape(2, 3))


def index_then_name(x):
    a = np.zeros(3)
    i = 0
    a[i], i = x[0], 2
    a[i] = x[1]
    return np.sum(a * np.array([1.0, 2.0, 3.0]))


def in_a_loop(x):
    hs = np.zeros((4, 2))
    cs = np.zeros((4, 2))
    for t in range(3):
        hs[t + 1], cs[t + 1] = np.tanh(cs[t] + x[t]), cs[t] * 0.5 + x[t] ** 2
    return np.sum(hs * cs) + np.sum(hs)


def name_and_item(x):
    s = np.zeros(2)
    total, s[1] = x[0] * x[1], np.exp(x[2])
    return total + np.sum(s * x[:2])


def rows_swapped(x):
    y = x.copy()
    y[0], y[1] = y[1], y[0]
    return np.sum(y)


def attribute_target(x):
    BOX.scale, y = 2.0, x * 3.0
    return np.sum(y)
