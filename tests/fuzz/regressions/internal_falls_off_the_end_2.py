# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [2, 3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "y", "kind": "array", "shape": [3, 4]}], "seed": 4}
import numpy as np


def f(x, w, y):
    j3 = 0
    while j3 < 1:
        v5 = sum(np.sum(r * r) for r in x)
        if np.sum(x) > 0.0:
            return np.sum(np.sin(v5)) + 0.5 * np.sum(x * x)
