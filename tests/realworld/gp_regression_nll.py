"""Gaussian process regression: the negative log marginal likelihood of a squared-exponential
kernel with log-parameterised amplitude, lengthscale and noise, through a Cholesky factor,
the way GP tutorials write Algorithm 2.1 of Rasmussen & Williams."""

import numpy as np

import srcgrad


def unpack_kernel_params(params):
    log_amp, log_length, log_noise = params[0], params[1], params[2]
    return np.exp(log_amp), np.exp(log_length), np.exp(log_noise)


def sq_exp_kernel(x1, x2, amplitude, lengthscale):
    sqdist = np.sum(x1**2, 1).reshape(-1, 1) + np.sum(x2**2, 1) - 2 * np.dot(x1, x2.T)
    return amplitude * np.exp(-0.5 * sqdist / lengthscale**2)


def neg_log_marginal_likelihood(params, X, y):
    amplitude, lengthscale, noise = unpack_kernel_params(params)
    n = X.shape[0]
    K = sq_exp_kernel(X, X, amplitude, lengthscale) + (noise + 1e-6) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    data_fit = 0.5 * np.dot(y, alpha)
    complexity = np.sum(np.log(np.diag(L)))
    return data_fit + complexity + 0.5 * n * np.log(2 * np.pi)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    X = np.sort(rs.uniform(-3, 3, size=(7, 1)), axis=0)
    y = np.sin(X[:, 0]) + 0.1 * rs.randn(7)
    params = np.array([0.1, -0.2, np.log(0.1)])
    return params, X, y


nll_grad = srcgrad.grad(neg_log_marginal_likelihood)

if __name__ == "__main__":
    params, X, y = make_inputs(0)
    for i in range(30):
        params = params - 0.05 * nll_grad(params, X, y)
    print(unpack_kernel_params(params))
