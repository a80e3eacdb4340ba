# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "y", "kind": "array", "shape": [4]}], "seed": 0}
# expect: right
# found: internal: ValueError at f__wrt-x-w-y__97d3d14a.py:44: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)
import numpy as np


G0 = np.linspace(-0.9, 1.1, 3).reshape((3,))
G1 = np.linspace(-0.9, 1.1, 6).reshape((3, 2))


def f(x, w, y):
    def inner0(u0):
        return u0
    v1 = inner0(y)
    v2 = x
    v3 = x
    v5 = sum(np.sum(r * r) for r in x)
    v6 = x
    v7 = x.copy()
    def inner8(u0, x):
        return (x) @ G1
    v9 = inner8(x, G0)
    return np.sum(np.sin(v9)) + 0.5 * np.sum(x * x)
