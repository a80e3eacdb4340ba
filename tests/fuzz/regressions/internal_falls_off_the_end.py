# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "y", "kind": "array", "shape": [3, 4]}], "seed": 344}
import numpy as np


def f(x, w, y):
    for i0 in range(1):
        acc1 = [x]
        v3 = np.stack(acc1)
        if np.max(x) > 0.5:
            if np.sum(x) > 0.0:
                return np.sum(np.sin(v3)) + 0.5 * np.sum(x * x)
