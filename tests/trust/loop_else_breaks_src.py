"""Programs of tests/test_trust_loop_else_breaks.py."""

import numpy as np


def while_else_breaks_outer(w):
    total = 0.0
    for i in range(2):
        j = 0
        while j < 2:
            j += 1
        else:
            if i % 2 == 0:
                break
    else:
        total = total + np.sum(w)
    return total + np.sum(w**2)


def for_else_breaks_outer(w):
    total = 0.0
    for i in range(3):
        for j in range(2):
            total = total + np.sum(np.sin(w * j))
        else:
            break
    else:
        total = total + np.sum(w**3)
    return total


def inner_break_skips_else(w):
    total = 0.0
    for i in range(3):
        for j in range(2):
            if j == 1:
                break
            total = total + np.sum(np.tanh(w * i))
        else:
            break
    else:
        total = total + np.sum(w**3)
    return total


def else_continues_outer(w):
    total = 0.0
    for i in range(3):
        for j in range(2):
            total = total + np.sum(w * j)
        else:
            continue
        total = total + 100.0 * np.sum(w)
    else:
        total = total + np.sum(np.cos(w))
    return total
