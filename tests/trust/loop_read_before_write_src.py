"""A loop that reads a name before it assigns it, with a module global of that name."""

import numpy as np

prev = np.ones(4) * 3.0


def f(x, w):
    acc = np.zeros(4)
    for i in range(3):
        if i > 0:
            acc = acc + prev * w
        prev = x[i]
    return np.sum(acc)


def g(x, w):
    acc = np.zeros(4)
    prev = x[0]
    for i in range(3):
        if i > 0:
            acc = acc + prev * w
        prev = x[i]
    return np.sum(acc)


def h(x, w):
    acc = np.zeros(4)
    for i in range(3):
        prev = x[i]
        acc = acc + prev * w
    return np.sum(acc)
