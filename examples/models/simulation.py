"""A mass-spring chain integrated with semi-implicit Euler; the loss is the final energy
error and the distance to a target position."""

import numpy as np

import srcgrad


def example():
    """Arguments the committed gradient is specialised on (``srcgrad gen`` calls it):
    5 masses, float64."""
    rng = np.random.default_rng(0)

    def r(*shape):
        return 0.5 * rng.normal(size=shape)

    return (3.0, 0.4, np.arange(5.0) * 1.1, r(5), np.arange(5.0) * 1.05)


@srcgrad.grad(wrt=("k", "damping"), example=example)
def spring_chain_loss(k, damping, x0, v0, target):
    """Loss after 40 steps of a chain of masses joined by springs of stiffness ``k``."""
    dt = 0.01
    x = x0
    v = v0
    energy0 = 0.5 * np.sum(v0 * v0)
    for step in range(40):
        stretch = x[1:] - x[:-1] - 1.0
        tension = k * stretch
        force = np.zeros_like(x)
        force[:-1] = force[:-1] + tension
        force[1:] = force[1:] - tension
        force = force - damping * v
        v = v + dt * force
        x = x + dt * v
    energy = 0.5 * np.sum(v * v) + 0.5 * np.sum(k * (x[1:] - x[:-1] - 1.0) ** 2)
    return np.sum((x - target) ** 2) + (energy - energy0) ** 2
