"""Arrays written in place by calls (np.add.at, np.subtract.at, np.fill_diagonal) inside
loops and branches, read again in a later iteration or after the loop."""

import numpy as np


def f1(w, x):  # np.add.at reads and writes the carried array each iteration
    s = w.copy()
    for k in range(3):
        np.add.at(s, [0, 0], s[1] * x[k])
    return np.sum(s**2)


def f2(w, x):  # np.fill_diagonal of a value read from the array itself
    s = np.outer(w, x)
    for k in range(2):
        np.fill_diagonal(s, s[0, 1] * x[k] + k)
    return np.sum(s**2)


def f3(w, x):  # np.subtract.at in a while loop, with a scatter index from data
    s = np.tanh(w)
    k = 0
    while k < 3:
        np.subtract.at(s, np.array([k, 2]), 0.5 * s[k] * x[k])
        k += 1
    return np.sum(np.exp(s))


def f4(w, x):  # in a branch inside the loop: the join must see the write
    s = w * x
    for k in range(3):
        if k % 2 == 0:
            np.add.at(s, k, s[(k + 1) % 3] ** 2)
        s = s * 0.9
    return np.sum(s)


def f5(w, x):  # in a branch outside a loop, read after it
    s = w + 0.0
    if x[0] > 0:
        np.add.at(s, [1, 1, 2], w[0] * x)
    return np.sum(s * w)


def f6(w, x):  # nested loops: the inner writes, the outer carries it
    G = np.outer(w, w)
    for i in range(2):
        for j in range(2):
            np.add.at(G, (i, j), G[j, i] * x[i])
    return np.sum(G**2)
