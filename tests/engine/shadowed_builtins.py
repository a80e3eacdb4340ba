"""A module that rebinds names of builtins emitted gradient code calls on its own: a star
import of numpy (``min``, ``max``, ``sum``), a module-level ``list`` and ``reversed``
(scripts do this), and functions with loops that use neither (tests/test_trust_builtin_names.py).
"""

import numpy as np
from numpy import *  # noqa: F401,F403

list = [0.5, -0.25, 1.0]  # noqa: A001
reversed = "newest first"  # noqa: A001


def rnn(w, xs):
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x)
    return np.sum(h**2)


def history(w, xs):
    hs = [np.zeros(3)]
    for x, y in zip(xs, xs[::-1]):
        hs.append(np.tanh(w @ hs[-1] + x * y))
    return np.sum(np.stack(hs) ** 2) + max(hs[-1]) + sum(hs[-1])


def reads_the_global(w, xs):
    """Reads the module's own ``list``: through the module, not the bare name."""
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(w @ h + x) * list[0]
    return np.sum(h**2) + list[2]
