"""Gaussian-process regression with an ARD squared-exponential kernel whose
hyperparameters travel in a namedtuple: the marginal likelihood uses `np.linalg.slogdet`
for the log determinant and `np.linalg.solve` for the data fit, the lengthscales are
unpacked per input dimension, and a log-normal prior keeps them in range."""

from collections import namedtuple

import numpy as np

import srcgrad

Hyper = namedtuple("Hyper", ["log_ell", "log_sf", "log_sn"])


def ard_kernel(X1, X2, hyp):
    ell = np.exp(hyp.log_ell)
    A, B = X1 / ell, X2 / ell
    sq = np.sum(A ** 2, 1)[:, None] + np.sum(B ** 2, 1)[None, :] - 2 * A @ B.T
    return np.exp(2 * hyp.log_sf) * np.exp(-0.5 * np.maximum(sq, 0.0))


def neg_log_marginal(hyp, X, y):
    n = X.shape[0]
    K = ard_kernel(X, X, hyp) + np.exp(2 * hyp.log_sn) * np.eye(n)
    sign, logdet = np.linalg.slogdet(K)
    alpha = np.linalg.solve(K, y)
    nll = 0.5 * y @ alpha + 0.5 * logdet + 0.5 * n * np.log(2 * np.pi)
    prior = 0.5 * np.sum((hyp.log_ell - 0.0) ** 2) / 1.5 ** 2
    return nll + prior


def predict(hyp, X, y, Xs):
    K = ard_kernel(X, X, hyp) + np.exp(2 * hyp.log_sn) * np.eye(X.shape[0])
    return ard_kernel(Xs, X, hyp) @ np.linalg.solve(K, y)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    X = rs.rand(12, 3) * 4 - 2
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1] ** 2 + 0.05 * rs.randn(12)
    hyp = Hyper(log_ell=np.zeros(3) + 0.1 * rs.randn(3), log_sf=0.0, log_sn=np.log(0.1))
    return hyp, X, y


def main():
    hyp, X, y = make_inputs(0)
    for _ in range(30):
        value, g = srcgrad.value_and_grad(neg_log_marginal)(hyp, X, y)
        hyp = Hyper(*(h - 0.05 * d for h, d in zip(hyp, g)))
    print(value, predict(hyp, X, y, X[:3]))


if __name__ == "__main__":
    main()
