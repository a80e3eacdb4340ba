"""Inverse problem on a 1-D Poisson equation solved by linear finite elements: the
stiffness matrix is assembled element by element (`K[i:i+2, i:i+2] += ke`), Dirichlet
boundary rows are replaced, and the conductivities are fitted to observed values."""

import numpy as np

import srcgrad

N_ELEM = 6


def assemble(log_k, h):
    n = log_k.shape[0] + 1
    K = np.zeros((n, n))
    k = np.exp(log_k)
    for e in range(log_k.shape[0]):
        ke = k[e] / h * np.array([[1.0, -1.0], [-1.0, 1.0]])
        K[e:e + 2, e:e + 2] += ke
    return K


def solve_poisson(log_k, f):
    n = log_k.shape[0] + 1
    h = 1.0 / log_k.shape[0]
    K = assemble(log_k, h)
    rhs = f * h
    K[0, :] = 0.0
    K[0, 0] = 1.0
    K[-1, :] = 0.0
    K[-1, -1] = 1.0
    rhs[0] = 0.0
    rhs[n - 1] = 0.0
    return np.linalg.solve(K, rhs)


def misfit(log_k, f, u_obs):
    u = solve_poisson(log_k, f)
    return 0.5 * np.sum((u - u_obs) ** 2) + 1e-3 * np.sum(np.diff(log_k) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    f = np.ones(N_ELEM + 1)
    true = solve_poisson(0.3 * rs.randn(N_ELEM), f)
    return 0.1 * rs.randn(N_ELEM), f, true + 1e-3 * rs.randn(N_ELEM + 1)


if __name__ == "__main__":
    log_k, f, u_obs = make_inputs(0)
    g = srcgrad.grad(misfit)(log_k, f, u_obs)
    print(g)
