"""A 2-D periodic advection-diffusion solver in the style of fluid-simulation demos: the
Laplacian and the upwind differences are built with np.roll, the field is advanced by
explicit steps, and a source term is optimised so that the final concentration matches a
target pattern."""

import numpy as np

import srcgrad

DT, DX = 0.02, 1.0
KAPPA = 0.8
VELOCITY = (0.5, 0.25)


def laplacian(c):
    return (
        np.roll(c, 1, axis=0)
        + np.roll(c, -1, axis=0)
        + np.roll(c, 1, axis=1)
        + np.roll(c, -1, axis=1)
        - 4 * c
    ) / DX**2


def advect(c):
    vx, vy = VELOCITY
    dcdx = (c - np.roll(c, 1, axis=1)) / DX  # upwind for positive velocity
    dcdy = (c - np.roll(c, 1, axis=0)) / DX
    return -(vx * dcdx + vy * dcdy)


def simulate(source, c0, n_steps=15):
    c = c0
    for _ in range(n_steps):
        c = c + DT * (KAPPA * laplacian(c) + advect(c) + source)
    return c


def mismatch(source, c0, target, smooth=0.01):
    final = simulate(source, c0)
    return np.sum((final - target) ** 2) + smooth * np.sum(source**2)


def make_inputs(seed, n=6):
    rs = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:n, 0:n]
    target = np.exp(-((xx - n / 2) ** 2 + (yy - n / 2) ** 2) / 4.0)
    return 0.1 * rs.randn(n, n), np.zeros((n, n)), target


mismatch_grad = srcgrad.grad(mismatch)

if __name__ == "__main__":
    source, c0, target = make_inputs(0)
    for it in range(100):
        source = source - 0.5 * mismatch_grad(source, c0, target)
    print(mismatch(source, c0, target))
