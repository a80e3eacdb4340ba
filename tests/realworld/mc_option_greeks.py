"""Pathwise Monte-Carlo greeks of an option book: geometric Brownian paths built with
`np.cumsum` of log increments and antithetic normals, a European call, an arithmetic Asian
call and a down-and-out barrier smoothed by a sigmoid, the market vector unpacked
`S0, sigma, r = market`, and a Black-Scholes closed form with `norm.cdf` as a control
variate. The gradient with respect to the market vector is (delta, vega, rho)."""

import numpy as np
from scipy.stats import norm

import srcgrad

K = 100.0
T = 1.0
BARRIER = 80.0


def bs_call(S0, sigma, r, strike=K, maturity=T):
    d1 = (np.log(S0 / strike) + (r + 0.5 * sigma**2) * maturity) / (sigma * np.sqrt(maturity))
    d2 = d1 - sigma * np.sqrt(maturity)
    return S0 * norm.cdf(d1) - strike * np.exp(-r * maturity) * norm.cdf(d2)


def gbm_paths(S0, sigma, r, z, dt):
    z = np.concatenate([z, -z], axis=0)
    increments = (r - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z
    return S0 * np.exp(np.cumsum(increments, axis=1))


def book_value(market, z, weights):
    S0, sigma, r = market
    n_steps = z.shape[1]
    paths = gbm_paths(S0, sigma, r, z, T / n_steps)
    disc = np.exp(-r * T)
    ST = paths[:, -1]
    euro = disc * np.maximum(ST - K, 0.0)
    asian = disc * np.maximum(paths.mean(axis=1) - K, 0.0)
    alive = 1.0 / (1.0 + np.exp(-(paths.min(axis=1) - BARRIER) / 2.0))
    barrier = euro * alive
    control = disc * ST
    c = np.cov(euro, control)[0, 1] / np.var(control, ddof=1)
    euro_cv = euro.mean() - c * (control.mean() - S0)
    prices = np.array([euro_cv, asian.mean(), barrier.mean()])
    return weights @ prices + 0.1 * bs_call(S0, sigma, r)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    market = np.array([100.0, 0.25, 0.03])
    return market, rs.randn(64, 12), np.array([1.0, 0.5, -0.3])


if __name__ == "__main__":
    market, z, weights = make_inputs(0)
    value, greeks = srcgrad.value_and_grad(book_value)(market, z, weights)
    delta, vega, rho = greeks
