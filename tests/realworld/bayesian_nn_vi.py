"""Bayes-by-backprop for a one-hidden-layer regression net: a mean-field Gaussian over all
weights kept as one flat mean vector and one flat log-std vector, weights sampled with a
numpy Generator passed in (rng.normal(size=...)), unflattened by a helper that slices by
shapes, a Gaussian likelihood from scipy.stats.norm and the analytic KL to a N(0, 1) prior."""

import numpy as np
from scipy.stats import norm

import srcgrad

SHAPES = [(1, 8), (8,), (8, 1), (1,)]


def unflatten(flat):
    out = []
    start = 0
    for shape in SHAPES:
        size = int(np.prod(shape))
        out.append(flat[start : start + size].reshape(shape))
        start += size
    return out


def predict(weights, x):
    W1, b1, W2, b2 = unflatten(weights)
    return np.tanh(x @ W1 + b1) @ W2 + b2


def kl_to_standard_normal(mean, log_std):
    return np.sum(0.5 * (np.exp(2 * log_std) + mean**2 - 1.0) - log_std)


def neg_elbo(var_params, x, y, rng, n_samples=3, noise_std=0.1):
    n_weights = var_params.shape[0] // 2
    mean, log_std = var_params[:n_weights], var_params[n_weights:]
    log_lik = 0.0
    for s in range(n_samples):
        eps = rng.normal(size=n_weights)
        weights = mean + np.exp(log_std) * eps
        log_lik += np.sum(norm.logpdf(y, predict(weights, x), noise_std))
    return kl_to_standard_normal(mean, log_std) - log_lik / n_samples


def make_inputs(seed):
    rng = np.random.default_rng(seed)
    n_weights = sum(int(np.prod(s)) for s in SHAPES)
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    y = np.sin(3 * x) + 0.1 * rng.normal(size=x.shape)
    var_params = np.concatenate([0.5 * rng.normal(size=n_weights), -2.0 * np.ones(n_weights)])
    return var_params, x, y, np.random.default_rng(seed + 1)


if __name__ == "__main__":
    var_params, x, y, rng = make_inputs(0)
    elbo_grad = srcgrad.grad(neg_elbo)
    for it in range(100):
        var_params = var_params - 1e-3 * elbo_grad(var_params, x, y, rng)
    print(neg_elbo(var_params, x, y, rng))
