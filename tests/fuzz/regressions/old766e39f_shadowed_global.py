# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "layers", "kind": "pairs", "shapes": [[[4, 4], [4]], [[4, 4], [4]]]}], "seed": 0}
# expect: right
# found on 766e39f: internal: UnboundLocalError at f__wrt-x-layers__2717caa7.py:50: cannot access local variable 'G0' where it is not associated with a value
import numpy as np


G0 = np.linspace(-0.9, 1.1, 3).reshape((3,))


def f(x, layers):
    h0 = x
    v4 = sum(np.sum(r * r) for r in x)
    v6 = G0
    def inner9(u0):
        G0 = u0
        return u0
    v10 = inner9(v4)
    return np.sum(np.sin(v10)) + 0.5 * np.sum(h0 * h0)
