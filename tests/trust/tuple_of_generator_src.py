"""tuple(...) and list(...) of a generator expression on values that carry a gradient."""

import numpy as np


def rates(state, k):
    a, b, c = state
    return -k * a * b, k * a * b - 0.3 * b, 0.3 * b


def f1(w, x):  # an SEIR-style Euler step over a carried tuple, zip of two displays
    state = (1.0 - x[0], x[0], 0.0)
    for _ in range(4):
        deriv = rates(state, w[0])
        state = tuple(s + 0.1 * d for s, d in zip(state, deriv))
    return state[0] * state[1] + state[2] * w[1]


def f2(w, x):  # unpacked, over a display of literals
    a, b = tuple(np.sin(w * k) for k in (1.0, 2.0))
    return np.sum(a * b + x)


def f3(w, x):  # over a range known here, summed
    return np.sum(sum(tuple(w ** (i + 1) * x for i in range(3))))


def f4(w, x):  # list(...) of a generator over an array argument
    parts = list(np.tanh(w * v) for v in x)
    return np.sum(parts[0] * parts[1])


def f5(w, x):  # over a name bound to a display of arrays, then stacked
    parts = (w, x, w * x)
    squares = tuple(p**2 for p in parts)
    return np.sum(np.stack(squares) * np.arange(1.0, 4.0)[:, None])


def refused(w, x):  # the items of an array are known only at run time
    return np.sum(np.stack(tuple(v * w for v in x)))
