"""A Poisson generalised linear model with a log link (counts of events against covariates),
with the exact log likelihood through scipy.special.gammaln for log(y!), an offset for the
exposure and a Gaussian prior on the coefficients from scipy.stats.norm."""

import numpy as np
from scipy.special import gammaln
from scipy.stats import norm

import srcgrad


def poisson_log_likelihood(beta, X, counts, exposure):
    log_rate = X @ beta + np.log(exposure)
    return np.sum(counts * log_rate - np.exp(log_rate) - gammaln(counts + 1))


def neg_log_posterior(beta, X, counts, exposure, prior_scale=2.0):
    log_prior = np.sum(norm.logpdf(beta, loc=0.0, scale=prior_scale))
    return -(poisson_log_likelihood(beta, X, counts, exposure) + log_prior)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n = 12
    X = np.column_stack([np.ones(n), rs.randn(n), rs.rand(n)])
    exposure = rs.uniform(0.5, 2.0, size=n)
    true_beta = np.array([0.3, 0.5, -0.8])
    counts = rs.poisson(exposure * np.exp(X @ true_beta)).astype(float)
    return 0.1 * rs.randn(3), X, counts, exposure


grad_nlp = srcgrad.grad(neg_log_posterior)

if __name__ == "__main__":
    beta, X, counts, exposure = make_inputs(0)
    for i in range(300):
        beta = beta - 0.01 * grad_nlp(beta, X, counts, exposure)
    print("MAP coefficients", beta)
