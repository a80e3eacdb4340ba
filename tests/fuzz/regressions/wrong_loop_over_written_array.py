# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 0}
import numpy as np


def f(x):
    x = np.tanh(x + x)
    for r0 in x:
        x[0] = np.mean(r0)
        x[1:] = np.mean(x)
    return np.sum(np.sin(x)) + 0.5 * np.sum(x * x)
