"""Programs for tests/test_trust_reduce_folds.py (srcgrad reads their source)."""

import functools
from functools import reduce

import numpy as np


def rot(t):
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def combine(acc, v):
    return acc * 0.5 + np.tanh(v)


def kron_of_comprehension(x):
    op = reduce(np.kron, [rot(t) for t in x])
    return np.sum(op * np.arange(op.size).reshape(op.shape))


def dot_of_list_argument(mats, v):
    return np.sum(functools.reduce(np.dot, mats) @ v)


def user_function_with_initial(x):
    return np.sum(reduce(combine, x, np.ones(x.shape[1])) ** 2)


def rows_of_an_array(x):
    return np.sum(reduce(np.maximum, x) ** 2) + np.sum(reduce(np.multiply, x[:2]))


def of_a_generator(x):
    return reduce(np.add, (np.sin(t) * k for k, t in enumerate(x)), 0.0)


def display_of_one(x):
    return np.sum(reduce(np.kron, [x]) ** 2)


def display_then_grown(x):
    items = [x, 2.0 * x]
    acc = reduce(np.add, items)
    items.append(np.sin(x))
    return np.sum(acc * items[2])


def in_a_loop_and_a_branch(x):
    total = 0.0
    for k in range(3):
        if k > 0:
            total = total + np.sum(reduce(np.multiply, (x, x * k, np.sin(x))))
    return total


def lambda_fold(x):
    return reduce(lambda a, b: a * b, x)
