# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [2, 3, 4]}], "seed": 1753}
# expect: right
import numpy as np




def f(x):
    w0 = np.vsplit(x, 2)[0]
    v1 = np.array(w0)
    w2 = v1[None]
    return np.sum(np.sin(w2)) + 0.5 * np.sum(x * x)
