"""System identification of a damped pendulum: a generic RK4 stepper takes the vector field
as a function argument (as course ODE solvers do), the field reads the parameters from a
dict, and the loss compares the simulated angle with measurements at every step."""

import numpy as np

import srcgrad


def rk4_step(f, y, t, dt, params):
    k1 = f(y, t, params)
    k2 = f(y + dt / 2 * k1, t + dt / 2, params)
    k3 = f(y + dt / 2 * k2, t + dt / 2, params)
    k4 = f(y + dt * k3, t + dt, params)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def pendulum(y, t, params):
    theta, omega = y
    g_over_l, damping = params["g_over_l"], params["damping"]
    return np.array([omega, -g_over_l * np.sin(theta) - damping * omega])


def simulate(params, y0, dt, n_steps):
    y = y0
    angles = []
    for i in range(n_steps):
        y = rk4_step(pendulum, y, i * dt, dt, params)
        angles.append(y[0])
    return np.array(angles)


def fit_loss(params, y0, measured_angles, dt=0.05):
    angles = simulate(params, y0, dt, len(measured_angles))
    return np.sum((angles - measured_angles) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    truth = {"g_over_l": 9.81, "damping": 0.3}
    y0 = np.array([0.8, 0.0])
    measured = simulate(truth, y0, 0.05, 12) + 0.01 * rs.randn(12)
    guess = {"g_over_l": 8.0 + rs.rand(), "damping": 0.1 + 0.1 * rs.rand()}
    return guess, y0, measured


if __name__ == "__main__":
    params, y0, measured = make_inputs(0)
    loss_grad = srcgrad.grad(fit_loss, wrt=0)
    for it in range(50):
        g = loss_grad(params, y0, measured)
        params = {k: params[k] - 0.1 * g[k] for k in params}
    print(params)
