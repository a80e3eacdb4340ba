# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "ps", "kind": "list", "shapes": [[3, 4], [3, 4]]}], "seed": 0}
# expect: right
# found on 766e39f: internal: AttributeError at tree.py:72: 'list' object has no attribute 'shape'
import numpy as np


def helper0(u0):
    def sq1(v):
        return v * v
    out = [sq1(u0)]
    out.append(np.sin(u0))
    return out


def f(x, ps):
    acc2 = helper0(x)
    v3 = acc2[0] * 1.5
    return np.sum(np.sin(v3)) + 0.5 * np.sum(x * x)
