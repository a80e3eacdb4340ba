"""Learning the couplings of an Ising model by the mean-field free energy: magnetisations
from a damped fixed-point iteration in a while loop that stops on a tolerance or an
iteration cap, then the variational free energy with an entropy term of clipped means."""

import numpy as np

import srcgrad


def mean_field(J, h, damping=0.5, tol=1e-10, max_iter=200):
    m = np.zeros(h.shape[0])
    it = 0
    delta = np.inf
    while delta > tol and it < max_iter:
        m_new = np.tanh(h + J @ m)
        m_next = damping * m + (1 - damping) * m_new
        delta = np.max(np.abs(m_next - m))
        m = m_next
        it += 1
    return m


def free_energy(J, h):
    m = mean_field(J, h)
    m = np.clip(m, -1 + 1e-9, 1 - 1e-9)
    p_up, p_down = (1 + m) / 2, (1 - m) / 2
    entropy = -np.sum(p_up * np.log(p_up) + p_down * np.log(p_down))
    energy = -0.5 * m @ J @ m - h @ m
    return energy - entropy


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    A = 0.1 * rs.randn(5, 5)
    J = (A + A.T) / 2
    np.fill_diagonal(J, 0.0)
    return J, 0.3 * rs.randn(5)


if __name__ == "__main__":
    J, h = make_inputs(0)
    dJ, dh = srcgrad.grad(free_energy, wrt=(0, 1))(J, h)
