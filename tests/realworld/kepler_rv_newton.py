"""Fit a Keplerian orbit to radial-velocity data: Kepler's equation M = E - e sin E solved
by a vectorised Newton iteration that returns early from inside the loop when
`np.max(np.abs(step)) < tol`, the true anomaly by `np.arctan2`, orbital elements unpacked
from a parameter vector with `np.exp` / `np.tanh` transforms, and a Gaussian likelihood
with jitter."""

import numpy as np

import srcgrad


def solve_kepler(M, e, tol=1e-12, max_iter=50):
    E = M + e * np.sin(M)
    for _ in range(max_iter):
        step = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        E = E - step
        if np.max(np.abs(step)) < tol:
            return E
    return E


def radial_velocity(theta, t):
    log_P, log_K, ecc_raw, omega, phase, gamma = theta
    P, K = np.exp(log_P), np.exp(log_K)
    e = 0.5 * (np.tanh(ecc_raw) + 1.0) * 0.9
    M = 2.0 * np.pi * t / P - phase
    E = solve_kepler(M, e)
    nu = 2.0 * np.arctan2(np.sqrt(1 + e) * np.sin(E / 2), np.sqrt(1 - e) * np.cos(E / 2))
    return gamma + K * (np.cos(nu + omega) + e * np.cos(omega))


def rv_neg_log_lik(theta, t, rv, sigma, log_jitter):
    model = radial_velocity(theta, t)
    var = sigma**2 + np.exp(2 * log_jitter)
    return 0.5 * np.sum((rv - model) ** 2 / var + np.log(2 * np.pi * var))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    truth = np.array([np.log(12.3), np.log(30.0), -0.4, 0.9, 1.3, 2.0])
    t = np.sort(rs.uniform(0.0, 40.0, size=15))
    sigma = 2.0 + rs.rand(15)
    rv = radial_velocity(truth, t) + sigma * rs.randn(15)
    return truth + 0.02 * rs.randn(6), t, rv, sigma, np.log(1.5)


if __name__ == "__main__":
    theta, t, rv, sigma, log_jitter = make_inputs(0)
    value, (g_theta, g_jitter) = srcgrad.value_and_grad(rv_neg_log_lik, wrt=(0, 4))(
        theta, t, rv, sigma, log_jitter)
