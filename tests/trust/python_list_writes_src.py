"""Programs of tests/test_trust_python_list_writes.py (their lines are asserted)."""

import numpy as np


def none_list_in_a_loop(W, x):
    hs = [None] * 4
    hs[0] = x
    for t in range(1, 4):
        hs[t] = np.tanh(hs[t - 1] @ W)
    return np.sum(hs[3]) + np.sum(hs[2])


def none_list_straight(W, x):
    hs = [None] * 3
    hs[0] = np.tanh(x @ W)
    return np.sum(hs[0])


def steps_from_a_shape(W, x):
    T = x.shape[0]
    hs = [None] * (T + 1)
    hs[-1] = np.zeros(3)
    for t in range(T):
        hs[t] = np.tanh(x[t] + hs[t - 1] @ W)
    return np.sum(hs[T - 1])


def comprehension_list(W, x):
    out = [0.0 for _ in range(3)]
    out[1] = np.sum(np.tanh(x @ W))
    return np.sum(out[1])


def tolist_list(W, x):
    s = np.zeros(3).tolist()
    s[0] = np.sum(x @ W)
    return s[0] * 2


def the_hint(W, x):
    T = x.shape[0]
    hs = [np.zeros(3)]
    for t in range(T):
        hs.append(np.tanh(x[t] + hs[t] @ W))
    return np.sum(hs[T])


def array_of_a_list(W, x):
    M = np.array([0.0] * 3)
    M[1] = np.sum(x @ W)
    return np.sum(M**2)


def only_in_a_loop(W, x):
    hs = [None] * 3
    for t in range(3):
        hs[t] = np.sin(x[t % 2] @ W) * (t + 1.0)
    hs = hs[::-1]
    return np.sum(np.stack(hs))
