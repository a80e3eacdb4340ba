# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [4]}], "seed": 1252}
# expect: right
# found on 766e39f: internal: UnboundLocalError at f__wrt-x__86453170.py:38: cannot access local variable 'G0' where it is not associated with a value
import numpy as np


G0 = np.linspace(-0.9, 1.1, 24).reshape((2, 3, 4))


def f(x):
    c0 = ((x) * 1.5, np.concatenate([G0, G0]))
    def inner2(w1):
        G0 = np.cumprod(np.tanh(x), axis=0)
        return 2.5 * (G0.T), x[1]
    v5, v6 = inner2(x)
    return np.sum(np.sin(v6)) + 0.5 * np.sum(v5 * v5)
