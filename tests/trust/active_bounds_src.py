"""np.clip with bounds and np.select with a default that carry a gradient."""

import numpy as np


def f1(w, x):
    return np.sum(np.clip(x, 0.0, w) ** 2)


def f2(w, x):
    return np.sum(np.clip(x, w, None) * x)


def f3(w, x):
    return np.sum(np.clip(w * 3, x - 0.2, x + 0.3) ** 2)


def f4(w, x):
    return np.sum(np.clip(x, np.min(w), 0.4 + w))


def f5(w, x):
    return np.sum(x.clip(w - 0.1, w[0] + 0.3) ** 3)


def f6(w, x):
    return np.sum(np.clip(x * w, -0.05, 0.05))


def f7(w, x):  # a relu6-style clamp with array bounds in a loop
    h = x
    for k in range(3):
        h = np.clip(h + w, -0.15 * k, w[::-1] + 0.1)
    return np.sum(h**2)


def s1(w, x):
    return np.sum(np.select([x > 0.3, x > 0.0], [w * x, w**2], default=0.5 * w))


def s2(w, x):
    return np.sum(np.select([x > 0.3], [x], default=np.sum(w)) ** 2)


def s3(w, x):
    return np.sum(np.select([x > 0.3, x < -0.2], [w, 2 * x], x * w) * w)


def s4(w, x):
    return np.sum(np.select([x > 0.3, x < -0.2], [w, 2 * x]) * w)
