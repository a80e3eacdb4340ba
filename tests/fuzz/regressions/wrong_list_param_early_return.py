# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "ps", "kind": "list", "shapes": [[3, 4], [3, 4]]}], "seed": 0}
# expect: right
# found: wrong: gradient element 12 (of 36) is np.float64(0.0), central differences give np.float64(1.5118958978099784) (12 wrong)
import numpy as np


def f(x, ps):
    v0 = x
    v1 = x
    v2 = x
    v3 = x
    v4 = x
    x = np.tanh(x + x)
    v5 = ps[0]
    v6 = v0
    v7 = ps[0]
    for i8 in range(1):
        v9 = ps[0]
        v10 = ps[0]
        if np.sum(ps[0]) > 0.0:
            return np.sum(np.sin(v10)) + 0.5 * np.sum(ps[0] * ps[0])
    for i11 in range(1):
        if i11 % 2 == 0:
            return np.sum(np.sin(v7)) + 0.5 * np.sum(ps[0] * ps[0])
    return np.sum(np.sin(v7)) + 0.5 * np.sum(ps[0] * ps[0])
