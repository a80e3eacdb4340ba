"""Tuples bound to constants before a loop that rebinds them to values carrying a gradient."""

import numpy as np


def rotate(state, k):
    a, b = state
    return (a - k * b, b + k * a), a * b


def f1(w, x):  # a helper returns the new state, unpacked with a second value
    state = (np.zeros(2), np.ones(2))
    out = []
    for _ in range(3):
        state, q = rotate(state, w)
        out.append(np.sum(q * x))
    return sum(out)


def f2(w, x):  # unpacked at the top of the body, rebound as a display
    state = (np.zeros(2), np.ones(2))
    for _ in range(3):
        a, b = state
        state = (a - w * b, b + w * np.tanh(a + x))
    return np.sum(state[0] * state[1])


def f3(w, x):  # four items, a loop over data, items read by position after the loop
    state = (np.zeros(2), np.full(2, 0.5), 1.0, np.ones(2))
    for xi in x:
        s, e, i, r = state
        inf = w * s * xi
        state = (s - inf + 0.1, e + inf - 0.2 * e, i + 0.2 * np.sum(e), r + 0.1 * i)
    return np.sum(state[0] + state[1] ** 2) + state[2] * np.sum(state[3])


def f4(w, x):  # a while loop, and a constant tuple that stays constant in another loop
    state = (np.zeros(2), np.ones(2))
    fixed = (np.ones(2), 2.0)
    k = 0
    while k < 3:
        a, b = state
        state = (a + fixed[1] * w * b, b - w * a * x)
        fixed = (fixed[0], fixed[1])
        k += 1
    return np.sum(state[0] * state[1]) + np.sum(fixed[0])


def f5(w, x):  # nested loops: the inner one carries the tuple, the outer one too
    state = (np.zeros(2), np.ones(2))
    total = 0.0
    for _ in range(2):
        for _ in range(2):
            state, q = rotate(state, 0.5 * w)
        total = total + np.sum(q * x)
    return total + np.sum(state[1])
