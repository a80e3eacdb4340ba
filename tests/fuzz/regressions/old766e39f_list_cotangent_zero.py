# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [4]}], "seed": 1}
# expect: right
# found on 766e39f: wrong: gradient element 12 (of 16) is np.float64(0.0), central differences give np.float64(-0.8059189364750807) (4 wrong)
import numpy as np


def helper0(u0):
    def sq1(v):
        return v * v
    out = [sq1(u0)]
    return out


def f(x, w):
    acc2 = helper0(w)
    v3 = np.stack(acc2)
    return np.sum(np.sin(v3)) + 0.5 * np.sum(x * x)
