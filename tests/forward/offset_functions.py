"""Functions whose primitives take a constant that shifts their result (an offset: its
tangent is 0), for tests/test_forward_declarations.py (srcgrad reads their source)."""

import numpy as np


def diff_prepended(x):
    return np.diff(x, prepend=1.0) * 1.0


def padded(x):
    return np.pad(x, 1, constant_values=2.0) * 1.0


def summed_from(x):
    return np.sum(x, initial=3.0) * 1.0


def selected(x):
    return np.select([x > 0.0], [x], default=7.0) * 1.0
