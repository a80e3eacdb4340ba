# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [4]}, {"name": "s", "kind": "float"}], "seed": 0}
# expect: right
import numpy as np


G0 = np.linspace(-0.9, 1.1, 4).reshape((4,))


def f(x, s):
    def inner0(x):
        v1 = x.copy()
        if np.max(v1) > 0.5:
            v2 = (x) + (v1)
            v3 = v2
            v4 = G0
        return x, x
    v5, v6 = inner0(G0)
    v7 = v5
    return np.sum(np.sin(v7)) + 0.5 * np.sum(x * x)
