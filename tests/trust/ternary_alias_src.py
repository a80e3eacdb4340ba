"""A conditional expression that may be one of its arrays, which is then written in place."""

import numpy as np


def f1(x):
    w = x + x
    q = w if np.max(x) > -5.0 else np.sin(w)
    w[..., 1:] += 1.0
    return np.sum(np.sin(q))


def f2(x):
    w = x + x
    c = {"q": w}
    w[..., 1:] += 1.0
    return np.sum(np.sin(c["q"]))


def f3(x):
    w = x + x
    c = {"q": w if np.max(x) > -5.0 else np.sin(w)}
    w[..., 1:] += 1.0
    return np.sum(np.sin(c["q"]))


def f4(x):
    w = x + x
    c = {"q": w if np.max(x) > -5.0 else np.sin(w)}
    for j in range(2):
        w[..., 1:] += 1.0
    return np.sum(np.sin(c["q"]))


def f5(x):
    w = x + x
    q = w if np.max(x) > -5.0 else np.sin(w)
    for j in range(2):
        w[..., 1:] += 1.0
    return np.sum(np.sin(q))


def ok_no_write(x):
    w = x + x
    q = w if np.max(x) > -5.0 else np.sin(w)
    return np.sum(np.sin(q)) + np.sum(w)


def ok_written_before(x):
    w = x + x
    w[..., 1:] += 1.0
    q = w if np.max(x) > -5.0 else np.sin(w)
    return np.sum(np.sin(q))


def ok_rebinding(x):
    h = x * 1.0
    for _ in range(2):
        h = h if np.sum(h) > 100.0 else np.tanh(h)
    return np.sum(h)
