"""A callee parameter passed a module global and rebound in its body (in a loop it is carried)."""

import numpy as np

G0 = np.linspace(-0.9, 1.1, 4)


def helper9(u0, u1):
    for i10 in range(1):
        u1 = np.tanh(u1 + np.mean(u0))
    return u0 * 2.0


def f(x):
    return np.sum(np.sin(helper9(x, G0)))


def helper7(u0, u1):
    for i10 in range(2):
        u1 = np.tanh(u1 + np.mean(u0))
    return u1


def g(x):
    return np.sum(np.sin(helper7(x, G0)))


def h(x):
    u = G0
    for i in range(2):
        u = np.tanh(u + x)
    return np.sum(u)


def k(x):
    u = G0
    if np.sum(x) > 0:
        u = np.tanh(u + x)
    return np.sum(u * x)


def n(x):
    def inner(u, v):
        while np.sum(v) < 3.0:
            v = v + np.abs(u) + 0.5
        return v * u

    return np.sum(inner(x, G0))


def w(x):
    def inner(u, v):
        for i in range(3):
            if i == 1:
                continue
            v = np.tanh(v + u)
        return v

    return np.sum(inner(x, G0[::-1]) * x)
