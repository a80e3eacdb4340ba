"""Writes through views: of constants (np.zeros), inside loops (the view is loop-carried) and
after a branch (the view is a joined name).  numpy writes into the base too."""

import numpy as np


def fill_constant_through_transpose(x):
    A = np.zeros((3, 4))
    rows = A.T
    rows[1] = x
    return np.sum(A**2)


def fill_constant_through_transpose_in_loop(x):
    A = np.zeros((3, 4))
    rows = A.T
    for i in range(4):
        rows[i] = x * i
    return np.sum(A**2)


def fill_active_through_transpose_in_loop(x):
    A = x * np.ones((4, 3))
    rows = A.T
    for i in range(3):
        rows[i] = x[0] * i
    return np.sum(A**2)


def fill_constant_through_row_view(x):
    A = np.zeros((2, 3))
    r = A[0]
    r[1:] = x[:2]
    return np.sum(A * 3.0)


def fill_through_reshape_view(x):
    A = np.zeros(6)
    M = A.reshape(2, 3)
    M[1] = x
    return np.sum(A**2)


def fill_view_chosen_by_branch(x):
    A = np.zeros((3, 3))
    if x[0] > 0:
        v = A.T
    else:
        v = A[::-1]
    v[0] = x
    return np.sum(A**2)


def fill_base_directly(x):
    A = np.zeros((3, 4))
    for i in range(4):
        A[:, i] = x * i
    return np.sum(A**2)
