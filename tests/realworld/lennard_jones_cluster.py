"""The Lennard-Jones energy of a small atomic cluster, minimised to find its structure: the
pair loop over i < j written the way molecular dynamics course code does, with a distance
cutoff (an early `continue`), a shifted potential, and positions as an (N, 3) array."""

import numpy as np

import srcgrad


def lj_pair(r2, epsilon=1.0, sigma=1.0):
    sr6 = (sigma**2 / r2) ** 3
    return 4.0 * epsilon * (sr6**2 - sr6)


def cluster_energy(positions, cutoff=2.5):
    n_atoms = positions.shape[0]
    shift = lj_pair(cutoff**2)
    energy = 0.0
    for i in range(n_atoms - 1):
        for j in range(i + 1, n_atoms):
            rij = positions[i] - positions[j]
            r2 = np.dot(rij, rij)
            if r2 > cutoff**2:
                continue
            energy = energy + lj_pair(r2) - shift
    return energy


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    base = np.array(
        [[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.55, 0.95, 0.0], [0.55, 0.3, 0.9], [3.2, 0.2, 0.1]]
    )
    return (base + 0.03 * rs.randn(*base.shape),)


energy_grad = srcgrad.grad(cluster_energy)

if __name__ == "__main__":
    (positions,) = make_inputs(0)
    for step in range(200):
        positions = positions - 0.01 * energy_grad(positions)
    print(cluster_energy(positions))
