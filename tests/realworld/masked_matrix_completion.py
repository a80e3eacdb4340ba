"""Low-rank matrix completion with missing entries marked NaN: the observed mask from
~np.isnan, np.nan_to_num of the ratings, residuals only on observed cells through np.where,
per-user and per-item biases, and a Frobenius penalty averaged by the observed count."""

import numpy as np

import srcgrad


def predict(U, V, bu, bi, mu):
    return U @ V.T + bu[:, None] + bi[None, :] + mu


def completion_loss(U, V, bu, bi, ratings, lam=0.05):
    observed = ~np.isnan(ratings)
    R = np.nan_to_num(ratings)
    mu = R.sum() / observed.sum()
    err = np.where(observed, predict(U, V, bu, bi, mu) - R, 0.0)
    n_obs = np.count_nonzero(observed)
    data = np.sum(err ** 2) / n_obs
    reg = lam * (np.sum(U ** 2) + np.sum(V ** 2) + np.sum(bu ** 2) + np.sum(bi ** 2))
    return data + reg


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    ratings = rs.randint(1, 6, size=(5, 4)).astype(float)
    ratings[rs.rand(5, 4) < 0.3] = np.nan
    return 0.1 * rs.randn(5, 2), 0.1 * rs.randn(4, 2), np.zeros(5), np.zeros(4), ratings


if __name__ == "__main__":
    U, V, bu, bi, R = make_inputs(0)
    grads = srcgrad.grad(completion_loss, wrt=(0, 1, 2, 3))
    for _ in range(10):
        gU, gV, gbu, gbi = grads(U, V, bu, bi, R)
        U, V, bu, bi = U - 0.1 * gU, V - 0.1 * gV, bu - 0.1 * gbu, bi - 0.1 * gbi
