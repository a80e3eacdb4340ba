# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [3, 4]}, {"name": "ps", "kind": "list", "shapes": [[3, 4], [3, 4]]}], "seed": 0}
# expect: right
# found: wrong: value None where Python gives np.float64(5.125600259918069)
import numpy as np


def f(x, w, ps):
    if np.sum(x) > 0.0:
        for r0 in x:
            def inner1(u0):
                return u0
            v2 = inner1(r0)
    return np.sum(np.sin(ps[-1])) + 0.5 * np.sum(x * x)
