"""Fit an SEIR epidemic to weekly case counts: log-rates in a dict, the right-hand side
returned as a tuple from a helper and unpacked `S, E, I, R = state`, forward Euler with
sub-steps, rates built by lambdas closing over the parameters, incidence collected in a
list and turned into an array, and a Poisson log likelihood with `gammaln` and
`np.clip(..., 1e-9, None)`."""

import numpy as np
from scipy.special import gammaln

import srcgrad

N = 10000.0
DAYS_PER_WEEK = 7
SUBSTEPS = 2


def seir_rhs(state, beta, sigma, gamma):
    S, E, I, R = state
    infection = beta * S * I / N
    return -infection, infection - sigma * E, sigma * E - gamma * I, gamma * I


def simulate(log_rates, weeks, i0):
    beta, sigma, gamma = (np.exp(log_rates[k]) for k in ("beta", "sigma", "gamma"))
    incidence_rate = lambda state: sigma * state[1]
    state = (N - 2 * i0, i0, i0, 0.0)
    dt = 1.0 / SUBSTEPS
    weekly = []
    for week in range(weeks):
        cases = 0.0
        for step in range(DAYS_PER_WEEK * SUBSTEPS):
            cases = cases + dt * incidence_rate(state)
            deriv = seir_rhs(state, beta, sigma, gamma)
            state = tuple(s + dt * d for s, d in zip(state, deriv))
        weekly.append(cases)
    return np.array(weekly)


def neg_log_lik(log_rates, observed, i0):
    expected = np.clip(simulate(log_rates, len(observed), i0), 1e-9, None)
    ll = observed * np.log(expected) - expected - gammaln(observed + 1.0)
    prior = sum((v - m) ** 2 for v, m in zip(log_rates.values(), (-1.0, -1.6, -2.0)))
    return -np.sum(ll) + 0.5 * prior


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    truth = {"beta": np.log(0.45), "sigma": np.log(0.2), "gamma": np.log(0.14)}
    observed = rs.poisson(simulate(truth, 6, 5.0)).astype(float)
    guess = {k: v + 0.1 * rs.randn() for k, v in truth.items()}
    return guess, observed, 5.0


if __name__ == "__main__":
    log_rates, observed, i0 = make_inputs(0)
    grad_fn = srcgrad.grad(neg_log_lik)
    for it in range(3):
        g = grad_fn(log_rates, observed, i0)
        log_rates = {k: v - 1e-4 * g[k] for k, v in log_rates.items()}
