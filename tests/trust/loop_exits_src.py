"""Loops whose iterations leave early (continue, break) beside later assignments."""

import numpy as np


def continue_then_break_then_branch(x, w):
    h = w * 1.0
    for t in range(3):
        h = np.tanh(h + x[t])
        if t == 0:
            continue
        if t == 5:
            break
        if np.sum(h) > 0.0:
            h = h * 0.9
        else:
            h = h + 0.1
    return np.sum(h)


def continue_then_break(x, w):
    h = w * 1.0
    for t in range(3):
        h = np.tanh(h + x[t])
        if t == 0:
            continue
        if t == 5:
            break
        h = h * 0.9
    return np.sum(h)


def break_then_local_then_continue(x, w):
    h = w * 1.0
    acc = 0.0
    for t in range(4):
        h = np.sin(h) + x[t]
        if np.sum(h) > 10.0:
            break
        z = h * h
        if t == 1:
            continue
        acc = acc + np.sum(z)
    return acc + np.sum(h)


def while_continue_break(x, w):
    h = w * 1.0
    t = 0
    while t < 4:
        t += 1
        h = np.tanh(h * x[t - 1])
        if t == 2:
            continue
        if t > 3:
            break
        q = h + w
        h = q * 0.5
    return np.sum(h)
