"""Programs of tests/test_trust_carried_aliases.py (their lines are asserted)."""

import numpy as np


def written_then_read_alias(w):
    x = w * 1.0
    y = w * 2.0
    z = 0.0
    for i in range(2):
        x[0] = x[1] * 2.0 + x[0]
        z = z + np.sum(y**2)
        y = x
    return z


def augassign_then_read_alias(w):
    x = w * 1.0
    y = w * 2.0
    z = 0.0
    for i in range(2):
        x += w
        z = z + np.sum(np.sin(y))
        y = x
    return z


def the_hint(w):
    x = w * 1.0
    y = w * 2.0
    z = 0.0
    for i in range(2):
        x[0] = x[1] * 2.0 + x[0]
        z = z + np.sum(y**2)
        y = x.copy()
    return z


def alias_never_read_in_the_loop(w):
    x = w * 1.0
    y = w * 2.0
    for i in range(2):
        x[0] = x[1] * 2.0 + x[0]
        y = x
    return np.sum(y**2)


def double_buffer(w):
    u = w * 1.0
    v = np.zeros_like(w)
    for i in range(3):
        v[1:] = u[:-1] * 0.5 + u[1:]
        v[0] = u[0]
        u, v = v, u
    return np.sum(u**2)
