"""Sparse coding by ISTA unrolled inside the loss, with the dictionary learned through
it: a soft-threshold written as `np.sign(z) * np.maximum(np.abs(z) - thr, 0)`, a step
size from the largest eigenvalue (`np.linalg.eigvalsh` of a constant Gram matrix), a
while loop with a relative-change test that breaks early, and a reconstruction loss
after the dictionary's columns are normalised."""

import numpy as np

import srcgrad


def soft_threshold(z, thr):
    return np.sign(z) * np.maximum(np.abs(z) - thr, 0.0)


def ista(D, x, lam, step, tol=1e-6, max_iter=60):
    z = np.zeros(D.shape[1])
    k = 0
    while k < max_iter:
        z_new = soft_threshold(z - step * D.T @ (D @ z - x), lam * step)
        change = np.linalg.norm(z_new - z) / max(np.linalg.norm(z_new), 1e-12)
        z = z_new
        k += 1
        if change < tol:
            break
    return z


def normalise_columns(D):
    return D / np.sqrt(np.sum(D ** 2, axis=0, keepdims=True))


def coding_loss(D, X, lam=0.1):
    D = normalise_columns(D)
    L = np.max(np.linalg.eigvalsh(srcgrad.stop_gradient(D.T @ D)))
    total = 0.0
    for x in X:
        z = ista(D, x, lam, 1.0 / L)
        total += 0.5 * np.sum((D @ z - x) ** 2) + lam * np.sum(np.abs(z))
    return total / len(X)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    D_true = normalise_columns(rs.randn(6, 8))
    codes = rs.randn(8, 5) * (rs.rand(8, 5) < 0.3)
    return rs.randn(6, 8), (D_true @ codes).T + 0.01 * rs.randn(5, 6)


if __name__ == "__main__":
    D, X = make_inputs(0)
    print(srcgrad.grad(coding_loss)(D, X)[0])
