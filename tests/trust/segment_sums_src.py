"""Segment sums on flat ragged data: np.add.reduceat and np.bincount(weights=)."""

import numpy as np

OFFSETS = np.array([0, 2, 3, 5])
IDS = np.array([0, 0, 1, 2, 2, 3, 1])


def f1(w, x):  # mean pooling of gathered rows by segment (fastText / EmbeddingBag)
    rows = np.outer(x, w)
    sums = np.add.reduceat(rows, OFFSETS, axis=0)
    lengths = np.diff(np.append(OFFSETS, len(x)))
    return np.sum(np.tanh(sums / lengths[:, None]))


def f2(w, x):  # along axis 1, with a non-increasing start (a lone entry)
    m = np.stack([w * x, w - x, np.sin(w)])
    return np.sum(np.add.reduceat(m, [0, 4, 1, 5], axis=1) ** 2)


def f3(w, x):  # a 1-D vector
    return np.sum(np.exp(np.add.reduceat(w * x, np.array([1, 3, 4]))))


def f4(w, x):  # segment softmax: per-segment totals by bincount, gathered back
    scores = np.exp(w * x)
    totals = np.bincount(IDS, weights=scores, minlength=5)
    return np.sum((scores / totals[IDS]) * x)


def f5(w, x):  # per-class sums and counts (counts carry no gradient)
    sums = np.bincount(IDS, weights=w**2 + x, minlength=4)
    counts = np.bincount(IDS, minlength=4)
    return np.sum((sums / np.maximum(counts, 1)) ** 2)
