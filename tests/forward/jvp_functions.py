"""Functions tests/test_forward_mode.py runs forward mode on (srcgrad reads their source)."""

import numpy as np


def straight(x, W):
    h = np.tanh(x @ W)
    return np.sum(h * h) / (1.0 + np.sum(np.abs(x)))


def looped(x):
    s = 0.0
    for i in range(4):
        s = s + np.sum(np.sin(x * (i + 1))) * x[i % x.shape[0]]
    return s


def branched(x):
    if np.sum(x) > 0:
        y = np.exp(x)
    else:
        y = x * x
    return np.sum(y)


def appended(x):
    parts = []
    for k in range(3):
        parts.append(x ** (k + 1))
    return np.sum(parts[0] * parts[2] + parts[1])


def written(x):
    y = np.zeros(x.shape[0] + 1)
    y[1:] = x * x
    y[0] = np.sum(x)
    return np.sum(np.cumsum(y) ** 2)


def helper(a, b):
    return np.log1p(a * a) * b


def called(x, y):
    return np.sum(helper(x, y) + helper(y, x))


def make(scale):
    def inner(x):
        return np.sum(np.cos(scale * x) * x)

    return inner


closed = make(1.3)


def closure_user(x):
    return closed(x) * 2.0


def dict_params(params, x):
    h = np.tanh(x @ params["W"] + params["b"])
    return np.sum(h**2)


def vector_out(x, W):
    return np.tanh(W @ x) * x[0]


def no_jvp(a):
    # Q's extra columns of a complete QR of a tall matrix have no tangent
    q, r = np.linalg.qr(a @ a.T[:, :2], mode="complete")
    return np.sum(q)
