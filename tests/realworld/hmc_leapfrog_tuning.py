"""Tuning a Hamiltonian Monte Carlo step by differentiating the expected log acceptance
of a leapfrog trajectory: the integrator copies its inputs and updates them in place with
half steps of momentum (`p -= step * dVdq / 2`), the potential's gradient is written by
hand and passed in as a function, and the acceptance is `min(0, H0 - H1)`."""

import numpy as np

import srcgrad

PRECISION = np.array([[2.0, 0.6], [0.6, 1.0]])


def potential(q):
    return 0.5 * q @ PRECISION @ q + 0.1 * np.sum(q ** 4)


def grad_potential(q):
    return PRECISION @ q + 0.4 * q ** 3


def leapfrog(q, p, dVdq, n_steps, step_size):
    q, p = np.copy(q), np.copy(p)
    p -= step_size * dVdq(q) / 2
    for _ in range(n_steps - 1):
        q += step_size * p
        p -= step_size * dVdq(q)
    q += step_size * p
    p -= step_size * dVdq(q) / 2
    return q, -p


def hamiltonian(q, p):
    return potential(q) + 0.5 * np.sum(p ** 2)


def mean_log_accept(log_step, starts, momenta, n_steps=8):
    step_size = np.exp(log_step)
    total = 0.0
    for q0, p0 in zip(starts, momenta):
        q1, p1 = leapfrog(q0, p0, grad_potential, n_steps, step_size)
        total += np.minimum(0.0, hamiltonian(q0, p0) - hamiltonian(q1, p1))
    return -total / len(starts)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    return np.log(0.4), rs.randn(5, 2), rs.randn(5, 2)


if __name__ == "__main__":
    log_step, starts, momenta = make_inputs(0)
    g = srcgrad.grad(mean_log_accept)(log_step, starts, momenta)
    print(g)
