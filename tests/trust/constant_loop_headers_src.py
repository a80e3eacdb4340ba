"""Loops whose header iterates over constants the function does not bind itself (a
module-level tuple, list or array, a closure's tuple): plain, unpacked, through
``enumerate`` (with ``start=``), ``zip``, ``reversed`` and combinations.  Each function's
gradient is checked against central differences by tests/test_constant_loop_headers.py."""

import numpy as np

COEFS = (1.0, 2.0, 3.0)
COEF_LIST = [0.5, -1.0, 2.0]
COEF_ARRAY = np.array([1.5, 0.25, -0.5])
PAIRS = ((1.0, 0.5), (2.0, -1.0), (0.5, 3.0))
POWERS = (0, 1, 2)


def plain(x):
    s = 0.0 * x
    for c in COEFS:
        s = s + c * np.sin(x)
    return np.sum(s)


def enumerate_tuple(x):
    s = 0.0 * x
    for k, c in enumerate(COEFS):
        s = s + c * x**k
    return np.sum(s)


def enumerate_list(x):
    s = 0.0 * x
    for k, c in enumerate(COEF_LIST):
        s = s + c * np.tanh(x) ** k
    return np.sum(s)


def enumerate_array(x):
    s = 0.0 * x
    for k, c in enumerate(COEF_ARRAY):
        s = s + c * x ** (k + 1)
    return np.sum(s)


def enumerate_start(x):
    s = 0.0 * x
    for k, c in enumerate(COEFS, start=1):
        s = s + c * x**k
    return np.sum(s)


def unpacked_pairs(x):
    s = 0.0 * x
    for a, b in PAIRS:
        s = s + a * np.exp(b * x)
    return np.sum(s)


def zip_two_globals(x):
    s = 0.0 * x
    for c, p in zip(COEFS, POWERS):
        s = s + c * x**p
    return np.sum(s)


def zip_global_and_rows(x, w):
    s = 0.0 * x
    for c, row in zip(COEFS, w):
        s = s + c * row * x
    return np.sum(s)


def reversed_global(x):
    s = x
    for c in reversed(COEFS):
        s = np.tanh(c * s)
    return np.sum(s)


def enumerate_reversed(x):
    s = 0.0 * x
    for k, c in enumerate(reversed(COEF_LIST)):
        s = s + c * x ** (k + 1)
    return np.sum(s)


def enumerate_pairs_indexed(x):
    s = 0.0 * x
    for k, pair in enumerate(PAIRS):
        s = s + pair[0] * np.cos(pair[1] * x) * (k + 1)
    return np.sum(s)


def make_closure():
    scales = (2.0, -0.5, 1.25)

    def closure_enumerate(x):
        s = 0.0 * x
        for k, c in enumerate(scales):
            s = s + c * np.sin(x * (k + 1))
        return np.sum(s)

    return closure_enumerate


closure_enumerate = make_closure()


def recurrence_over_enumerate(x):
    h = x
    for k, c in enumerate(COEFS):
        h = np.tanh(c * h + k)
    return np.sum(h * h)


# `for i, (a, b) in enumerate(zip(...))`: the index and the rows of each sequence


def enumerate_zip_rows(x, w):
    s = 0.0 * x[0]
    for i, (a, b) in enumerate(zip(x, w)):
        s = s + (i + 1) * np.tanh(a * b)
    return np.sum(s)


def enumerate_zip_shifted(x, w):
    s = 0.0
    for t, (a, b) in enumerate(zip(x[:-1], x[1:])):
        s = s + np.sum(w[t] * a * b)
    return s


def enumerate_zip_recurrence(x, w):
    h = np.zeros(x.shape[1])
    for t, (xt, wt) in enumerate(zip(x, w)):
        h = np.tanh(h * wt + xt + 0.1 * t)
    return np.sum(h**2)


def enumerate_zip_list_built_here(x, w):
    hs = []
    h = x[0]
    for t in range(3):
        h = np.sin(h + w[t])
        hs.append(h)
    total = 0.0
    for k, (h1, h2) in enumerate(zip(hs, w[1:])):
        total = total + (k + 1.0) * np.sum(h1 * h2)
    return total


def enumerate_zip_list_argument(xs, w):
    total = 0.0
    for k, (a, b) in enumerate(zip(xs, w)):
        total = total + (k + 2.0) * np.sum(a * b)
    return total


def enumerate_zip_constants(x, w):
    s = 0.0 * x[0]
    for k, (c, p) in enumerate(zip(COEFS, POWERS)):
        s = s + (k + c) * x[0] ** p * w[0]
    return np.sum(s)


# unpacked items: `for i, (W, b) in enumerate(layers)`, `for W, b in layers`


def enumerate_unpacked_local_layers(x, w):
    layers = [(w[0], w[1]), (w[2], w[3])]
    h = x[0]
    for i, (a, b) in enumerate(layers):
        h = np.tanh(h * a + b) * (i + 1.0)
    return np.sum(h**2)


def unpacked_local_layers(x, w):
    layers = [(w[0], w[1]), (w[2], w[3])]
    h = x[1]
    for a, b in layers:
        h = np.sin(h * a + b)
    return np.sum(h)


def unpacked_array_rows(x, w):
    s = 0.0
    for a, b, c in x[:, :3]:
        s = s + a * b - np.tanh(c) * w[0, 0]
    return s


def enumerate_unpacked_array_rows(x, w):
    s = 0.0
    for i, (a, b) in enumerate(x[:, 1:]):
        s = s + (i + 1) * a * np.cos(b) * w[i, 0]
    return s


def enumerate_unpacked_constants(x, w):
    s = 0.0 * x[0]
    for k, (a, b) in enumerate(PAIRS):
        s = s + (k + a) * np.exp(b * x[0]) * w[k]
    return np.sum(s)


def enumerate_unpacked_list_argument(layers, x):
    h = x
    for i, (W, b) in enumerate(layers):
        h = np.tanh(h @ W + b) + 0.1 * i
    return np.sum(h**2)


def unpacked_list_argument(layers, x):
    h = x
    for W, b in layers:
        h = np.tanh(h @ W + b)
    return np.sum(h**2)
