"""An inverse problem on the 1-D heat equation: recover the initial temperature profile from
a measurement at the final time.  The explicit finite-difference scheme of CFD course notes:
a copy of the previous step, the interior updated by slices, Dirichlet boundaries written
in place, a Tikhonov smoothness penalty on the unknown."""

import numpy as np

import srcgrad

NX, NT = 12, 30
DX = 1.0 / (NX - 1)
NU = 0.5
DT = 0.4 * DX**2 / NU  # inside the explicit scheme's stability limit


def step(u):
    un = u.copy()
    u_new = np.empty_like(un)
    u_new[1:-1] = un[1:-1] + NU * DT / DX**2 * (un[2:] - 2 * un[1:-1] + un[:-2])
    u_new[0] = 0.0
    u_new[-1] = 0.0
    return u_new


def solve_heat(u0, nt=NT):
    u = u0
    for n in range(nt):
        u = step(u)
    return u


def misfit(u0, observed, alpha=1e-3):
    final = solve_heat(u0)
    data_term = 0.5 * np.sum((final - observed) ** 2)
    smoothness = 0.5 * alpha * np.sum(np.diff(u0) ** 2) / DX
    return data_term + smoothness


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    x = np.linspace(0, 1, NX)
    true_u0 = np.sin(np.pi * x) + 0.5 * np.sin(3 * np.pi * x)
    observed = solve_heat(true_u0) + 0.01 * rs.randn(NX)
    guess = 0.1 * rs.randn(NX)
    return guess, observed


misfit_grad = srcgrad.grad(misfit)

if __name__ == "__main__":
    u0, observed = make_inputs(0)
    for it in range(200):
        u0 = u0 - 0.5 * misfit_grad(u0, observed)
    print(misfit(u0, observed))
