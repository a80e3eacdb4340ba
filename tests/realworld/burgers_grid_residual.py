"""A physics-informed fit of the viscous Burgers equation on a grid: an MLP u(x, t)
evaluated on `np.meshgrid(x, t, indexing="ij")` points, derivatives of the network's grid
values by `np.gradient(u, dx, axis=0)` and `np.gradient(u, dt, axis=1)`,
`u_xx` by a second `np.gradient` with `edge_order=2`, the residual
`u_t + u * u_x - nu * u_xx`, and initial and boundary losses on slices `u[:, 0]`,
`u[0, :]`, `u[-1, :]`, weighted by a dict of weights."""

import numpy as np

import srcgrad

NU = 0.01 / np.pi
WEIGHTS = {"pde": 1.0, "ic": 10.0, "bc": 10.0}


def init_layers(sizes, rs):
    return [(rs.randn(m, n) * np.sqrt(1.0 / m), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def mlp(layers, inputs):
    h = inputs
    for W, b in layers[:-1]:
        h = np.tanh(h @ W + b)
    W, b = layers[-1]
    return (h @ W + b)[..., 0]


def burgers_residual(u, dx, dt, nu=NU):
    u_x = np.gradient(u, dx, axis=0)
    u_t = np.gradient(u, dt, axis=1)
    u_xx = np.gradient(u_x, dx, axis=0, edge_order=2)
    return u_t + u * u_x - nu * u_xx


def pinn_loss(layers, x, t):
    X, T = np.meshgrid(x, t, indexing="ij")
    u = mlp(layers, np.stack([X, T], axis=-1))
    dx, dt = x[1] - x[0], t[1] - t[0]
    res = burgers_residual(u, dx, dt)
    losses = {
        "pde": np.mean(res[1:-1, 1:] ** 2),
        "ic": np.mean((u[:, 0] + np.sin(np.pi * x)) ** 2),
        "bc": np.mean(u[0, :] ** 2) + np.mean(u[-1, :] ** 2),
    }
    return sum(WEIGHTS[k] * v for k, v in losses.items())


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    layers = init_layers([2, 8, 8, 1], rs)
    return layers, np.linspace(-1.0, 1.0, 9), np.linspace(0.0, 0.5, 6)


if __name__ == "__main__":
    layers, x, t = make_inputs(0)
    loss, grads = srcgrad.value_and_grad(pinn_loss)(layers, x, t)
    print(loss, [W.shape for W, b in grads])
