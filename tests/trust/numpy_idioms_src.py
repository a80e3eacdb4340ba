"""Functions for tests/test_trust_numpy_idioms.py (a module of their own: srcgrad reads
their source)."""

import numpy as np
from scipy.special import logsumexp

# --------------------------------------------------------------------------- copies unpacked


def unpacked_copies_written(q, p):
    q, p = np.copy(q), np.copy(p)
    p -= 0.5 * q
    q += 0.1 * p
    return np.sum(p**2) + np.sum(q**3)


def unpacked_method_copies_written(q, p):
    q, p = q.copy(), p.copy()
    for _ in range(3):
        p -= 0.2 * np.sin(q)
        q += 0.2 * p
    return np.sum(q * p)


def unpacked_view_written(q, p):
    a, b = q.reshape(-1), p
    a -= 0.5 * b
    return np.sum(a**2)


# --------------------------------------------------------------------------- np.asarray


def asarray_of_argument(x, idx):
    x = np.asarray(x)
    t = np.asarray(idx[1:])
    return np.sum(x**2) + np.sum(x[t])


def asarray_of_scalars(x, idx):
    y = np.asarray([x[0], 2 * x[1], x[2] ** 2], dtype=float)
    return np.sum(np.sin(y)) + np.asarray(x[0] * x[1]) * 3.0


def array_of_one_scalar(x, idx):
    y = np.array(x[0] * x[1])
    return np.sum(y * x)


def asarray_of_argument_written(x, idx):
    y = np.asarray(x)
    y[0] = 0.0
    return np.sum(y**2)


# --------------------------------------------------------------------------- accumulate


def running_extremes(x, idx):
    A = np.reshape(x, (2, 3))
    hi = np.maximum.accumulate(A, axis=1)
    lo = np.minimum.accumulate(A * 3, 0)
    return np.sum(np.sin(hi)) + np.sum(lo**3) + np.sum(np.maximum.accumulate(x) ** 2)


def drawdown(x, idx):
    wealth = np.cumprod(1 + 0.1 * x)
    peak = np.maximum.accumulate(wealth)
    return np.max((peak - wealth) / peak) + np.sum(peak)


def ufunc_scans(x, idx):
    return np.sum(np.add.accumulate(x) ** 2) + np.sum(np.multiply.accumulate(x, axis=0))


# --------------------------------------------------------------------------- -inf cells


def logaddexp_of_unreachable(x, idx):
    a = np.full(4, -np.inf) + x[:4]
    a[0] = x[0]
    b = np.logaddexp(a[2], a[3])
    return np.logaddexp(a[0], b) + np.logaddexp2(a[0], np.logaddexp2(a[2], a[3]))


def logsumexp_of_unreachable_row(x, idx):
    a = np.full((2, 3), -np.inf) + x[:3]
    a[0] = x[:3]
    r = logsumexp(a, axis=1)
    return np.logaddexp(r[0], r[1]) + x[3]


# --------------------------------------------------------------------------- branch leaves


def leaf_read_in_one_branch(params, x):
    if np.sum(x) > 0.0:
        x = np.tanh(x @ params[0]["W"])
    return np.sum(x**2)


def leaves_read_in_branches_of_a_loop(params, x):
    for i in range(2):
        if np.sum(x) > 0.0:
            x = np.tanh(x @ params[i]["W"])
        else:
            x = x * 2.0
    return np.sum(x**2)


# --------------------------------------------------------------------------- zip


ACTIVATIONS = ("tanh", "linear")


class _Layer:
    def __init__(self, activation):
        self.activation = activation


LAYERS = [_Layer("tanh"), _Layer("linear"), _Layer("tanh")]


def zip_constants_with_layers(params, x):
    for act, p in zip(ACTIVATIONS, params):
        x = x @ p["W"]
        x = np.tanh(x) if act == "tanh" else x
    return np.sum(x**2)


def zip_objects_with_layers(params, x):
    for p, layer in zip(params, LAYERS):
        x = x @ p["W"]
        x = np.tanh(x) if layer.activation == "tanh" else x
    return np.sum(x**2)
