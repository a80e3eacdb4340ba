# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}], "seed": 0}
# expect: right
# found: internal: ValueError at f__wrt-x__85d092bb.py:103: too many values to unpack (expected 3)
import numpy as np


def f(x):
    v0 = x
    for i1 in range(1):
        acc2 = [x]
        for i3 in range(1):
            acc2.append(np.sin(x) * (i3 + 1.0))
        v4 = np.stack(acc2)
        if i1 % 2 == 0:
            return np.sum(np.sin(v4)) + 0.5 * np.sum(x * x)
    return np.sum(np.sin(v0)) + 0.5 * np.sum(x * x)
