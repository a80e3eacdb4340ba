"""A variational quantum eigensolver on a state-vector simulator: rotation gates as lambdas
returning complex 2x2 arrays (`-1j * np.sin(theta / 2)`, `np.exp(-1j * theta / 2)`), layer
operators by `functools.reduce(np.kron, gates)`, a CNOT ladder, a transverse-field Ising
Hamiltonian built from Pauli strings with `np.kron`, and the energy
`np.real(np.conj(psi) @ H @ psi)` of a complex state started as `np.zeros(2 ** n, dtype=complex)`."""

from functools import reduce

import numpy as np

import srcgrad

I2 = np.eye(2)
X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.array([[1.0, 0.0], [0.0, -1.0]])
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)

RX = lambda theta: np.array([[np.cos(theta / 2), -1j * np.sin(theta / 2)],
                             [-1j * np.sin(theta / 2), np.cos(theta / 2)]])
RY = lambda theta: np.array([[np.cos(theta / 2), -np.sin(theta / 2)],
                             [np.sin(theta / 2), np.cos(theta / 2)]])
RZ = lambda theta: np.array([[np.exp(-1j * theta / 2), 0], [0, np.exp(1j * theta / 2)]])


def pauli_string(ops, n):
    mats = [ops.get(q, I2) for q in range(n)]
    return reduce(np.kron, mats)


def ising_hamiltonian(n, J=1.0, h=0.7):
    H = sum(-J * pauli_string({q: Z, q + 1: Z}, n) for q in range(n - 1))
    return H + sum(-h * pauli_string({q: X}, n) for q in range(n))


def entangler(n):
    U = np.eye(2 ** n, dtype=complex)
    for q in range(n - 1):
        U = np.kron(np.kron(np.eye(2 ** q), CNOT), np.eye(2 ** (n - q - 2))) @ U
    return U


def ansatz_state(thetas, n):
    psi = np.zeros(2 ** n, dtype=complex)
    psi[0] = 1.0
    U_ent = entangler(n)
    for layer in thetas:
        rot = reduce(np.kron, [RZ(layer[q, 1]) @ RY(layer[q, 0]) for q in range(n)])
        psi = U_ent @ (rot @ psi)
    return psi


def vqe_energy(thetas, H):
    n = thetas.shape[1]
    psi = ansatz_state(thetas, n)
    return np.real(np.conj(psi) @ H @ psi)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n, depth = 3, 2
    return rs.uniform(-np.pi, np.pi, size=(depth, n, 2)), ising_hamiltonian(n)


if __name__ == "__main__":
    thetas, H = make_inputs(0)
    energy, g = srcgrad.value_and_grad(vqe_energy)(thetas, H)
    print(energy, g.shape)
