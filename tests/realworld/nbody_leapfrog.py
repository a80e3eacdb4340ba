"""Aiming a three-body gravitational simulation: the initial velocity of a probe is tuned so
that after a fixed number of leapfrog (kick-drift-kick) steps it ends near a target.  The
accelerations are the pairwise inverse-square sums of astrophysics course code, with a
softening length, computed by broadcasting differences of the (N, 2) position array."""

import numpy as np

import srcgrad

G = 1.0
SOFTENING = 0.1


def accelerations(pos, masses):
    dx = pos[None, :, 0] - pos[:, None, 0]
    dy = pos[None, :, 1] - pos[:, None, 1]
    inv_r3 = (dx**2 + dy**2 + SOFTENING**2) ** (-1.5)
    ax = G * np.sum(dx * inv_r3 * masses[None, :], axis=1)
    ay = G * np.sum(dy * inv_r3 * masses[None, :], axis=1)
    return np.stack([ax, ay], axis=1)


def simulate(pos, vel, masses, dt, n_steps):
    acc = accelerations(pos, masses)
    for _ in range(n_steps):
        vel = vel + 0.5 * dt * acc
        pos = pos + dt * vel
        acc = accelerations(pos, masses)
        vel = vel + 0.5 * dt * acc
    return pos, vel


def miss_distance(probe_velocity, bodies_pos, bodies_vel, masses, target):
    pos = np.concatenate([bodies_pos, np.zeros((1, 2))])
    vel = np.concatenate([bodies_vel, probe_velocity[None, :]])
    final_pos, _ = simulate(pos, vel, masses, dt=0.05, n_steps=20)
    return np.sum((final_pos[-1] - target) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    bodies_pos = np.array([[1.0, 0.0], [-1.0, 0.5]]) + 0.05 * rs.randn(2, 2)
    bodies_vel = np.array([[0.0, 0.3], [0.0, -0.3]])
    masses = np.array([1.0, 0.5, 0.0])  # the probe is a test particle
    return np.array([0.4, 0.6]), bodies_pos, bodies_vel, masses, np.array([0.5, 1.0])


if __name__ == "__main__":
    v, bodies_pos, bodies_vel, masses, target = make_inputs(0)
    miss_grad = srcgrad.grad(miss_distance)
    for it in range(50):
        v = v - 0.1 * miss_grad(v, bodies_pos, bodies_vel, masses, target)
    print(v, miss_distance(v, bodies_pos, bodies_vel, masses, target))
