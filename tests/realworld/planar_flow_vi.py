"""Variational inference with a stack of planar normalizing flows on a banana-shaped
target: each flow is a (u, w, b) triple, `u` is re-parameterised to keep the map
invertible, the flows are applied by `for u, w, b in flows` with a log-determinant
accumulated in place, and the ELBO averages over fixed base samples."""

import numpy as np

import srcgrad


def softplus(x):
    return np.log1p(np.exp(x))


def invertible_u(u, w):
    wu = w @ u
    return u + (-1.0 + softplus(wu) - wu) * w / (w @ w)


def flow_forward(z, flows):
    log_det = np.zeros(z.shape[0])
    for u, w, b in flows:
        u_hat = invertible_u(u, w)
        act = np.tanh(z @ w + b)
        psi = (1 - act ** 2)[:, None] * w[None, :]
        log_det += np.log(np.abs(1 + psi @ u_hat))
        z = z + u_hat[None, :] * act[:, None]
    return z, log_det


def log_target(z):
    z1, z2 = z[:, 0], z[:, 1]
    return -0.5 * z1 ** 2 / 4.0 - 0.5 * (z2 - 0.3 * z1 ** 2) ** 2


def neg_elbo(flows, eps):
    zK, log_det = flow_forward(eps, flows)
    log_q0 = -0.5 * np.sum(eps ** 2, axis=1) - np.log(2 * np.pi)
    return np.mean(log_q0 - log_det - log_target(zK))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    flows = [(0.5 * rs.randn(2), 0.5 * rs.randn(2), 0.1 * rs.randn()) for _ in range(3)]
    return flows, rs.randn(16, 2)


if __name__ == "__main__":
    flows, eps = make_inputs(0)
    for it in range(10):
        g = srcgrad.grad(neg_elbo)(flows, eps)
        flows = [tuple(p - 0.05 * dp for p, dp in zip(f, df)) for f, df in zip(flows, g)]
    print(neg_elbo(flows, eps))
