# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [4, 3]}], "seed": 75}
import numpy as np


def f(x, w):
    acc0 = [np.dot(x, w)]
    for i1 in range(2):
        acc0.append(np.sin(np.broadcast_to(np.mean(w), (3, 3))) * (i1 + 1.0))
    v2 = np.broadcast_to(np.mean(x), (3, 3)) * 0.5
    for i3 in range(len(acc0)):
        v2 = v2 + np.tanh(acc0[i3]) * (i3 + 1.0)
    def inner4(u0):
        w = (u0) + (u0)
        c6 = {"p": (u0) + (x), "q": (w) if np.max(v2) > 0.5 else np.sin(w)}
        j7 = 0
        while j7 < 3:
            j7 += 1
            w[..., 1:] += np.mean(x)
        return np.linalg.diagonal(c6["q"])
    v9 = inner4(x)
    return np.sum(np.sin(v9)) + 0.5 * np.sum(v9 * v9)
