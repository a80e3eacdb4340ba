"""A Gaussian mixture fitted by gradient descent on its negative log likelihood instead of
EM: mixing weights as softmax of unconstrained logits, diagonal covariances as log standard
deviations, per-component log densities from scipy.stats.norm broadcast over (N, K, D) and
combined with scipy.special.logsumexp."""

import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

import srcgrad


def unpack_params(params):
    log_weights = params["logits"] - logsumexp(params["logits"])
    return log_weights, params["means"], np.exp(params["log_stds"])


def component_log_densities(X, means, stds):
    # (N, 1, D) against (K, D): summed over the dimensions -> (N, K)
    return np.sum(norm.logpdf(X[:, None, :], means, stds), axis=2)


def gmm_neg_log_likelihood(params, X):
    log_weights, means, stds = unpack_params(params)
    log_joint = component_log_densities(X, means, stds) + log_weights
    return -np.mean(logsumexp(log_joint, axis=1))


def make_inputs(seed, K=3, D=2):
    rs = np.random.RandomState(seed)
    centers = np.array([[-2.0, 0.0], [2.0, 1.0], [0.0, -2.0]])
    X = np.concatenate([c + 0.5 * rs.randn(5, D) for c in centers])
    params = {
        "logits": 0.1 * rs.randn(K),
        "means": rs.randn(K, D),
        "log_stds": 0.1 * rs.randn(K, D),
    }
    return params, X


def main():
    params, X = make_inputs(0)
    objective = srcgrad.value_and_grad(gmm_neg_log_likelihood)
    for i in range(100):
        nll, g = objective(params, X)
        for k in params:
            params[k] = params[k] - 0.1 * g[k]
    print("final nll", nll)


if __name__ == "__main__":
    main()
