"""Forward functions for tests/test_diagnose.py.  `# <name>` marks the line a diagnosis
must name."""

import numpy as np


def ten_primitives(x, w, b):
    a = x @ w  # matmul
    c = a + b  # add
    d = np.tanh(c)  # tanh
    e = d * c  # multiply
    f = e - a  # subtract
    g = np.exp(f)  # exp
    h = np.sin(g)  # sin
    k = h / g  # divide
    m = np.log(g)  # log
    q = np.maximum(m, k)  # maximum
    s = np.sum(q, axis=0)  # sum
    return np.mean(s)  # mean


def log_of_zero(x):
    y = x * 2.0
    z = np.log(y)  # nan:log
    return np.sum(z)


def sqrt_at_zero(x):
    y = x * x
    r = np.sqrt(y)  # nan:sqrt
    return np.sum(r)


def where_trap(x):
    y = x + 1.0
    s = np.where(y > 0, np.sqrt(y), 0.0)  # nan:where
    return np.sum(s)


def exp_overflow(x):
    a = x * 1.0
    sp = np.log(1.0 + np.exp(a))  # nan:exp
    return np.sum(sp)


def norm_at_zero(x):
    y = x - 1.0
    n = np.sqrt(np.sum(y * y))  # nan:norm
    return n * 2.0


def arccos_at_one(x):
    y = x * 1.0
    t = np.arccos(y)  # nan:arccos
    return np.sum(t)


def finite(x):
    return np.sum(np.sqrt(x * x + 1.0))
