# fuzz: {"args": [{"name": "x", "kind": "array", "shape": [3, 4]}, {"name": "w", "kind": "array", "shape": [4, 3]}, {"name": "y", "kind": "array", "shape": [4, 3]}], "seed": 20331}
# found: internal: TypeError at f__wrt-x-w-y__edaf02cc.py:185: '>' not supported between instances of 'NoneType' and 'float'
# expect: right
import numpy as np

import srcgrad


G0 = np.linspace(-0.9, 1.1, 16).reshape((4, 4))
G1 = np.linspace(-0.9, 1.1, 12).reshape((3, 4))


@srcgrad.custom_vjp
def smooth1(u):
    return np.tanh(u) * 1.5


@smooth1.defvjp
def smooth1_vjp(g, ans, u):
    return g * 1.5 * (1.0 - np.tanh(u) ** 2)


def f(x, w, y):
    def inner0(u0, w):
        v1, v2 = np.copy(u0), (w) * 1.0
        for r3, r4 in zip(w, x):
            np.subtract.at(v2, [1, 0, 1], np.mean(v2))
            if np.sum(r3) > 0.0:
                continue
        v6, v7 = np.dot(v2, x), np.expand_dims(y, 0)
        return np.minimum.accumulate(smooth1(v7), axis=1)
    v8 = inner0(y, w)
    acc9 = [np.abs(y)]
    for i10 in range(3):
        acc9.append(np.sin(y) * (i10 + 1.0))
    v11 = np.concatenate(acc9, axis=0)
    for i12 in range(3):
        if np.max(x) > 0.5:
            break
        if np.sum(v8) > 0.0:
            break
    def inner13(u0):
        acc14 = [np.tanh(r) * 2.0 for r in v11]
        v15 = np.broadcast_to(np.mean(w), (3,)) * 0.5
        for i16 in range(len(acc14)):
            v15 = v15 + np.tanh(acc14[i16]) * (i16 + 1.0)
        out = [smooth1(v15)]
        out.append(np.sin(v15))
        return out
    acc17 = inner13(x)
    v18 = acc17[1] * 1.5
    np.fill_diagonal(v11, np.mean(w))
    for i19 in range(2):
        v20 = (np.linalg.matrix_transpose(y)) * (np.random.RandomState(3).rand(*np.shape(np.linalg.matrix_transpose(y))) < 0.7)
        if i19 % 2 == 0:
            break
        for r21 in x[1:]:
            np.subtract.at(v18, i19, np.broadcast_to(np.mean(x), ()))
            v22 = v18
            w23 = v20[..., ::2]
        v24 = x
    w = w + 0.0
    w *= np.tanh((np.where((v18) > 0.1, v18, 0.5 * y)) if np.max(v11) > 0.5 else np.sin(np.where((v18) > 0.1, v18, 0.5 * y)))
    for r25 in y[1:]:
        if np.mean(r25) < 0.2:
            continue
    for r26 in y[1:]:
        v28, v29 = r26, (y) * 1.5
        j30 = 0
        while j30 < 2:
            j30 += 1
            w -= np.add.accumulate(1.0 - (w), axis=1)
            v31 = (v29) / np.size(v29)
        else:
            if np.mean(v29) < 0.2:
                return np.sum(np.sin(v29)) + 0.5 * np.sum(r26 * r26)
            v11 *= np.tanh(np.mean(np.diff(v28, axis=0)))
        if np.mean(v11) < 0.2:
            v28 = np.tanh(v28 + np.mean((np.maximum(r26, v8)) if np.mean(v29) < 0.2 else np.sin(np.maximum(r26, v8))))
            v32 = (x).reshape(*np.shape(x))
            if np.mean(v18) < 0.2:
                break
        else:
            v34, v35 = np.einsum('ij,jk->ik', x, G0), y
            w36 = v11[:, 1:]
            c37 = ((w) @ G1, (v34) if np.max(v8) > 0.5 else np.sin(v34))
    return np.sum(np.sin(w)) + 0.5 * np.sum(v8 * v8)
