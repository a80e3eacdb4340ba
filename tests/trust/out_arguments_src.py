"""Calls that write their result through out= into an array made in the function."""

import numpy as np


def f1(w, x):  # a chain of ufuncs into one preallocated buffer
    h = np.empty(3)
    np.multiply(w, x, out=h)
    np.exp(h, out=h)
    return np.sum(h**2)


def f2(w, x):  # broadcast into a 2-D buffer, then clamped in place
    h = np.zeros((2, 3))
    np.add(np.outer(x[:2], w), 1.0, out=h)
    np.maximum(h, 0.9, out=h)
    return np.sum(h)


def f3(w, x):  # the call's value is the buffer: y is z
    z = np.outer(w, x)
    np.tanh(z, out=z)
    y = np.sin(z, out=z)
    return np.sum(y * z)


def f4(w, x):  # np.dot / np.matmul with out=
    A = np.outer(w, x)
    buf = np.empty((3, 3))
    np.dot(A, A, out=buf)
    prod = np.zeros((3, 3))
    np.matmul(buf, A.T, out=prod)
    return np.sum(prod)


def f5(w, x):  # in a loop: the loop carries the buffer
    s = w.copy()
    for k in range(3):
        np.multiply(s, x + k, out=s)
    return np.sum(s)


def f6(w, x):  # out=(buf,), as ufuncs also take it
    out = np.empty(3)
    np.divide(w, 1.0 + x**2, out=(out,))
    return np.sum(out**3)


def softmax_rows(z):
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    np.divide(z, z.sum(axis=1, keepdims=True), out=z)
    return z


def f7(w, x):  # in a helper, on the helper's own copy
    return np.sum(softmax_rows(np.outer(w, x)) * np.arange(3.0))


def refused(w, x):  # out= into the caller's array: refused (it would change x)
    np.multiply(x, w, out=x)
    return np.sum(x)
