# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 0}
# expect: right
# found on 766e39f: internal: ValueError at f__wrt-x__85d092bb.py:25: operands could not be broadcast together with shapes (3,4) (4,4) 
import numpy as np


G0 = np.linspace(-0.9, 1.1, 16).reshape((4, 4))


def f(x):
    def inner0(x):
        return np.sin((x) + (G0))
    v1 = inner0(G0)
    return np.sum(np.sin(v1)) + 0.5 * np.sum(x * x)
