"""Probabilistic inference: black-box VI, a Bayesian neural net, a Gaussian mixture, an HMM."""

import numpy as np
from scipy.special import logsumexp

from .common import diag_gaussian_logpdf, stable_logsumexp

# ---------------------------------------------------------------- black-box variational inference


def banana_log_density(z):
    """An unnormalised 2-D "banana" target; z has shape (samples, 2)."""
    x, y = z[:, 0], z[:, 1]
    return -0.5 * x**2 / 4.0 - 0.5 * (y - 0.5 * x**2) ** 2


def gaussian_entropy(log_std):
    return 0.5 * log_std.shape[0] * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)


def bbvi_objective(var_params, eps):
    """Negative ELBO of a diagonal Gaussian q, with the noise sample passed in."""
    D = eps.shape[1]
    mean, log_std = var_params[:D], var_params[D:]
    samples = eps * np.exp(log_std) + mean
    lower_bound = gaussian_entropy(log_std) + np.mean(banana_log_density(samples))
    return -lower_bound


def make_bbvi_objective(logprob, D, eps):
    """Factory in the style of published BBVI code: returns the objective as a closure."""

    def unpack_params(params):
        return params[:D], params[D:]

    def variational_objective(params):
        mean, log_std = unpack_params(params)
        samples = eps * np.exp(log_std) + mean
        return -(gaussian_entropy(log_std) + np.mean(logprob(samples)))

    return variational_objective


# ---------------------------------------------------------------- Bayesian neural network


def make_weight_shapes(layer_sizes):
    return list(zip(layer_sizes[:-1], layer_sizes[1:]))


def bnn_unpack_layers(weights, shapes):
    """Slice a flat weight vector into (W, b) for each layer."""
    start = 0
    for m, n in shapes:
        end = start + m * n
        yield weights[start:end].reshape((m, n)), weights[end : end + n]
        start = end + n


def bnn_predict(weights, shapes, inputs):
    for W, b in bnn_unpack_layers(weights, shapes):
        outputs = inputs @ W + b
        inputs = np.tanh(outputs)
    return outputs


def bnn_log_posterior(weights, shapes, inputs, targets, noise_var=0.1):
    log_prior = -0.5 * np.sum(weights**2)
    preds = bnn_predict(weights, shapes, inputs)
    log_lik = -np.sum((preds - targets) ** 2) / (2 * noise_var)
    return log_prior + log_lik


def bnn_log_posterior_list(weights, shapes, inputs, targets, noise_var=0.1):
    """The same posterior with the layers unpacked into a list by an explicit loop."""
    layers = []
    start = 0
    for m, n in shapes:
        W = np.reshape(weights[start : start + m * n], (m, n))
        start += m * n
        b = weights[start : start + n]
        start += n
        layers.append((W, b))
    h = inputs
    for i, (W, b) in enumerate(layers):
        h = h @ W + b
        if i < len(layers) - 1:
            h = np.tanh(h)
    return -0.5 * np.sum(weights**2) - np.sum((h - targets) ** 2) / (2 * noise_var)


# ---------------------------------------------------------------- Gaussian mixture


def gmm_log_likelihood(params, data):
    """Mixture of full-covariance Gaussians; covariances from lower-triangular factors."""
    log_weights = params["log proportions"] - logsumexp(params["log proportions"])
    cluster_lls = []
    for log_w, mean, chol in zip(log_weights, params["means"], params["lower triangles"]):
        L = np.tril(chol)
        cov = L @ L.T + 0.1 * np.eye(mean.shape[0])
        diff = data - mean
        sol = np.linalg.solve(cov, diff.T).T
        sign, logdet = np.linalg.slogdet(cov)
        quad = np.sum(diff * sol, axis=1)
        cluster_lls.append(log_w - 0.5 * (quad + logdet + mean.shape[0] * np.log(2 * np.pi)))
    return np.sum(logsumexp(np.vstack(cluster_lls), axis=0))


def gmm_diag_loglik(log_pi, means, log_stds, data):
    """Diagonal mixture, all components at once by broadcasting (N, K, D)."""
    log_pi = log_pi - stable_logsumexp(log_pi)
    comp = diag_gaussian_logpdf(data[:, None, :], means[None, :, :], log_stds[None, :, :])
    return np.sum(stable_logsumexp(comp + log_pi, axis=1))


# ---------------------------------------------------------------- hidden Markov model


def hmm_log_likelihood(init_logits, trans_logits, emit_means, obs):
    """Forward algorithm in log space with Gaussian emissions of unit variance."""
    log_pi = init_logits - logsumexp(init_logits)
    log_A = trans_logits - logsumexp(trans_logits, axis=1, keepdims=True)
    log_emit = -0.5 * (obs[:, None] - emit_means[None, :]) ** 2 - 0.5 * np.log(2 * np.pi)
    log_alpha = log_pi + log_emit[0]
    for t in range(1, obs.shape[0]):
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + log_emit[t]
    return logsumexp(log_alpha)


def hmm_forward_table(log_pi, log_A, log_B, seq):
    """Forward table filled row by row; discrete emissions looked up by symbol."""
    T = len(seq)
    K = log_pi.shape[0]
    alpha = np.zeros((T, K))
    alpha[0] = log_pi + log_B[:, seq[0]]
    for t in range(1, T):
        for j in range(K):
            alpha[t, j] = stable_logsumexp(alpha[t - 1] + log_A[:, j]) + log_B[j, seq[t]]
    return stable_logsumexp(alpha[-1])
