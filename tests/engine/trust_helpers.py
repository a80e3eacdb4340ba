"""Callees in another module for tests/test_trust_language.py: they read this module's own
globals, whose names the calling module binds to different values (issue 12, item 4)."""

import numpy as np

scale = 7.0  # the caller's module has its own `scale`
offset = np.array([0.5, -1.0])


def times_scale(x):
    """Reads this module's `scale`."""
    return x * scale


def local_scale(x):
    """A local with the name of a global of the caller."""
    scale = 2.0
    return x * scale + offset


def uses_len(x):
    """The builtin len, which the caller's module shadows."""
    return x * len(x)


def build_list(x):
    """A list built from a display and append, with a nested def, returned whole."""

    def sq(v):
        return v * v

    out = [sq(x[0]) * 2.0]
    out.append(x[1] * 3.0)
    return out
