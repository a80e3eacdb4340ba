"""Simulations: diffusion and a small fluid solver on a periodic grid, ODE fits by Euler and RK4."""

import numpy as np

from .common import init_layers

# ---------------------------------------------------------------- grids


def laplacian(u):
    return (
        np.roll(u, 1, axis=0)
        + np.roll(u, -1, axis=0)
        + np.roll(u, 1, axis=1)
        + np.roll(u, -1, axis=1)
        - 4 * u
    )


def diffusion_loss(init, diffusivity, target, steps=6, dt=0.1):
    """Explicit heat equation on a torus; match the final field to a target."""
    u = init
    for _ in range(steps):
        u = u + dt * diffusivity * laplacian(u)
    return np.mean((u - target) ** 2)


def heat_rod_loss(source, u0, target, steps=8, alpha=0.2):
    """1-D rod with fixed ends, interior updated by slices into a copy each step."""
    u = u0.copy()
    for _ in range(steps):
        new = u.copy()
        new[1:-1] = u[1:-1] + alpha * (u[2:] - 2 * u[1:-1] + u[:-2]) + source[1:-1]
        u = new
    return np.sum((u - target) ** 2)


def project(vx, vy, iters=4):
    """Make the velocity field roughly divergence free with a few Jacobi sweeps."""
    p = np.zeros(vx.shape)
    h = 1.0 / vx.shape[0]
    div = (
        -0.5
        * h
        * (
            np.roll(vx, -1, axis=0)
            - np.roll(vx, 1, axis=0)
            + np.roll(vy, -1, axis=1)
            - np.roll(vy, 1, axis=1)
        )
    )
    for k in range(iters):
        p = (
            div
            + np.roll(p, 1, axis=0)
            + np.roll(p, -1, axis=0)
            + np.roll(p, 1, axis=1)
            + np.roll(p, -1, axis=1)
        ) / 4.0
    vx = vx - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)) / h
    vy = vy - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / h
    return vx, vy


def advect(f, vx, vy):
    """Semi-Lagrangian advection: bilinear interpolation at the back-traced positions."""
    rows, cols = f.shape
    cell_ys, cell_xs = np.meshgrid(np.arange(rows), np.arange(cols))
    center_xs = (cell_xs - vx).ravel()
    center_ys = (cell_ys - vy).ravel()
    left_ix = np.floor(center_xs).astype(int)
    top_ix = np.floor(center_ys).astype(int)
    rw = center_xs - left_ix
    bw = center_ys - top_ix
    left_ix = np.mod(left_ix, rows)
    right_ix = np.mod(left_ix + 1, rows)
    top_ix = np.mod(top_ix, cols)
    bot_ix = np.mod(top_ix + 1, cols)
    flat = (1 - rw) * ((1 - bw) * f[left_ix, top_ix] + bw * f[left_ix, bot_ix]) + rw * (
        (1 - bw) * f[right_ix, top_ix] + bw * f[right_ix, bot_ix]
    )
    return np.reshape(flat, (rows, cols))


def smoke_objective(velocity, smoke, target, steps=2):
    """Optimise the initial velocity (one flat vector) so the smoke ends near a target."""
    rows, cols = smoke.shape
    vx = np.reshape(velocity[: rows * cols], (rows, cols))
    vy = np.reshape(velocity[rows * cols :], (rows, cols))
    for t in range(steps):
        vx_new = advect(vx, vx, vy)
        vy_new = advect(vy, vx, vy)
        vx, vy = project(vx_new, vy_new)
        smoke = advect(smoke, vx, vy)
    return np.mean((target - smoke) ** 2)


# ---------------------------------------------------------------- ODE fits


def lotka_volterra(state, theta):
    prey, pred = state[0], state[1]
    a, b, c, d = theta
    return np.array([a * prey - b * prey * pred, c * prey * pred - d * pred])


def euler_fit_loss(theta, y0, observed, dt=0.05):
    """Forward Euler trajectory compared with observations at every step."""
    y = y0
    traj = [y]
    for _ in range(observed.shape[0] - 1):
        y = y + dt * lotka_volterra(y, theta)
        traj.append(y)
    traj = np.stack(traj)
    return np.sum((traj - observed) ** 2)


def rk4_step(f, y, t, dt, args):
    k1 = f(y, t, args)
    k2 = f(y + 0.5 * dt * k1, t + 0.5 * dt, args)
    k3 = f(y + 0.5 * dt * k2, t + 0.5 * dt, args)
    k4 = f(y + dt * k3, t + dt, args)
    return y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def damped_oscillator(y, t, args):
    omega, zeta = args
    return np.array([y[1], -2 * zeta * omega * y[1] - omega**2 * y[0]])


def rk4_fit_loss(args, y0, ts, observed):
    """Fit an oscillator's frequency and damping with a hand-written RK4 integrator."""
    y = y0
    loss = 0.0
    for i in range(1, len(ts)):
        y = rk4_step(damped_oscillator, y, ts[i - 1], ts[i] - ts[i - 1], args)
        loss = loss + (y[0] - observed[i]) ** 2
    return loss


def mlp_dynamics(params, y):
    h = y
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return h @ W + b


def neural_ode_loss(params, y0, targets, dt=0.1):
    """A neural ODE integrated by Euler; the state batch is (batch, dim)."""
    y = y0
    preds = []
    for _ in range(targets.shape[0]):
        y = y + dt * mlp_dynamics(params, y)
        preds.append(y)
    return np.mean((np.array(preds) - targets) ** 2)
