"""Robust linear regression with Student-t errors: the negative log likelihood through
scipy.stats.t.logpdf, with the scale and the degrees of freedom log-parameterised in one
parameter vector sliced apart, as Bayesian regression notebooks write it."""

import numpy as np
from scipy import stats

import srcgrad


def unpack(theta, n_features):
    coef = theta[:n_features]
    intercept = theta[n_features]
    scale = np.exp(theta[n_features + 1])
    df = 1.0 + np.exp(theta[n_features + 2])
    return coef, intercept, scale, df


def neg_log_likelihood(theta, X, y):
    n_features = X.shape[1]
    coef, intercept, scale, df = unpack(theta, n_features)
    resid = y - (X @ coef + intercept)
    return -np.sum(stats.t.logpdf(resid, df, loc=0.0, scale=scale))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    X = rs.randn(15, 2)
    y = X @ np.array([1.0, -1.0]) + 0.5 + 0.3 * rs.standard_t(3, size=15)
    y[3] += 5.0  # an outlier
    theta = np.array([0.5, -0.5, 0.0, np.log(0.5), np.log(3.0)])
    return theta, X, y


if __name__ == "__main__":
    theta, X, y = make_inputs(0)
    nll_grad = srcgrad.grad(neg_log_likelihood)
    for it in range(200):
        theta -= 0.01 * nll_grad(theta, X, y)
    print(unpack(theta, 2))
