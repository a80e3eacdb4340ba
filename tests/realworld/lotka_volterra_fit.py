"""Fitting the four rates of the Lotka-Volterra predator-prey model to noisy population
counts: a fixed-step RK4 integrator stores the trajectory row by row into an array made with
np.zeros, the rates are log-parameterised and the loss is the squared error of the log
populations."""

import numpy as np

import srcgrad


def lotka_volterra(state, rates):
    prey, predator = state[0], state[1]
    alpha, beta, delta, gamma = rates
    dprey = alpha * prey - beta * prey * predator
    dpred = delta * prey * predator - gamma * predator
    return np.array([dprey, dpred])


def rk4_integrate(y0, rates, dt, n_steps):
    trajectory = np.zeros((n_steps + 1, len(y0)))
    trajectory[0] = y0
    y = y0
    for i in range(n_steps):
        k1 = lotka_volterra(y, rates)
        k2 = lotka_volterra(y + 0.5 * dt * k1, rates)
        k3 = lotka_volterra(y + 0.5 * dt * k2, rates)
        k4 = lotka_volterra(y + dt * k3, rates)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        trajectory[i + 1] = y
    return trajectory


def loss(log_rates, y0, observed, dt=0.1):
    rates = np.exp(log_rates)
    trajectory = rk4_integrate(y0, rates, dt, observed.shape[0] - 1)
    return np.mean((np.log(trajectory) - np.log(observed)) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    true_rates = np.array([1.0, 0.4, 0.3, 0.8])
    y0 = np.array([2.0, 1.0])
    observed = rk4_integrate(y0, true_rates, 0.1, 15) * np.exp(0.05 * rs.randn(16, 2))
    return np.log(true_rates) + 0.2 * rs.randn(4), y0, observed


def main():
    log_rates, y0, observed = make_inputs(0)
    loss_grad = srcgrad.grad(loss)
    for _ in range(100):
        log_rates -= 0.2 * loss_grad(log_rates, y0, observed)
    print(np.exp(log_rates))


if __name__ == "__main__":
    main()
