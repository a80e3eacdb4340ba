"""Programs of tests/test_trust_lambdas_and_rest.py (their lines are asserted)."""

import numpy as np

ACT = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "softplus": lambda z: np.logaddexp(0.0, z), "double": lambda z: z * 2.0, "twice": lambda z: z * 2.0}  # fmt: skip
SCALE = 3.0


def _make(s):
    return [lambda z: z * s, lambda z: z * SCALE]


PAIR = _make(2.0)
SAME = [lambda z: z * z, lambda z: z * z]


def act_net(W, x):
    for a in ("relu", "softplus", "tanh", "double", "twice"):
        x = ACT[a](x @ W)
    return np.sum(x)


def closure_and_global(W, x):
    return np.sum(PAIR[1](x @ W) * PAIR[0](x @ W) ** 2)


def same_text(W, x):
    return np.sum(SAME[0](x @ W) + SAME[1](x))


def lstsq_rest(A, b):
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x**2)


def svd_rest(A, b):
    U, s, *_ = np.linalg.svd(A, full_matrices=False)
    return np.sum(U[:, 0] ** 3 * b) + np.sum(s)


def rows_rest(A, b):
    r0, r1, *_rows = np.tanh(A)
    return np.sum(r0 * r1 * b[:3])


def rest_is_read(A, b):
    first, *rest = np.linalg.svd(A, full_matrices=False)
    return np.sum(first) + np.sum(rest[0])


def rest_underscore_read(A, b):
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x**2) + np.sum(_[0])


def rest_underscore_rebound(A, b):
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    total = np.sum(x**2)
    for _ in range(2):
        total = total * 0.5 + np.sum(b)
    return total
