"""A kernel SVM trained in the primal on representer coefficients: an RBF kernel matrix
from scipy.spatial.distance.cdist, the squared hinge loss with np.maximum, a kernel
regulariser alpha' K alpha, and a bias learned with it."""

import numpy as np
from scipy.spatial.distance import cdist

import srcgrad


def rbf_kernel(A, B, gamma):
    return np.exp(-gamma * cdist(A, B, "sqeuclidean"))


def svm_primal(alpha, bias, X, y, C=1.0, gamma=0.5):
    K = rbf_kernel(X, X, gamma)
    f = K @ alpha + bias
    margins = np.maximum(0.0, 1.0 - y * f)
    return 0.5 * alpha @ K @ alpha + C * np.sum(margins ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    X = rs.randn(8, 2)
    y = np.sign(X[:, 0] * X[:, 1] + 0.1)
    return 0.1 * rs.randn(8), 0.0, X, y


if __name__ == "__main__":
    alpha, bias, X, y = make_inputs(0)
    g = srcgrad.grad(svm_primal, wrt=(0, 1))
    for _ in range(20):
        ga, gb = g(alpha, bias, X, y)
        alpha, bias = alpha - 0.01 * ga, bias - 0.01 * gb
