# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 2147483647}
# found on 766e39f: wrong: value np.float64(4.335630507167815) where Python gives np.float64(3.3634210564554383)
import numpy as np


def f(x):
    x = np.tanh(x + x)
    w0 = np.flipud(x)
    x[0] = np.mean(x)
    return np.sum(np.sin(x)) + 0.5 * np.sum(w0 * w0)
