# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3]}], "seed": 0}
# expect: right
import numpy as np


def f(x, w):
    if np.sum(x) > 0.0:
        for r0 in x:
            def inner1(u0):
                return u0
            v2 = inner1(w)
    return np.sum(np.sin(w)) + 0.5 * np.sum(x * x)
