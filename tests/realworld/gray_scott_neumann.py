"""Fitting the feed and kill rates of a Gray-Scott reaction-diffusion model on a small
grid: a five-point Laplacian with `np.roll` along both axes, zero-flux (Neumann)
boundaries written after each step by copying the neighbouring rows and columns, and
in-place `+=` updates of both fields; the loss compares the final pattern to data."""

import numpy as np

import srcgrad

DU, DV, DT = 0.16, 0.08, 1.0


def laplacian(Z):
    return (np.roll(Z, 1, axis=0) + np.roll(Z, -1, axis=0)
            + np.roll(Z, 1, axis=1) + np.roll(Z, -1, axis=1) - 4 * Z)


def neumann(Z):
    Z[0, :] = Z[1, :]
    Z[-1, :] = Z[-2, :]
    Z[:, 0] = Z[:, 1]
    Z[:, -1] = Z[:, -2]
    return Z


def simulate(rates, U0, V0, steps=25):
    F, k = rates[0], rates[1]
    U, V = U0.copy(), V0.copy()
    for _ in range(steps):
        uvv = U * V * V
        dU = DU * laplacian(U) - uvv + F * (1 - U)
        dV = DV * laplacian(V) + uvv - (F + k) * V
        U += DT * dU
        V += DT * dV
        U = neumann(U)
        V = neumann(V)
    return U, V


def pattern_loss(rates, U0, V0, V_obs):
    U, V = simulate(rates, U0, V0)
    return np.mean((V - V_obs) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n = 10
    U0, V0 = np.ones((n, n)), np.zeros((n, n))
    U0[4:7, 4:7], V0[4:7, 4:7] = 0.5, 0.25
    V0 += 0.02 * rs.rand(n, n)
    _, V_obs = simulate(np.array([0.035, 0.065]), U0, V0)
    return np.array([0.03, 0.06]), U0, V0, V_obs


if __name__ == "__main__":
    rates, U0, V0, V_obs = make_inputs(0)
    print(srcgrad.grad(pattern_loss)(rates, U0, V0, V_obs))
