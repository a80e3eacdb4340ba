# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}], "seed": 0}
import numpy as np


G0 = np.linspace(-0.9, 1.1, 12).reshape((3, 4))


def f(x, w):
    v0 = G0.copy()
    w1 = np.ravel(v0)
    v0[0] = np.broadcast_to(np.mean(x), (4,))
    v2 = np.sum(w1) + np.tanh(v0)
    return np.sum(np.sin(v2)) + 0.5 * np.sum(x * x)
