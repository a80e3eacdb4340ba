"""np.cov in the ways scripts call it: a covariance matrix, a pair's covariance, one
variable's variance, columns as variables, a control-variate coefficient."""

import numpy as np


def f1(w, x):  # a covariance matrix of rows of features
    X = np.stack([w * x, np.tanh(w), x**2 + w])
    return np.sum(np.cov(X) ** 2)


def f2(w, x):  # the covariance of two samples, read off the 2x2 matrix
    return np.cov(w * x, np.exp(w))[0, 1]


def f3(w, x):  # one variable: a 0-d result, with bias=True
    return np.cov(w + x**2, bias=True) * 3.0


def f4(w, x):  # observations in rows (rowvar=False), ddof=0
    X = np.outer(w, x[:3]) + np.stack([w, x, w * x], axis=1)
    return np.sum(np.linalg.slogdet(np.cov(X, rowvar=False, ddof=0) + np.eye(3))[1])


def f5(w, x):  # a control-variate coefficient as in Monte-Carlo pricing code
    payoff = np.maximum(w * 2.0 - x, 0.0) + w**2
    control = np.exp(w) * x
    c = np.cov(payoff, control)[0, 1] / np.var(control, ddof=1)
    return payoff.mean() - c * (control.mean() - 1.0)


def refused(w, x):  # aweights are not differentiated: refused with a hint
    return np.sum(np.cov(np.stack([w, x]), aweights=np.abs(x) + 1.0))
