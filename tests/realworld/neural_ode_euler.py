"""A tiny neural ODE: the dynamics dz/dt = f(z, t) is an MLP made by a factory that returns a
lambda closing over the layer parameters, integrated by a forward-Euler loop that appends
every state to a list; the loss is the squared distance between the trajectory (stacked with
np.stack) and observed points."""

import numpy as np

import srcgrad


def make_dynamics(params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    return lambda z, t: np.tanh(z @ W1 + b1 + t) @ W2 + b2


def odeint_euler(f, z0, t_grid):
    zs = [z0]
    z = z0
    for t0, t1 in zip(t_grid[:-1], t_grid[1:]):
        z = z + (t1 - t0) * f(z, t0)
        zs.append(z)
    return np.stack(zs)


def trajectory_loss(params, z0, t_grid, observed):
    dynamics = make_dynamics(params)
    trajectory = odeint_euler(dynamics, z0, t_grid)
    return np.sum((trajectory - observed) ** 2) / len(t_grid)


def make_inputs(seed, dim=2, hidden=6, n_times=8):
    rs = np.random.RandomState(seed)
    params = {
        "W1": 0.5 * rs.randn(dim, hidden),
        "b1": 0.1 * rs.randn(hidden),
        "W2": 0.5 * rs.randn(hidden, dim),
        "b2": np.zeros(dim),
    }
    t_grid = list(np.linspace(0.0, 1.0, n_times))
    angle = np.array(t_grid)
    observed = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return params, np.array([1.0, 0.0]), t_grid, observed


if __name__ == "__main__":
    params, z0, t_grid, observed = make_inputs(0)
    loss_grad = srcgrad.grad(trajectory_loss)
    for it in range(100):
        g = loss_grad(params, z0, t_grid, observed)
        params = {k: params[k] - 0.05 * g[k] for k in params}
    print(trajectory_loss(params, z0, t_grid, observed))
