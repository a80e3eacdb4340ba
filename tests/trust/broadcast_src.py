"""Functions whose backward pass sums several reduction cotangents (specialisation elides
broadcasts there) on square and non-square inputs."""

import numpy as np


def transpose_then_two_reductions(x):
    y = x.T
    return np.sum(np.sin(y.sum(axis=0) * y.mean()))


def axis1_sum_plus_mean(x):
    y = x.sum(axis=1) + x.mean()
    return np.sum(np.sin(y) * x[0])


def axis1_sum_times_row(x):
    return np.sum(x.sum(axis=1) * x[:, 0])


def three_reductions(x):
    y = x * 1.0
    return np.sum(np.tanh(y.max(axis=1) + y.mean(axis=1) + x.sum()))


def axis0_and_axis1(x):
    a = x.sum(axis=0)
    b = x.sum(axis=1)
    return np.sum(a * b) + np.sum(a) * np.mean(b)


def mean_over_axis1_then_outer(x):
    m = x.mean(axis=1)
    return np.sum(np.outer(m, m) * x)


def scaled_broadcasts(x):
    s = x.sum()
    m = x.mean()
    return np.sum((2.0 * s + 3.0 * m) * x)


def comparison_of_reductions(x):
    a = x.sum(axis=1)
    b = x.mean() + 0.0 * a
    return np.sum(np.where(a > b, a, b) * x[:, 1])


def keepdims_reductions(x):
    c = x - x.mean(axis=1, keepdims=True)
    return np.sum(c * c) / x.std()


def transpose_two_reductions_vector(x):
    y = x.T
    return y.sum(axis=0) * y.mean()
