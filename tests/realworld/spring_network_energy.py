"""The elastic energy of a 2-D spring network (a mass-spring cloth), whose negative gradient
with respect to the node positions gives the forces: springs as a list of (i, j) node pairs
with their rest lengths, the energy summed over them with a generator expression and
zip, plus gravity acting on the free nodes."""

import numpy as np

import srcgrad


def spring_energy(xi, xj, rest, k):
    length = np.sqrt(np.sum((xi - xj) ** 2))
    return 0.5 * k * (length - rest) ** 2


def total_energy(positions, springs, rest_lengths, stiffness=50.0, mass=0.1, g=9.81):
    elastic = sum(
        spring_energy(positions[i], positions[j], rest, stiffness)
        for (i, j), rest in zip(springs, rest_lengths)
    )
    gravity = mass * g * np.sum(positions[:, 1])
    return elastic + gravity


def grid_springs(nx, ny):
    springs = []
    for r in range(ny):
        for c in range(nx):
            node = r * nx + c
            if c + 1 < nx:
                springs.append((node, node + 1))
            if r + 1 < ny:
                springs.append((node, node + nx))
    return springs


def make_inputs(seed, nx=3, ny=3):
    rs = np.random.RandomState(seed)
    xs, ys = np.meshgrid(np.arange(nx, dtype=float), np.arange(ny, dtype=float))
    positions = np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.1 * rs.randn(nx * ny, 2)
    springs = grid_springs(nx, ny)
    rest_lengths = [1.0 + 0.05 * rs.randn() for _ in springs]
    return positions, springs, rest_lengths


if __name__ == "__main__":
    positions, springs, rest_lengths = make_inputs(0)
    forces = -srcgrad.grad(total_energy)(positions, springs, rest_lengths)
    print(forces)
