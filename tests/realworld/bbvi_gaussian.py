"""Black-box variational inference with a diagonal Gaussian: a factory takes the model's log
density, the dimension and the number of Monte Carlo samples and returns the variational
objective, a closure that draws its reparameterised noise from a RandomState seeded by the
iteration number (common random numbers across the evaluations of one step).
The target is a correlated 2-D Gaussian evaluated with scipy.stats.multivariate_normal."""

import numpy as np
from scipy.stats import multivariate_normal, norm

import srcgrad

MEAN = np.array([0.5, -1.0])
COV = np.array([[1.0, 0.6], [0.6, 2.0]])


def log_density(z):
    return multivariate_normal.logpdf(z, MEAN, COV)


def black_box_variational_inference(logprob, D, num_samples):
    def unpack_params(params):
        mean, log_std = params[:D], params[D:]
        return mean, log_std

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    def variational_objective(params, t):
        rs = np.random.RandomState(t)
        mean, log_std = unpack_params(params)
        samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples))
        return -lower_bound

    return variational_objective


elbo_objective = black_box_variational_inference(log_density, D=2, num_samples=5)


def objective(params, t):
    prior = np.sum(norm.logpdf(params, 0.0, 10.0))
    return elbo_objective(params, t) - 1e-3 * prior


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    return np.concatenate([rs.randn(2), -0.5 * np.ones(2)]), seed


if __name__ == "__main__":
    params, _ = make_inputs(0)
    g = srcgrad.grad(objective)
    for t in range(200):
        params = params - 0.05 * g(params, t)
    print(params)
