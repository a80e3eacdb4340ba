"""np.lib.stride_tricks.as_strided views of arrays carrying a gradient, as im2col code
makes them: strides read from the array itself, overlapping windows."""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def windows(x, k):
    (s,) = x.strides
    return as_strided(x, shape=(x.shape[0] - k + 1, k), strides=(s, s))


def im2col(x, kh, kw):
    H, W = x.shape
    sh, sw = x.strides
    return as_strided(
        x, shape=(H - kh + 1, W - kw + 1, kh, kw), strides=(sh, sw, sh, sw)
    )


def f1(w, x):  # a 1-D moving window (a convolution), overlapping
    return np.sum((windows(np.tanh(w * x), 3) @ np.array([0.5, -1.0, 2.0])) ** 2)


def f2(w, x):  # im2col of a padded 2-D array, as the CS231n trick
    img = np.pad(np.outer(w, x), 1)
    cols = im2col(img, 2, 2).reshape(-1, 4)
    return np.sum(np.tanh(cols @ np.array([1.0, -0.5, 0.3, 0.8])))


def f3(w, x):  # a view of a transposed (non-contiguous) array
    m = np.outer(w, x).T
    v = as_strided(m, shape=(2, 2), strides=m.strides)
    return np.sum(v**3)


def f4(w, x):  # a broadcast by a zero stride
    v = w * x
    rows = as_strided(v, shape=(3, v.shape[0]), strides=(0, v.strides[0]))
    return np.sum(rows * np.arange(3.0)[:, None] ** 2 * v)


def f5(w, x):  # float32 data
    v = (w * x).astype(np.float32)
    return np.sum(windows(v, 2).astype(np.float64) ** 2)
