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
