"""Probit regression (a binary-choice model from econometrics notebooks): the likelihood of
each label is Phi(x.beta) or 1 - Phi(x.beta), computed stably with scipy.stats.norm.logcdf of
the signed index, maximised over beta with a weak Gaussian prior."""

import numpy as np
from scipy.stats import norm

import srcgrad


def probit_log_likelihood(beta, X, y):
    signs = 2 * y - 1  # +1 for a 1 label, -1 for a 0 label
    index = X @ beta
    return np.sum(norm.logcdf(signs * index))


def neg_log_posterior(beta, X, y, prior_sd=5.0):
    log_prior = np.sum(norm.logpdf(beta, 0.0, prior_sd))
    return -probit_log_likelihood(beta, X, y) - log_prior


def make_inputs(seed, n=20):
    rs = np.random.RandomState(seed)
    X = np.hstack([np.ones((n, 1)), rs.randn(n, 2)])
    true_beta = np.array([-0.3, 1.2, -0.7])
    y = (X @ true_beta + rs.randn(n) > 0).astype(float)
    return np.zeros(3) + 0.1 * rs.randn(3), X, y


if __name__ == "__main__":
    beta, X, y = make_inputs(0)
    grad_f = srcgrad.grad(neg_log_posterior)
    for i in range(100):
        beta = beta - 0.02 * grad_f(beta, X, y)
    print(beta)
