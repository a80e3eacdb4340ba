"""Gaussian processes: negative log marginal likelihood by Cholesky, and a GP-LVM."""

import numpy as np
import scipy.linalg


def unpack_kernel_params(params):
    """Flat vector -> (mean, log amplitude, log noise, log lengthscales)."""
    mean = params[0]
    log_amp = params[1]
    log_noise = params[2]
    log_lengthscales = params[3:]
    return mean, log_amp, log_noise, log_lengthscales


def rbf_covariance(log_amp, log_lengthscales, x, xp):
    scaled_x = x / np.exp(log_lengthscales)
    scaled_xp = xp / np.exp(log_lengthscales)
    diffs = np.expand_dims(scaled_x, 1) - np.expand_dims(scaled_xp, 0)
    return np.exp(2 * log_amp) * np.exp(-0.5 * np.sum(diffs**2, axis=2))


def gp_neg_log_marginal(params, X, y):
    """-log N(y | mean, K + noise I), by Cholesky: the textbook three-line version."""
    mean, log_amp, log_noise, log_ls = unpack_kernel_params(params)
    K = rbf_covariance(log_amp, log_ls, X, X) + np.exp(2 * log_noise) * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y - mean))
    n = y.shape[0]
    return 0.5 * np.dot(y - mean, alpha) + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


def gp_nll_slogdet(params, X, y):
    """The same likelihood written with solve and slogdet instead of a Cholesky factor."""
    mean, log_amp, log_noise, log_ls = unpack_kernel_params(params)
    cov = rbf_covariance(log_amp, log_ls, X, X) + np.exp(2 * log_noise) * np.eye(len(y))
    r = y - mean
    sign, logdet = np.linalg.slogdet(cov)
    return 0.5 * (r @ np.linalg.solve(cov, r) + logdet + len(y) * np.log(2 * np.pi))


def gp_nll_scipy(params, X, y):
    """Cholesky solve through scipy.linalg, as many GP codes write it."""
    mean, log_amp, log_noise, log_ls = unpack_kernel_params(params)
    K = rbf_covariance(log_amp, log_ls, X, X) + np.exp(2 * log_noise) * np.eye(len(y))
    L = np.linalg.cholesky(K)
    alpha = scipy.linalg.cho_solve((L, True), y - mean)
    return 0.5 * np.dot(y - mean, alpha) + np.sum(np.log(np.diag(L)))


def gplvm_objective(latents, log_params, Y):
    """GP-LVM: a shared kernel over learned latents, one GP per output column, plus a prior."""
    log_amp, log_ls, log_noise = log_params[0], log_params[1:-1], log_params[-1]
    K = rbf_covariance(log_amp, log_ls, latents, latents)
    K = K + (np.exp(2 * log_noise) + 1e-6) * np.eye(latents.shape[0])
    L = np.linalg.cholesky(K)
    total = 0.0
    for d in range(Y.shape[1]):
        v = np.linalg.solve(L, Y[:, d])
        total = total + 0.5 * np.dot(v, v) + np.sum(np.log(np.diag(L)))
    prior = 0.5 * np.sum(latents**2)
    return total + prior
