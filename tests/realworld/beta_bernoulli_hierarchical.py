"""A hierarchical model of success rates (the 'rat tumours' example of Bayesian data analysis
courses) integrated over the group rates: each group's count under a beta-binomial marginal
written with scipy.special.betaln and gammaln, hyperparameters log-parameterised, and a
weakly informative prior on them from scipy.stats.gamma."""

import numpy as np
from scipy.special import betaln, gammaln
from scipy.stats import gamma

import srcgrad


def log_binomial_coefficient(n, k):
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def beta_binomial_logpmf(k, n, a, b):
    return log_binomial_coefficient(n, k) + betaln(k + a, n - k + b) - betaln(a, b)


def neg_log_marginal(log_ab, successes, trials):
    a, b = np.exp(log_ab[0]), np.exp(log_ab[1])
    loglik = 0.0
    for k, n in zip(successes, trials):
        loglik += beta_binomial_logpmf(k, n, a, b)
    log_prior = gamma.logpdf(a, 2.0, scale=2.0) + gamma.logpdf(b, 2.0, scale=10.0)
    # the Jacobian of the log transform
    return -(loglik + log_prior + log_ab[0] + log_ab[1])


def make_inputs(seed, n_groups=6):
    rs = np.random.RandomState(seed)
    trials = rs.randint(10, 30, size=n_groups).astype(float)
    rates = rs.beta(2.0, 8.0, size=n_groups)
    successes = rs.binomial(trials.astype(int), rates).astype(float)
    return np.log(np.array([1.5, 6.0])), successes, trials


if __name__ == "__main__":
    log_ab, successes, trials = make_inputs(0)
    g = srcgrad.grad(neg_log_marginal)
    for it in range(200):
        log_ab = log_ab - 0.01 * g(log_ab, successes, trials)
    print(np.exp(log_ab))
