"""Entropic optimal transport between a point cloud we move and a fixed target cloud:
log-domain Sinkhorn iterations with min-stabilised soft minima, run in a while loop until
the marginal error falls under a tolerance, then the transport cost of the plan."""

import numpy as np

import srcgrad


def cost_matrix(x, y):
    diff = x[:, None, :] - y[None, :, :]
    return np.sum(diff ** 2, axis=-1)


def softmin(H, eps, weights, axis):
    low = np.min(H, axis=axis, keepdims=True)
    s = np.sum(weights * np.exp(-(H - low) / eps), axis=axis, keepdims=True)
    return np.squeeze(low - eps * np.log(s), axis=axis)


def sinkhorn(a, b, C, eps=0.05, tol=1e-9, max_iter=500):
    f = np.zeros(a.shape[0])
    g = np.zeros(b.shape[0])
    err = np.inf
    it = 0
    while err > tol and it < max_iter:
        f = softmin(C - g[None, :], eps, b[None, :], axis=1)
        g = softmin(C - f[:, None], eps, a[:, None], axis=0)
        P = a[:, None] * b[None, :] * np.exp((f[:, None] + g[None, :] - C) / eps)
        err = np.abs(P.sum(axis=1) - a).sum()
        it += 1
    return P


def ot_loss(x, y, a, b):
    C = cost_matrix(x, y)
    P = sinkhorn(a, b, C)
    return np.sum(P * C)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n, m = 6, 5
    x = rs.randn(n, 2) * 0.5
    y = rs.randn(m, 2) * 0.5 + np.array([0.3, -0.2])
    a = np.full(n, 1.0 / n)
    b = rs.rand(m) + 0.5
    return x, y, a, b / b.sum()


if __name__ == "__main__":
    x, y, a, b = make_inputs(0)
    for step in range(20):
        loss, dx = srcgrad.value_and_grad(ot_loss)(x, y, a, b)
        x = x - 0.5 * dx
    print(loss)
