"""Loops over an array that their body writes in place."""

import numpy as np


def f1(x):
    x = np.tanh(x + x)
    for r0 in x:
        x[0] = np.mean(r0)
    return np.sum(x)


def f2(x):
    x = np.tanh(x + x)
    for i, r0 in enumerate(np.flip(x, axis=0)):
        x[1:] = np.mean(r0)
    return np.sum(x)


def ok1(x):
    x = np.tanh(x + x)
    for i in range(len(x)):
        x[i] = np.sin(x[i])
    return np.sum(x)


def ok2(x):
    x = np.tanh(x + x)
    for r0 in x.copy():
        x[0] = np.mean(r0)
    return np.sum(x)


def ok3(x):
    y = np.tanh(x + x)
    for r0 in x:
        y[0] = y[0] + r0
    return np.sum(y)
