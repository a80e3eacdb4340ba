# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [4, 4]}], "seed": 0}
# found: wrong: value np.float64(4.24053194655912) where Python gives np.float64(4.240531946559119)
# fixed: the copy a subscript write makes keeps the array's memory layout (xp.copy), so
# a later np.sum adds in the order numpy does on the function's own (transposed) array
import numpy as np


G0 = np.linspace(-0.9, 1.1, 12).reshape((3, 4))


def f(x):
    j0 = 0
    while j0 < 3:
        j0 += 1
        v2, v3 = np.asarray(x) * 1.5, np.mean(x, axis=0, keepdims=True)
    else:
        v4 = x
        x = x - 0.1 * (np.mean(np.sin(G0)))
    w5 = np.linalg.matrix_transpose(x)
    w5 = w5 * 0.9 + np.sin(np.mean(np.tanh(G0)))
    w6 = w5[::-1]
    x = x - 0.1 * (x)
    w5[0] = np.mean(w6)
    return np.sum(np.sin(x)) + 0.5 * np.sum(w5 * w5)
