# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 0}
# found: internal: AttributeError at writes.py: a write into a constant reached the Python-list check, which read statement targets of a loop node (none)
import numpy as np


G0 = np.linspace(-0.9, 1.1, 12).reshape((3, 4))


def f(x):
    v0 = G0
    v5 = sum(np.sum(r * r) for r in x)
    v0[0] = np.mean(x)
    return np.sum(np.sin(v5)) + 0.5 * np.sum(x * x)
