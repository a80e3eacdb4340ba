"""Programs that once raised from inside srcgrad or from generated code (real-program
findings I2, I3, I5, I6), in several forms each."""

import numpy as np
import scipy.linalg
import scipy.special


def nested_loops_name_first_bound_inside(a):
    s = 0.0
    for t in range(2):
        for j in range(2):
            top = np.sum(a * j)
            s = s + top
    top = np.sum(a)
    return top + s


def triple_nested_name_first_bound_inside(a):
    s = 0.0
    for i in range(2):
        for t in range(2):
            for j in range(3):
                top = np.sum(np.sin(a) * (i + t + j))
                s = s + top * top
    top = np.sum(a * a)
    return top + s


def while_inside_for_name_first_bound_inside(a):
    s = 0.0
    for t in range(3):
        k = 0
        while k < 2:
            q = np.tanh(a * (k + t))
            s = s + np.sum(q)
            k += 1
    q = a * 2.0
    return np.sum(q) + s


def nested_read_of_previous_outer_iteration(a):
    s = 0.0
    for t in range(2):
        for j in range(2):
            if t > 0 and j == 0:
                s = s + np.sum(top)
            top = a * (j + 1.0)
    return s


def nested_read_bound_before(a):
    s = 0.0
    top = a * 0.0
    for t in range(2):
        for j in range(2):
            if t > 0 and j == 0:
                s = s + np.sum(top)
            top = a * (j + 1.0)
    return s


class Model:
    def __init__(self):
        self.scale = 2.0

    def loss(self, p, x):
        return np.sum(x * p) * self.scale


MODEL = Model()


def calls_the_method(p, x):
    return MODEL.loss(p, x)


def scipy_without_rule(K, y):
    pivots = np.arange(K.shape[0])
    return np.sum(scipy.linalg.lu_solve((K, pivots), y))


def scipy_cho_solve(K, y):
    L = np.linalg.cholesky(K)
    return np.sum(scipy.linalg.cho_solve((L, True), y))


def scipy_with_rule(x):
    return np.sum(scipy.special.expit(x))


def flat_write(x):
    K = np.outer(x, x)
    K.flat[::4] += 1.0
    return np.sum(K**2)


def flat_assign(x):
    K = np.outer(x, x)
    K.flat[0] = 1.0
    return np.sum(K**2)


def diagonal_as_hinted(x):
    K = np.outer(x, x)
    K = K + 1.0 * np.eye(len(K))
    return np.sum(K**2)


def nested_conditional_read_within_inner_loop(a):
    s = 0.0
    for t in range(2):
        for j in range(3):
            if j > 0:
                s = s + np.sum(top * a)
            top = a * (j + t + 1.0)
    top = np.sum(a)
    return s + top


def nested_conditional_read_bound_before(a):
    s = 0.0
    top = a * 0.0
    for t in range(2):
        for j in range(3):
            if j > 0:
                s = s + np.sum(top * a)
            top = a * (j + t + 1.0)
    top = np.sum(a)
    return s + top


def ternary_reads_its_target(x):
    h = x
    h = h if np.sum(h) > 0 else -h
    return np.sum(h**2)


def ternary_reads_its_target_twice(x):
    h = x * 1.0
    h = h * 2.0 if np.max(h) > 0.4 else h - np.sum(h)
    h = np.tanh(h) if np.min(h) < 0 else h
    return np.sum(h * x)


def ternary_in_a_loop(x):
    h = x
    for i in range(3):
        h = h * 0.5 if i % 2 else np.sin(h)
    return np.sum(h)
