"""The 1-D wave equation by leapfrog finite differences, with the wave-speed profile as the
unknown of a seismic-style inversion: three time levels rotated by tuple assignment each
step, fixed ends written into the new level, and receiver traces recorded into a list."""

import numpy as np

import srcgrad

NT = 12


def simulate(c, u0, dt=0.05, dx=0.1):
    nx = u0.shape[0]
    r2 = (c * dt / dx) ** 2
    u_prev = u0.copy()
    u = u0.copy()
    traces = []
    for n in range(NT):
        u_next = np.zeros(nx)
        u_next[1:-1] = (2 * u[1:-1] - u_prev[1:-1]
                        + r2[1:-1] * (u[2:] - 2 * u[1:-1] + u[:-2]))
        u_next[0] = 0.0
        u_next[-1] = 0.0
        u_prev, u = u, u_next
        traces.append(u[nx // 2])
    return np.array(traces)


def inversion_loss(c, u0, observed):
    pred = simulate(c, u0)
    return np.sum((pred - observed) ** 2) + 1e-2 * np.sum((c[1:] - c[:-1]) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    x = np.linspace(0, 1, 11)
    u0 = np.exp(-((x - 0.3) ** 2) / 0.01)
    c_true = 1.0 + 0.2 * rs.rand(11)
    return np.ones(11), u0, simulate(c_true, u0)


if __name__ == "__main__":
    c, u0, observed = make_inputs(0)
    g = srcgrad.grad(inversion_loss)
    for _ in range(5):
        c = c - 0.5 * g(c, u0, observed)
