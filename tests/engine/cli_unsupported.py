# ruff: noqa  (deliberately unsupported code)
"""A module with many constructs srcgrad cannot differentiate, for ``srcgrad check``.

`# !<token>` marks each place an error must point at (the column of <token> on that line).
Nothing here is ever called.
"""

import numpy as np

SCALE = 2.0


def several(x, w):
    global SCALE  # !global
    y = x @ w
    z = (s := y * SCALE)  # !s :=
    del s  # !del
    return np.sum(np.unwrap(z))  # !np.unwrap


def handlers(x, ctx):
    try:  # !try
        y = np.log(x)
    except ValueError:
        y = x
    with ctx:  # !with
        y = y * 2.0
    return np.sum(y)


def writes(x, obj):
    x[0] = 0.0  # !x[0]
    y = sorted(x)  # !sorted
    return np.sum(np.stack(y))


def stores(x, obj):
    obj.last = x  # !obj.last
    s = {1, 2}  # !{1, 2}
    return np.sum(x)


def local_defs(x, keys):
    import math  # !import

    class Box:  # !class
        pass

    d = {k: x for k in keys}  # !{k
    return np.sum(d["a"]) * np.pi


def matches(x):
    match x.ndim:  # !match
        case 1:
            y = x
        case _:
            y = x.ravel()
    return np.sum(y)


def writes_out(x):
    y = np.empty((2, 3))
    np.exp(x, out=y[0])  # !out=
    return np.sum(y)


def generator(x):
    yield np.sum(x)  # !yield


def star(*xs):  # !*xs
    return np.sum(xs[0])


def fine(x, w):
    return np.sum(np.tanh(x @ w))
